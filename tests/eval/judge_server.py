"""A scripted judge behind a real OpenAI-compatible HTTP endpoint (``POST /v1/chat/completions``), for the
``judge`` reward's tests: replies chosen per model answer, hostile ones included."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedJudge(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions`` answered from ``server.replies`` (model answer -> reply text, or an HTTP
    status code to fail with); the prompts received are kept in ``server.prompts``."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        self.server.prompts.append(prompt)
        answer = prompt.rsplit("Answer: ", 1)[-1].split("\n", 1)[0]
        reply = self.server.replies[answer]
        if isinstance(reply, list):  # a sequence of replies: one per request
            reply = reply.pop(0)
        if isinstance(reply, int):
            self.send_response(reply)
            self.end_headers()
            return
        payload = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                              "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def scripted_judge(replies: dict):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedJudge)
    server.replies, server.prompts = replies, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
