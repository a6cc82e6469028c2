"""Teacher distillation over real HTTP: a local OpenAI-compatible server (stdlib) that fails
once with a 500 (to exercise retries) and answers from the image it receives."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from vlmr.data_pipelines.build import build_dataset
from vlmr.data_pipelines.distill import Teacher
from vlmr.schema import load_samples


class ChatHandler(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: counts the red pixels' columns of the image to find the red box."""

    calls = 0

    def do_POST(self):  # noqa: N802 - http.server's naming
        type(self).calls += 1
        if type(self).calls == 1:
            self.send_response(500)
            self.end_headers()
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        parts = body["messages"][0]["content"]
        url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
        image = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")).astype(int)
        red = (image[..., 0] > 150) & (image[..., 1] < 80) & (image[..., 2] < 80)
        ys, xs = red.nonzero()
        box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1] if len(xs) else [0, 0, 1, 1]
        content = f'<think>The red region spans {box}.</think><answer>{{"bbox_2d": {box}}}</answer>'
        reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    ChatHandler.calls = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def source_dataset(tmp_path):
    from vlmr.schema import DatasetWriter

    out = tmp_path / "src"
    with DatasetWriter(out) as w:
        for i, box in enumerate([[4, 6, 20, 18], [10, 2, 30, 12]]):
            image = Image.new("RGB", (40, 24), (90, 90, 90))
            image.paste((230, 20, 20), tuple(box))
            path, rel = w.media_path(f"{i}.png")
            image.save(path)
            w.add({"id": f"s{i}", "task": "grounding", "question": "Find the red box.", "images": [rel],
                   "answer": {"boxes": [box]}, "meta": {"width": 40, "height": 24}})
        path, rel = w.media_path("blank.png")
        Image.new("RGB", (40, 24), (90, 90, 90)).save(path)
        w.add({"id": "s2", "task": "grounding", "question": "Find the red box.", "images": [rel],
               "answer": {"boxes": [[1, 1, 9, 9]]}, "meta": {"width": 40, "height": 24}})
    return out


class TestDistill:
    def test_verified_teacher_cot_with_retry_and_cache(self, tmp_path, server, monkeypatch):
        monkeypatch.setattr("time.sleep", lambda s: None)  # no real backoff waits in tests
        src = source_dataset(tmp_path)
        opts = {"dataset": str(src), "api_base": server, "model": "teacher", "cache_dir": str(tmp_path / "cache"),
                "progress": False}
        out = build_dataset("distill", tmp_path / "ds", **opts)
        samples = load_samples(out)
        assert [s.id for s in samples] == ["s0", "s1"]  # s2's answer is wrong: rejected
        assert samples[0].cot.endswith('<answer>{"bbox_2d": [4, 6, 20, 18]}</answer>')
        assert "skipped 1: teacher answer did not verify" in (out / "README.md").read_text()
        assert ChatHandler.calls == 4  # one 500 retried, then three answers
        build_dataset("distill", tmp_path / "again", **opts)
        assert ChatHandler.calls == 4  # everything came from the cache

    def test_gives_up_after_retries(self, tmp_path, monkeypatch):
        monkeypatch.setattr("time.sleep", lambda s: None)
        teacher = Teacher("http://127.0.0.1:9/v1", "teacher", max_retries=2, timeout=2)  # nothing listens there
        import openai

        with pytest.raises(openai.APIConnectionError):
            teacher.complete([{"role": "user", "content": "hi"}])
        assert teacher.requests == 3


@pytest.fixture(scope="module")
def transformers_server(tmp_path_factory, transformers_serve):
    """A real `transformers serve` process on the offline tiny model, on a free loopback port."""
    from vlmr.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path_factory.mktemp("tiny") / "nano", size="nano")
    with transformers_serve(model, tmp_path_factory.mktemp("serve")) as api_base:
        yield api_base, str(model)


@pytest.mark.slow
def test_distill_against_transformers_serve(tmp_path, transformers_server):
    """The tiny model's random answers never verify; kept unverified they become the records' cot."""
    api_base, model = transformers_server
    src = source_dataset(tmp_path)
    opts = {"dataset": str(src), "api_base": api_base, "model": model, "max_tokens": 8,
            "cache_dir": str(tmp_path / "cache"), "progress": False}
    strict = build_dataset("distill", tmp_path / "strict", **opts)
    assert load_samples(strict) == []
    assert "skipped 3: teacher answer did not verify" in (strict / "README.md").read_text()
    kept = load_samples(build_dataset("distill", tmp_path / "kept", keep_unverified=True, **opts))
    assert [s.id for s in kept] == ["s0", "s1", "s2"] and all(isinstance(s.cot, str) for s in kept)
    assert all(s.meta["teacher"] == model for s in kept)
