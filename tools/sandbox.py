"""Run model-written Python outside the trainer's process, in a locked-down child process.

The mechanism is the kernel's own, unprivileged: ``setrlimit`` for memory, CPU, output and file
sizes; Landlock for the filesystem (only the import directories, read-only, and a fresh scratch
folder), TCP and signals; seccomp for processes, sockets and ``execve``. No root, no container
runtime, no user namespaces (which many distributions switch off), and nothing to install; the
locks are set by :mod:`vlmr.tools.sandbox_child` in the child before the code runs, and a
machine without them refuses to run code rather than running it unconfined. The parent adds the
wall-clock limit (the child is killed) and reads at most ``max_output`` characters back.

``run_sandboxed("print(6 * 7)", SandboxLimits())`` gives ``SandboxResult(error=None, stdout="42\\n", ...)``;
``tests/tools/test_code_tools.py`` holds the hostile programs and what each gets back.

>>> SandboxLimits(seconds=5)
SandboxLimits(seconds=5, memory_mb=1024, file_mb=16, max_output=2000)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from vlmr.tools.sandbox_child import UNAVAILABLE

CHILD = Path(__file__).with_name("sandbox_child.py")
REPOSITORY = Path(__file__).resolve().parents[1]  # the vlmr source tree: never readable from the sandbox
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
CHILD_ENV = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "MPLBACKEND": "Agg"}  # one thread per library: the CPU limit is the process's, not a core's


@dataclass(frozen=True)
class SandboxLimits:
    """What one run of code may use."""

    seconds: float = 10.0  # wall clock; the child is killed past it
    memory_mb: int = 1024  # address space
    file_mb: int = 16  # largest file written, stdout and stderr included
    max_output: int = 2000  # characters of stdout/stderr shown back

    def __post_init__(self):
        if not (self.seconds > 0 and self.memory_mb >= 64 and self.file_mb >= 1 and self.max_output >= 1):
            raise ValueError(f"SandboxLimits needs seconds > 0, memory_mb >= 64, file_mb >= 1 and max_output >= 1; "
                             f"got {self}")


@dataclass
class SandboxResult:
    """The run's outcome: ``error`` is a one-line reason (``None`` if the code ended normally)."""

    error: str | None
    stdout: str = ""
    stderr: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # new files written in the scratch folder
    seconds: float = 0.0


def run_sandboxed(code: str, limits: SandboxLimits, inputs: dict[str, bytes] | None = None) -> SandboxResult:
    """Run ``code`` in a fresh scratch folder holding ``inputs`` (file name -> bytes); never raises on
    the code's behaviour. New files with an image suffix come back in ``files``."""
    base = Path(tempfile.mkdtemp(prefix="vlmr-sandbox-"))
    try:
        scratch = base / "scratch"
        scratch.mkdir()
        for name, data in (inputs or {}).items():
            (scratch / name).write_bytes(data)
        (scratch / "code.py").write_text(code, encoding="utf-8")
        spec = {"scratch": str(scratch), "code": str(scratch / "code.py"), "repository": str(REPOSITORY),
                "system": list(SYSTEM_LIBRARIES), "memory_bytes": limits.memory_mb << 20,
                "file_bytes": limits.file_mb << 20, "cpu_seconds": int(limits.seconds) + 1}
        start = time.perf_counter()
        with open(base / "stdout", "wb") as out, open(base / "stderr", "wb") as err:
            child = subprocess.Popen([sys.executable, "-I", "-B", str(CHILD), json.dumps(spec)], stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=err, cwd=scratch, env={**CHILD_ENV, "HOME": str(scratch),
                                     "TMPDIR": str(scratch), "MPLCONFIGDIR": str(scratch)}, start_new_session=True)
            try:
                status = child.wait(timeout=limits.seconds)
            except subprocess.TimeoutExpired:
                child.kill()  # the seccomp filter allows no child processes, so nothing else is left running
                child.wait()
                status = None
        seconds = round(time.perf_counter() - start, 3)
        stdout, stderr = (_read(base / name, limits.max_output) for name in ("stdout", "stderr"))
        sizes = [(base / name).stat().st_size for name in ("stdout", "stderr")]
        files = {p.name: p.read_bytes() for p in sorted(scratch.iterdir())
                 if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in (inputs or {}) and p.is_file()
                 and not p.is_symlink()}
        error = _error(status, stderr, max(sizes), limits)
        return SandboxResult(error, stdout, stderr, files if error is None else {}, seconds)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _read(path: Path, limit: int) -> str:
    """The first ``limit`` characters of a file the child wrote, with a note if more was written."""
    with open(path, "rb") as f:
        data = f.read(4 * limit + 4)  # UTF-8: at most 4 bytes a character
    text = data.decode("utf-8", errors="replace")
    if len(text) > limit or path.stat().st_size > len(data):
        text = text[:limit] + f"\n[... cut: {path.stat().st_size} bytes written, {limit} characters shown]"
    return text


def _error(returncode: int | None, stderr: str, largest: int, limits: SandboxLimits) -> str | None:
    """One line saying why the run failed, for the model; ``None`` if it did not."""
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()
                 and not line.startswith("[... cut")), "")
    if returncode is None:
        return f"the code ran past its {limits.seconds:g} s time limit and was stopped."
    if returncode == UNAVAILABLE:
        return f"the python tool cannot run here ({last}); solve the task without it."
    if largest >= limits.file_mb << 20:
        return f"the code wrote more than the {limits.file_mb} MB output limit; print or save less."
    if returncode < 0:
        return f"the code was stopped by signal {-returncode} (the limits are {limits.seconds:g} s of CPU and " \
               f"{limits.memory_mb} MB of memory)."
    if returncode == 0:
        return None
    if last.startswith("MemoryError"):
        return f"MemoryError: the code needed more than the sandbox's {limits.memory_mb} MB of memory."
    if last.startswith(("PermissionError", "ModuleNotFoundError", "ImportError")):
        return f"{last} (the code runs in a sandbox: it sees only the files in its working folder, no network, " \
               "no other processes)."
    return last or f"the code exited with status {returncode}."
