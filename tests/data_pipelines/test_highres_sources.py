"""``vlmr data build vstar|hrbench8k|pope|...``: the benchmarks' samples as datasets, images copied once."""

from __future__ import annotations

import sys
from pathlib import Path

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.schema import load_samples

sys.path.insert(0, str(Path(__file__).parents[1] / "eval"))
from highres_fixtures import build_hrbench, build_pope, build_visualprobe_train, build_vstar  # noqa: E402


def test_vstar_release_becomes_a_dataset_the_dataset_benchmark_reads(tmp_path):
    out = build_dataset("vstar", tmp_path / "ds", annotations=str(build_vstar(tmp_path / "v")), progress=False)
    records = load_samples(out)
    assert [r.id for r in records] == ["0", "1"]
    assert records[0].images == ["media/direct_attributes__sa_4690.jpg"] and (out / records[0].images[0]).is_file()
    assert records[0].choices == ["A. rubber", "B. cotton", "C. kevlar", "D. leather"]
    assert records[0].answer == {"choice": "A"} and records[0].meta["category"] == "direct_attributes"
    assert [s.answer for s in get_benchmark("dataset").load(out)] == [{"choice": "A"}, {"choice": "C"}]


def test_hrbench_cycles_repeat_a_question_and_are_kept_once(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    out = build_dataset("hrbench4k", tmp_path / "ds", annotations=str(build_hrbench(tmp_path / "h")), progress=False)
    # cycles 1-3 ask cycle 0's questions on the same images (options rotated): the builder's duplicate rule
    # (same image bytes and question) keeps the first of each, as it does for every source
    records = load_samples(out)
    assert [r.id for r in records] == ["0", "408"] and records[1].meta["category"] == "cross"
    assert len(list((out / "media").iterdir())) == 2


def test_pope_skips_rows_without_image_and_counts_them(tmp_path):
    data = build_pope(tmp_path / "p")
    (data / "images" / "2405722.jpg").unlink()  # the three GQA questions lose their image
    out = build_dataset("pope", tmp_path / "ds", annotations=str(data), progress=False)
    assert [r.id for r in load_samples(out)] == ["coco_random_1", "coco_random_2", "coco_random_3"]
    assert "image file not found" in (out / "README.md").read_text()


def test_visualprobe_training_split_becomes_a_dataset(tmp_path):
    # as Mini-o3's recipe: --annotations BASE_IMAGE_DIR/VisualProbe_train/train.json --image-root BASE_IMAGE_DIR
    train = build_visualprobe_train(tmp_path / "base")
    for given in (train, train.parent):  # the file, or the folder holding it
        out = build_dataset("visualprobe", tmp_path / given.name, annotations=str(given),
                            image_root=str(tmp_path / "base"), split="train", progress=False)
        [record] = load_samples(out)
        assert record.question == "What is written on the blue sign?" and record.answer == {"text": "Exit"}
        assert record.meta["difficulty"] == "unknown" and record.meta["split"] == "train"
        assert "image file not found" in (out / "README.md").read_text()
