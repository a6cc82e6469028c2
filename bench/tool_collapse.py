"""The quickstart's GRPO with and without the controls against tool collapse, on the same SFT model.

    OMP_NUM_THREADS=1 python bench/tool_collapse.py --seed 0 --out runs/tool_collapse

Per seed: ``vlmr quickstart`` as shipped (arm ``off``), then GRPO again from the same SFT
checkpoint and data with the controls on (arm ``on``): the ``curiosity`` reward on the zoom task
(Pixel-Reasoner's parameters), over-turn rollouts (Mini-o3's ``ignore_exceed``) and cut rollouts
left out of the loss. Both GRPO checkpoints are evaluated with the shipped GRPO config (same
prompts, tools and rewards), so the figures compare like with like. Writes
``<out>/seed<N>/off.json`` (SFT and arm ``off``) and ``<out>/seed<N>/<arm>.json``; an arm already
written is not run again, and arms of one seed may run side by side.
``python bench/tool_collapse.py --table --out runs/tool_collapse`` prints the README's table
from every seed written so far.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from vlmr.config import TrainConfig
from vlmr.quickstart import GRPO_CONFIG, evaluate_both, packaged_config, run_quickstart

PIXEL_REASONER_SCALE = 0.125


def controls(cfg: TrainConfig, curiosity_scale: float = PIXEL_REASONER_SCALE) -> TrainConfig:
    """``cfg`` with every control on; the curiosity reward applies to the zoom questions (the ``vqa`` rows)."""
    curiosity = {"name": "curiosity", "weight": 1.0, "tasks": ["vqa"], "scale": curiosity_scale}
    return replace(cfg, rewards=[*cfg.rewards, curiosity], mask_over_turn=True,
                   trainer={**cfg.trainer, "mask_truncated_completions": True})


ROWS = (  # (decoding, metric, label)
    ("sampled", "tool_call_rate", "tool-call rate, all held-out questions (sampled)"),
    ("sampled", "zoom_tool_call_rate", "zoom questions: tool-call rate (sampled)"),
    ("greedy", "zoom_tool_call_rate", "zoom questions: tool-call rate (greedy)"),
    ("sampled", "zoom_accuracy_with_tools", "zoom questions: accuracy, `zoom_in` offered (sampled)"),
    ("greedy", "zoom_accuracy_with_tools", "zoom questions: accuracy, `zoom_in` offered (greedy)"),
    ("sampled", "reward", "reward, shipped rewards (sampled)"),
)


def table(out: Path) -> str:
    """Markdown: one row per metric, per seed ``SFT -> off / on / on_x...``, then the mean of each arm."""
    seeds = sorted(p for p in out.glob("seed*") if (p / "off.json").exists() and (p / "on.json").exists())
    if not seeds:
        return f"no seed under {out} has both arms off and on yet"
    arms = ["off", "on"] + sorted({p.stem for s in seeds for p in s.glob("on_x*.json")
                                   if all((t / p.name).exists() for t in seeds)})
    results = [{**json.loads((s / "off.json").read_text()),
                **{a: json.loads((s / f"{a}.json").read_text())["metrics"] for a in arms[1:]}} for s in seeds]
    head = " | ".join(f"seed {r['seed']}: SFT → {' / '.join(arms)}" for r in results)
    lines = [f"| metric | {head} | {' | '.join(f'mean {a}' for a in arms)} |",
             "|---" * (1 + len(results) + len(arms)) + "|"]
    for decoding, key, label in ROWS:
        cells = [f"{r['sft'][decoding][key]:.3f} → " + " / ".join(f"{r[a][decoding][key]:.3f}" for a in arms)
                 for r in results]
        means = [sum(r[a][decoding][key] for r in results) / len(results) for a in arms]
        lines.append(f"| {label} | {' | '.join(cells)} | {' | '.join(f'{m:.3f}' for m in means)} |")
    return "\n".join(lines)


def write(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/tool_collapse")
    parser.add_argument("--smoke", action="store_true", help="2 training steps on 32 scenes: checks the script runs")
    parser.add_argument("--table", action="store_true", help="print the table of the seeds written so far and stop")
    parser.add_argument("--curiosity-scale", type=float, default=PIXEL_REASONER_SCALE,
                        help="the curiosity bonus's scale; another value than Pixel-Reasoner's is the arm on_x<scale>")
    args = parser.parse_args()
    if args.table:
        print(table(Path(args.out)))
        return
    size = {"n_train": 48, "n_heldout": 6} if args.smoke else {}
    overrides = ["--trainer.max_steps", "2"] if args.smoke else []
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from vlmr.train import train

    out = Path(args.out) / f"seed{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "off.json").exists():
        start = time.perf_counter()
        qs = run_quickstart(out / "off", seed=args.seed, overrides=overrides, **size)
        write(out / "off.json", {"seed": args.seed, "sft": qs.sft, "off": qs.grpo,
                                 "seconds": round(time.perf_counter() - start, 1)})
    arm = "on" if args.curiosity_scale == PIXEL_REASONER_SCALE else f"on_x{args.curiosity_scale:g}"
    if not (out / f"{arm}.json").exists():
        start = time.perf_counter()
        base = out / "off"
        data = {name: base / "data" / name for name in ("train", "heldout", "train_zoom", "heldout_zoom")}
        datasets = json.dumps([{"path": str(data["train"])}, {"path": str(data["train_zoom"])}])
        shipped = TrainConfig.load(packaged_config(GRPO_CONFIG), [
            "--seed", str(args.seed), "--datasets", datasets, "--model", str(base / "sft" / "final"),
            "--output_dir", str(out / arm / "grpo"), *overrides])
        checkpoint = train("grpo", controls(shipped, args.curiosity_scale), overwrite=True)
        log = json.loads((out / arm / "grpo" / "trainer_state.json").read_text())["log_history"]
        write(out / f"{arm}.json", {
            "seed": args.seed, "metrics": evaluate_both(checkpoint, data, shipped, args.seed),
            "masked_rollouts": [e["vlmr/masked_rollouts"] for e in log if "vlmr/masked_rollouts" in e],
            "seconds": round(time.perf_counter() - start, 1)})
    print(table(Path(args.out)))


if __name__ == "__main__":
    main()
