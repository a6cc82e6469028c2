"""``vlmr quickstart [--out DIR]``: the whole loop offline on a CPU, with a before/after table."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("quickstart", help="Tiny model + synthetic data: SFT, eval, GRPO, eval (offline, CPU).")
    p.add_argument("--out", default="runs/quickstart", help="Output directory (model, data, checkpoints, results).")
    p.add_argument("--seed", type=int, default=0, help="Seed for the model, the data and training.")
    p.add_argument("--size", default="tiny", choices=["nano", "tiny", "small"], help="Tiny-model preset.")
    p.add_argument("--model", default=None,
                   help="Start from this checkpoint instead of a random tiny model (e.g. `vlmr model pretrain-tiny`'s).")
    p.set_defaults(handler=run)


def run(args) -> int:
    import logging

    from rich.console import Console
    from rich.logging import RichHandler
    from rich.markdown import Markdown

    from vlmr.quickstart import run_quickstart

    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(show_path=False)])
    result = run_quickstart(args.out, seed=args.seed, size=args.size, model=args.model)
    console = Console()
    console.print(Markdown(f"## Held-out metrics, seed {args.seed}\n\n{result.table()}"))
    console.print(f"time per stage (s): {result.seconds}  total: {sum(result.seconds.values()):.0f}s")
    console.print(f"final checkpoint: {result.checkpoint}  (try: vlmr demo --model {result.checkpoint})")
    return 0
