"""The ``judge`` reward: a language model behind any OpenAI-compatible server decides whether the answer
means the same as the reference (DeepEyes' and Mini-o3's accuracy reward).

DeepEyes (Zheng et al., 2025, ``verl/utils/reward_score/vl_agent.py``) asks a Qwen2.5-72B judge whether the
model's ``<answer>`` and the standard answer are consistent, few-shot, one digit back; Mini-o3 asks a judge
model the same kind of question. Here that prompt is a default (:data:`DEFAULT_TEMPLATE`, vlmr's own wording)
replaceable by a file. A judge behind a network is slow and fallible, so:

* the batch's distinct ``(question, reference, answer)`` triples are sent concurrently (``concurrency`` in
  flight), each at most once per process (a shared cache, so ``tool_use`` with ``correct_reward: judge``
  re-asks nothing); eval sends a whole benchmark's answers the same way (:meth:`JudgeReward.ask_ahead`);
* a failed request is retried with exponential backoff within ``timeout`` per request and ``time_limit``
  per batch; a server that refuses connections is left alone for ``down_for`` seconds;
* a reply with no verdict on the 0/1 scale (empty, prose, ``7``) or no reply at all is scored by the
  rule-based ``fallback`` reward (``accuracy``), counted, logged, and reported to TensorBoard through
  trl's ``log_metric`` with the batch's judge latency and cache hit rate: never a crash, never a silent 0;
* an answer longer than ``max_answer_chars`` scores 0 without asking (DeepEyes: 1,000 characters).
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
import threading
import time
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

from vlmr.rewards.base import Reward, clean_answer, completion_text
from vlmr.rewards.parse import split_think_answer
from vlmr.rewards.registry import get_reward, register_reward

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = """You compare a model's answer with the reference answer to a question about an image.
Reply 1 if the model's answer means the same as the reference (wording, case, articles, units written \
differently, or a full sentence around the same short answer all count as the same); reply 0 if it differs, \
contradicts the reference, hedges between options, or is empty. Reply with the single digit only.

Question: How many people are on the bench?
Reference: There are three people on the bench.
Answer: 3
Judgement: 1

Question: What is written on the red sign?
Reference: STOP
Answer: The sign says "stop".
Judgement: 1

Question: Is the cup to the left or to the right of the laptop?
Reference: The cup is to the right of the laptop.
Answer: left
Judgement: 0

Question: What colour is the umbrella?
Reference: blue
Answer: It is either blue or green.
Judgement: 0

Question: {question}
Reference: {reference}
Answer: {answer}
Judgement:"""
PLACEHOLDERS = ("{question}", "{reference}", "{answer}")

_VERDICT = re.compile(r"(?:judge?ment|verdict|score)[^\w+-]{0,4}([-+]?\d+(?:\.\d+)?)", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_WORDS = {"true": 1.0, "yes": 1.0, "correct": 1.0, "consistent": 1.0,
          "false": 0.0, "no": 0.0, "incorrect": 0.0, "inconsistent": 0.0}

# (api_base, model, template) -> {(question, reference, answer): verdict}. Shared by every judge of the process
# with the same server and prompt, so two rewards asking about the same completion send one request.
_CACHES: dict[tuple[str, str | None, str], OrderedDict] = {}
_CACHE_LOCK = threading.Lock()


def parse_verdict(reply: Any) -> float | None:
    """1.0 or 0.0 from a judge's reply, ``None`` when it holds no verdict on that scale (the caller falls back).

    A "Judgement: N" line wins; else a reply that is a lone number or a lone yes/no-style word.

    >>> [parse_verdict(r) for r in ["1", " Judgement: 0", "**Judgement**: 1.", "True", "consistent"]]
    [1.0, 0.0, 1.0, 1.0, 1.0]
    >>> [parse_verdict(r) for r in ["", None, "7", "The answers differ in detail but agree.", "1 or 0"]]
    [None, None, None, None, None]
    """
    if not isinstance(reply, str):
        return None
    text = reply.strip().strip("*").strip()
    m = _VERDICT.search(text)
    token = m.group(1) if m else None
    if token is None:
        bare = text.rstrip(".").strip().lower()
        if bare in _WORDS:
            return _WORDS[bare]
        token = bare if _NUMBER.fullmatch(bare) else None
    if token is None:
        return None
    value = float(token)
    return value if value in (0.0, 1.0) else None


def reference_text(answer: dict[str, Any]) -> str | None:
    """The reference the judge reads: ``text``, else the ``choice``, ``number`` or ``count``.

    >>> reference_text({"number": 2.0}), reference_text({"boxes": [[0, 0, 1, 1]]})
    ('2', None)
    """
    for key in ("text", "choice", "number", "count"):
        value = answer.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def question_text(context: dict[str, Any]) -> str:
    """The question: the ``question`` column (every vlmr row carries it), else the text of the last user
    message of trl's ``prompts`` (a row made elsewhere; that text holds the prompt's instructions too)."""
    question = context.get("question")
    if isinstance(question, str) and question.strip():
        return question.strip()
    prompt = context.get("prompts")
    if isinstance(prompt, list):
        users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        if users:
            return completion_text([{**users[-1], "role": "assistant"}]).strip()
    return prompt.strip() if isinstance(prompt, str) else ""


@register_reward("judge")
class JudgeReward(Reward):
    """1.0 when the judge model says the answer matches the reference, else 0.0 (see the module docstring).

    Args:
        api_base: the judge server's OpenAI-compatible base URL (vLLM, SGLang, ``transformers serve``, an API).
        model: the model name it serves (default: the first one it lists).
        api_key: key for hosted APIs (default ``"EMPTY"``; local servers accept any).
        prompt_file: a text file replacing :data:`DEFAULT_TEMPLATE`, with ``{question}``, ``{reference}`` and
            ``{answer}`` where those go.
        concurrency: requests in flight (default 16).
        timeout: seconds per request (default 30).
        max_retries: retries of a failed request, waiting 0.5, 1, 2, ... s (default 2).
        time_limit: seconds for a whole batch; unanswered samples fall back (default 120).
        down_for: seconds a server that refused a connection is not asked again (default 30).
        max_answer_chars: longer answers score 0 without asking (default 1000, as DeepEyes).
        max_tokens: tokens of the judge's reply (default 8).
        fallback: registry name of the rule-based reward used when the judge gives no verdict
            (default ``"accuracy"``).
        cache_size: verdicts kept per server and prompt (default 100,000; the oldest dropped first).

    Returns:
        1.0 or 0.0 per completion (the fallback's score where the judge gave none); ``None`` when the sample
        has no reference to compare with.

    Example (no server listens on port 9: every sample is scored by ``accuracy``, and counted):

    >>> r = JudgeReward(api_base="http://127.0.0.1:9/v1", model="judge", max_retries=0, timeout=2)
    >>> r(["<think>...</think><answer>red</answer>", "<answer>blue</answer>"], answer=[{"text": "Red"}] * 2,
    ...   question=["What colour is the bus?"] * 2)
    [1.0, 0.0]
    >>> r.stats["fallback"], r.stats["judged"]
    (2, 0)
    """

    name = "judge"

    def __init__(self, api_base: str = "http://localhost:8000/v1", model: str | None = None, api_key: str = "EMPTY",
                 prompt_file: str | None = None, concurrency: int = 16, timeout: float = 30.0, max_retries: int = 2,
                 time_limit: float = 120.0, down_for: float = 30.0, max_answer_chars: int = 1000,
                 max_tokens: int = 8, fallback: str = "accuracy", cache_size: int = 100_000):
        if concurrency < 1 or max_retries < 0 or timeout <= 0 or time_limit <= 0 or max_answer_chars < 1:
            raise ValueError(f"need concurrency >= 1, max_retries >= 0, timeout > 0, time_limit > 0 and "
                             f"max_answer_chars >= 1; got {concurrency}, {max_retries}, {timeout}, {time_limit}, "
                             f"{max_answer_chars}")
        if fallback == "judge":
            raise ValueError("fallback must be a rule-based reward such as 'accuracy', not 'judge' itself")
        self.template = Path(prompt_file).read_text(encoding="utf-8") if prompt_file else DEFAULT_TEMPLATE
        missing = [p for p in PLACEHOLDERS[1:] if p not in self.template]
        if missing:
            raise ValueError(f"judge prompt {prompt_file} lacks {missing}; write {', '.join(PLACEHOLDERS)} where "
                             "the question, the reference answer and the model's answer go")
        self.api_base, self.model, self.api_key = api_base, model, api_key
        self.concurrency, self.timeout, self.max_retries = int(concurrency), float(timeout), int(max_retries)
        self.time_limit, self.down_for = float(time_limit), float(down_for)
        self.max_answer_chars, self.max_tokens, self.cache_size = int(max_answer_chars), int(max_tokens), int(cache_size)
        self.fallback = get_reward(fallback)
        self.stats: Counter = Counter()  # cumulative: requests, cache_hits, judged, fallback, fallback:<why>, ...
        self._client = None
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._batch_verdicts: dict | None = None  # set while __call__ scores its batch, or by ask_ahead

    def __getstate__(self) -> dict[str, Any]:  # the HTTP client and the lock do not pickle; a copy makes its own
        return {**self.__dict__, "_client": None, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    # --- the server ---------------------------------------------------------------------------------------
    def _connect(self):
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(base_url=self.api_base, api_key=self.api_key, timeout=self.timeout, max_retries=0)
        if self.model is None:
            self.model = self._client.models.list().data[0].id
        return self._client

    def _ask(self, prompt: str, deadline: float) -> str:
        """The judge's reply to ``prompt``, retried with backoff until ``deadline``; raises when all tries failed.

        Runs in worker threads: attempts are counted under ``_lock``.
        """
        import openai

        attempt = 0
        while True:
            with self._lock:
                self.stats["requests"] += 1
            try:
                client = self._connect()
                reply = client.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": prompt}], temperature=0.0,
                    max_tokens=self.max_tokens, timeout=max(0.1, min(self.timeout, deadline - time.monotonic())))
                return reply.choices[0].message.content or ""
            except (openai.APIError, OSError) as e:
                if isinstance(e, openai.APIConnectionError) and not isinstance(e, openai.APITimeoutError):
                    self._down_until = time.monotonic() + self.down_for  # refused: no point in retrying now
                    raise
                wait = 0.5 * 2**attempt
                if attempt == self.max_retries or time.monotonic() + wait > deadline:
                    raise
                time.sleep(wait)
                attempt += 1

    def _verdicts(self, keys: list[tuple[str, str, str]]) -> tuple[dict, Counter]:
        """Verdicts of the distinct ``keys`` not cached yet (``None`` where the judge gave none) and the reasons."""
        verdicts: dict = {}
        why: Counter = Counter()
        if time.monotonic() < self._down_until:
            why["server down"] += len(keys)
            return dict.fromkeys(keys), why
        deadline = time.monotonic() + self.time_limit

        def one(key):
            question, reference, answer = key
            prompt = (self.template.replace("{question}", question).replace("{reference}", reference)
                      .replace("{answer}", answer))
            return parse_verdict(self._ask(prompt, deadline))

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(self.concurrency, len(keys)))
        futures = {pool.submit(one, key): key for key in keys}
        done, late = concurrent.futures.wait(futures, timeout=self.time_limit)
        pool.shutdown(wait=False, cancel_futures=True)
        for future in late:
            verdicts[futures[future]] = None
            why["batch time limit"] += 1
        for future in done:
            try:
                verdicts[futures[future]] = verdict = future.result()
                if verdict is None:
                    why["reply without a 0/1 verdict"] += 1
            except Exception as e:  # every failure of one request is that sample's fallback, never the run's end
                verdicts[futures[future]] = None
                why[f"request failed ({type(e).__name__})"] += 1
        return verdicts, why

    # --- scoring ------------------------------------------------------------------------------------------
    def _cache(self) -> OrderedDict:
        with _CACHE_LOCK:
            return _CACHES.setdefault((self.api_base, self.model, self.template), OrderedDict())

    def __call__(self, completions: list[Any], **columns: Any) -> list[float | None]:
        """trl's signature: the batch's uncached triples go to the judge together; metrics go to ``log_metric``."""
        contexts = self.sample_columns(completions, columns)
        items = [self._item(completion_text(c), context) for c, context in zip(completions, contexts, strict=True)]
        asked = [item for item in items if isinstance(item, tuple)]
        start = time.monotonic()
        self._batch_verdicts, hits, why = self._ask_all(asked)
        latency = time.monotonic() - start
        before = self.stats["fallback"]
        try:
            rewards = [self._score_one(c, context) for c, context in zip(completions, contexts, strict=True)]
        finally:
            self._batch_verdicts = None
        fallbacks = self.stats["fallback"] - before
        if fallbacks:
            logger.warning("judge %s: %d of %d answers scored by the %s fallback (%s)", self.api_base, fallbacks,
                           len(completions), self.fallback.name, ", ".join(f"{r}: {n}" for r, n in why.items()))
        log_metric = columns.get("log_metric")
        if log_metric is not None:
            log_metric("judge/latency_seconds", latency)
            log_metric("judge/fallback_share", fallbacks / max(1, len(completions)))
            log_metric("judge/cache_hit_rate", hits / max(1, len(asked)))
        return rewards

    def ask_ahead(self, answers: list[tuple[str, dict[str, Any] | None, dict[str, Any]]]) -> None:
        """Ask about many ``(prediction, answer, context)`` at once, as a training batch is asked;
        :meth:`score` then reads the verdicts instead of sending one request at a time (eval's path)."""
        items = [self._item(prediction, {**context, "answer": answer}) for prediction, answer, context in answers]
        self._batch_verdicts = self._ask_all([item for item in items if isinstance(item, tuple)])[0]

    def _ask_all(self, asked: list[tuple[str, str, str]]) -> tuple[dict, int, Counter]:
        """Verdicts of ``asked`` (cached or asked now, concurrently), the cache hits and why some have none."""
        cache = self._cache()
        hits = sum(1 for item in asked if item in cache)
        keys = list(dict.fromkeys(item for item in asked if item not in cache))
        verdicts, why = self._verdicts(keys) if keys else ({}, Counter())
        self._remember(verdicts)
        self.stats["cache_hits"] += hits
        self.stats.update({f"fallback: {reason}": n for reason, n in why.items()})
        return {**{item: cache.get(item) for item in asked}, **verdicts}, hits, why

    def _remember(self, verdicts: dict) -> None:
        """Cache the verdicts the judge gave (a missing verdict is asked again next time)."""
        cache = self._cache()
        with _CACHE_LOCK:
            cache.update({key: v for key, v in verdicts.items() if v is not None})
            while len(cache) > self.cache_size:
                cache.popitem(last=False)

    def _item(self, prediction: str, context: dict[str, Any]) -> tuple[str, str, str] | float | None:
        """The ``(question, reference, answer)`` to ask about, or the score when no question is needed."""
        reference = reference_text(clean_answer(context.get("answer")))
        if reference is None:
            return None
        _, answer = split_think_answer(prediction)
        answer = (answer or "").strip()
        if not answer or len(answer) > self.max_answer_chars:
            return 0.0
        return question_text(context), reference, answer

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        item = self._item(prediction, {**context, "answer": answer})
        if not isinstance(item, tuple):
            if item == 0.0:
                self.stats["empty or too long"] += 1
            return item
        verdicts = self._batch_verdicts
        if verdicts is None or item not in verdicts:  # called alone (eval, another reward): ask now
            verdicts = {item: self._cache().get(item)}
            if verdicts[item] is None:
                verdicts, why = self._verdicts([item])
                self._remember(verdicts)
                self.stats.update({f"fallback: {reason}": n for reason, n in why.items()})
            else:
                self.stats["cache_hits"] += 1
        verdict = verdicts[item]
        if verdict is None:
            self.stats["fallback"] += 1
            return self.fallback.score(prediction, answer, **context)
        self.stats["judged"] += 1
        return verdict
