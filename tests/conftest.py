"""Project-wide test settings and fixtures."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

# The machine is shared and has 2 cores: time limits per example would make tests flaky.
settings.register_profile("vlmr", deadline=None, max_examples=100)
settings.load_profile("vlmr")

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched from a hub in tests
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # environment_factory is used on purpose


@contextmanager
def _transformers_serve(model_dir, log_dir: Path):
    """Run `transformers serve MODEL_DIR` on a free loopback port; yields its OpenAI base URL."""
    exe = Path(sys.executable).with_name("transformers")
    if not exe.exists() and not shutil.which("transformers"):
        pytest.skip("the `transformers` CLI is not installed, so `transformers serve` cannot run here")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = Path(log_dir) / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen([str(exe if exe.exists() else "transformers"), "serve", str(model_dir),
                                 "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                pytest.skip(f"`transformers serve` exited at start-up (code {proc.returncode}): {log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"`transformers serve` did not become healthy in 120 s: {log.read_text()[-800:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def transformers_serve():
    """``with transformers_serve(model_dir, log_dir) as api_base:`` a real local OpenAI-compatible server."""
    return _transformers_serve
