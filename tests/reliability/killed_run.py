"""A training run that SIGKILLs itself right after a checkpoint is written, and the reward the resume tests use.

Run as a script: ``python killed_run.py sft|grpo CONFIG.yaml STEP`` trains through ``vlmr train``
and kills its own process (no clean-up, like ``kill -9``) once ``checkpoint-STEP`` is complete.
"""

from __future__ import annotations

import os
import signal
import sys

from transformers import TrainerCallback

from vlmr.rewards.base import Reward
from vlmr.rewards.registry import register_reward


@register_reward("distinct_chars")
class DistinctChars(Reward):
    """Share of distinct characters: differs between a random model's completions, so GRPO has a gradient."""

    def score(self, prediction, answer=None, **context):
        return len(set(prediction)) / (len(prediction) + 1)


class KillAfterSave(TrainerCallback):
    """SIGKILL this process when the checkpoint of ``step`` has been saved (trainer state included)."""

    def __init__(self, step: int):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def main(method: str, config: str, step: int) -> int:
    from vlmr import cli
    from vlmr.train import grpo, sft

    trainer_module = {"sft": sft, "grpo": grpo}[method]
    default = trainer_module.default_callbacks
    trainer_module.default_callbacks = lambda cfg: [*default(cfg), KillAfterSave(step)]
    return cli.main(["train", method, "--config", config])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
