"""GRPO with the ``judge`` reward served by the tiny model behind ``transformers serve``; the server is killed
after the first step and training goes on, the judge's fallback counting the steps it was away."""

from __future__ import annotations

import contextlib

import pytest
from transformers import TrainerCallback

from vlmr.config import TrainConfig
from vlmr.train.grpo import build_grpo_trainer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]


class KillServerAfterStep(TrainerCallback):
    """Closes the server's context (SIGTERM, wait) at the end of step ``step``."""

    def __init__(self, stack: contextlib.ExitStack, step: int):
        self.stack, self.step = stack, step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            self.stack.close()


def test_grpo_steps_with_the_judge_survive_the_server_being_killed(nano_model, dataset_of, fast_trainer,
                                                                    transformers_serve, tmp_path):
    with contextlib.ExitStack() as stack:
        api_base = stack.enter_context(transformers_serve(nano_model, tmp_path))
        cfg = TrainConfig.from_dict({
            "model": nano_model, "output_dir": str(tmp_path / "run"), "datasets": [{"path": dataset_of("vqa")}],
            "rewards": [{"name": "judge", "api_base": api_base, "model": nano_model, "max_retries": 0,
                         "timeout": 60, "down_for": 600, "max_answer_chars": 10_000},
                        {"name": "format"}],
            "trainer": {**fast_trainer, "max_steps": 3},
        })
        trainer, _, _ = build_grpo_trainer(cfg)
        trainer.add_callback(KillServerAfterStep(stack, step=1))
        trainer.train()
    judge = trainer.reward_funcs[0]
    logs = [entry for entry in trainer.state.log_history if "judge/fallback_share" in entry]
    assert trainer.state.global_step == 3 and len(logs) == 3  # every step scored, none lost
    # step 1: the live server was asked and answered (a random model gives no 0/1 verdict: the reply is counted)
    assert logs[0]["judge/latency_seconds"] > 0
    answered = judge.stats["judged"] + judge.stats["fallback: reply without a 0/1 verdict"]
    # step 2: the requests find the server gone; step 3: it is left alone (down_for), nothing is sent
    refused = judge.stats["fallback: request failed (APIConnectionError)"]
    assert answered >= 1 and refused >= 1 and judge.stats["fallback: server down"] >= 1
    assert judge.stats["requests"] == answered + refused
    assert logs[1]["judge/fallback_share"] > 0 and logs[2]["judge/fallback_share"] > 0
    assert judge.stats["fallback"] == (judge.stats["fallback: reply without a 0/1 verdict"] + refused
                                       + judge.stats["fallback: server down"])
