"""HR-Bench on its TSV release and the official ``report_acc_hrbench`` aggregation.

Expected values by hand from DreamMr/HR-Bench (and VLMEvalKit) utils/hrbench.py: group the rows by
``cycle_category``; in each cycle the accuracy of ``single``, of ``cross`` and of all rows; each of the
three is then averaged over the cycles.
"""

from __future__ import annotations

import pytest
from highres_fixtures import (
    HRBENCH_8K_ROWS,
    HRBENCH_HEADER,
    HRBENCH_QWEN_ANSWERS,
    HRBENCH_ROWS,
    b64_png,
    build_hrbench,
    build_hrbench_snapshot,
    write_tsv,
)
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.schema import load_samples


@pytest.fixture(autouse=True)
def media_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))


def test_rows_read_equal_rows_in_file(tmp_path):
    samples = get_benchmark("hrbench4k").load(build_hrbench(tmp_path))
    assert [s.id for s in samples] == [row[0] for row in HRBENCH_ROWS]
    assert samples[5].images == samples[4].images  # row 409's image cell names row 408
    assert samples[4].question == "How many computers are visible on the table?"
    assert samples[4].choices == ["A. Five computers", "B. Three computers", "C. Four computers", "D. Two computers"]
    assert samples[4].answer == {"choice": "A"} and samples[7].answer == {"choice": "D"}
    assert samples[4].meta == {"width": 80, "height": 45, "category": "cross", "cycle_category": "0"}


def test_the_published_predictions_score_as_released(tmp_path):
    # Qwen2.5-VL-7B's answers from the same result file: all four single cycles right (27B each time),
    # all four cross cycles wrong -> each cycle: single 1, cross 0, all 1/2; averaged: 1.0, 0.0, 0.5
    responses = {row[0]: f"<answer>{text}</answer>" for row, text in zip(HRBENCH_ROWS, HRBENCH_QWEN_ANSWERS, strict=True)}
    result = score("hrbench4k", build_hrbench(tmp_path), responses)
    assert result.overall == {"accuracy": 0.5, "single": 1.0, "cross": 0.0, "average": 0.5}


def test_single_cross_and_average_over_cycles(tmp_path):
    # cycle 0: single right, cross wrong -> single 1, cross 0, all 1/2
    # cycle 1: both right              -> single 1, cross 1, all 1
    # cycle 2: both wrong              -> single 0, cross 0, all 0
    # cycle 3: both right              -> single 1, cross 1, all 1
    # averaged over the four cycles: single 3/4, cross 2/4, average (1/2 + 1 + 0 + 1) / 4 = 0.625
    responses = {"0": "<answer>A</answer>", "408": "<answer>B</answer>", "1": "<answer>B. 27B</answer>",
                 "409": "The answer is B.", "2": "<answer>A</answer>", "410": "<answer>D</answer>",
                 "3": "<answer>D</answer>", "411": "<answer>D. Five computers</answer>"}
    result = score("hrbench4k", build_hrbench(tmp_path), responses)
    assert result.overall == {"accuracy": 0.625, "single": 0.75, "cross": 0.5, "average": 0.625}
    assert result.breakdown["cycle_category"]["0"]["accuracy"] == 0.5
    assert result.breakdown["cycle_category"]["2"]["accuracy"] == 0.0


def test_cycles_of_different_sizes_are_averaged_not_pooled():
    # cycle 0: 2 of 2 right (1.0); cycle 1: 0 of 1 (0.0) -> average 0.5 while pooled accuracy is 2/3
    rows = [{"accuracy": 1.0, "_category": "single", "_cycle": "0"},
            {"accuracy": 1.0, "_category": "single", "_cycle": "0"},
            {"accuracy": 0.0, "_category": "single", "_cycle": "1"}]
    out = get_benchmark("hrbench").aggregate(rows)
    assert out["average"] == 0.5 and out["single"] == 0.5 and out["accuracy"] == pytest.approx(2 / 3)
    assert "cross" not in out


def test_bad_rows_are_skipped_counted_and_named(tmp_path):
    good = [*HRBENCH_ROWS[0][:8], b64_png(), "0"]
    rows = [
        good,
        ["1", "q?", "x", "y", "", "", "B", "single", "!" * 80, "1"],          # corrupt base64
        ["2", "q?", "x", "y", "z", "w", "E", "single", "0", "2"],             # E is no option of A-D
        ["3", "q?", "", "", "", "", "A", "cross", "0", "3"],                    # no options at all
        ["4", "q?", "x", "y", "", "", "C", "cross", "0", "0"],                 # C is past the 2 options
    ]
    path = write_tsv(tmp_path / "hr_bench_8k.tsv", HRBENCH_HEADER, rows)
    bench = get_benchmark("hrbench8k")
    assert [s.id for s in bench.load(path)] == ["0"]
    assert dict(bench.skipped) == {"corrupt base64 image": 1, "answer letter outside the options": 2,
                                   "question with no options": 1}


def test_hub_copy_with_base64_image_column(tmp_path):
    # DreamMr/HR-Bench's parquet keeps the TSV's columns: the image is base64 text, not an image cell; a
    # cycle_category stored as a number keeps cycle 0
    import datasets
    from eval_fixtures import write_hub_snapshot

    columns = {name: [row[i] for row in HRBENCH_ROWS[:2]] for i, name in enumerate(HRBENCH_HEADER)}
    columns["image"], columns["cycle_category"] = [b64_png(), b64_png(8, 8)], [0, 1]
    features = {k: datasets.Value("int64" if k == "cycle_category" else "string") for k in HRBENCH_HEADER}
    snapshot = write_hub_snapshot(tmp_path / "hub", features, {"hrbench_8k": columns})
    samples = get_benchmark("hrbench8k").load(snapshot)
    assert [s.id for s in samples] == ["0", "1"] and samples[1].meta["width"] == 8
    assert [s.meta["cycle_category"] for s in samples] == ["0", "1"]


def test_repository_snapshot_is_read_through_the_file_of_each_size(tmp_path):
    # DreamMr/HR-Bench downloaded: hr_bench_4k.parquet beside hr_bench_8k.parquet (datasets would read both as one
    # split); each benchmark reads its own file, every row of it
    snapshot = build_hrbench_snapshot(tmp_path / "HR-Bench")
    four, eight = get_benchmark("hrbench4k").load(snapshot), get_benchmark("hrbench8k").load(snapshot)
    assert [s.id for s in four] == [row[0] for row in HRBENCH_ROWS]
    assert [s.id for s in eight] == [row[0] for row in HRBENCH_8K_ROWS]
    assert eight[1].question == "What is the number displayed above the entrance where the woman is standing?"
    assert eight[1].choices == ["A. 37B", "B. 27B", "C. 27E", "D. 27D"] and eight[1].answer == {"choice": "B"}
    assert eight[1].meta == {"width": 160, "height": 90, "category": "single", "cycle_category": "1"}
    assert four[4].choices[0] == "A. Five computers" and four[4].meta["cycle_category"] == "0"
    assert [s.id for s in get_benchmark("hrbench").load(snapshot)] == [s.id for s in four]  # either: 4K first
    # vlmr data build hrbench8k: every row read, the four cycles of one question kept once (the duplicate rule)
    out = build_dataset("hrbench8k", tmp_path / "ds", annotations=str(snapshot), progress=False)
    [record] = load_samples(out)
    assert record.id == "0" and record.choices == ["A. 27B", "B. 27D", "C. 27E", "D. 37B"]


def test_8k_tsv_rows_read_equal_rows_in_file(tmp_path):
    rows = [[b64_png(160, 90) if cell == "IMG0" else cell for cell in row] for row in HRBENCH_8K_ROWS]
    samples = get_benchmark("hrbench8k").load(write_tsv(tmp_path / "hr_bench_8k.tsv", HRBENCH_HEADER, rows))
    assert [s.id for s in samples] == ["0", "1", "2", "3"]
    assert [s.answer["choice"] for s in samples] == ["A", "B", "C", "D"]
    assert samples[3].choices == ["A. 27E", "B. 27D", "C. 37B", "D. 27B"] and samples[3].meta["category"] == "single"


def test_skipped_rows_are_named_in_scores_json(tmp_path):
    from vlmr.eval.registry import ScoreContext
    from vlmr.eval.scoring import score_predictions, scores_document

    rows = [["0", "q?", "x", "y", "", "", "A", "single", b64_png(), "0"],
            ["1", "q?", "x", "y", "", "", "A", "single", "!" * 100, "0"]]
    path = write_tsv(tmp_path / "hr_bench_4k.tsv", HRBENCH_HEADER, rows)
    bench = get_benchmark("hrbench4k")
    samples = bench.load(path)
    ctx = ScoreContext(root=bench.media_root(path))
    doc = scores_document(score_predictions(bench, samples, {}, ctx), bench, ctx, "cmd", None, str(path))
    assert doc["skipped_rows"] == {"corrupt base64 image": 1} and doc["n"] == 1 and doc["n_missing"] == 1


def test_a_file_that_is_neither_tsv_nor_hub_copy_is_named(tmp_path):
    path = tmp_path / "hr_bench_4k.json"
    path.write_text("[]")
    with pytest.raises(FileNotFoundError, match="expected a VLMEvalKit .tsv file or a Hub copy"):
        get_benchmark("hrbench4k").load(path)
