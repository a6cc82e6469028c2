"""The quickstart end to end at toy scale (the real run's figures are in docs/results.md)."""

import json

import pytest


@pytest.mark.slow
def test_quickstart_runs_every_stage(tmp_path):
    from vlmr.quickstart import run_quickstart

    result = run_quickstart(tmp_path / "qs", seed=1, size="nano", n_train=24, n_heldout=8,
                            overrides=["--trainer.max_steps", "2", "--trainer.per_device_train_batch_size", "8"])
    saved = json.loads((tmp_path / "qs" / "results.json").read_text())
    assert set(saved["sft"]) == set(saved["grpo"]) == {"sampled", "greedy"}
    for metrics in (*saved["sft"].values(), *saved["grpo"].values()):
        rates = {"format", "iou", "count", "tool_call_rate", "zoom_accuracy_with_tools", "zoom_tool_call_rate",
                 "zoom_accuracy_without_tools"}
        assert set(metrics) >= {"reward", *rates}
        assert all(0.0 <= metrics[k] <= 1.0 for k in rates)
    assert (result.checkpoint / "config.json").exists() and (result.checkpoint / "vlmr_meta.json").exists()
    assert set(result.seconds) == {"model", "data", "sft", "eval_sft", "grpo", "eval_grpo"}
    table = (tmp_path / "qs" / "results.md").read_text()
    assert "| metric | SFT (sampled) | GRPO (sampled) | change | SFT (greedy) |" in table and "| reward |" in table
