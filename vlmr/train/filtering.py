"""Data shaping from pre-rollouts: difficulty filtering and variance-aware sampling.

Before GRPO, the current model answers every prompt ``num_rollouts`` times (sampled,
through vlmr's inference loop with the config's tools) and the run's own reward
functions score the answers. Then

* **difficulty filtering** drops prompts whose mean reward is ``<= min_reward`` (never
  solved) or ``>= max_reward`` (always solved): both give every rollout the same reward,
  so GRPO's group-normalised advantage is zero and the step learns nothing from them;
* **variance-aware sampling** (``sampling: variance``, after MMR1's VAS) redraws the kept
  prompts with probability proportional to their reward variance (plus a small floor),
  so prompts the model solves sometimes are seen more often.

``<output_dir>/filter_report.json`` records the counts and each prompt's mean reward,
variance and sampling weight; a resumed run reuses it instead of rolling out again.
"""

from __future__ import annotations

import json
import logging
import random
import statistics
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from vlmr.config import ConfigError, TrainConfig

logger = logging.getLogger(__name__)

REPORT_FILE = "filter_report.json"
SAMPLINGS = ("uniform", "variance")
VARIANCE_FLOOR = 1e-3  # keeps zero-variance prompts drawable under variance sampling


@dataclass
class FilterSpec:
    """The ``filter:`` section of a config (see the module docstring)."""

    num_rollouts: int = 4  # sampled answers per prompt
    min_reward: float = 0.0  # drop prompts with mean reward <= this (never solved)
    max_reward: float = 1.0  # drop prompts with mean reward >= this (always solved)
    reward: str | None = None  # score with this one reward (by name); default: the weighted sum of all
    sampling: str = "uniform"  # or "variance": redraw kept prompts in proportion to reward variance
    temperature: float = 1.0
    max_new_tokens: int | None = None  # default: trainer.max_completion_length (or 256)
    batch_size: int = 16  # conversations per generate call

    @classmethod
    def from_config(cls, section: dict) -> FilterSpec:
        """Validate a ``filter:`` mapping; unknown keys and impossible values raise ``ConfigError``."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(section) - set(names))
        if unknown:
            raise ConfigError(f"filter: unknown key(s) {unknown}; known keys: {names}")
        spec = cls(**section)
        if spec.num_rollouts < 2:
            raise ConfigError(f"filter.num_rollouts={spec.num_rollouts}; reward variance needs at least 2")
        if spec.min_reward >= spec.max_reward:
            raise ConfigError(f"filter: min_reward={spec.min_reward} >= max_reward={spec.max_reward}; "
                              "nothing could be kept (min_reward must be below max_reward)")
        if spec.sampling not in SAMPLINGS:
            raise ConfigError(f"filter.sampling={spec.sampling!r}; choose one of {list(SAMPLINGS)}")
        return spec


def rollout_rewards(model, processor, rows: list[dict], cfg: TrainConfig, spec: FilterSpec,
                    funcs: list, weights: list[float]) -> list[list[float]]:
    """``spec.num_rollouts`` rewards per row: sampled answers (with the row's tools) scored by the rewards."""
    import torch

    from vlmr.inference import TransformersBackend
    from vlmr.train.rollouts import roll_out

    if spec.reward is not None:
        if spec.reward not in [f.__name__ for f in funcs]:
            raise ConfigError(f"filter.reward={spec.reward!r} is not among the config's rewards "
                              f"{[f.__name__ for f in funcs]}")
        chosen = {spec.reward: 1.0}
    else:
        chosen = {f.__name__: w for f, w in zip(funcs, weights, strict=True)}
    max_new = spec.max_new_tokens or cfg.trainer.get("max_completion_length", 256)
    padding_side = getattr(processor, "tokenizer", processor).padding_side  # the backend sets "left"
    backend = TransformersBackend(model, processor, max_new_tokens=max_new, temperature=spec.temperature,
                                  batch_size=spec.batch_size)
    was_training = model.training
    model.eval()
    torch.manual_seed(cfg.seed)
    with torch.no_grad():
        rollouts = roll_out(backend, rows, cfg.tools, [f for f in funcs if f.__name__ in chosen],
                            max_turns=cfg.max_tool_calls + 1 if cfg.tools else 1, repeats=spec.num_rollouts)
    model.train(was_training)
    backend.tokenizer.padding_side = padding_side
    return rollouts.by_row(rollouts.total(chosen))


def shape(rows: list[dict], rewards: list[list[float]], spec: FilterSpec, seed: int) -> tuple[list[dict], dict]:
    """Filter (and with variance sampling, redraw) ``rows`` given each row's rollout rewards.

    ``rows`` may repeat the same row object (dataset weights); rewards are per unique row, in
    order of first appearance. Returns ``(rows to train on, report)``.

    >>> a, b, c = {"id": "a", "task": "vqa"}, {"id": "b", "task": "vqa"}, {"id": "c", "task": "vqa"}
    >>> kept, report = shape([a, b, c, a], [[0, 0], [1, 0], [1, 1]], FilterSpec(num_rollouts=2), seed=0)
    >>> [r["id"] for r in kept], report["dropped_never_solved"], report["dropped_always_solved"]
    (['b'], 1, 1)
    """
    unique = list({id(r): r for r in rows}.values())
    if len(rewards) != len(unique):
        raise ValueError(f"{len(rewards)} reward lists for {len(unique)} unique rows")
    prompts, keep = [], set()
    for row, values in zip(unique, rewards, strict=True):
        mean, variance = statistics.fmean(values), statistics.pvariance(values)
        verdict = ("never_solved" if mean <= spec.min_reward else
                   "always_solved" if mean >= spec.max_reward else "kept")
        if verdict == "kept":
            keep.add(id(row))
        prompts.append({"id": row["id"], "task": row["task"], "mean_reward": round(mean, 6),
                        "reward_variance": round(variance, 6), "rewards": values, "verdict": verdict})
    kept = [r for r in rows if id(r) in keep]
    if spec.sampling == "variance" and kept:
        variance = {p_row: p["reward_variance"] for p_row, p in zip(map(id, unique), prompts, strict=True)}
        weights = [variance[id(r)] + VARIANCE_FLOOR for r in kept]
        norm = sum(weights)
        for p_row, p in zip(map(id, unique), prompts, strict=True):
            count = sum(1 for r in kept if id(r) == p_row)
            p["sampling_weight"] = round(count * (variance[p_row] + VARIANCE_FLOOR) / norm, 6) if count else 0.0
        kept = random.Random(seed).choices(kept, weights=weights, k=len(kept))
    counts = {v: sum(p["verdict"] == v for p in prompts) for v in ("kept", "never_solved", "always_solved")}
    report = {"num_prompts": len(unique), "kept": counts["kept"], "dropped_never_solved": counts["never_solved"],
              "dropped_always_solved": counts["always_solved"], "train_rows": len(kept), **asdict(spec),
              "prompts": prompts}
    return kept, report


def _reusable(report_path: Path, rows: list[dict], spec: FilterSpec) -> list[list[float]] | None:
    """Rewards recorded by an earlier run on the same prompts with the same rollout settings."""
    if not report_path.is_file():
        return None
    report = json.loads(report_path.read_text(encoding="utf-8"))
    unique = list({id(r): r for r in rows}.values())
    same = ([p["id"] for p in report["prompts"]] == [r["id"] for r in unique]
            and all(report.get(k) == v for k, v in asdict(spec).items() if k not in ("sampling", "min_reward",
                                                                                      "max_reward")))
    return [p["rewards"] for p in report["prompts"]] if same else None


def filter_rows(rows: list[dict], model, processor, cfg: TrainConfig, funcs: list, weights: list[float],
                resume: bool = False) -> list[dict]:
    """Apply ``cfg.filter`` to the GRPO rows; writes ``filter_report.json`` (main process) and returns
    the rows to train on. Every process gets the same rows (computed once, then broadcast); call it
    after the trainer arguments exist, since they set up the distributed state."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    spec = FilterSpec.from_config(cfg.filter or {})
    state = PartialState()
    report_path = Path(cfg.output_dir) / REPORT_FILE
    result = [None]
    if state.is_main_process:
        rewards = _reusable(report_path, rows, spec) if resume else None
        if rewards is None:
            unique = list({id(r): r for r in rows}.values())
            logger.info("difficulty filter: %d rollouts of %d prompts", spec.num_rollouts, len(unique))
            rewards = rollout_rewards(model, processor, unique, cfg, spec, funcs, weights)
        kept, report = shape(rows, rewards, spec, cfg.seed)
        report_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = report_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=2), encoding="utf-8")
        tmp.replace(report_path)
        logger.info("difficulty filter: kept %d of %d prompts (%d never solved, %d always solved) -> %s",
                    report["kept"], report["num_prompts"], report["dropped_never_solved"],
                    report["dropped_always_solved"], report_path)
        index = {id(r): i for i, r in enumerate(rows)}
        result = [[index[id(r)] for r in kept]]
    if state.num_processes > 1:
        broadcast_object_list(result)
    if not result[0]:
        raise ValueError(f"the difficulty filter kept no prompt (see {report_path}); widen "
                         "filter.min_reward/max_reward or use an easier dataset")
    return [rows[i] for i in result[0]]
