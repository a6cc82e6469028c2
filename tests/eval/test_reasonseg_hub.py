"""ReasonSeg's Hub copies (Seg-Zero's ``Ricky06662/ReasonSeg_val`` / ``ReasonSeg_test``) for eval and build.

Card (huggingface.co/datasets/Ricky06662/ReasonSeg_val, README.md dataset_info): image image,
text string, mask sequence<sequence<bool>>, image_id string, ann_id string, img_height int64,
img_width int64; one split named ``test`` (200 rows in the val copy). Rows here are synthesised
in that schema; the first two queries are quoted from the card's viewer ("the cesspit", "something
used for playing videos or music").
"""

from __future__ import annotations

import datasets
import numpy as np
import pytest
from eval_fixtures import png_bytes, write_hub_snapshot

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.eval.registry import ScoreContext
from vlmr.eval.scoring import score_predictions
from vlmr.masks import rle_to_mask
from vlmr.rewards.metrics import to_rle
from vlmr.schema import load_samples

FEATURES = {"image": datasets.Image(), "text": datasets.Value("string"),
            "mask": datasets.Sequence(datasets.Sequence(datasets.Value("bool"))),
            "image_id": datasets.Value("string"), "ann_id": datasets.Value("string"),
            "img_height": datasets.Value("int64"), "img_width": datasets.Value("int64")}


def square(height=48, width=64, x1=10, y1=10, x2=30, y2=30):
    mask = np.zeros((height, width), bool)
    mask[y1:y2, x1:x2] = True
    return mask


@pytest.fixture
def snapshot(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    masks = [square(), square(x1=40, y1=5, x2=60, y2=25), square(height=10, width=10)]  # the last: wrong size
    return write_hub_snapshot(tmp_path / "ReasonSeg_val", FEATURES, {"test": {
        "image": [png_bytes(64, 48), png_bytes(64, 48, color=(1, 1, 1)), png_bytes(64, 48, color=(2, 2, 2))],
        "text": ["the cesspit", "something used for playing videos or music", "the cup"],
        "mask": [m.tolist() for m in masks], "image_id": ["100637969_a7173095de_o", "101677526_e9a3ba3ae1_o", "x"],
        "ann_id": ["100637969_a7173095de_o", "101677526_e9a3ba3ae1_o", "x"],
        "img_height": [48, 48, 10], "img_width": [64, 64, 10]}})


def test_benchmark_reads_the_mask(snapshot):
    bench = get_benchmark("reasonseg")
    samples = bench.load(snapshot)
    assert [s.id for s in samples] == ["100637969_a7173095de_o", "101677526_e9a3ba3ae1_o"]
    assert bench.skipped == {"mask size differs from the image": 1}
    assert samples[1].question == "something used for playing videos or music"
    root = bench.media_root(snapshot)
    assert int(bench.gt_mask(samples[0], root).sum()) == 400  # 20 x 20
    gold = {s.id: {"response": "", "mask_rle": to_rle(bench.gt_mask(s, root))} for s in samples}
    result = score_predictions(bench, samples, gold, ScoreContext(root=root))
    assert result.overall["giou"] == pytest.approx(1.0, abs=1e-6) and result.overall["ciou"] == pytest.approx(1.0)
    empty = score_predictions(bench, samples, {}, ScoreContext(root=root))
    assert empty.overall["giou"] == 0.0  # an empty prediction against a 400 px target


def test_build(snapshot, tmp_path):
    out = build_dataset("reasonseg", tmp_path / "ds", root=str(snapshot), progress=False)
    samples = load_samples(out)
    assert [s.id for s in samples] == ["reasonseg-val-100637969_a7173095de_o", "reasonseg-val-101677526_e9a3ba3ae1_o"]
    assert samples[0].question == "What is the cesspit in this image? Please output the segmentation mask."
    assert samples[1].answer["boxes"] == [[40, 5, 60, 25]]
    assert (rle_to_mask(samples[0].answer["masks"][0]) == square()).all()
    assert "skipped 1: no target mask of the image's size" in (out / "README.md").read_text()
