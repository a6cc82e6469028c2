"""The offline quickstart: tiny model -> synthetic data -> SFT -> eval -> GRPO -> eval -> table.

Everything is built here, on a CPU, with no download: the model by
:func:`vlmr.tiny_model.build_tiny_model`, the data by the ``shapes`` source of
:mod:`vlmr.data_pipelines`, training by :func:`vlmr.train.train` from the two YAML files in
``vlmr/configs/``, evaluation through the one inference loop and the reward registry.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from vlmr.config import TrainConfig

logger = logging.getLogger(__name__)

SFT_CONFIG = "quickstart_sft.yaml"
GRPO_CONFIG = "quickstart_grpo.yaml"
EVAL_SAMPLES = 4  # samples per held-out prompt for the policy's expected reward


def packaged_config(name: str) -> Path:
    """Path of a YAML shipped inside the package (``vlmr/configs/NAME``)."""
    return Path(str(resources.files("vlmr") / "configs" / name))


DECODINGS = ("sampled", "greedy")


@dataclass
class QuickstartResult:
    """Held-out metrics of the SFT and the GRPO checkpoints per decoding, and where things are.

    ``sft["sampled"]`` is the policy's expected reward (what GRPO maximises): each held-out prompt
    sampled several times at the training temperature. ``sft["greedy"]`` decodes each prompt once.
    """

    out_dir: Path
    sft: dict[str, dict[str, float]]
    grpo: dict[str, dict[str, float]]
    checkpoint: Path
    seconds: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        """The before/after table as Markdown, one column pair per decoding."""
        head = " | ".join(f"SFT ({d}) | GRPO ({d}) | change" for d in DECODINGS)
        lines = [f"| metric | {head} |", "|---" * (1 + 3 * len(DECODINGS)) + "|"]
        for key in self.sft["sampled"]:
            cells = []
            for d in DECODINGS:
                a, b = self.sft[d][key], self.grpo[d][key]
                cells.append(f"{a:.3f} | {b:.3f} | {b - a:+.3f}")
            lines.append(f"| {key} | {' | '.join(cells)} |")
        return "\n".join(lines)


def build_data(out_dir: Path, seed: int, n_train: int, n_heldout: int) -> tuple[Path, Path]:
    """Train and held-out synthetic shape datasets (different seeds, so no scene is shared)."""
    from vlmr.data_pipelines.build import build_dataset

    # Small images (16 visual tokens) and half the thoughts dropped keep sequences short for a CPU.
    options = {"tasks": "grounding,counting,zoom", "width": 112, "height": 112, "cot": True, "trajectories": True,
               "thought_dropout": 0.5, "max_objects": 4}
    train = build_dataset("shapes", out_dir / "train", seed=seed, limit=n_train, overwrite=True, **options)
    heldout = build_dataset("shapes", out_dir / "heldout", seed=seed + 10_000, limit=n_heldout, overwrite=True,
                            **options)
    return Path(train), Path(heldout)


def evaluate(checkpoint: str | Path, data_dir: str | Path, cfg: TrainConfig, max_new_tokens: int = 64,
             batch_size: int = 16, temperature: float = 0.0, samples: int = 1, seed: int = 0) -> dict[str, float]:
    """Held-out metrics of ``checkpoint`` with the config's prompts, tools and rewards.

    Greedy by default; with ``temperature > 0`` each prompt is sampled ``samples`` times (seeded).
    Returns the mean weighted reward, each reward's mean (over samples it applies to) and
    ``tool_call_rate``.
    """
    from transformers import set_seed

    from vlmr.inference import load_backend
    from vlmr.train.data import prompt_rows
    from vlmr.train.grpo import build_reward_funcs
    from vlmr.train.rollouts import roll_out

    set_seed(seed)
    backend = load_backend(model=str(checkpoint), max_new_tokens=max_new_tokens, temperature=temperature,
                           batch_size=batch_size, min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels)
    funcs, weights = build_reward_funcs(cfg.rewards)
    rollouts = roll_out(backend, prompt_rows(cfg, str(data_dir), backend.family), cfg.tools, funcs,
                        max_turns=cfg.max_tool_calls + 1, repeats=samples if temperature > 0 else 1)
    return rollouts.metrics({f.__name__: w for f, w in zip(funcs, weights, strict=True)})


def evaluate_both(checkpoint: Path, data_dir: Path, cfg: TrainConfig, seed: int,
                  samples: int = EVAL_SAMPLES) -> dict[str, dict[str, float]]:
    """``{"sampled": ..., "greedy": ...}`` metrics; sampling uses the GRPO run's temperature."""
    temperature = float(cfg.trainer.get("temperature", 1.0))
    return {"sampled": evaluate(checkpoint, data_dir, cfg, temperature=temperature, samples=samples, seed=seed),
            "greedy": evaluate(checkpoint, data_dir, cfg)}


def run_quickstart(out_dir: str | Path = "runs/quickstart", seed: int = 0, size: str = "tiny",
                   n_train: int = 768, n_heldout: int = 96, overrides: list[str] | None = None) -> QuickstartResult:
    """Run every step; writes ``results.json`` and ``results.md`` into ``out_dir``.

    ``overrides`` (``["--trainer.max_steps", "2", ...]``) apply to both training stages.
    """
    from vlmr.tiny_model import build_tiny_model
    from vlmr.train import train

    out_dir = Path(out_dir)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()
        logger.info("quickstart: %s done in %.0fs", name, seconds[name])

    model_dir = build_tiny_model(out_dir / "model", size=size, seed=seed, overwrite=True)
    lap("model")
    train_dir, heldout_dir = build_data(out_dir / "data", seed, n_train, n_heldout)
    lap("data")
    overrides = ["--seed", str(seed), "--datasets", json.dumps([{"path": str(train_dir)}]), *(overrides or [])]
    sft_cfg = TrainConfig.load(packaged_config(SFT_CONFIG), overrides + [
        "--model", str(model_dir), "--output_dir", str(out_dir / "sft")])
    sft_ckpt = train("sft", sft_cfg)
    lap("sft")
    grpo_cfg = TrainConfig.load(packaged_config(GRPO_CONFIG), overrides + [
        "--model", str(sft_ckpt), "--output_dir", str(out_dir / "grpo")])
    before = evaluate_both(sft_ckpt, heldout_dir, grpo_cfg, seed)
    lap("eval_sft")
    grpo_ckpt = train("grpo", grpo_cfg)
    lap("grpo")
    after = evaluate_both(grpo_ckpt, heldout_dir, grpo_cfg, seed)
    lap("eval_grpo")
    result = QuickstartResult(out_dir, before, after, grpo_ckpt, seconds)
    (out_dir / "results.json").write_text(json.dumps(
        {"seed": seed, "size": size, "sft": before, "grpo": after, "checkpoint": str(grpo_ckpt),
         "seconds": seconds}, indent=2), encoding="utf-8")
    (out_dir / "results.md").write_text(result.table() + "\n", encoding="utf-8")
    return result
