"""Run a config's stages in order (RewardMap-style curricula): each stage trains from the
previous stage's final checkpoint with its own data, rewards and steps."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from vlmr.config import TrainConfig
from vlmr.train.model import is_complete

logger = logging.getLogger(__name__)

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def last_checkpoint(output_dir: str | Path) -> Path | None:
    """The highest-step *complete* ``checkpoint-N`` in ``output_dir`` (``None`` if there is none).

    transformers writes ``trainer_state.json`` last, so a run killed while saving leaves a
    checkpoint without it; that one is skipped rather than resumed from.
    """
    out = Path(output_dir)
    found = [(int(m.group(1)), p) for p in out.glob("checkpoint-*") if (m := _CHECKPOINT.match(p.name))]
    complete = [(step, p) for step, p in found if (p / "trainer_state.json").is_file()]
    for _, path in set(found) - set(complete):
        logger.warning("ignoring incomplete checkpoint %s (no trainer_state.json)", path)
    return max(complete)[1] if complete else None


def train(method: str, cfg: TrainConfig, resume: bool = False) -> Path:
    """Train with ``method`` ("sft" or "grpo") through every stage of ``cfg``; returns the last checkpoint.

    A stage whose ``final`` checkpoint is complete is skipped, so a killed curriculum resumes
    at the stage it was in (and, with ``resume``, from that stage's last complete checkpoint).
    """
    from vlmr.train.grpo import train_grpo
    from vlmr.train.sft import train_sft
    from vlmr.train.specs import check_config

    runners = {"sft": train_sft, "grpo": train_grpo}
    if method not in runners:
        raise ValueError(f"unknown training method {method!r}; choose one of {sorted(runners)}")
    check_config(cfg, method)  # every stage's rewards, tools and trainer keys, before the first one trains
    model = cfg.model
    for name, stage in cfg.stage_configs():
        final = Path(stage.output_dir) / "final"
        if is_complete(final):
            logger.info("stage %s already finished at %s; skipping", name, final)
        else:
            checkpoint = last_checkpoint(stage.output_dir) if resume else None
            logger.info("stage %s: training %s from %s%s", name, method, model,
                        f" (resuming from {checkpoint})" if checkpoint else "")
            final = runners[method](replace(stage, model=model), resume=str(checkpoint) if checkpoint else False)
        model = str(final)
    return Path(model)
