"""TreeBench: accuracy and mean IoU of the evidence boxes, by the authors' inference_treebench.py.

Expected values by hand: accuracy = <answer> upper-cased equals the letter; per question IoU = mean over
the target boxes of the best IoU with any valid <box>[x1,y1,x2,y2]</box>; mIoU = mean over questions.
"""

from __future__ import annotations

import pytest
from highres_fixtures import TREEBENCH_HEADER, b64_png, build_treebench, write_tsv
from test_eval_metrics import score

from vlmr.eval import get_benchmark


@pytest.fixture(autouse=True)
def media_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))


def test_rows_and_target_boxes(tmp_path):
    samples = get_benchmark("treebench").load(build_treebench(tmp_path))
    assert [s.id for s in samples] == ["0", "1", "2"]
    assert samples[1].choices == ["A. the chair", "B. the lamp"]
    # empty A-E cells: the options of the "multi-choice options" text
    assert samples[2].choices == ["A. 12", "B. 21", "C. 112", "D. 121"] and samples[2].answer["choice"] == "C"
    assert samples[1].answer == {"choice": "A", "boxes": [[0.0, 0.0, 20.0, 20.0], [40.0, 20.0, 60.0, 40.0]]}
    assert samples[0].meta == {"width": 100, "height": 80, "category": "Perception/Attributes"}


def test_accuracy_and_miou(tmp_path):
    responses = {
        # box [10,10,20,30] vs target [10,10,30,30]: 200 / 400 = 0.5; answer B right
        "0": "<think>the cup <box>[10,10,20,30]</box></think><answer>b</answer>",
        # targets [0,0,20,20] (best IoU 1.0 with the first box) and [40,20,60,40] (best 0: the box with spaces is
        # not read) -> 0.5; answer "B" wrong (gt A)
        "1": "<think><box>[0,0,20,20]</box> <box>[40, 20, 60, 40]</box></think><answer>B</answer>",
    }
    # row 2 has no response: wrong, IoU 0 -> accuracy 1/3, mIoU (0.5 + 0.5 + 0) / 3
    result = score("treebench", build_treebench(tmp_path), responses, convention="pixel")
    assert result.overall["accuracy"] == pytest.approx(1 / 3) and result.overall["miou"] == pytest.approx(1 / 3)
    assert result.breakdown["category"]["Reasoning/Perspective Transform"]["accuracy"] == 0.0


def test_boxes_in_the_model_frame_are_mapped_to_pixels(tmp_path):
    # norm1000: [100,125,200,375] on the 100x80 image is [10,10,20,30] in pixels -> IoU 0.5 as above
    result = score("treebench", build_treebench(tmp_path), {"0": "<box>[100,125,200,375]</box><answer>B</answer>"},
                   convention="norm1000")
    assert result.rows[0]["miou"] == pytest.approx(0.5)


def test_bad_targets_skipped_and_counted(tmp_path):
    path = write_tsv(tmp_path / "TreeBench.tsv", TREEBENCH_HEADER,
                     [["0", b64_png(), "q?", "a", "b", "", "", "A", "Perception/OCR", "[[1, 2, 3]]"],
                      ["1", "0", "q?", "a", "b", "", "", "A", "Perception/OCR", "[[1, 2, 3, 4"]])  # not Python
    bench = get_benchmark("treebench")
    assert bench.load(path) == []
    assert dict(bench.skipped) == {"target_instances is not a list of [x1, y1, x2, y2] boxes": 2}
