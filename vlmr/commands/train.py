"""``vlmr train sft|grpo --config CONFIG.yaml [--key value ...]``."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "train", help="SFT or GRPO training from a YAML config.",
        description="Train with trl. Any config key can be overridden: --seed 3, --trainer.learning_rate 1e-5.",
    )
    p.add_argument("method", choices=["sft", "grpo"], help="sft: cold start; grpo: RL with vlmr rewards.")
    p.add_argument("--config", required=True, help="YAML config (see configs/).")
    p.add_argument("--resume", action="store_true", help="Resume from the last checkpoint in output_dir.")
    p.add_argument("--overwrite", action="store_true",
                   help="Train again from scratch, removing the checkpoints already in output_dir (a finished run "
                        "with other settings is otherwise an error).")
    p.set_defaults(handler=run, overrides=[])


def run(args) -> int:
    import logging

    from rich.logging import RichHandler

    from vlmr.config import TrainConfig
    from vlmr.train import train

    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(show_path=False)])
    cfg = TrainConfig.load(args.config, args.overrides)
    try:
        final = train(args.method, cfg, resume=args.resume, overwrite=args.overwrite)
    finally:
        _close_process_group()
    print(f"final checkpoint: {final}")
    return 0


def _close_process_group() -> None:
    """Shut down the distributed process group of a multi-process run before the interpreter exits:
    left to exit-time cleanup, gloo's worker threads can abort the process ("terminate called without
    an active exception") after training has finished."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
