"""Hand-computed scores of every benchmark on its official-format fixture, tricky cases included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vlmr.eval import get_benchmark
from vlmr.eval.benchmarks.reasonseg import lisa_iou, lisa_mask
from vlmr.eval.registry import ScoreContext
from vlmr.eval.scoring import score_predictions
from vlmr.rewards.metrics import to_rle


def score(name, path, responses, options=None, **ctx_fields):
    """Score ``{id: response or prediction dict}`` on the benchmark fixture at ``path``."""
    bench = get_benchmark(name, **(options or {}))
    samples = bench.load(path)
    preds = {k: (v if isinstance(v, dict) else {"id": k, "response": v}) for k, v in responses.items()}
    ctx = ScoreContext(root=bench.media_root(path), **ctx_fields)
    return score_predictions(bench, samples, preds, ctx)


class TestReasonSeg:
    def test_lisa_mask_ignore_and_flag(self, bench_data):
        bench = get_benchmark("reasonseg")
        root = bench_data("reasonseg")
        sample = bench.load(root)[0]
        gt = bench.gt_mask(sample, root)
        # target square 10..30 inclusive = 21x21 = 441 px, ignore 20..30 = 11x11 = 121 px drawn on top;
        # the image-sized "flag" shape is dropped.
        assert int((gt == 1).sum()) == 441 - 121 and int((gt == 255).sum()) == 121

    def test_giou_ciou_hand_computed(self, bench_data):
        root = bench_data("reasonseg")
        pred_a = np.zeros((48, 64), np.uint8)
        pred_a[10:21, 10:31] = 1  # 11x21 = 231 px, 11 of them (row 20, cols 20..30) on ignore pixels
        result = score("reasonseg", root, {
            "img_a": {"id": "img_a", "response": "", "mask_rle": to_rle(pred_a)},
            "img_b": {"id": "img_b", "response": "<answer>nothing</answer>"},  # empty mask vs 441 px
        })
        # img_a: I = 220, U = 320 -> 0.6875; img_b: I = 0, U = 441 -> 0
        assert result.overall["giou"] == pytest.approx((220 / (320 + 1e-5) + 0.0) / 2)
        assert result.overall["ciou"] == pytest.approx(220 / 761)
        assert result.breakdown["query_type"]["long"]["giou"] == pytest.approx(0.6875, abs=1e-6)
        assert result.breakdown["query_type"]["short"]["n"] == 1

    def test_both_empty_counts_as_one(self):
        assert lisa_iou(0, 0) == 1.0
        mask = lisa_mask({"shapes": []}, 4, 4)
        assert mask.sum() == 0

    def test_box_answer_without_segmenter_uses_box(self, bench_data):
        root = bench_data("reasonseg")
        result = score("reasonseg", root, {
            "img_b": '<answer>{"bbox_2d": [40, 5, 61, 26], "point_2d": [50, 15]}</answer>',
        }, convention="pixel")
        row = {r["id"]: r for r in result.rows}["img_b"]
        # box covers x 40..60, y 5..25 = the 21x21 target exactly
        assert row["_intersection"] == 441 and row["_union"] == 441

    def test_grabcut_segmenter_turns_box_into_mask(self, bench_data):
        from vlmr.tools.segmenters import get_segmenter

        root = bench_data("reasonseg")
        bench = get_benchmark("reasonseg")
        sample = bench.load(root)[0]
        ctx = ScoreContext(root=root, convention="pixel", segmenter=get_segmenter("grabcut"))
        extra = bench.postprocess(sample, '<answer>{"bbox_2d": [8, 8, 33, 33], "point_2d": [15, 15]}</answer>', ctx)
        assert extra["mask_rle"]["size"] == [48, 64]
        row = bench.process_results(sample, {"response": "", **extra}, ctx)
        assert row["giou"] > 0.5  # the white square is the object GrabCut finds


class TestRefCOCO:
    @pytest.mark.parametrize(("comparison", "expected"), [(">=", 1.0), (">", 0.0)])
    def test_iou_exactly_half(self, bench_data, comparison, expected):
        data = bench_data("refcoco")
        # [10, 10, 30, 20] covers half of the [10, 10, 30, 30] target: IoU = 200 / 400 = 0.5
        result = score("refcoco", data, {"refcoco_val-000000": '<answer>{"bbox_2d": [10, 10, 30, 20]}</answer>'},
                       options={"iou_comparison": comparison}, convention="pixel")
        assert result.rows[0]["iou"] == pytest.approx(0.5)
        assert result.rows[0]["acc@0.5"] == expected

    def test_norm1000_converted_to_pixels(self, bench_data):
        data = bench_data("refcoco")
        # 0-1000 coordinates on a 64x48 image: x * 0.064, y * 0.048 -> [10, 10, 30, 30]
        box = [156.25, 208.3333333, 468.75, 625.0]
        result = score("refcoco", data, {"refcoco_val-000000": f'<answer>{{"bbox_2d": {box}}}</answer>',
                                         "refcoco_val-000001": "<answer>no idea</answer>"},
                       family="qwen3_vl")
        assert result.rows[0]["iou"] == pytest.approx(1.0)
        assert result.overall["acc@0.5"] == pytest.approx(0.5)

    def test_wrong_frame_is_flagged(self, bench_data):
        data = bench_data("refcoco")
        # 0-1 coordinates read as pixels: a sure sign of the wrong convention
        result = score("refcoco", data, {"refcoco_val-000000": "<answer>[0.15, 0.2, 0.47, 0.62]</answer>",
                                         "refcoco_val-000001": "<answer>[0.0, 0.0, 0.3, 0.8]</answer>"},
                       convention="pixel")
        assert result.warnings == ["2 of 2 samples: all predicted coordinates are <= 1: "
                                   "the model may be using 0-1 coordinates"]

    def test_resized_frame_of_qwen2_5_vl(self, bench_data):
        data = bench_data("refcoco")
        # 64x48 -> smart_resize -> 56x56 input: x * 64/56, y * 48/56
        box = [10 * 56 / 64, 10 * 56 / 48, 30 * 56 / 64, 30 * 56 / 48]
        result = score("refcoco", data, {"refcoco_val-000000": f"<answer>{box}</answer>"}, family="qwen2_5_vl")
        assert result.rows[0]["iou"] == pytest.approx(1.0)


class TestCounting:
    def test_accuracy_mae_rmse(self, bench_data):
        result = score("countbench", bench_data("countbench"), {
            "countbench-00000": "<answer>3</answer>",
            "countbench-00001": "<answer>seven</answer>",  # 7 vs 5
        })
        assert result.overall["accuracy"] == 0.5
        assert result.overall["abs_error"] == 1.0
        assert result.overall["rmse"] == pytest.approx(math.sqrt(2))

    def test_unparsed_counts_as_zero(self, bench_data):
        result = score("pixmo_count", bench_data("pixmo_count"), {"pixmo_count-00000": "<answer>many</answer>"})
        assert result.overall == {"accuracy": 0.0, "accuracy_first_integer": 0.0, "abs_error": 2.0, "parsed": 0.0,
                                  "rmse": 2.0}


class TestDatasetDir:
    def test_task_decides_metric(self, bench_data):
        result = score("dataset", bench_data("dataset"), {
            "s0": '<answer>{"bbox_2d": [10, 10, 30, 30]}</answer>',
            "s1": "<answer>2</answer>",
            "s2": "<answer>B</answer>",
            "s3": "<answer>Purple.</answer>",
            "s4": '<answer>{"bbox_2d": [10, 10, 30, 30], "point_2d": [20, 20]}</answer>',  # box mask = gt
            "s5": '<answer>{"point_2d": [15, 29]}</answer>',
            "s6": '<answer>[{"bbox_2d": [10, 10, 30, 30]}]</answer>',  # 1 of 2 objects found
        }, convention="pixel")
        rows = {r["id"]: r for r in result.rows}
        assert rows["s0"]["acc@0.5"] == 1.0 and rows["s0"]["iou"] == 1.0
        assert rows["s1"]["accuracy"] == 1.0 and rows["s1"]["abs_error"] == 0.0
        assert rows["s2"]["accuracy"] == 1.0 and rows["s3"]["accuracy"] == 1.0
        assert rows["s4"]["giou"] == pytest.approx(1.0, abs=1e-6) and rows["s4"]["_union"] == 400
        assert rows["s5"]["accuracy"] == 1.0
        assert rows["s6"]["precision@0.5"] == 1.0 and rows["s6"]["recall@0.5"] == 0.5
        assert rows["s6"]["f1@0.5"] == pytest.approx(2 / 3)
        assert result.overall["ciou"] == pytest.approx(1.0)
        assert set(result.breakdown["task"]) == {"grounding", "counting", "mcq", "vqa", "segmentation", "pointing",
                                                 "detection"}
