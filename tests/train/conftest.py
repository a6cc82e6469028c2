"""Fixtures for training tests: one nano model per session, tiny synthetic datasets per task, fast configs.

Helpers are handed to tests as fixtures (pytest runs with --import-mode=importlib).

Images are 56x56 (4 visual tokens for the nano preset), so a GRPO step takes seconds on CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from vlmr.data_pipelines.shapes import make_scene
from vlmr.masks import mask_to_rle
from vlmr.schema import DatasetWriter, Sample

SIZE = 56  # px; min_pixels of the nano preset is 56*56, so every image is 2x2 merged tokens

# Fast trainer settings shared by every test config (CPU, no logging services, few tokens).
FAST_TRAINER = {
    "use_cpu": True,
    "report_to": [],
    "gradient_checkpointing": False,
    "max_steps": 1,
    "per_device_train_batch_size": 2,
    "num_generations": 2,
    "max_completion_length": 8,
    "learning_rate": 1e-3,
    "save_strategy": "no",
    "dataloader_num_workers": 0,
    "disable_tqdm": True,
}
SFT_TRAINER = {k: v for k, v in FAST_TRAINER.items() if k not in ("num_generations", "max_completion_length")}


def _write_video(path: Path, n_frames: int = 8, fps: float = 4.0) -> None:
    """A 2-second clip: grey frames, a white square in frames 4..5 (1.0-1.5 s)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (SIZE, SIZE))
    for i in range(n_frames):
        frame = np.full((SIZE, SIZE, 3), 90, np.uint8)
        if 4 <= i <= 5:
            frame[16:40, 16:40] = 255
        writer.write(frame)
    writer.release()


def _record(task: str, i: int, w: DatasetWriter) -> Sample:
    """One sample of ``task`` drawn from shape scene ``i``."""
    sid = f"{task}-{i}"
    if task == "vqa":  # text-only
        return Sample(id=sid, task="vqa", question=f"What is {i} plus one?", answer={"text": str(i + 1)})
    if task == "temporal_grounding":
        path, rel = w.media_path(f"{sid}.mp4")
        _write_video(path)
        return Sample(id=sid, task=task, question="When does the white square appear?",
                      video={"path": rel, "fps": 4.0}, answer={"span": [1.0, 1.5]})
    scene = make_scene(i, width=SIZE, height=SIZE, n_objects=2, min_size=10, max_size=18)
    path, rel = w.media_path(f"{sid}.png")
    scene.image.save(path)
    obj = scene.objects[0]
    meta = {"width": SIZE, "height": SIZE}
    question = {
        "grounding": f"Find the {obj.label}.",
        "pointing": f"Point at the {obj.label}.",
        "segmentation": f"Segment the {obj.label}.",
        "counting": "How many shapes are there?",
        "mcq": f"What colour is the {obj.shape}?",
    }[task]
    answer = {
        "grounding": {"boxes": [obj.box], "labels": [obj.label]},
        "pointing": {"points": [list(obj.center)], "boxes": [obj.box]},
        "segmentation": {"boxes": [obj.box], "points": [list(obj.center)], "masks": [mask_to_rle(obj.mask)]},
        "counting": {"count": len(scene.objects)},
        "mcq": {"choice": "A"},
    }[task]
    choices = [f"A. {obj.color}", "B. none"] if task == "mcq" else None
    return Sample(id=sid, task=task, question=question, images=[rel], choices=choices, answer=answer, meta=meta)


def make_dataset(out: Path, tasks: list[str], per_task: int = 2, cot: dict[str, list] | None = None) -> Path:
    """A vlmr dataset dir with ``per_task`` samples of each task (``cot`` by task, optional)."""
    with DatasetWriter(out) as w:
        for task in tasks:
            for i in range(per_task):
                sample = _record(task, i, w)
                if cot and task in cot:
                    sample.cot = cot[task]
                w.add(sample)
    return out


def write_config(path: Path, **fields) -> Path:
    """Write a YAML training config (``trainer`` merged over the fast defaults)."""
    trainer = {**FAST_TRAINER, **fields.pop("trainer", {})}
    path.write_text(yaml.safe_dump({**fields, "trainer": trainer}), encoding="utf-8")
    return path


@pytest.fixture
def one_thread():
    """Torch on one thread for the test (the machine is shared; steps stay deterministic)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def nano_model(tmp_path_factory) -> str:
    """A nano tiny model, built once per session (56x56 images = 4 visual tokens)."""
    from vlmr.tiny_model import build_tiny_model

    out = tmp_path_factory.getbasetemp() / "train-nano"
    if not (out / "config.json").exists():
        build_tiny_model(out, size="nano", seed=0, min_pixels=SIZE * SIZE, max_pixels=SIZE * SIZE)
    return str(out)


@pytest.fixture(scope="session")
def datasets_dir(tmp_path_factory) -> Path:
    """Session-wide dir of fixture datasets, one per task, built on first use."""
    return tmp_path_factory.mktemp("train-data")


@pytest.fixture(scope="session")
def dataset_of(datasets_dir):
    """``dataset_of("grounding", "counting")`` -> a dataset dir with those tasks (cached)."""

    def build(*tasks: str, per_task: int = 2) -> str:
        out = datasets_dir / f"{'-'.join(tasks)}-{per_task}"
        if not out.exists():
            make_dataset(out, list(tasks), per_task)
        return str(out)

    return build


@pytest.fixture
def fast_trainer() -> dict:
    """Trainer settings for a one-step CPU GRPO run."""
    return dict(FAST_TRAINER)


@pytest.fixture
def sft_trainer() -> dict:
    """Trainer settings for a one-step CPU SFT run."""
    return dict(SFT_TRAINER)


@pytest.fixture(scope="session", name="make_dataset")
def make_dataset_fixture():
    """:func:`make_dataset` as a fixture."""
    return make_dataset


@pytest.fixture(scope="session", name="write_config")
def write_config_fixture():
    """:func:`write_config` as a fixture."""
    return write_config
