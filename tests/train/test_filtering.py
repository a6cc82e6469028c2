"""Difficulty filtering and variance-aware sampling from pre-rollouts, with a reward whose outcome is known."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from vlmr.config import ConfigError, TrainConfig
from vlmr.rewards import Reward, register_reward
from vlmr.train.filtering import FilterSpec, shape


@register_reward("test_known_outcome")
class KnownOutcome(Reward):
    """Test-only: the sample id decides the reward of its k-th rollout, whatever the model writes.

    ``grounding-0`` is always solved, ``grounding-1`` never, ``counting-0`` every 2nd rollout
    (mean 0.5, variance 0.25), ``counting-1`` every 4th (mean 0.25, variance 0.1875).
    """

    def __init__(self):
        self.seen = Counter()

    def score(self, prediction, answer=None, id=None, **context):
        k = self.seen[id]
        self.seen[id] += 1
        return {"grounding-0": 1.0, "grounding-1": 0.0,
                "counting-0": float(k % 2 == 0), "counting-1": float(k % 4 == 0)}[id]


def test_filter_spec_rejects_bad_settings():
    with pytest.raises(ConfigError, match="unknown key"):
        FilterSpec.from_config({"rollouts": 4})
    with pytest.raises(ConfigError, match="min_reward=1.0 >= max_reward=0.5"):
        FilterSpec.from_config({"min_reward": 1.0, "max_reward": 0.5})
    with pytest.raises(ConfigError, match="sampling"):
        FilterSpec.from_config({"sampling": "entropy"})


def test_variance_sampling_prefers_high_variance_prompts():
    rows = [{"id": "half", "task": "vqa"}, {"id": "rare", "task": "vqa"}]
    rewards = [[1, 0] * 4, [1, 0, 0, 0] * 2]  # variance 0.25 vs 0.1875
    kept, report = shape(rows * 200, rewards, FilterSpec(num_rollouts=8, sampling="variance"), seed=0)
    counts = Counter(r["id"] for r in kept)
    assert len(kept) == 400
    weights = {p["id"]: p["sampling_weight"] for p in report["prompts"]}
    assert weights["half"] == pytest.approx(0.251 / (0.251 + 0.1885), abs=1e-4)
    assert counts["half"] > counts["rare"]


@pytest.mark.slow
def test_pre_rollouts_drop_always_and_never_solved_prompts(nano_model, dataset_of, tmp_path, monkeypatch):
    import torch

    from vlmr.train import grpo
    from vlmr.train.model import load_for_training

    torch.set_num_threads(1)
    data = dataset_of("grounding", "counting", per_task=2)
    cfg = TrainConfig.from_dict({
        "model": nano_model, "output_dir": str(tmp_path), "datasets": [{"path": data}],
        "rewards": [{"name": "test_known_outcome"}, {"name": "format", "weight": 0.0}],
        "filter": {"num_rollouts": 4, "sampling": "variance", "max_new_tokens": 4},
    })
    funcs, weights = grpo.build_reward_funcs(cfg.rewards)
    model, processor, family, cfg = load_for_training(cfg)
    rows = grpo.mix(cfg, lambda spec: grpo.prompt_rows(cfg, spec.path, family, spec.limit))
    kept = grpo.filter_rows(rows, model, processor, cfg, funcs, weights)

    report = json.loads((tmp_path / "filter_report.json").read_text())
    assert (report["num_prompts"], report["kept"]) == (4, 2)
    assert (report["dropped_always_solved"], report["dropped_never_solved"]) == (1, 1)
    by_id = {p["id"]: p for p in report["prompts"]}
    assert by_id["grounding-0"]["verdict"] == "always_solved" and by_id["grounding-1"]["verdict"] == "never_solved"
    assert by_id["counting-0"]["mean_reward"] == 0.5 and by_id["counting-0"]["reward_variance"] == 0.25
    assert by_id["counting-1"]["mean_reward"] == 0.25 and by_id["counting-1"]["reward_variance"] == 0.1875
    assert by_id["counting-0"]["sampling_weight"] > by_id["counting-1"]["sampling_weight"]
    assert len(kept) == 2 and {r["id"] for r in kept} <= {"counting-0", "counting-1"}
    assert model.training  # rollouts ran in eval mode and gave the model back in train mode

    # a resumed run reuses the recorded rollouts instead of generating again
    monkeypatch.setattr("vlmr.train.filtering.rollout_rewards", lambda *a, **k: pytest.fail("rolled out again"))
    again = grpo.filter_rows(rows, model, processor, cfg, funcs, weights, resume=True)
    assert [r["id"] for r in again] == [r["id"] for r in kept]
