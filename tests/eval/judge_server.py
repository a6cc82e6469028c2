"""A scripted judge behind a real OpenAI-compatible HTTP endpoint (``POST /v1/chat/completions``), for the
``judge`` reward's tests: replies chosen per model answer, hostile ones included."""

from __future__ import annotations

import contextlib

from eval_fixtures import ChatServer


@contextlib.contextmanager
def scripted_judge(replies: dict):
    """Yields ``(server, api_base)``: each request is answered from ``replies`` (model answer -> reply text, an
    HTTP status code to fail with, or a list of those used one per request); ``server.prompts`` keeps the
    prompts received."""

    def reply(prompt: str) -> str | int:
        answer = prompt.rsplit("Answer: ", 1)[-1].split("\n", 1)[0]
        chosen = replies[answer]
        return chosen.pop(0) if isinstance(chosen, list) else chosen

    with ChatServer(reply) as server:
        yield server, server.url
