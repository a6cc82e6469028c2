"""Kill -9 and ``--resume``: the resumed run continues from the checkpoint's weights, optimizer,
scheduler and RNG, so its losses and final weights equal an uninterrupted run's (same seed, CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from killed_run import DistinctChars  # noqa: F401 - registers the reward the GRPO configs name
from safetensors.torch import load_file

from vlmr import cli

pytestmark = pytest.mark.slow

KILLED_RUN = Path(__file__).with_name("killed_run.py")
STEPS, KILL_AT = 4, 2
# GRPO needs completions whose rewards differ (a gradient): longer completions, 4 per prompt
TRAINERS = {"sft": {"max_steps": STEPS},
            "grpo": {"max_steps": STEPS, "max_completion_length": 16, "num_generations": 4,
                     "per_device_train_batch_size": 4}}
REWARDS = {"sft": [], "grpo": [{"name": "distinct_chars"}]}


@pytest.fixture
def config(request, nano_model, dataset_of, fast_trainer, sft_trainer):
    """``config(method, out)`` -> a YAML config of a STEPS-step run saving every KILL_AT steps."""

    def write(method: str, out: Path) -> Path:
        trainer = {**(sft_trainer if method == "sft" else fast_trainer), **TRAINERS[method],
                   "save_strategy": "steps", "save_steps": KILL_AT}
        fields = {"model": nano_model, "output_dir": str(out), "datasets": [{"path": dataset_of("grounding", per_task=4)}],
                  "rewards": REWARDS[method], "trainer": trainer}
        path = out.with_suffix(".yaml")
        path.write_text(yaml.safe_dump(fields), encoding="utf-8")
        return path

    return write


def train_log(out: Path) -> dict[int, dict]:
    """Logged metrics by step (every step is logged)."""
    history = json.loads((out / "trainer_state.json").read_text(encoding="utf-8"))["log_history"]
    return {entry["step"]: entry for entry in history if "loss" in entry}


@pytest.mark.parametrize("method", ["sft", "grpo"])
def test_kill_and_resume_equals_an_uninterrupted_run(method, config, nano_model, tmp_path):
    # 1. the reference: STEPS steps without interruption
    assert cli.main(["train", method, "--config", str(config(method, tmp_path / "whole"))]) == 0
    # 2. the same config, killed with SIGKILL right after checkpoint-KILL_AT is written
    killed = tmp_path / "killed"
    cfg = config(method, killed)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(KILLED_RUN), method, str(cfg), str(KILL_AT)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-3000:]
    assert (killed / f"checkpoint-{KILL_AT}" / "trainer_state.json").is_file() and not (killed / "final").exists()
    # 3. resume
    assert cli.main(["train", method, "--config", str(cfg), "--resume"]) == 0

    whole, resumed = train_log(tmp_path / "whole"), train_log(killed)
    assert sorted(resumed) == list(range(1, STEPS + 1))
    for step in range(KILL_AT + 1, STEPS + 1):  # the steps after the kill, the first one right after resuming
        for key in ("loss", "grad_norm", "learning_rate") + (("reward", "reward_std") if method == "grpo" else ()):
            assert resumed[step][key] == pytest.approx(whole[step][key], abs=1e-6), (step, key)
    final = load_file(killed / "final" / "model.safetensors")
    reference = load_file(tmp_path / "whole" / "final" / "model.safetensors")
    base = load_file(Path(nano_model) / "model.safetensors")
    assert final.keys() == reference.keys()
    assert max((final[k] - reference[k]).abs().max().item() for k in final) <= 1e-6
    assert max((reference[k] - base[k]).abs().max().item() for k in reference if k in base) > 1e-4  # it trained


class TestUpstreamBug:
    """transformers' own resume load; the day this test fails, ``vlmr/train/resume.py`` can go."""

    @pytest.fixture
    def trainer_and_checkpoint(self, nano_model, tmp_path):
        from transformers import AutoModelForImageTextToText, Trainer, TrainingArguments

        saved = AutoModelForImageTextToText.from_pretrained(nano_model)
        with torch.no_grad():
            for param in saved.parameters():
                param.add_(1.0)
        saved.save_pretrained(tmp_path / "checkpoint-1")  # the layout Trainer's checkpoints have
        model = AutoModelForImageTextToText.from_pretrained(nano_model)
        args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[])
        return Trainer(model=model, args=args), tmp_path / "checkpoint-1", saved.state_dict()

    def test_transformers_resume_keeps_the_base_weights(self, trainer_and_checkpoint):
        trainer, checkpoint, saved = trainer_and_checkpoint
        trainer._load_from_checkpoint(str(checkpoint))  # transformers' own method
        restored = trainer.model.state_dict()
        assert not torch.equal(restored["model.language_model.norm.weight"], saved["model.language_model.norm.weight"])

    def test_the_patch_restores_every_weight(self, trainer_and_checkpoint):
        from vlmr.train import resume

        trainer, checkpoint, saved = trainer_and_checkpoint
        resume.patch_trainer(trainer)
        trainer._load_from_checkpoint(str(checkpoint))
        restored = trainer.model.state_dict()
        assert restored.keys() == saved.keys()
        assert all(torch.equal(restored[k], saved[k]) for k in saved)
