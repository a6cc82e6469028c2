"""The ``distill`` source: chain-of-thought from a teacher model behind any OpenAI-compatible
endpoint (vLLM, ``transformers serve``, SGLang, a hosted API), kept only when it is right.

``vlmr data build distill --out data/shapes_cot --dataset data/shapes --api-base http://localhost:8000/v1
--model Qwen/Qwen2.5-VL-72B-Instruct``

Each sample of an existing vlmr dataset is sent with its image(s) and an instruction to
think in ``<think>`` and answer in ``<answer>`` in the payload format of the answer type,
coordinates in original pixels, through vlmr's one agent loop (:func:`vlmr.inference.run_batch`,
one turn, ``concurrency`` requests in flight). Responses are cached on disk (keyed by model,
sampling and request), requests are retried with exponential backoff, and a response is kept (as the
record's ``cot``) only if the rewards that check it (``verify``, comma-separated reward
names; by default one per task, :data:`VERIFY_BY_TASK`) score it at least ``min_score`` --
rejection sampling, as in the R1-style cold-start recipes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.build import Built, Skipped, in_shard, open_image
from vlmr.inference import AgentRequest, OpenAIBackend, run_batch
from vlmr.schema import load_samples, resolve_media

logger = logging.getLogger(__name__)

# record task -> the reward that checks a teacher answer (``accuracy`` for every other task)
VERIFY_BY_TASK = {"grounding": "iou", "segmentation": "iou", "detection": "detection", "counting": "count",
                  "pointing": "point_in_box,point_in_mask"}

INSTRUCTION = (
    "Think step by step inside <think></think>, then give the final answer inside <answer></answer>. "
    "Boxes: {{\"bbox_2d\": [x1, y1, x2, y2], \"label\": \"...\"}}; points: {{\"point_2d\": [x, y]}}; "
    "coordinates in pixels of the original image ({width}x{height}); counts as an integer; choices as the letter."
)


class Teacher(OpenAIBackend):
    """The teacher: an :class:`~vlmr.inference.OpenAIBackend` whose replies are cached on disk and retried.

    Args:
        api_base: endpoint base URL, e.g. ``http://localhost:8000/v1``.
        model: model name the server expects.
        api_key: key for hosted APIs (local servers accept any string).
        cache_dir: one JSON file per distinct request; ``None`` disables the cache.
        max_retries: attempts after the first failure, waiting 1, 2, 4, ... seconds.
        timeout: seconds per request.
        max_tokens: tokens per reply.
        temperature: sampling temperature (0 = greedy).
        concurrency: requests in flight at once.
    """

    def __init__(self, api_base: str, model: str, api_key: str = "EMPTY", cache_dir: str | Path | None = None,
                 max_retries: int = 4, timeout: float = 120.0, max_tokens: int = 512, temperature: float = 0.0,
                 concurrency: int = 8):
        super().__init__(api_base, model, api_key, max_new_tokens=max_tokens, temperature=temperature,
                         concurrency=concurrency, timeout=timeout, stop_at_tool_call=False, max_retries=0)
        import openai

        self._retryable = (openai.APIError, OSError)  # connection errors, 5xx, rate limits, timeouts
        self.max_retries = max_retries
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.requests = 0  # calls that reached the server (cache misses), for reports and tests

    def _cache_path(self, messages: list[dict], schemas: list[dict] | None) -> Path | None:
        if self.cache_dir is None:
            return None
        key = json.dumps([self.model, self.sampling, messages, schemas or []], sort_keys=True)
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def chat(self, messages: list[dict], schemas: list[dict] | None = None) -> Any:
        """The teacher's chat completion of ``messages`` (from the cache when asked before); raises
        when every retry failed."""
        from openai.types.chat import ChatCompletion

        path = self._cache_path(messages, schemas)
        if path is not None and path.exists():
            return ChatCompletion.model_validate_json(path.read_text(encoding="utf-8"))
        for attempt in range(self.max_retries + 1):
            try:
                self.requests += 1
                reply = super().chat(messages, schemas)
                break
            except self._retryable as e:
                if attempt == self.max_retries:
                    raise
                logger.warning("teacher request failed (%s); retry %d/%d", e, attempt + 1, self.max_retries)
                time.sleep(2**attempt)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(reply.model_dump_json(), encoding="utf-8")
            tmp.replace(path)
        return reply

    def complete(self, messages: list[dict]) -> str:
        """The text of the teacher's reply to OpenAI-format ``messages``."""
        return self.chat(messages).choices[0].message.content or ""


def teacher_request(sample, root: Path) -> AgentRequest | Skipped:
    """The chat request for one sample (its images, question, choices and the format instruction),
    or why its images cannot be read."""
    images = [open_image(resolve_media(root, rel)) for rel in sample.images]
    unreadable = next((im for im in images if isinstance(im, Skipped)), None)
    if unreadable is not None:
        return unreadable
    meta = sample.meta or {}
    text = sample.question + ("\n" + "\n".join(sample.choices) if sample.choices else "")
    text += "\n" + INSTRUCTION.format(width=meta.get("width", "?"), height=meta.get("height", "?"))
    content = [*({"type": "image"} for _ in images), {"type": "text", "text": text}]
    return AgentRequest([{"role": "user", "content": content}], images)


def verified(response: str, sample, rewards: dict, min_score: float) -> bool:
    """True when every applicable reward scores ``response`` at least ``min_score`` (and one applies).

    ``rewards`` maps a task to its rewards; the ``"*"`` entry serves the other tasks.
    """
    chosen = rewards.get(sample.task, rewards.get("*", []))
    # the teacher answers in original pixels (no `coord`); the other reward columns as a training row has them
    scores = [r.score(response, sample.answer, task=sample.task, choices=sample.choices, id=sample.id) for r in chosen]
    scores = [s for s in scores if s is not None]
    return bool(scores) and min(scores) >= min_score


def build_distill(
    *,
    dataset: str,
    api_base: str,
    model: str,
    api_key: str = "EMPTY",
    cache_dir: str = ".vlmr_cache/teacher",
    verify: str = "",
    min_score: float = 0.5,
    keep_unverified: bool = False,
    max_tokens: int = 512,
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """Copy ``dataset``'s samples with the teacher's verified reasoning as ``cot``."""
    from vlmr.rewards import get_reward

    root = Path(dataset)
    if verify:
        rewards = {"*": [get_reward(name.strip()) for name in verify.split(",") if name.strip()]}
    else:
        rewards = {task: [get_reward(n) for n in names.split(",")] for task, names in VERIFY_BY_TASK.items()}
        rewards["*"] = [get_reward("accuracy")]
    teacher = Teacher(api_base, model, api_key=api_key, cache_dir=cache_dir or None, max_tokens=max_tokens)
    samples = [s for _, s in in_shard(load_samples(root), limit=limit, shard=shard, num_shards=num_shards)]
    for start in range(0, len(samples), teacher.concurrency):
        requests, kept = [], []
        for sample in samples[start : start + teacher.concurrency]:
            request = teacher_request(sample, root)
            if isinstance(request, Skipped):
                yield request
                continue
            requests.append(request)
            kept.append(sample)
        for sample, trajectory in zip(kept, run_batch(teacher, requests, max_turns=1), strict=True):
            yield _distilled(sample, trajectory, rewards, min_score, keep_unverified, split, model, root)


def _distilled(sample, trajectory, rewards: dict, min_score: float, keep_unverified: bool, split: str, model: str,
               root: Path) -> Built | Skipped:
    """The sample with the teacher's response as its ``cot``, or why it is not kept."""
    if trajectory.error:  # retries exhausted: count it, go on with the next sample
        return Skipped(f"teacher request failed ({trajectory.error.split(':', 1)[0]})")
    response = trajectory.response
    if not keep_unverified and not verified(response, sample, rewards, min_score):
        return Skipped("teacher answer did not verify")
    record = sample.to_dict()
    record["cot"] = response
    record["meta"] = {**record["meta"], "split": record["meta"].get("split", split), "teacher": model}
    return Built(record, {rel.removeprefix("media/"): resolve_media(root, rel) for rel in sample.media_paths()})
