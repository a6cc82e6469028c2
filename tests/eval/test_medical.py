"""VQA-RAD / SLAKE: LLaVA-Med's scores, the releases as published, their Hub copies.

Expected values by hand from microsoft/LLaVA-Med ``llava/eval/run_eval.py`` and
``eval_metrics/{glossary,evaluate_metrics}.py``: both texts lower-cased and passed through
``normalize_word`` (punctuation touching a space, or any punctuation when the text has a
"digit,digit", is removed, other punctuation becomes a space; "." not before a digit removed;
none/zero..ten -> digits; a/an/the dropped; commas removed). Closed (script): if "yes" or "no"
is a substring of the prediction, a hit when the truth is a substring, else left out; otherwise
a miss. Open: ``calculate_f1score`` recall = tp / (tp + fn), tp summing the prediction's counts
of shared words, fn the truth's counts of missing words; 0 when tp is 0.
"""

from __future__ import annotations

import datasets
import pytest
from eval_fixtures import png_bytes, write_hub_snapshot
from medical_rows import SLAKE, VQA_RAD, write_slake, write_vqa_rad

from vlmr.eval import get_benchmark
from vlmr.eval.medical_scores import medical_scores
from vlmr.eval.registry import ScoreContext
from vlmr.eval.scoring import score_predictions


class TestClosed:
    @pytest.mark.parametrize(
        ("pred", "truth", "headline", "script", "exact"),
        [
            ("Yes", "Yes", 1.0, 1.0, 1.0),
            ("No.", "no", 1.0, 1.0, 1.0),  # the final period is stripped
            ("The lesion is on the left side.", "Left", 1.0, 0.0, 0.0),  # no "yes"/"no" substring: a script miss
            ("No, it's not.", "yes", 0.0, None, 0.0),  # a wrong yes/no answer: the script leaves it out
            ("yes or no", "no", 1.0, 1.0, 0.0),  # a hedge passes the containment rule; exact match catches it
            ("There is a nodule.", "no", 0.0, 1.0, 0.0),  # "no" in "nodule": a substring, not a word
            ("", "yes", 0.0, 0.0, 0.0),
            ("Left-sided", "left", 1.0, 0.0, 0.0),  # "-" between words becomes a space
            ("1", "one", 1.0, 0.0, 1.0),  # VQA-RAD qid 243: number words -> digits
            ("maybe", "Maybe", 1.0, 0.0, 1.0),  # qid 2156, a closed question that is not yes/no
        ],
    )
    def test_case(self, pred, truth, headline, script, exact):
        row = medical_scores(f"<answer>{pred}</answer>", truth, closed=True)
        assert row["closed_accuracy"] == headline and row["exact_match"] == exact
        assert row.get("closed_accuracy_llava_med_script") == script


class TestOpen:
    @pytest.mark.parametrize(
        ("pred", "truth", "recall", "exact"),
        [
            ("A hypodense lesion in the spleen", "hypodense lesion", 1.0, 0.0),  # qid 190: both words found
            ("PA", "Posterior-Anterior", 0.0, 0.0),  # an abbreviation shares no word
            ("posterior to anterior", "Posterior-Anterior", 1.0, 0.0),  # "-" -> two words, both present
            ("four", 4, 1.0, 1.0),  # qid 1511's integer answer; "four" -> "4"
            ("left left", "left lung", 2 / 3, 0.0),  # tp counts the prediction's 2 "left": 2 / (2 + 1)
            ("", "CT", 0.0, 0.0),
            ("cancer of the lung", "Lung Cancer", 1.0, 0.0),  # order does not matter
            ("XR", "xr - plain film", 1 / 3, 0.0),  # " - " touches spaces: removed, 3 words remain
            ("1,000 ml", "1,000", 1.0, 0.0),  # "digit,digit": every punctuation mark removed -> "1000"
        ],
    )
    def test_case(self, pred, truth, recall, exact):
        row = medical_scores(f"<answer>{pred}</answer>", truth, closed=False)
        assert row["open_recall"] == pytest.approx(recall) and row["exact_match"] == exact


class TestVqaRadRelease:
    def test_test_split_by_default_and_fields(self, tmp_path):
        root = write_vqa_rad(tmp_path)
        samples = get_benchmark("vqa_rad").load(root)
        assert [s.id for s in samples] == ["243", "454", "10", "12", "19", "190"]  # the test_* phrase types
        assert len(get_benchmark("vqa_rad", split="train").load(root)) == 3
        everything = {s.id: s for s in get_benchmark("vqa_rad", split="all").load(root)}
        assert len(everything) == len(VQA_RAD)  # rows loaded = rows in the file
        assert everything["2156"].meta["answer_type"] == "CLOSED"  # "CLOSED " stripped
        assert everything["1511"].answer["text"] == "4" and everything["0"].meta["image_organ"] == "HEAD"
        assert everything["454"].images == ["VQA_RAD Image Folder/synpic35914.jpg"]

    def test_ground_truth_and_empty(self, tmp_path):
        root = write_vqa_rad(tmp_path)
        bench = get_benchmark("vqa_rad")
        samples = bench.load(root)
        gold = {s.id: {"response": f"<answer>{s.answer['text']}</answer>"} for s in samples}
        ctx = ScoreContext(root=root)
        result = score_predictions(bench, samples, gold, ctx)
        assert result.overall["closed_accuracy"] == 1.0 and result.overall["open_recall"] == 1.0
        assert result.overall["exact_match"] == 1.0
        empty = score_predictions(bench, samples, {}, ctx).overall
        assert empty["closed_accuracy"] == 0.0 and empty["open_recall"] == 0.0 and empty["exact_match"] == 0.0
        assert result.breakdown["answer_type"]["CLOSED"]["n"] == 4  # 243, 454, 10, 12

    def test_script_average_leaves_wrong_yes_no_answers_out(self, tmp_path):
        bench = get_benchmark("vqa_rad")
        samples = bench.load(write_vqa_rad(tmp_path))
        always_yes = {s.id: {"response": "<answer>yes</answer>"} for s in samples}
        overall = score_predictions(bench, samples, always_yes, ScoreContext(root=tmp_path)).overall
        # closed: 243 "one" (yes present, "1" not in "yes": left out), 454 "left" (left out), 10 and 12 "yes" (hits)
        assert overall["closed_accuracy_llava_med_script"] == 1.0 and overall["closed_accuracy"] == 0.5


class TestSlakeRelease:
    def test_english_rows_and_fields(self, tmp_path):
        root = write_slake(tmp_path)
        samples = get_benchmark("slake").load(root)
        assert [s.id for s in samples] == ["11934", "11938", "11944", "11937", "11951"]  # 12995 is Chinese
        assert samples[2].meta["answer_type"] == "CLOSED" and samples[2].answer["text"] == "Lung"
        assert samples[0].images == ["imgs/xmlab102/source.jpg"] and samples[0].meta["modality"] == "CT"
        assert len(get_benchmark("slake", lang="zh").load(root)) == 1


# flaviagiammarino/vqa-rad card (README.md dataset_info): image image, question string, answer string;
# splits train 1793, test 451.
VQA_RAD_HUB = {"image": datasets.Image(), "question": datasets.Value("string"), "answer": datasets.Value("string")}


class TestHubCopies:
    @pytest.fixture(autouse=True)
    def cache(self, tmp_path, monkeypatch):
        monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))

    def test_vqa_rad_hub_copy(self, tmp_path):
        test = [r for r in VQA_RAD if r["phrase_type"].startswith("test")]
        root = write_hub_snapshot(tmp_path / "vqa-rad", VQA_RAD_HUB, {
            "test": {"image": [png_bytes(60, 50, color=(i, 0, 0)) for i in range(len(test))],
                     "question": [r["question"] for r in test], "answer": [str(r["answer"]) for r in test]},
            "train": {"image": [png_bytes()], "question": ["q"], "answer": ["yes"]}})
        bench = get_benchmark("vqa_rad")
        samples = bench.load(root)
        assert len(samples) == len(test)
        # no answer_type column: yes/no answers are closed, the others ("one", "Left", ...) open
        assert [s.meta["answer_type"] for s in samples] == ["OPEN", "OPEN", "CLOSED", "CLOSED", "OPEN", "OPEN"]
        gold = {s.id: {"response": s.answer["text"]} for s in samples}
        result = score_predictions(bench, samples, gold, ScoreContext(root=bench.media_root(root)))
        assert result.overall["exact_match"] == 1.0

    def test_slake_hub_copy_keeps_english(self, tmp_path):
        features = {"image": datasets.Image(), **{k: datasets.Value("string") for k in
                                                  ("img_name", "question", "answer", "q_lang", "answer_type",
                                                   "modality", "content_type")}, "qid": datasets.Value("int64")}
        columns = {k: [r[k] for r in SLAKE] for k in features if k != "image"}
        root = write_hub_snapshot(tmp_path / "slake", features, {"test": {
            **columns, "image": [png_bytes(color=(7, 7, 7)) for _ in SLAKE]}})
        samples = get_benchmark("slake").load(root)
        assert len(samples) == 5 and samples[1].meta["answer_type"] == "CLOSED" and len(set(s.images[0] for s in samples)) == 1
