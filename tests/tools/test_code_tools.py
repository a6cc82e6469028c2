"""The ``python`` tool and its sandbox: ordinary programs work, hostile ones are contained.

Each hostile program must (1) end within its limits, (2) come back to the model as one ``Error:`` line
naming the cause, (3) leave this process (the trainer's stand-in) and the files outside the scratch
folder untouched.
"""

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from vlmr.tools import ToolLimits, make_environment
from vlmr.tools.sandbox import REPOSITORY, SandboxLimits, run_sandboxed

LIMITS = SandboxLimits(seconds=3, memory_mb=512)
_PROBE = run_sandboxed("pass", LIMITS).error
# Landlock (Linux >= 5.13, enabled) and seccomp are what contain the code; without them the tool refuses to run
pytestmark = pytest.mark.skipif(_PROBE is not None, reason=f"no sandbox on this machine: {_PROBE}")


@pytest.fixture
def env():
    env = make_environment(["python", "zoom_in"], limits=ToolLimits(code_seconds=3, code_memory_mb=512))()
    image = Image.new("RGB", (120, 80), "white")
    image.paste((255, 0, 0), (20, 10, 50, 40))  # a red square at x 20-50, y 10-40
    env.reset(images=[image])
    return env


def text_of(parts: list[dict]) -> str:
    return parts[-1]["text"]


class TestPythonTool:
    def test_reads_observation_and_returns_saved_image_and_stdout(self, env):
        code = ("from PIL import Image\nim = Image.open('observation_0.png')\nprint(im.size, im.getpixel((30, 20)))\n"
                "im.crop((20, 10, 50, 40)).resize((60, 60)).save('red.png')")
        parts = env.python(code=code)
        assert [p["type"] for p in parts] == ["image", "text"]
        assert parts[0]["image"].size == (60, 60) and parts[0]["image"].getpixel((30, 30)) == (255, 0, 0)
        assert "stdout:\n(120, 80) (255, 0, 0)" in text_of(parts)
        assert "red.png (60x60 px, shown above)" in text_of(parts)

    def test_earlier_tool_images_are_observations(self, env):
        env.zoom_in(bbox_2d=[20, 10, 50, 40])  # observation_1: the zoomed red square
        parts = env.python(code="import os\nfrom PIL import Image\nim = Image.open('observation_1.png')\n"
                                "print(im.getpixel((im.width // 2, im.height // 2)))\n"
                                "print([(f, Image.open(f).size) for f in sorted(os.listdir('.')) if f.endswith('.png')])")
        # the 30x30 px square zoomed 4x; the input at its full size
        assert "stdout:\n(255, 0, 0)\n[('observation_0.png', (120, 80)), ('observation_1.png', (120, 120))]" in \
            text_of(parts)

    def test_numpy_works_and_stderr_comes_back(self, env):
        parts = env.python(code="import sys\nimport numpy as np\nprint(np.arange(4).sum())\nprint('warn', file=sys.stderr)")
        assert "stdout:\n6" in text_of(parts) and "stderr:\nwarn" in text_of(parts)

    @pytest.mark.parametrize(("code", "message"), [
        ("", "code must be a non-empty Python program"),  # nothing to run
        (42, "code must be a non-empty Python program as a string, got int"),  # not a string
        ("x" * 20_001, "code is 20001 characters long; the limit is 20000"),  # runaway generation
        ("1 / 0", "ZeroDivisionError: division by zero"),  # the program's own bug: its last traceback line
    ])
    def test_bad_code_is_an_error_message(self, env, code, message):
        text = text_of(env.python(code=code))
        assert text.startswith("Error: ") and message in text and "\n" not in text


# program -> the one-line error the model reads (a fragment of it)
HOSTILE = {
    "infinite loop": ("while True:\n    pass", "ran past its 3 s time limit and was stopped"),
    "fork bomb": ("import os\nwhile True:\n    os.fork()", "PermissionError: [Errno 1] Operation not permitted"),
    "subprocess": ("import subprocess\nsubprocess.run(['sh', '-c', 'echo hi'])", "PermissionError"),
    "10 GB allocation": ("x = bytearray(10 * 1024 ** 3)", "MemoryError: the code needed more than the sandbox's 512 MB"),
    "read /etc/passwd": ("print(open('/etc/passwd').read())", "Permission denied: '/etc/passwd'"),
    "read /proc of pid 1": ("print(open('/proc/1/environ').read())", "Permission denied: '/proc/1/environ'"),
    "network": ("import socket\nsocket.create_connection(('127.0.0.1', PORT), timeout=2)",
                "PermissionError: [Errno 1] Operation not permitted"),
    "1 GB stdout": ("import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * 2 ** 20)", "more than the 16 MB output"),
    "import the trainer's modules": ("import vlmr.train.grpo", "PermissionError: [Errno 13] Permission denied"),
    "kill the trainer": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", "Operation not permitted"),
}


@pytest.fixture
def listener():
    """A TCP server on localhost that records whether anything connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(5)
    hits = []
    thread = threading.Thread(target=lambda: hits.append(_accept(server)), daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    server.close()


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


class TestHostileCode:
    @pytest.mark.parametrize("name", list(HOSTILE))
    def test_contained_with_one_line_error(self, name, listener):
        port, hits = listener
        code, message = HOSTILE[name]
        start = time.perf_counter()
        result = run_sandboxed(code.replace("PORT", str(port)), LIMITS)
        assert time.perf_counter() - start < LIMITS.seconds + 5
        assert result.error is not None and message in result.error and "\n" not in result.error
        assert not result.files
        assert not [h for h in hits if h]  # nothing reached the server

    def test_reads_of_the_repository_are_refused(self):
        source = REPOSITORY / "tools" / "sandbox.py"
        assert source.exists()  # the file is there, only the sandbox cannot see it
        result = run_sandboxed(f"print(open({str(source)!r}).read())", LIMITS)
        assert f"Permission denied: '{source}'" in result.error and result.stdout == ""

    @pytest.mark.parametrize("target", ["tmp", "repository"])
    def test_writes_outside_scratch_are_refused(self, tmp_path, target):
        path = tmp_path / "escaped.txt" if target == "tmp" else REPOSITORY / "escaped.txt"
        result = run_sandboxed(f"open({str(path)!r}, 'w').write('x')", LIMITS)
        assert f"Permission denied: '{path}'" in result.error
        assert not path.exists()

    def test_scratch_is_gone_after_the_run(self):
        result = run_sandboxed("import os\nprint(os.getcwd())", LIMITS)
        assert result.error is None and not Path(result.stdout.strip()).exists()

    def test_output_is_cut_for_the_model(self):
        result = run_sandboxed("print('y' * 5000)", SandboxLimits(seconds=3, max_output=100))
        assert result.error is None and result.stdout.startswith("y" * 100 + "\n[... cut: 5001 bytes written")

    def test_trainer_survives_the_whole_suite(self, listener):
        port, _ = listener
        for code, _ in HOSTILE.values():
            run_sandboxed(code.replace("PORT", str(port)), SandboxLimits(seconds=2, memory_mb=256))
        assert os.getpid() > 0 and run_sandboxed("print('still here')", LIMITS).stdout == "still here\n"

    @pytest.mark.parametrize("kwargs", [{"seconds": 0}, {"memory_mb": 10}, {"file_mb": 0}, {"max_output": 0}])
    def test_limits_are_checked(self, kwargs):
        with pytest.raises(ValueError, match="SandboxLimits needs seconds > 0"):
            SandboxLimits(**kwargs)
