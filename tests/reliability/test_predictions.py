"""Predictions files as a user or another system writes them: bad masks, bad bytes, repeated and
unknown ids. Every problem is skipped or scored 0, counted in ``scores.json`` and named."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from eval_fixtures import build_countbench, build_reasonseg

from vlmr.cli import main
from vlmr.masks import MaskError, checked_mask, mask_to_rle


def score(benchmark: str, data, lines: list[bytes], out) -> dict:
    """``vlmr eval score`` on a predictions file of these raw lines; the scores.json it wrote."""
    predictions = out.with_suffix(".jsonl")
    predictions.write_bytes(b"".join(line + b"\n" for line in lines))
    assert main(["eval", "score", "--benchmark", benchmark, "--data", str(data), "--predictions", str(predictions),
                 "--out", str(out), "--segmenter", "box", "--no-report"]) == 0
    return json.loads((out / "scores.json").read_text(encoding="utf-8"))


def row(**fields) -> bytes:
    return json.dumps(fields).encode()


class TestMaskRle:
    def test_a_huge_mask_is_refused_before_decoding(self, tmp_path):
        data = build_reasonseg(tmp_path)  # two 64x48 images; img_a's target is 20x20 with a 10x10 ignore corner
        tracemalloc.start()
        scores = score("reasonseg", data, [row(id="img_a", response="", mask_rle={"size": [30000, 30000], "counts": "0"}),
                                           row(id="img_b", response="", mask_rle={"counts": "0"})], tmp_path / "run")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 100e6  # decoding the first mask would take 900 MB
        assert scores["n_invalid"] == 2 and scores["n"] == 2
        assert scores["overall"]["giou"] == 0.0 and scores["overall"]["ciou"] == 0.0
        [warning] = [w for w in scores["warnings"] if "cannot be used" in w]
        assert "img_a (mask_rle: mask size [30000, 30000] is not the image's [48, 64] (height, width))" in warning
        assert "img_b (mask_rle: a mask must be COCO RLE" in warning

    def test_one_bad_mask_scores_zero_and_the_others_still_count(self, tmp_path):
        data = build_reasonseg(tmp_path)
        good = np.zeros((48, 64), bool)
        good[5:26, 40:61] = True  # img_b's target square, drawn with its outline: 21 x 21 px
        scores = score("reasonseg", data, [row(id="img_a", response="", mask_rle={"size": [48, 64], "counts": "zz"}),
                                           row(id="img_b", response="", mask_rle=mask_to_rle(good))], tmp_path / "run")
        # img_a: 0 (invalid); img_b: I = U = 441 -> 1; gIoU = (0 + 1) / 2; cIoU = 441 / (441 + img_a's 21*21 - 11*11)
        assert scores["n_invalid"] == 1
        assert scores["overall"]["giou"] == pytest.approx(0.5, abs=1e-6)
        assert scores["overall"]["ciou"] == pytest.approx(441 / (441 + 441 - 121))

    @pytest.mark.parametrize(("rle", "message"), [
        ({"size": [100000, 100000], "counts": "0"}, r"mask size \[100000, 100000\] is not the image's \[4, 5\]"),
        ({"size": [4, 5], "counts": "0"}, "mask counts cover 0 pixels, the mask has 20"),  # pycocotools reads
        ({"size": [4, 5], "counts": "92209999"}, "cover 77 pixels"),                        # both as garbage
        ({"size": [4, 5], "counts": [3, -1, 18]}, "list of run lengths"),
        ({"size": ["4", 5], "counts": "0"}, r"mask size must be \[height, width\]"),
        ({"size": [4, 5], "counts": "\u00e9"}, "COCO RLE string"),
        ([1, 2], "must be COCO RLE"),
    ])
    def test_checked_mask_names_the_problem(self, rle, message):
        with pytest.raises(MaskError, match=message):
            checked_mask(rle, height=4, width=5)

    def test_checked_mask_reads_what_pycocotools_writes(self):
        rng = np.random.default_rng(0)
        for _ in range(200):
            height, width = (int(v) for v in rng.integers(1, 80, 2))
            mask = rng.random((height, width)) < rng.random()
            np.testing.assert_array_equal(checked_mask(mask_to_rle(mask), height, width), mask)


class TestPredictionLines:
    def test_a_non_utf8_line_is_skipped_and_named(self, tmp_path):
        data = build_countbench(tmp_path)  # countbench-00000: 3, countbench-00001: 5
        scores = score("countbench", data, [row(id="countbench-00000", response="<answer>3</answer>"),
                                            b'{"id": "countbench-00001", "response": "\xff5"}',
                                            b'{"id": "countbench-0000',
                                            b"[1, 2]"], tmp_path / "run")
        assert scores["n_malformed"] == 3 and scores["n_missing"] == 1
        assert scores["overall"]["accuracy"] == 0.5  # the readable line still counts
        [warning] = [w for w in scores["warnings"] if "malformed" in w]
        assert "line 2 (not UTF-8), line 3 (not JSON), line 4 (no \"id\")" in warning

    def test_repeated_ids_use_the_last_row_and_say_so(self, tmp_path):
        data = build_countbench(tmp_path)
        scores = score("countbench", data, [row(id="countbench-00000", response="<answer>7</answer>"),
                                            row(id="countbench-00001", response="<answer>5</answer>"),
                                            row(id="countbench-00000", response="<answer>3</answer>")], tmp_path / "run")
        assert scores["overall"]["accuracy"] == 1.0  # line order decides nothing silently: the last row, said
        assert any("1 id(s) appear on several lines; the last row of each is used: countbench-00000 (lines 1, 3)" in w
                   for w in scores["warnings"])

    def test_unknown_ids_are_counted_and_named(self, tmp_path):
        data = build_countbench(tmp_path)
        scores = score("countbench", data, [row(id="countbench-00000", response="<answer>3</answer>"),
                                            row(id="cb-7", response="<answer>3</answer>")], tmp_path / "run")
        assert scores["n_unknown"] == 1 and scores["n_missing"] == 1
        assert any("1 prediction(s) have ids that are not among the 2 samples scored, and are ignored: cb-7" in w
                   for w in scores["warnings"])
