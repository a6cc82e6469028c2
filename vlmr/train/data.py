"""The training mix: vlmr dataset dirs -> one shuffled list of trainer rows."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from vlmr.config import ConfigError, DatasetSpec, TrainConfig
from vlmr.conversation import FramePolicy
from vlmr.dataset import prepared_samples, prompt_row
from vlmr.prompts import SYSTEM_PROMPT

logger = logging.getLogger(__name__)

NO_TOOLS = "no_tools"  # tool environment of the tasks the config gives no tools


def system_prompt(cfg: TrainConfig) -> str | None:
    """The system prompt a config asks for ('default' -> vlmr's output-format prompt)."""
    return SYSTEM_PROMPT if cfg.system_prompt == "default" else cfg.system_prompt


def frame_policy(cfg: TrainConfig) -> FramePolicy:
    """How the config's videos become frames (``frames:``; keys checked by :mod:`vlmr.train.specs`)."""
    return FramePolicy.from_options(cfg.frames)


def mix(cfg: TrainConfig, rows_of: Callable[[DatasetSpec], list[dict]]) -> list[dict]:
    """Rows of every dataset in the mix, shuffled; a weight ``w`` repeats each sample ``w``
    times in expectation (``floor(w)`` copies plus one more with probability ``w - floor(w)``)."""
    rng = random.Random(cfg.seed)
    rows: list[dict] = []
    for spec in cfg.datasets:
        base = rows_of(spec)
        for row in base:
            rows.extend([row] * (int(spec.weight) + (rng.random() < spec.weight - int(spec.weight))))
        logger.info("dataset %s: %d samples x weight %.2f", spec.path, len(base), spec.weight)
    rng.shuffle(rows)
    if not rows:
        raise ConfigError(f"the training mix is empty (datasets: {[s.path for s in cfg.datasets]})")
    return rows


def prompt_rows(cfg: TrainConfig, path: str, family: str, limit: int | None = None) -> list[dict]:
    """Prompt rows of one dataset dir as ``cfg`` renders them (system prompt, tools per task);
    GRPO trains on these and the quickstart evaluates on them."""
    rows = [
        prompt_row(path, sample, space, cfg.tools.get(sample.task), system_prompt(cfg), frames=frame_policy(cfg))
        for sample, space in prepared_samples(path, family, cfg.min_pixels, cfg.max_pixels, limit)
    ]
    if cfg.tools:  # trl's multi-environment mode: each row names its tool environment
        for row in rows:
            row["environment"] = environment_name(cfg, row["task"])
    return rows


def environment_name(cfg: TrainConfig, task: str) -> str:
    """The tool environment a task's rows use (see :func:`vlmr.train.grpo.tool_environment_factory`)."""
    return task if task in cfg.tools else NO_TOOLS


def longest_prompt(processor, rows: list[dict], n: int = 16) -> int:
    """Tokens (image tokens included) of the longest of the first ``n`` prompts, for the size report."""
    from vlmr.inference import fill_images

    longest = 0
    for row in rows[:n]:
        encoded = processor.apply_chat_template(fill_images(row["prompt"], row["images"]), tokenize=True,
                                                return_dict=True, add_generation_prompt=True)
        longest = max(longest, len(encoded["input_ids"][0] if isinstance(encoded["input_ids"][0], list)
                                   else encoded["input_ids"]))
    return longest
