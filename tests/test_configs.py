"""Every shipped YAML: training configs load, their rewards build, their trainer keys are trl fields,
each starts with its comment header; accelerate configs parse."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from vlmr.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
ACCELERATE_DIR = ROOT / "configs" / "accelerate"
TRAIN_CONFIGS = sorted(p for p in [*(ROOT / "configs").rglob("*.yaml"), *(ROOT / "vlmr" / "configs").rglob("*.yaml")]
                       if ACCELERATE_DIR not in p.parents)
ACCELERATE_CONFIGS = sorted(ACCELERATE_DIR.rglob("*.yaml"))
LAUNCH = re.compile(r"vlmr train (sft|grpo)")


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def header(path: Path) -> str:
    """The leading comment block of a YAML file (without '#')."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# "))
    return "\n".join(lines)


def trainer_fields(method: str) -> set[str]:
    from trl import GRPOConfig, SFTConfig

    return {f.name for f in dataclasses.fields(GRPOConfig if method == "grpo" else SFTConfig)}


def test_configs_are_found():
    assert len(TRAIN_CONFIGS) >= 6 and len(ACCELERATE_CONFIGS) >= 2


@pytest.mark.parametrize("path", TRAIN_CONFIGS, ids=_ids(TRAIN_CONFIGS))
class TestTrainConfig:
    def test_header_says_what_it_trains_needs_and_how_to_launch(self, path):
        text = header(path)
        assert text.splitlines() and len(text.splitlines()[0]) > 10, "first line: what it trains"
        assert "Needs:" in text
        assert "Launch" in text and LAUNCH.search(text), "the exact launch command"

    def test_loads_and_every_stage_validates(self, path):
        cfg = TrainConfig.load(path)
        assert cfg.stage_configs()

    def test_rewards_build_from_the_registry(self, path, monkeypatch):
        from vlmr.tools import segmenters
        from vlmr.train.grpo import build_reward_funcs

        real = segmenters.get_segmenter

        def check_name_only(name="grabcut", **kwargs):  # validates the name; never loads SAM weights
            assert name in segmenters.list_segmenters(), name
            return real("grabcut")

        monkeypatch.setattr(segmenters, "get_segmenter", check_name_only)
        for _, stage in TrainConfig.load(path).stage_configs():
            funcs, weights = build_reward_funcs(stage.rewards)
            assert [f.__name__ for f in funcs] == [r["name"] for r in stage.rewards]
            assert len(weights) == len(funcs)

    def test_trainer_keys_are_trl_fields(self, path):
        method = LAUNCH.search(header(path)).group(1)
        known = trainer_fields(method)
        for name, stage in TrainConfig.load(path).stage_configs():
            unknown = sorted(set(stage.trainer) - known)
            assert not unknown, f"stage {name}: {unknown} are not {method} trainer fields"

    def test_tools_exist(self, path):
        from vlmr.tools.registry import resolve_tools

        for names in TrainConfig.load(path).tools.values():
            assert resolve_tools(names)


@pytest.mark.parametrize("path", ACCELERATE_CONFIGS, ids=_ids(ACCELERATE_CONFIGS))
def test_accelerate_config_parses(path):
    assert header(path), "a leading comment says what the setup is"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["distributed_type"] in {"DEEPSPEED", "MULTI_GPU", "FSDP", "NO", "MULTI_CPU"}
    assert int(data["num_processes"]) >= 1 and int(data["num_machines"]) >= 1
    if data["distributed_type"] == "DEEPSPEED":
        assert data["deepspeed_config"]["zero_stage"] in (2, 3)


def test_exponent_numbers_are_floats_in_files_and_overrides(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("model: m\noutput_dir: o\ndatasets: [{path: d}]\ntrainer: {learning_rate: 1e-5, weight_decay: 1.0e-2}\n")
    cfg = TrainConfig.load(config, ["--trainer.adam_epsilon", "-1E-8", "--trainer.run_name", "e5"])
    assert cfg.trainer == {"learning_rate": 1e-5, "weight_decay": 0.01, "adam_epsilon": -1e-8, "run_name": "e5"}
