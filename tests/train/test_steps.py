"""One SFT and one GRPO step per task family on the nano model, mixed-task batches, tool trajectories."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from vlmr.config import TrainConfig
from vlmr.train import train

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

# family -> (tasks in its fixture dataset, rewards that apply to it)
FAMILIES = {
    "grounding": (["grounding"], ["iou", "format"]),
    "counting": (["counting"], ["count"]),
    "pointing_segmentation": (["pointing", "segmentation"], ["point_in_box", "box_points", "point_in_mask"]),
    "text": (["mcq", "vqa"], ["accuracy"]),  # vqa rows have no image
    "temporal": (["temporal_grounding"], ["temporal_iou"]),  # video as timestamped frames
}
ALL_TASKS = [t for tasks, _ in FAMILIES.values() for t in tasks]
ZOOM_TRAJECTORY = [
    {"role": "assistant", "content": '<think>too small, zoom</think><tool_call>{"name": "zoom_in", '
                                     '"arguments": {"bbox_2d": [0, 0, 28, 28]}}</tool_call>'},
    {"role": "tool", "content": "ignored: tool results are regenerated"},
    {"role": "assistant", "content": "<think>now I see them</think><answer>2</answer>"},
]


def read_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@pytest.fixture
def run(nano_model, fast_trainer, sft_trainer):
    """``run(method, out, data, rewards, trainer=..., **fields)`` trains through vlmr's entry point and
    returns ``trainer_state.json`` (with the log history)."""

    def _run(method: str, out: Path, data: str, rewards=(), trainer=None, **fields) -> dict:
        base = fast_trainer if method == "grpo" else sft_trainer
        cfg = TrainConfig.from_dict({
            "model": nano_model, "output_dir": str(out), "datasets": [{"path": data}],
            "rewards": [{"name": r} for r in rewards], "trainer": {**base, **(trainer or {})}, **fields,
        })
        final = train(method, cfg)
        assert read_json(final / "vlmr_meta.json")["trained_with"] == method
        return read_json(out / "trainer_state.json")

    return _run


def first_log(state: dict) -> dict:
    return state["log_history"][0]


class TestStepPerFamily:
    @pytest.mark.parametrize("family", sorted(FAMILIES))
    def test_grpo_step_scores_every_reward_of_the_family(self, family, nano_model, dataset_of, tmp_path, run):
        tasks, rewards = FAMILIES[family]
        data = dataset_of(*tasks, per_task=1)
        # every prompt of the dataset is in the one batch: 2 generations each
        state = run("grpo", tmp_path / "run", data, rewards,
                    trainer={"per_device_train_batch_size": 2 * len(tasks)})
        assert state["global_step"] == 1
        log = first_log(state)
        for name in rewards:
            assert log[f"rewards/{name}/mean"] is not None, name  # applied to at least one row
            assert 0.0 <= log[f"rewards/{name}/mean"] <= 1.0
        assert log["completions/mean_length"] > 0

    @pytest.mark.parametrize("family", sorted(FAMILIES))
    def test_sft_step_has_finite_loss(self, family, nano_model, dataset_of, tmp_path, run):
        tasks, _ = FAMILIES[family]
        state = run("sft", tmp_path / "run", dataset_of(*tasks, per_task=1),
                    trainer={"per_device_train_batch_size": len(tasks)})
        assert state["global_step"] == 1
        assert math.isfinite(first_log(state)["loss"]) and first_log(state)["loss"] > 0


class TestMixedBatch:
    def test_rewards_return_none_off_task_and_the_step_still_trains(self, nano_model, dataset_of, tmp_path, run):
        from vlmr.train.data import prompt_rows
        from vlmr.train.grpo import build_reward_funcs

        data = dataset_of(*ALL_TASKS, per_task=1)
        rewards = ["iou", "count", "temporal_iou", "accuracy", "format"]
        cfg = TrainConfig.from_dict({"model": nano_model, "output_dir": str(tmp_path), "datasets": [{"path": data}],
                                     "rewards": [{"name": r} for r in rewards]})
        rows = prompt_rows(cfg, data, "qwen2_5_vl")
        funcs, _ = build_reward_funcs(cfg.rewards)
        columns = {k: [r[k] for r in rows] for k in ("answer", "task", "coord", "id")}
        scored = {f.__name__: dict(zip(columns["task"], f(["<answer>3</answer>"] * len(rows), **columns),
                                       strict=True)) for f in funcs}
        assert scored["iou"]["counting"] is None and scored["iou"]["grounding"] == 0.0
        assert scored["count"]["grounding"] is None and scored["count"]["counting"] == 0.0
        assert scored["temporal_iou"]["vqa"] is None
        assert scored["format"]["vqa"] == 0.0  # format applies everywhere

        state = run("grpo", tmp_path / "run", data, rewards,
                    trainer={"per_device_train_batch_size": 2 * len(ALL_TASKS)})
        log = first_log(state)
        assert state["global_step"] == 1
        assert all(log[f"rewards/{name}/mean"] is not None for name in rewards)


class TestToolTrajectorySft:
    @pytest.fixture(scope="class")
    @classmethod
    def zoom_data(cls, datasets_dir, make_dataset) -> str:
        out = datasets_dir / "zoom-sft"
        if not out.exists():
            make_dataset(out, ["counting"], per_task=2, cot={"counting": ZOOM_TRAJECTORY})
        return str(out)

    def test_trajectory_is_executed_and_tool_images_reach_the_batch(self, nano_model, zoom_data):
        from transformers import AutoProcessor

        from vlmr.dataset import prepared_samples
        from vlmr.tools.environment import make_environment
        from vlmr.train.collator import ToolConversationCollator
        from vlmr.train.sft import sft_row

        processor = AutoProcessor.from_pretrained(nano_model)
        env_cls = make_environment(["zoom_in"])
        sample, space = prepared_samples(zoom_data, "qwen2_5_vl", 56 * 56, 56 * 56)[0]
        row = sft_row(zoom_data, sample, space, ["zoom_in"], None, env_cls)
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant", "tool", "assistant"]  # the record's tool turn is replaced
        tool_parts = row["messages"][2]["content"]
        assert [p["type"] for p in tool_parts] == ["image", "text"]
        assert "ignored" not in tool_parts[1]["text"]
        assert len(row["images"]) == 2 and row["images"][1].size[0] > 28  # the zoomed crop, enlarged

        collator = ToolConversationCollator(processor, {"zoom_in": [env_cls().zoom_in]})
        batch = collator([row])
        assert batch["image_grid_thw"].shape[0] == 2  # prompt image + tool image
        ids, labels = batch["input_ids"][0], batch["labels"][0]
        trained = processor.tokenizer.decode(ids[labels != -100])
        assert "<answer>2</answer>" in trained and "zoom_in" in trained
        assert "<tool_response>" not in trained and "Zoomed" not in trained  # tool output is not trained on

    def test_sft_step_on_tool_trajectories(self, nano_model, zoom_data, tmp_path, run):
        state = run("sft", tmp_path / "run", zoom_data, tools={"counting": ["zoom_in"]})
        assert state["global_step"] == 1 and math.isfinite(first_log(state)["loss"])


class TestToolGrpo:
    def test_config_tools_reach_trl_and_the_tool_call_rate_is_logged(self, nano_model, dataset_of, tmp_path, run):
        from vlmr.train.data import NO_TOOLS
        from vlmr.train.grpo import grpo_args, rollout_masks, tool_environment_factory

        data = dataset_of("counting", per_task=1)
        fields = {"tools": {"counting": ["zoom_in"]}, "max_tool_calls": 2}
        cfg = TrainConfig.from_dict({"model": nano_model, "output_dir": str(tmp_path), "datasets": [{"path": data}],
                                     "rewards": [{"name": "count"}], "trainer": {"use_cpu": True}, **fields})
        environments = tool_environment_factory(cfg)
        assert environments["counting"].tool_names == ("zoom_in",)
        assert environments[NO_TOOLS].tool_names == ()  # tasks without tools see none
        assert grpo_args(cfg, [1.0], []).max_tool_calling_iterations == 2
        cfg.trainer["mask_truncated_completions"] = True  # trl's own flag crashes on a cut tool-image rollout,
        assert grpo_args(cfg, [1.0], []).mask_truncated_completions is False  # so vlmr masks those itself
        assert rollout_masks(cfg) == {"truncated"}

        state = run("grpo", tmp_path / "run", data, ["count", "tool_use"], mask_over_turn=True,
                    trainer={"max_completion_length": 4, "mask_truncated_completions": True}, **fields)
        log = first_log(state)
        assert "tools/call_frequency" in log  # trl logs it only when the trainer has tools
        assert "tools/rollout_seconds" in log  # the rollouts ran per trajectory (rollout.loop: auto)
        assert log["rewards/tool_use/mean"] is not None
        assert log["vlmr/masked_rollouts"] == 1.0  # 4 tokens: every rollout is cut, none carries loss
        assert log["loss"] == 0.0


class TestMaskIouGrpo:
    def test_grpo_with_segmenter_logs_its_time(self, nano_model, dataset_of, fast_trainer, tmp_path):
        """Seg-Zero style: mask_iou through the GrabCut segmenter in a GRPO step; segmenter time is logged."""
        data = dataset_of("segmentation", per_task=2)
        cfg = TrainConfig.from_dict({
            "model": nano_model, "output_dir": str(tmp_path / "run"), "datasets": [{"path": data}],
            "rewards": [{"name": "mask_iou", "segmenter": "grabcut"}, {"name": "format"}],
            "trainer": {**fast_trainer, "per_device_train_batch_size": 4},
        })
        train("grpo", cfg)
        log = first_log(read_json(tmp_path / "run" / "trainer_state.json"))
        assert 0.0 <= log["rewards/mask_iou/mean"] <= 1.0
        assert log["mask_iou/segmenter_seconds"] >= 0.0 and "mask_iou/segmenter_calls" in log

    def test_segmenter_time_reported_per_batch(self):
        """A group of identical answers costs one segmenter call, and the call is reported to trl."""
        import numpy as np
        from PIL import Image

        from vlmr.rewards import get_reward
        from vlmr.tools.segmenters import get_segmenter

        pixels = np.full((64, 64, 3), 200, np.uint8)
        pixels[16:48, 16:48] = (220, 30, 35)
        mask = np.zeros((64, 64), np.uint8)
        mask[16:48, 16:48] = 1
        from pycocotools import mask as mask_utils

        rle = mask_utils.encode(np.asfortranarray(mask))
        rle = {"size": [64, 64], "counts": rle["counts"].decode()}
        logged = {}
        reward = get_reward("mask_iou", segmenter=get_segmenter("grabcut"))
        answer = '<think></think><answer>{"bbox_2d": [16, 16, 48, 48], "point_2d": [32, 32]}</answer>'
        scores = reward([answer] * 4, answer=[{"masks": [rle]}] * 4, images=[[Image.fromarray(pixels)]] * 4,
                        id=["a"] * 4, log_metric=lambda name, value: logged.__setitem__(name, value))
        assert min(scores) > 0.9
        assert logged["mask_iou/segmenter_calls"] == 1.0 and logged["mask_iou/segmenter_seconds"] > 0.0
