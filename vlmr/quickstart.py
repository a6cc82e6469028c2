"""The offline quickstart: tiny model -> synthetic data -> SFT -> eval -> GRPO -> eval -> table.

Everything is built here, on a CPU, with no download: the model by
:func:`vlmr.tiny_model.build_tiny_model` (or one pretrained by ``vlmr model pretrain-tiny``),
the data by the ``shapes`` source of
:mod:`vlmr.data_pipelines`, training by :func:`vlmr.train.train` from the two YAML files in
``vlmr/configs/``, evaluation through the one inference loop and the reward registry.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from vlmr.config import TrainConfig

logger = logging.getLogger(__name__)

SFT_CONFIG = "quickstart_sft.yaml"
GRPO_CONFIG = "quickstart_grpo.yaml"
EVAL_SAMPLES = 4  # samples per held-out prompt for the policy's expected reward
PLAIN_WIDTH = 112  # grounding and counting scenes: 16 visual tokens, shown as drawn
ZOOM_WIDTH = 336  # zoom scenes: shown at 112 px like every image (the model's max_pixels)


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


def build_data(out_dir: Path, seed: int, n_train: int, n_heldout: int) -> dict[str, Path]:
    """Synthetic shape datasets: ``train``/``heldout`` (grounding and counting, 112 px) and
    ``train_zoom``/``heldout_zoom`` (small-target colour questions on 336 px scenes, which the model
    sees at 112 px: the target is ~2 px wide there and readable in a ``zoom_in`` crop). A third of
    the samples are zoom questions; train and held-out never share a scene (different seeds)."""
    from vlmr.data_pipelines.build import build_dataset

    # Half the thoughts dropped keeps sequences short for a CPU.
    options = {"cot": True, "trajectories": True, "thought_dropout": 0.5, "max_objects": 4}
    kinds = {"": ("grounding,counting", PLAIN_WIDTH, 2 / 3), "_zoom": ("zoom", ZOOM_WIDTH, 1 / 3)}
    dirs = {}
    for split, split_seed, n in (("train", seed, n_train), ("heldout", seed + 10_000, n_heldout)):
        for suffix, (tasks, width, share) in kinds.items():
            dirs[split + suffix] = Path(build_dataset(
                "shapes", out_dir / f"{split}{suffix}", seed=split_seed, limit=round(n * share), overwrite=True,
                tasks=tasks, width=width, height=width, **options))
    return dirs


def evaluate(checkpoint: str | Path, data: dict[str, Path], cfg: TrainConfig, max_new_tokens: int = 64,
             batch_size: int = 16, temperature: float = 0.0, samples: int = 1, seed: int = 0) -> dict[str, float]:
    """Held-out metrics of ``checkpoint`` with the config's prompts, tools and rewards.

    Over every held-out question (``data["heldout"]`` and ``data["heldout_zoom"]``): the mean
    weighted reward, each reward's mean (over the answers it applies to) and ``tool_call_rate``.
    On the zoom questions alone: ``zoom_accuracy_with_tools`` and ``zoom_tool_call_rate`` (the
    config's tools), and ``zoom_accuracy_without_tools`` (the same scenes asked with no tool
    offered). Greedy by default; with ``temperature > 0`` each prompt is sampled ``samples``
    times (seeded).
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
    weights = {f.__name__: w for f, w in zip(funcs, weights, strict=True)}
    repeats = samples if temperature > 0 else 1

    def answer(config: TrainConfig, names: tuple[str, ...]):
        rows = [row for name in names for row in prompt_rows(config, str(data[name]), backend.family)]
        return roll_out(backend, rows, config.tools, funcs, max_turns=config.max_tool_calls + 1, repeats=repeats)

    everything = answer(cfg, ("heldout", "heldout_zoom"))
    zoom = everything.select(lambda row: row["task"] == "vqa").metrics(weights)  # the zoom questions are the vqa rows
    without = answer(replace(cfg, tools={}), ("heldout_zoom",)).metrics(weights)
    return {**everything.metrics(weights), "zoom_accuracy_with_tools": zoom["accuracy"],
            "zoom_tool_call_rate": zoom["tool_call_rate"], "zoom_accuracy_without_tools": without["accuracy"]}


def evaluate_both(checkpoint: Path, data: dict[str, Path], cfg: TrainConfig, seed: int,
                  samples: int = EVAL_SAMPLES) -> dict[str, dict[str, float]]:
    """``{"sampled": ..., "greedy": ...}`` metrics; sampling uses the GRPO run's temperature."""
    temperature = float(cfg.trainer.get("temperature", 1.0))
    return {"sampled": evaluate(checkpoint, data, cfg, temperature=temperature, samples=samples, seed=seed),
            "greedy": evaluate(checkpoint, data, cfg)}


def run_quickstart(out_dir: str | Path = "runs/quickstart", seed: int = 0, size: str = "tiny",
                   model: str | Path | None = None, n_train: int = 768, n_heldout: int = 96,
                   overrides: list[str] | None = None) -> QuickstartResult:
    """Run every step; writes ``results.json`` and ``results.md`` into ``out_dir``.

    The model is a random tiny model of preset ``size``, or the checkpoint ``model`` (e.g. the output of
    ``vlmr model pretrain-tiny``). ``overrides`` (``["--trainer.max_steps", "2", ...]``) apply to both
    training stages.
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

    preset = size if model is None else None  # None: started from the given checkpoint
    if model is None:
        model = build_tiny_model(out_dir / "model", size=size, seed=seed, overwrite=True,
                                 max_pixels=PLAIN_WIDTH * PLAIN_WIDTH)
    lap("model")
    data = build_data(out_dir / "data", seed, n_train, n_heldout)
    lap("data")
    datasets = [{"path": str(data["train"])}, {"path": str(data["train_zoom"])}]
    overrides = ["--seed", str(seed), "--datasets", json.dumps(datasets), *(overrides or [])]
    sft_cfg = TrainConfig.load(packaged_config(SFT_CONFIG), overrides + [
        "--model", str(model), "--output_dir", str(out_dir / "sft")])
    sft_ckpt = train("sft", sft_cfg, overwrite=True)  # model and data are rebuilt above: a rerun starts over
    lap("sft")
    grpo_cfg = TrainConfig.load(packaged_config(GRPO_CONFIG), overrides + [
        "--model", str(sft_ckpt), "--output_dir", str(out_dir / "grpo")])
    before = evaluate_both(sft_ckpt, data, grpo_cfg, seed)
    lap("eval_sft")
    grpo_ckpt = train("grpo", grpo_cfg, overwrite=True)
    lap("grpo")
    after = evaluate_both(grpo_ckpt, data, grpo_cfg, seed)
    lap("eval_grpo")
    result = QuickstartResult(out_dir, before, after, grpo_ckpt, seconds)
    (out_dir / "results.json").write_text(json.dumps(
        {"seed": seed, "model": str(model), "size": preset, "sft": before, "grpo": after, "checkpoint": str(grpo_ckpt),
         "seconds": seconds}, indent=2), encoding="utf-8")
    (out_dir / "results.md").write_text(result.table() + "\n", encoding="utf-8")
    return result
