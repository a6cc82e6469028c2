"""Reward, tool, segmenter and trainer specs are checked once, for every stage, before anything trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmr.config import ConfigError, TrainConfig
from vlmr.train import train
from vlmr.train.specs import check_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*(ROOT / "configs").glob("*.yaml"), *(ROOT / "vlmr" / "configs").glob("*.yaml")])


def config(**fields) -> TrainConfig:
    return TrainConfig.from_dict({"model": "no/such/model", "output_dir": "unused", "datasets": [{"path": "unused"}],
                                  "rewards": [{"name": "format"}], **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # a misspelt parameter: the closest real one is suggested
        ({"rewards": [{"name": "iou", "treshold": 0.5}]},
         r"unknown rewards\[0\] \(iou\) key 'treshold'\. Did you mean \['threshold'\]\?"),
        ({"rewards": [{"name": "ioo"}]}, r"rewards\[0\]: unknown reward 'ioo'; known rewards: .*did you mean 'iou'"),
        ({"rewards": [{"name": "iou", "threshold": 1.5}]}, r"rewards\[0\] \(iou\): threshold must be in \[0\.0, 1\]"),
        ({"rewards": [{"name": "iou", "weight": "high"}]}, r"rewards\[0\] \(iou\): weight must be a number, got 'high'"),
        ({"rewards": [{"name": "vlmr.eval.runner:EvalConfig"}]}, r"rewards\[0\]: .* is not a Reward subclass"),
        ({"rewards": [{"name": "mask_iou", "segmenter": {"name": "sam2", "modle": "x"}}]},
         r"rewards\[0\] \(mask_iou\)\.segmenter \(sam2\) key 'modle'\. Did you mean \['model'\]\?"),
        ({"rewards": [{"name": "mask_iou", "segmenter": "sam2"}]}, r"segmenter \(sam2\) needs \['model'\]"),
        ({"rewards": [{"name": "mask_iou", "segmenter": "sma"}]}, r"unknown segmenter 'sma'.*did you mean 'sam'"),
        ({"tools": {"counting": ["zoom_inn"]}}, r"tools\.counting: unknown tool 'zoom_inn'.*did you mean 'zoom_in'"),
        ({"frames": {"fsp": 1.0}}, r"unknown frames key 'fsp'\. Did you mean \['fps'\]\?"),
        ({"frames": {"max_frames": 0}}, r"frames\.max_frames must be a positive number, got 0"),
        ({"trainer": {"learnin_rate": 1e-5}},
         r"unknown trainer \(GRPOConfig\) key 'learnin_rate'\. Did you mean \['learning_rate'"),
    ],
)
def test_bad_spec_is_one_clear_error(fields, message):
    with pytest.raises(ConfigError, match=message):
        check_config(config(**fields), "grpo")


def test_a_later_stage_fails_before_the_first_trains():
    cfg = config(stages=[{"name": "one"}, {"name": "two", "rewards": [{"name": "count", "mod": "smooth"}]}])
    # the model does not exist: the error comes from the check, before any stage loads it
    with pytest.raises(ConfigError, match=r"stage 'two': unknown rewards\[0\] \(count\) key 'mod'\. "
                                          r"Did you mean \['mode'\]\?"):
        train("grpo", cfg)


def test_plugins_by_import_path_pass():
    check_config(config(rewards=[{"name": "vlmr.rewards.boxes:IouReward", "threshold": 0.5}],
                        tools={"vqa": ["zoom", "vlmr.tools.image_tools:crop"]}), "grpo")


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_configs_pass(path):
    method = "sft" if "vlmr train sft" in path.read_text(encoding="utf-8") else "grpo"
    check_config(TrainConfig.load(path), method)
