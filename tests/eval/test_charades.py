"""Charades-STA / ActivityNet-Captions: release files, spans, splits, and lmms-eval's temporal IoU.

Expected IoUs are computed by hand with lmms-eval's rule (tasks/charades_sta/eval_tvg.py):
``iou(A, B) = max(min(A1, B1) - max(A0, B0), 0) / (max(A1, B1) - min(A0, B0))`` on the first
predicted span, swapped when its end precedes its start; ``r@m`` counts IoU >= m. Where
lmms-eval's text extraction differs from vlmr's reading of the ``<answer>`` part, the row
says so (the lmms-eval value in the comment).
"""

from __future__ import annotations

import json

import datasets
import pytest
from eval_fixtures import write_video
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.eval.answers import span_scores
from vlmr.rewards import get_reward
from vlmr.schema import load_samples

GT = [24.3, 30.4]  # 3MSZA's first line in microsoft/VideoX MS-2D-TAN/data/Charades-STA/charades_sta_test.txt


@pytest.mark.parametrize(("answer", "iou"), [
    ("24.3 - 30.4", 1.0),
    ("30.4 - 24.3", 1.0),  # reversed: swapped
    ("from 20 to 30 seconds", 5.7 / 10.4),  # lmms-eval turns "to" into "-": [20, 30]
    ("The event happens in the 24.3 - 30.4 seconds.", 1.0),  # lmms-eval's own answer template
    ("The event happens from 24.3 to 30.4 seconds", 1.0),
    ("in the 2nd half, 24.3 - 30.4", 1.0),  # "2nd" is no time (lmms-eval's patterns skip it too)
    ("", 0.0),
    ("10 - 20", 0.0),  # disjoint
    ("24.3 - 24.3", 0.0),  # empty span: 0 / 6.1
    ("20 - 40", 6.1 / 20.0),  # covers the moment
    ("26.0 - 32.0", 4.4 / 7.7),
    ("[25.0, 28.0]", 3.0 / 6.1),  # vlmr's answer format; lmms-eval finds no "a - b" here: 0
    ("0:24 - 0:30", 5.7 / 6.4),  # mm:ss read as 24 s and 30 s; lmms-eval reads "24 - 0": 0
    ("The 1st event starts at 26 and ends at 29.", 3.0 / 6.1),  # lmms-eval keeps one number a sentence: 0
    ("Between 25 and 30 s", 5.0 / 6.1),  # lmms-eval: no keyword, no "a - b": 0
])
def test_span_iou(answer, iou):
    scores = span_scores(f"<answer>{answer}</answer>", GT)
    assert scores["miou"] == pytest.approx(iou)
    assert [scores[f"r@{m}"] for m in (0.3, 0.5, 0.7)] == [float(iou >= m - 1e-12) for m in (0.3, 0.5, 0.7)]


def test_training_reward_keeps_reversed_spans_at_zero():
    reward = get_reward("temporal_iou")
    assert reward.score("<answer>30.4 - 24.3</answer>", {"span": GT}) == 0.0
    assert reward.score("<answer>24.3 - 30.4</answer>", {"span": GT}) == pytest.approx(1.0)


class TestBenchmark:
    def test_release_file_rows_and_scores(self, bench_data):
        data = bench_data("charades_sta")
        samples = get_benchmark("charades_sta").load(data)
        assert len(samples) == 2  # both lines of the file
        assert samples[1].answer["span"] == GT and samples[1].meta["sentence"] == \
            "person flipped the light switch near the door."
        assert samples[0].video["path"] == "Charades_v1_480/3MSZA.mp4"
        # r@m and mIoU over the two lines: IoU 1.0 (reversed) and 5.7 / 10.4 = 0.548
        result = score("charades_sta", data, {samples[0].id: "<answer>30.4 - 24.3</answer>",
                                              samples[1].id: "<answer>from 20 to 30 s</answer>"})
        assert result.overall["miou"] == pytest.approx((1 + 5.7 / 10.4) / 2)
        assert (result.overall["r@0.5"], result.overall["r@0.7"]) == (1.0, 0.5)
        assert score("charades_sta", data, {s.id: "24.3 - 30.4" for s in samples}).overall["miou"] == 1.0
        assert score("charades_sta", data, {}).overall["miou"] == 0.0

    def test_bad_lines_skipped_and_counted(self, tmp_path):
        (tmp_path / "charades_sta_test.txt").write_text(
            "3MSZA 24.3 30.4##person turn a light on.\n\nAMT7R 12.5 4.3##reversed.\nbroken line\n")
        bench = get_benchmark("charades_sta")
        assert len(bench.load(tmp_path)) == 1
        assert dict(bench.skipped) == {"span not 0 <= start < end": 1,
                                       "malformed line (expected 'VIDEO START END##sentence')": 1}

    def test_hub_copy(self, tmp_path):
        # lmms-lab/charades_sta: data/test-*.parquet, columns video (str), caption (str), timestamp (float16 list)
        features = datasets.Features({"video": datasets.Value("string"), "caption": datasets.Value("string"),
                                      "timestamp": datasets.Sequence(datasets.Value("float16"))})
        rows = {"video": ["3MSZA.mp4", "AMT7R.mp4"], "caption": ["person turn a light on",
                                                                 "a person is putting a picture onto the wall"],
                "timestamp": [[24.3, 30.4], [4.3, 12.5]]}
        datasets.Dataset.from_dict(rows, features=features).to_parquet(str(tmp_path / "data/test-00000-of-00001.parquet"))
        bench = get_benchmark("charades_sta")
        samples = bench.load(tmp_path)
        assert [s.answer["span"] for s in samples] == [GT, [4.3, 12.5]]  # float16 24.296875 -> 24.3
        assert samples[1].video["path"] == "Charades_v1_480/AMT7R.mp4" and bench.media_root(tmp_path) == tmp_path
        assert bench.media_root(tmp_path / "data/test-00000-of-00001.parquet") == tmp_path


class TestBuild:
    def test_charades_file_split_and_bad_lines(self, tmp_path):
        videos = tmp_path / "Charades_v1_480"
        for vid in ("3MSZA", "AMT7R"):
            write_video(videos / f"{vid}.mp4", seconds=3.0)
        ann = tmp_path / "charades_sta_test.txt"
        # three lines of the release (VideoX's copy), a line with sizhelee/PLPNet's extra " 0" column, a bad line
        ann.write_text("3MSZA 24.3 30.4##person turn a light on.\n"
                       "3MSZA 24.3 30.4##person flipped the light switch near the door.\n"
                       "AMT7R 4.3 12.5##a person is putting a picture onto the wall.\n"
                       "AMT7R 4.3 12.5 0##a person is putting a picture onto the wall.\n"
                       "AMT7R 12.5 4.3##reversed.\n")
        out = build_dataset("charades_sta", tmp_path / "ds", annotations=str(ann), video_dir=str(videos), progress=False)
        samples = load_samples(out)
        # 4 good lines; the PLPNet line repeats the third (same clip and question): dropped as a duplicate
        assert len(samples) == 3 and {s.meta["split"] for s in samples} == {"test"}
        assert samples[0].answer["span"] == GT  # past the 3 s clip: kept as annotated (as scored)
        assert samples[2].meta["sentence"] == "a person is putting a picture onto the wall."
        card = (out / "README.md").read_text()
        assert "skipped 1: span not 0 <= start < end" in card and "duplicates dropped (same image + question): 1" in card
        with pytest.raises(ValueError, match="contradicts the annotation file charades_sta_test.txt"):
            build_dataset("charades_sta", tmp_path / "ds2", annotations=str(ann), video_dir=str(videos),
                          split="train", progress=False)

    def test_activitynet_val_1_rows(self, tmp_path):
        # The first two videos of ActivityNet Captions val_1.json (microsoft/VideoX 2D-TAN/data/ActivityNet/val.json,
        # "val_1.json is renamed as val.json"): every sentence after a video's first starts with spaces.
        data = {"v_uqiMw7tQ1Cc": {"duration": 55.15, "timestamps": [[0.28, 55.15], [13.79, 54.32]], "sentences": [
                    "A weight lifting tutorial is given.",
                    "  The coach helps the guy in red with the proper body placement and lifting technique."]},
                "v_bXdq2zI1Ms0": {"duration": 73.1, "timestamps": [[0, 10.23], [10.6, 39.84], [38.01, 73.1]],
                                  "sentences": [
                    "A man is seen speaking to the camera and pans out into more men standing behind him.",
                    " The first man then begins performing martial arts moves while speaking to he camera.",
                    " He continues moving around and looking to the camera."]}}
        ann = tmp_path / "val_1.json"
        ann.write_text(json.dumps(data))
        for vid in data:
            write_video(tmp_path / "videos" / f"{vid}.mp4", seconds=2.0)
        samples = load_samples(build_dataset("activitynet_captions", tmp_path / "ds", annotations=str(ann),
                                             video_dir=str(tmp_path / "videos"), progress=False))
        assert len(samples) == 5  # rows loaded = sentences in the file
        assert samples[1].meta["sentence"] == data["v_uqiMw7tQ1Cc"]["sentences"][1].strip()
        assert '"The coach helps' in samples[1].question  # no leading spaces inside the quotes
        assert [s.answer["span"] for s in samples[2:]] == [[0.0, 10.23], [10.6, 39.84], [38.01, 73.1]]
        assert {s.meta["split"] for s in samples} == {"val_1"}
