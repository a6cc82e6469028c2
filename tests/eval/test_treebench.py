"""TreeBench: accuracy and mean IoU of the evidence boxes, by the authors' inference_treebench.py, on released rows.

Expected values by hand: accuracy = <answer> upper-cased equals the letter; per question IoU = mean over
the target boxes of the best IoU with any valid <box>[x1,y1,x2,y2]</box>; mIoU = mean over questions.
"""

from __future__ import annotations

import pytest
from highres_fixtures import (
    TREEBENCH_HEADER,
    TREEBENCH_ROWS,
    b64_png,
    build_treebench,
    build_treebench_hub,
    write_tsv,
)
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.schema import load_samples


@pytest.fixture(autouse=True)
def media_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))


def test_rows_and_target_boxes(tmp_path):
    samples = get_benchmark("treebench").load(build_treebench(tmp_path))
    assert [s.id for s in samples] == [row[0] for row in TREEBENCH_ROWS]
    assert samples[0].choices == ["A. Front left", "B. Front right", "C. Left rear", "D. Right rear"]
    assert samples[0].answer == {"choice": "B", "boxes": [[231.0, 679.0, 278.0, 777.0], [554.0, 695.0, 626.0, 736.0]]}
    assert samples[0].meta == {"width": 2250, "height": 1500, "category": "Reasoning/Perspective Transform"}
    # the OCR row's A-D cells are empty: its options come from the text
    assert samples[1].choices[3] == "D. No part of the ferry is occluded by the structure"
    assert samples[1].answer["boxes"][2] == [50.0, 50.0, 2184.953125, 266.0]
    # letters without a period
    assert samples[2].choices[2] == "C. Stainless steel with a brushed" and samples[2].answer["choice"] == "C"
    # "C." twice: the list ends at the repeated letter
    assert samples[3].choices == ["A. Fully closed and latched", "B. Completely detached and lying beside the chest",
                                  "C. Propped open at an acute angle"]
    # two options on one line: the text gives all four, where the shifted cells lack D, the answer
    assert samples[4].choices == ["A. He is standing and watching the performance.",
                                  "B. He is lying down flat on the grass.",
                                  "C. He is in the middle of running down the hill.",
                                  "D. He is sitting with his knees bent."]
    assert samples[4].answer["choice"] == "D"


def test_hub_copy_reads_as_the_tsv(tmp_path):
    # the TSV as datasets loads HaochenWang/TreeBench (split train, index a number, empty cells null), as parquet
    path = build_treebench_hub(tmp_path / "hub")
    samples = get_benchmark("treebench").load(path)
    released = get_benchmark("treebench").load(build_treebench(tmp_path / "tsv"))
    assert [s.id for s in samples] == [row[0] for row in TREEBENCH_ROWS]
    assert [(s.question, s.choices, s.answer, s.meta) for s in samples] == [
        (s.question, s.choices, s.answer, s.meta) for s in released]
    ocr = samples[1]
    assert ocr.question == "Recognize the question and options in the image and answer it."
    assert ocr.choices[0] == "A. The front section of the ferry" and ocr.answer["choice"] == "D"
    assert ocr.meta == {"width": 2250, "height": 1500, "category": "Perception/OCR"}
    # vlmr data build: every row a record, its picture copied into the dataset
    out = build_dataset("treebench", tmp_path / "ds", annotations=str(path), progress=False)
    records = load_samples(out)
    assert [r.id for r in records] == [row[0] for row in TREEBENCH_ROWS]
    assert records[4].answer["boxes"] == [[124.0, 491.0, 172.0, 561.0]]
    assert records[4].choices == samples[4].choices
    assert len(list((out / "media").iterdir())) == len(TREEBENCH_ROWS)


def test_accuracy_and_miou(tmp_path):
    responses = {
        # targets [231,679,278,777] (the first box equals it: IoU 1) and [554,695,626,736] (72x41 = 2952 px, inside
        # the second box [554,695,626,756], 72x61 = 4392 px: IoU 2952 / 4392) -> (1 + 2952/4392) / 2; "b" -> B right
        "8": "<think>the car <box>[231,679,278,777]</box> the man <box>[554,695,626,756]</box></think><answer>b</answer>",
        # target [124,491,172,561] (48x70 = 3360 px) holds the box [124,491,172,526] (48x35 = 1680 px): 0.5; A wrong (D)
        "330": "<think><box>[124,491,172,526]</box></think><answer>A</answer>",
        "286": "<answer>C</answer>",  # right, no box: IoU 0
        "327": "<box>[439, 940, 574, 1086]</box><answer>C</answer>",  # right; the box with spaces is not read: IoU 0
    }
    # row 142 has no response: wrong, IoU 0 -> accuracy 3/5, mIoU ((1 + 2952/4392) / 2 + 0.5) / 5
    result = score("treebench", build_treebench(tmp_path), responses, convention="pixel")
    assert result.overall["accuracy"] == pytest.approx(3 / 5)
    assert result.overall["miou"] == pytest.approx(((1 + 2952 / 4392) / 2 + 0.5) / 5)
    assert result.breakdown["category"]["Perception/OCR"]["accuracy"] == 0.5
    assert result.breakdown["category"]["Perception/Physical State"]["accuracy"] == 0.0


def test_boxes_in_the_model_frame_are_mapped_to_pixels(tmp_path):
    # norm1000 [60,330,80,350] on the 2250x1500 image is [135,495,180,525] px (45x30 = 1350); with row 330's target
    # [124,491,172,561] (3360 px) it shares x 135-172, y 495-525 = 37x30 = 1110 px: IoU 1110 / (3360 + 1350 - 1110)
    result = score("treebench", build_treebench(tmp_path), {"330": "<box>[60,330,80,350]</box><answer>D</answer>"},
                   convention="norm1000")
    assert next(row for row in result.rows if row["id"] == "330")["miou"] == pytest.approx(1110 / 3600)


def test_bad_targets_skipped_and_counted(tmp_path):
    path = write_tsv(tmp_path / "TreeBench.tsv", TREEBENCH_HEADER,
                     [["0", b64_png(), "q?", "a", "b", "", "", "A", "Perception/OCR", "[[1, 2, 3]]"],
                      ["1", "0", "q?", "a", "b", "", "", "A", "Perception/OCR", "[[1, 2, 3, 4"]])  # not Python
    bench = get_benchmark("treebench")
    assert bench.load(path) == []
    assert dict(bench.skipped) == {"target_instances is not a list of [x1, y1, x2, y2] boxes": 2}
