"""ChartQA against pix2struct's ``relaxed_correctness`` (the official relaxed accuracy), on released rows.

Each expected value is derived by hand from the rule (google-research/pix2struct
``pix2struct/metrics.py``, same code in big_vision's ``evaluators/proj/paligemma/transfers/chartqa.py``
and lmms-eval's ``tasks/chartqa/utils.py``): ``_to_float`` = ``float(x.rstrip("%")) / 100`` when
``x`` ends with ``%``, else ``float(x)``, ``None`` on ``ValueError``; if the prediction is a float
and the target a non-zero float, correct iff ``|p - t| / |t| <= 0.05``; else
``prediction.lower() == target.lower()``.
"""

from __future__ import annotations

import json

import datasets
import pytest
from eval_fixtures import png_bytes, write_hub_snapshot, write_image

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.eval.answers import relaxed_scores
from vlmr.eval.registry import ScoreContext
from vlmr.eval.scoring import score_predictions
from vlmr.schema import load_samples

# Verbatim rows of vis-nlp/ChartQA "ChartQA Dataset/test/test_human.json" (commit 3dab8e8), its first six.
HUMAN = [
    {"imgname": "41699051005347.png", "query": "How many food item is shown in the bar graph?", "label": "14"},
    {"imgname": "41699051005347.png", "query": "What is the difference in value between Lamb and Corn?", "label": "0.57"},
    {"imgname": "41810321001157.png", "query": "How many bars are shown in the chart?", "label": "3"},
    {"imgname": "41810321001157.png", "query": "Is the sum value of Madagascar more then Fiji?", "label": "No"},
    {"imgname": "8127.png", "query": "What's the value of the lowest bar?", "label": "23"},
    {"imgname": "8127.png", "query": "What is the difference between the highest and the lowest green bar??", "label": "6"},
]  # fmt: skip
# ... and of "ChartQA Dataset/test/test_augmented.json", its first three.
AUGMENTED = [
    {"imgname": "multi_col_803.png", "query": "How many stores did Saint Laurent operate in Western Europe in 2020?", "label": "47"},
    {"imgname": "multi_col_20436.png", "query": "In what year did online sales make up 6.8 percent of retail sales of jewelry, watches and accessories in Germany?", "label": "2013"},
    {"imgname": "multi_col_20436.png", "query": "What percentage of the retail sales of jewelry, watches and accessories in Germany were online in 2013?", "label": "6.8"},
]  # fmt: skip


def release(root):
    test = root / "test"
    for i, name in enumerate(sorted({r["imgname"] for r in HUMAN + AUGMENTED})):
        write_image(test / "png" / name, width=80 + i, height=60)
    (test / "test_human.json").write_text(json.dumps(HUMAN))
    (test / "test_augmented.json").write_text(json.dumps(AUGMENTED, indent="\t"))  # tab-indented, as released
    return test


class TestRelaxedCorrectness:
    @pytest.mark.parametrize(
        ("pred", "target", "correct"),
        [
            ("14", "14", True),
            ("14.", "14", True),  # float("14.") = 14.0: a trailing period is a number
            ("14.7", "14", True),  # 0.7 / 14 = 0.04999... <= 0.05
            ("13.3", "14", True),  # same distance below
            ("14.71", "14", False),  # 0.71 / 14 = 0.0507
            ("15", "14", False),  # 1 / 14 = 0.071
            ("62%", "62", False),  # "62%" is 0.62, 99 % away from 62
            ("62%", "0.62", True),  # 0.62 vs 0.62
            ("1,000", "1000", False),  # float("1,000") fails: string compare "1,000" != "1000"
            ("$14", "14", False),  # not a float: string compare
            ("0", "0", True),  # zero target: exact string
            ("0.0", "0", False),  # zero target is falsy: string "0.0" != "0"
            ("no", "No", True),  # case-insensitive string match
            ("No.", "No", False),  # the period stays in a string compare
            ("", "14", False),  # empty answer
            ("democrat (scores 60 to 100)", "Democrat (scores 60 to 100)", True),  # a released text label
            ("1.22", "1.216666667", True),  # |1.22 - 1.2167| / 1.2167 = 0.0027
            ("977,633", "977633", False),  # thousands separator
            ("-14", "14", False),  # |-28| / 14 = 2
            ("nan", "14", False),  # nan <= 0.05 is False
            ("fourteen", "14", False),  # no number words
        ],
    )
    def test_case(self, pred, target, correct):
        assert relaxed_scores(f"<answer>{pred}</answer>", target)["relaxed_accuracy"] == float(correct)

    def test_best_of_several_targets(self):
        # HuggingFaceM4/ChartQA labels are lists; pix2struct takes the max over targets
        assert relaxed_scores("<answer>9</answer>", ["100", "9.2"])["relaxed_accuracy"] == 1.0
        assert relaxed_scores("<answer>9</answer>", ["100", "9.5"])["relaxed_accuracy"] == 0.0  # 0.5/9.5 = 0.053

    def test_answer_tags_and_whitespace_are_stripped(self):
        assert relaxed_scores("<think>the lowest is 23</think><answer> No </answer>", "No")["relaxed_accuracy"] == 1.0


class TestRelease:
    def test_rows_fields_and_scores(self, tmp_path):
        data = release(tmp_path)
        bench = get_benchmark("chartqa")
        samples = bench.load(data)
        assert len(samples) == len(HUMAN) + len(AUGMENTED)  # rows loaded = rows in the two files
        s = {x.id: x for x in samples}
        assert s["human-00003"].question == HUMAN[3]["query"] and s["human-00003"].answer["text"] == "No"
        assert s["augmented-00002"].images == ["png/multi_col_20436.png"] and s["augmented-00002"].meta["split"] == "augmented"
        assert bench.media_root(data) == data
        gold = {x.id: {"id": x.id, "response": f"<answer>{x.answer['text']}</answer>"} for x in samples}
        result = score_predictions(bench, samples, gold, ScoreContext(root=data))
        assert result.overall["relaxed_accuracy"] == 1.0
        assert score_predictions(bench, samples, {}, ScoreContext(root=data)).overall["relaxed_accuracy"] == 0.0

    def test_build_one_file_per_chart(self, tmp_path):
        root = tmp_path / "ChartQA Dataset"
        release(root)
        out = build_dataset("chartqa", tmp_path / "ds", root=str(root), progress=False)
        samples = load_samples(out)
        assert len(samples) == 9 and {s.meta["split"] for s in samples} == {"test"}  # the builder's default split
        assert len(list((out / "media" / "chartqa").iterdir())) == 5  # 9 questions on 5 charts


# HuggingFaceM4/ChartQA card (README.md dataset_info): image image, query string, label list<string>,
# human_or_machine class_label {0: human, 1: machine}; splits train 28299, val 1920, test 2500.
HF_FEATURES = {"image": datasets.Image(), "query": datasets.Value("string"),
               "label": datasets.Sequence(datasets.Value("string")),
               "human_or_machine": datasets.ClassLabel(names=["human", "machine"])}
# lmms-lab/ChartQA (lmms-eval tasks/chartqa/upload_chartqa.py features): type string (human_test |
# augmented_test), question string, answer string, image image; split test.
LMMS_FEATURES = {"type": datasets.Value("string"), "question": datasets.Value("string"),
                 "answer": datasets.Value("string"), "image": datasets.Image()}


class TestHubCopies:
    @pytest.fixture(autouse=True)
    def cache(self, tmp_path, monkeypatch):
        monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))

    def hf(self, root):
        rows = HUMAN[:2] + AUGMENTED[:1]
        return write_hub_snapshot(root, HF_FEATURES, {"test": {
            "image": [png_bytes(80, 60), png_bytes(80, 60), None],  # the last row lost its chart
            "query": [r["query"] for r in rows], "label": [[r["label"]] for r in rows],
            "human_or_machine": [0, 0, 1]}, "val": {"image": [png_bytes()], "query": ["q"], "label": [["1"]],
                                                    "human_or_machine": [1]}})

    def test_huggingfacem4(self, tmp_path):
        bench = get_benchmark("chartqa")
        samples = bench.load(self.hf(tmp_path / "hf"))
        assert [s.id for s in samples] == ["human-00000", "human-00001"] and bench.skipped == {"Hub row without image or label": 1}
        assert samples[1].answer["text"] == "0.57" and samples[1].meta["width"] == 80
        assert len(list(bench.media_root(tmp_path / "hf").iterdir())) == 1  # both questions share one chart
        assert len(get_benchmark("chartqa", split="val").load(tmp_path / "hf")) == 1

    def test_lmms_lab(self, tmp_path):
        rows = HUMAN[3:4] + AUGMENTED[2:3]
        root = write_hub_snapshot(tmp_path / "lmms", LMMS_FEATURES, {"test": {
            "type": ["human_test", "augmented_test"], "question": [r["query"] for r in rows],
            "answer": [r["label"] for r in rows], "image": [png_bytes(), png_bytes(color=(1, 2, 3))]}})
        bench = get_benchmark("chartqa")
        samples = bench.load(root)
        assert [(s.meta["split"], s.answer["text"]) for s in samples] == [("human", "No"), ("augmented", "6.8")]
        preds = {"human-00000": {"response": "<answer>no</answer>"}, "augmented-00001": {"response": "<answer>7.2</answer>"}}
        result = score_predictions(bench, samples, preds, ScoreContext(root=bench.media_root(root)))
        assert result.overall["relaxed_accuracy"] == 0.5  # "no" = "No"; |7.2 - 6.8| / 6.8 = 0.059 > 0.05

    def test_build_from_hub_copy(self, tmp_path):
        out = build_dataset("chartqa", tmp_path / "ds", root=str(self.hf(tmp_path / "hf")), progress=False)
        samples = load_samples(out)
        assert [s.answer["text"] for s in samples] == ["14", "0.57"]  # the row without a chart is skipped
        assert samples[0].images == samples[1].images  # one file for the shared chart
        assert "skipped 1: missing image" in (out / "README.md").read_text()
