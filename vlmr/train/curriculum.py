"""Run a config's stages in order (RewardMap-style curricula): each stage trains from the
previous stage's final checkpoint with its own data, rewards and steps."""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

from vlmr.config import ConfigError, TrainConfig
from vlmr.models import META_FILE, is_complete
from vlmr.train.model import run_settings

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


def changed_settings(before: dict, now: dict, prefix: str = "") -> list[str]:
    """``key: old -> new`` for every setting that differs (nested mappings compared key by key).

    >>> changed_settings({"seed": 1, "trainer": {"lr": 0.1, "steps": 5}}, {"seed": 1, "trainer": {"lr": 0.2, "steps": 5}})
    ['trainer.lr: 0.1 -> 0.2']
    """
    out = []
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out += changed_settings(old, new, f"{prefix}{key}.")
        elif old != new:
            out.append(f"{prefix}{key}: {json.dumps(old)} -> {json.dumps(new)}")
    return out


def _finished_with_same_settings(name: str, final: Path, settings: dict) -> None:
    """Log that stage ``name`` is done; a stage finished with other settings is a :class:`ConfigError`."""
    saved = json.loads((final / META_FILE).read_text(encoding="utf-8")).get("settings")
    if saved is None:  # finished before vlmr recorded settings: nothing to compare
        logger.info("stage %s already finished at %s; skipping", name, final)
        return
    changed = changed_settings(saved, settings)
    if changed:
        raise ConfigError(
            f"stage {name} already finished at {final} with other settings ({'; '.join(changed)}); train into a "
            "new output_dir, or pass --overwrite to train it again from scratch")
    logger.info("stage %s already finished at %s with the same settings; skipping", name, final)


def _clear(output_dir: Path) -> None:
    """Remove the final and intermediate checkpoints of a stage (logs stay), so it trains from scratch."""
    for path in [output_dir / "final", *output_dir.glob("checkpoint-*")]:
        if path.is_dir():
            shutil.rmtree(path)
    logger.info("--overwrite: removed the checkpoints in %s", output_dir)


def train(method: str, cfg: TrainConfig, resume: bool = False, overwrite: bool = False) -> Path:
    """Train with ``method`` ("sft" or "grpo") through every stage of ``cfg``; returns the last checkpoint.

    A stage whose ``final`` checkpoint is complete is skipped if it was trained with the same settings,
    so a killed curriculum resumes at the stage it was in (and, with ``resume``, from that stage's last
    complete checkpoint); other settings against a finished stage are an error. ``overwrite`` trains
    every stage again from scratch.
    """
    from vlmr.train.grpo import train_grpo
    from vlmr.train.sft import train_sft
    from vlmr.train.specs import check_config

    runners = {"sft": train_sft, "grpo": train_grpo}
    if method not in runners:
        raise ValueError(f"unknown training method {method!r}; choose one of {sorted(runners)}")
    check_config(cfg, method)  # every stage's rewards, tools and trainer keys, before the first one trains
    if resume and overwrite:
        raise ConfigError("--resume continues a run and --overwrite starts it again from scratch: pass one of them")
    model = cfg.model
    for name, stage in cfg.stage_configs():
        stage = replace(stage, model=model)
        final = Path(stage.output_dir) / "final"
        if overwrite:
            _clear(Path(stage.output_dir))
        if is_complete(final):
            _finished_with_same_settings(name, final, run_settings(method, stage))
        else:
            checkpoint = last_checkpoint(stage.output_dir) if resume else None
            logger.info("stage %s: training %s from %s%s", name, method, model,
                        f" (resuming from {checkpoint})" if checkpoint else "")
            final = runners[method](stage, resume=str(checkpoint) if checkpoint else False)
        model = str(final)
    return Path(model)
