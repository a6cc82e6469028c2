"""``vlmr model``: the offline tiny model (``init-tiny`` builds a random one of a family, ``pretrain-tiny`` trains a
Qwen2.5-VL one)."""

from __future__ import annotations

import argparse

from vlmr.tiny_architectures import TINY_ARCHITECTURES  # stdlib-only modules: cheap at `vlmr --help` time
from vlmr.tiny_model import PRESETS


def register(subparsers) -> None:
    """Declare ``vlmr model init-tiny DIR [--size S] [--family F] [--seed N] ...`` and
    ``vlmr model pretrain-tiny DIR [--size S] [--steps N] [--seed N]``."""
    parser = subparsers.add_parser("model", help="model utilities (the offline tiny model)")
    actions = parser.add_subparsers(dest="model_action", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init-tiny",
        help="build a random tiny checkpoint offline (Qwen2.5-VL or --family; tokenizer trained locally)",
        description="Build a tiny, randomly initialised checkpoint of a model family (Qwen2.5-VL by default) in DIR, "
        "with the family's published processor settings, fully offline and deterministic given --seed. It loads "
        "with AutoModelForImageTextToText/AutoProcessor.from_pretrained(DIR).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    init.add_argument("dir", metavar="DIR", help="output checkpoint directory")
    init.add_argument(
        "--size",
        choices=list(PRESETS),
        default="tiny",
        help="size preset (nano ~0.17M, tiny ~0.5M, small ~2.5M parameters)",
    )
    init.add_argument("--family", choices=sorted(TINY_ARCHITECTURES), default="qwen2_5_vl",
                      help="model family whose architecture and processor to build")
    init.add_argument("--seed", type=int, default=0, help="seed for the weight initialisation")
    init.add_argument(
        "--min-pixels", type=int, default=None, help="smallest image area after resizing (preset's if unset)"
    )
    init.add_argument(
        "--max-pixels", type=int, default=None, help="largest image area after resizing (preset's if unset)"
    )
    init.add_argument("--overwrite", action="store_true", help="replace DIR if it exists and is not empty")
    init.set_defaults(handler=run_init)

    from vlmr.train.pretrain import PretrainSpec  # stdlib-only at import time

    defaults = PretrainSpec()
    pretrain = actions.add_parser(
        "pretrain-tiny",
        help="pretrain a tiny Qwen2.5-VL on synthetic shape scenes (CPU), with a held-out perception report",
        description="Build a random tiny model and train it in stages on synthetic shape scenes drawn on the fly: "
        "the vision tower alone (a per-token head reads colour, shape, objectness, box and position), then the "
        "language model on the frozen tower by next-token prediction (shapes listed with their boxes on one-object "
        "scenes first, then colours, counts, boxes and zoom_in trajectories), then report held-out greedy figures. "
        "Writes the checkpoint, PRETRAINED.md and pretrain_report.json to DIR.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    pretrain.add_argument("dir", metavar="DIR", help="output checkpoint directory")
    pretrain.add_argument("--size", choices=list(PRESETS), default=defaults.size, help="size preset")
    pretrain.add_argument("--vision-steps", type=int, default=defaults.vision.steps,
                          help="stage 1: optimizer steps of the vision tower alone")
    pretrain.add_argument("--steps", type=int, default=defaults.steps,
                          help="stages 2-3: optimizer steps of the language model on the frozen tower")
    pretrain.add_argument("--batch-size", type=int, default=defaults.batch_size, help="conversations per step")
    pretrain.add_argument("--seed", type=int, default=defaults.seed, help="seed for weights and scenes")
    pretrain.add_argument("--report-n", type=int, default=64, help="held-out questions per reported figure")
    pretrain.add_argument("--overwrite", action="store_true", help="replace DIR if it exists and is not empty")
    pretrain.set_defaults(handler=run_pretrain)


def run_init(args: argparse.Namespace) -> int:
    """``vlmr model init-tiny``; returns the exit code."""
    import json

    from rich.console import Console
    from rich.markup import escape

    from vlmr.tiny_model import build_tiny_model

    console = Console()
    try:
        out = build_tiny_model(args.dir, size=args.size, seed=args.seed, overwrite=args.overwrite,
                               min_pixels=args.min_pixels, max_pixels=args.max_pixels, family=args.family)
    except (FileExistsError, ValueError) as e:
        console.print(f"[red]error:[/red] {escape(str(e))}")
        return 2
    meta = json.loads((out / "vlmr_meta.json").read_text(encoding="utf-8"))
    console.print(
        f"built [bold]{meta['size']}[/bold] {meta['family']} ({meta['num_parameters']:,} parameters, seed {meta['seed']}, "
        f"pixels {meta['min_pixels']}..{meta['max_pixels']}) in {out}",
        soft_wrap=True,
    )
    return 0


def run_pretrain(args: argparse.Namespace) -> int:
    """``vlmr model pretrain-tiny``; returns the exit code."""
    import logging

    from rich.console import Console
    from rich.logging import RichHandler
    from rich.markup import escape

    from vlmr.train.pretrain import PretrainSpec, run_pretraining
    from vlmr.train.vision_pretrain import VisionSpec

    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(show_path=False)])
    spec = PretrainSpec(size=args.size, vision=VisionSpec(steps=args.vision_steps), steps=args.steps,
                        batch_size=args.batch_size, seed=args.seed)
    console = Console()
    try:
        report = run_pretraining(args.dir, spec, report_n=args.report_n, overwrite=args.overwrite)
    except FileExistsError as e:
        console.print(f"[red]error:[/red] {escape(str(e))}")
        return 2
    for name, value in report.items():
        console.print(f"{name}: {value:.3f}")
    console.print(f"checkpoint, PRETRAINED.md and pretrain_report.json in {args.dir}")
    return 0
