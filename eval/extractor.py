"""Answer extraction by an LLM behind an OpenAI-compatible endpoint, cached on disk.

MathVista, MathVerse and others extract the final answer from free-form responses with
a few-shot prompt to a chat model. :class:`LLMExtractor` does that for any benchmark:
the client is created on the first call (never at import or construction), and every
``(model, prompt) -> answer`` pair is appended to a JSONL cache, so re-scoring costs
no requests and gives the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class LLMExtractor:
    """Callable ``prompt -> extracted text`` backed by an OpenAI-compatible chat endpoint.

    Args:
        api_base: base URL, e.g. ``http://localhost:8000/v1`` (vLLM, SGLang, OpenAI).
        model: model name sent with each request.
        api_key: key (default: ``$OPENAI_API_KEY``, or ``"EMPTY"`` for local servers).
        cache_path: JSONL cache file; ``None`` keeps the cache in memory only.
        max_tokens: generation limit of one extraction.
    """

    def __init__(
        self,
        api_base: str,
        model: str,
        api_key: str | None = None,
        cache_path: str | Path | None = None,
        max_tokens: int = 64,
    ):
        self.api_base = api_base
        self.model = model
        self.api_key = api_key
        self.cache_path = Path(cache_path) if cache_path else None
        self.max_tokens = max_tokens
        self._client: Any = None
        self._cache: dict[str, str] | None = None
        self.n_requests = 0

    def _key(self, prompt: str) -> str:
        return hashlib.sha256(f"{self.model}\n{prompt}".encode()).hexdigest()

    def _load_cache(self) -> dict[str, str]:
        if self._cache is None:
            self._cache = {}
            if self.cache_path and self.cache_path.exists():
                for line in self.cache_path.read_text(encoding="utf-8").splitlines():
                    try:
                        row = json.loads(line)
                        self._cache[row["key"]] = row["output"]
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue  # a torn last line from a killed run
        return self._cache

    def _client_or_create(self):
        """The server's :class:`~vlmr.inference.OpenAIBackend`, created on the first request."""
        if self._client is None:
            from vlmr.inference.backends import OpenAIBackend

            self._client = OpenAIBackend(self.api_base, self.model, self.api_key, max_new_tokens=self.max_tokens,
                                         stop_at_tool_call=False, max_retries=2)
        return self._client

    def __call__(self, prompt: str) -> str:
        """The model's answer to ``prompt`` (cached); ``""`` if the request fails."""
        cache = self._load_cache()
        key = self._key(prompt)
        if key in cache:
            return cache[key]
        try:
            reply = self._client_or_create().chat([{"role": "user", "content": prompt}])
            output = (reply.choices[0].message.content or "").strip()
        except Exception as e:  # network/server errors must not kill a scoring run
            logger.warning("LLM extraction failed (%s: %s); treating the answer as empty", type(e).__name__, e)
            return ""
        self.n_requests += 1
        cache[key] = output
        if self.cache_path:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps({"key": key, "output": output}, ensure_ascii=False) + "\n"
            fd = os.open(self.cache_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        return output
