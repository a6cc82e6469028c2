"""Training rows: video as timestamped frames, mixed image sources in one dataset, mix weights."""

from __future__ import annotations

from collections import Counter

from PIL import Image

from vlmr.config import TrainConfig
from vlmr.dataset import to_hf_dataset
from vlmr.train.data import mix, prompt_rows


def _cfg(data: str, **fields) -> TrainConfig:
    return TrainConfig.from_dict({"model": "unused", "output_dir": "unused", "datasets": [{"path": data}], **fields})


class TestVideoRows:
    def test_video_becomes_frames_with_their_times_in_the_prompt(self, dataset_of):
        data = dataset_of("temporal_grounding", per_task=1)
        [row] = prompt_rows(_cfg(data), data, "qwen2_5_vl")
        parts = row["prompt"][-1]["content"]
        # a 2 s clip whose file runs at 4 fps (the old key `fps` is the file's rate), sampled at the frame
        # policy's 2 fps: 4 frames (indices 0, 2, 5, 7 of 8), each after its time stamp
        assert [p["type"] for p in parts] == ["text", "image"] * 4 + ["text"]
        assert [p["text"] for p in parts[:8:2]] == ["<0.0s>", "<0.5s>", "<1.2s>", "<1.8s>"]
        assert len(row["images"]) == 4 and all(isinstance(im, Image.Image) for im in row["images"])
        assert row["video"]["path"].endswith(".mp4") and row["video"]["path"].startswith("/")

    def test_the_config_frame_policy_samples_the_video(self, dataset_of):
        data = dataset_of("temporal_grounding", per_task=1)
        [row] = prompt_rows(_cfg(data, frames={"fps": 4.0, "max_frames": 6}), data, "qwen2_5_vl")
        # 2 s at 4 fps would be all 8 frames; max_frames 6 keeps linspace(0, 7, 6) = 0, 1.4, 2.8, 4.2, 5.6, 7
        stamps = [p["text"] for p in row["prompt"][-1]["content"] if p["type"] == "text"][:-1]
        assert stamps == ["<0.0s>", "<0.2s>", "<0.8s>", "<1.0s>", "<1.5s>", "<1.8s>"]
        assert row["video"]["sample_fps"] == 4.0 and row["video"]["max_frames"] == 6  # what the video tools re-plan

    def test_paths_and_frames_share_one_lazily_decoded_column(self, dataset_of):
        data = dataset_of("temporal_grounding", "grounding", "vqa", per_task=1)
        rows = prompt_rows(_cfg(data), data, "qwen2_5_vl")
        ds = to_hf_dataset(rows)
        sizes = {r["task"]: [im.size for im in r["images"]] for r in ds}
        assert sizes["grounding"] == [(56, 56)] and len(sizes["temporal_grounding"]) == 4
        assert sizes["vqa"] == []


def test_mix_weights_repeat_samples(dataset_of):
    data = dataset_of("counting", per_task=2)
    cfg = _cfg(data, datasets=[{"path": data, "weight": 3.0}])
    rows = mix(cfg, lambda spec: prompt_rows(cfg, spec.path, "qwen2_5_vl"))
    assert Counter(r["id"] for r in rows) == {"counting-0": 3, "counting-1": 3}


class TestPixelLimits:
    def test_rows_use_the_checkpoints_own_limits_when_the_config_sets_none(self, nano_model, dataset_of, tmp_path):
        """A checkpoint saved with its own pixel limits: training writes coordinates for the images it sees."""
        import json
        import shutil

        from vlmr.train.model import load_for_training

        model_dir = tmp_path / "model"
        shutil.copytree(nano_model, model_dir)
        processor_file = model_dir / "processor_config.json"
        config = json.loads(processor_file.read_text())
        config["image_processor"]["size"] = {"shortest_edge": 112 * 112, "longest_edge": 112 * 112}
        processor_file.write_text(json.dumps(config))
        data = dataset_of("grounding", per_task=1)

        _, _, family, cfg = load_for_training(_cfg(data, model=str(model_dir)))
        [row] = prompt_rows(cfg, data, family)

        assert (cfg.min_pixels, cfg.max_pixels) == (112 * 112, 112 * 112)
        # 56x56 image, patch factor 14*2 = 28: 56*56 = 3136 < min 12544, so beta = sqrt(3136/12544) = 0.5
        # and each side becomes ceil(56 / 0.5 / 28) * 28 = 112 (the family default, 3136, would keep 56)
        assert (row["coord"]["input_width"], row["coord"]["input_height"]) == (112, 112)
