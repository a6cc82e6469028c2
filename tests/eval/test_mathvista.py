"""MathVista against the official ``evaluation/calculate_score.py``, on released rows and result files.

Expected values are derived by hand from the official code (lupantech/MathVista,
``evaluation/calculate_score.py``: ``normalize_extracted_answer`` then ``safe_equal``, i.e.
``prediction == answer`` on strings); the derivation of each case is in its comment.
"""

from __future__ import annotations

import json

import datasets
import pytest
from eval_fixtures import png_bytes, write_hub_snapshot

from vlmr.cli import main
from vlmr.eval import get_benchmark
from vlmr.eval.benchmarks.mathvista import extract_answer, normalize_extracted_answer
from vlmr.eval.registry import ScoreContext
from vlmr.eval.scoring import score_predictions

# Verbatim rows of lupantech/MathVista data/testmini.json (commit 53d5258), pids 2, 5, 8, 20, 21, 22, 144, 225.
TESTMINI = {
    "2": {"question": "what is the total volume of the measuring cup?", "image": "images/2.jpg", "choices": None, "unit": "g", "precision": None, "answer": "1000", "question_type": "free_form", "answer_type": "integer", "pid": "2", "metadata": {"split": "testmini", "language": "english", "img_width": 1024, "img_height": 768, "source": "TextVQA", "category": "general-vqa", "task": "visual question answering", "context": "natural image", "grade": "not applicable", "skills": ["numeric commonsense", "arithmetic reasoning"]}},
    "5": {"question": "Find $m\\angle H$", "image": "images/5.jpg", "choices": ["97", "102", "107", "122"], "unit": None, "precision": None, "answer": "97", "question_type": "multi_choice", "answer_type": "text", "pid": "5", "metadata": {"split": "testmini", "language": "english", "img_width": 322, "img_height": 245, "source": "Geometry3K", "category": "math-targeted-vqa", "task": "geometry problem solving", "context": "geometry diagram", "grade": "high school", "skills": ["geometry reasoning", "algebraic reasoning"]}},
    "8": {"question": "Is the number of tiny gray bicycles that are on the left side of the brown metal sedan greater than the number of things that are to the left of the tiny green bicycle?", "image": "images/8.jpg", "choices": ["Yes", "No"], "unit": None, "precision": None, "answer": "Yes", "question_type": "multi_choice", "answer_type": "text", "pid": "8", "metadata": {"split": "testmini", "language": "english", "img_width": 640, "img_height": 480, "source": "Super-CLEVR", "category": "general-vqa", "task": "visual question answering", "context": "synthetic scene", "grade": "not applicable", "skills": ["arithmetic reasoning"]}},
    "20": {"question": "Is the sum of smallest two bar is greater then the largest bar?", "image": "images/20.jpg", "choices": ["Yes", "No"], "unit": None, "precision": None, "answer": "No", "question_type": "multi_choice", "answer_type": "text", "pid": "20", "metadata": {"split": "testmini", "language": "english", "img_width": 850, "img_height": 600, "source": "ChartQA", "category": "general-vqa", "task": "figure question answering", "context": "bar chart", "grade": "not applicable", "skills": ["statistical reasoning"]}},
    "21": {"question": "Fill in the blank to describe the model. The model has 4 dots divided into 2 equal groups. There are (_) dots in each group.", "image": "images/21.jpg", "choices": None, "unit": None, "precision": None, "answer": "2", "question_type": "free_form", "answer_type": "integer", "pid": "21", "metadata": {"split": "testmini", "language": "english", "img_width": 418, "img_height": 204, "source": "IconQA", "category": "math-targeted-vqa", "task": "math word problem", "context": "abstract scene", "grade": "elementary school", "skills": ["arithmetic reasoning"]}},
    "22": {"question": "How many people in the image were born after the end of World War II?", "image": "images/22.jpg", "choices": None, "unit": None, "precision": None, "answer": "0", "question_type": "free_form", "answer_type": "integer", "pid": "22", "metadata": {"split": "testmini", "language": "english", "img_width": 555, "img_height": 785, "source": "KVQA", "category": "general-vqa", "task": "visual question answering", "context": "natural image", "grade": "not applicable", "skills": ["numeric commonsense", "arithmetic reasoning"]}},
    "144": {"question": "Natalie buys 4.6 kilograms of turmeric. What is the total cost? (Unit: $)", "image": "images/144.jpg", "choices": None, "unit": None, "precision": 1, "answer": "13.8", "question_type": "free_form", "answer_type": "float", "pid": "144", "metadata": {"split": "testmini", "language": "english", "img_width": 210, "img_height": 162, "source": "TabMWP", "category": "math-targeted-vqa", "task": "math word problem", "context": "table", "grade": "elementary school", "skills": ["arithmetic reasoning", "statistical reasoning"]}},
    "225": {"question": "Fig. Q4 shows the contour of an object. Represent it with an 8-directional chain code. The resultant chain code should be normalized with respect to the starting point of the chain code. Represent the answer as a list with each digit as a element.", "image": "images/225.jpg", "choices": None, "unit": None, "precision": None, "answer": "[0, 2, 0, 2, 1, 7, 1, 2, 0, 3, 0, 6]", "question_type": "free_form", "answer_type": "list", "pid": "225", "metadata": {"split": "testmini", "language": "english", "img_width": 846, "img_height": 560, "source": "TheoremQA", "category": "math-targeted-vqa", "task": "textbook question answering", "context": "scientific figure", "grade": "college", "skills": ["scientific reasoning"]}},
}  # fmt: skip

# Rows of the official result file lupantech/MathVista results/bard/output_bard.json (commit 53d5258):
# pid, extraction and the official true_false verbatim (response, query and question left out).
BARD = [
    ("2", "250", False),  # integer: "250" != "1000"
    ("5", "92.5", True),  # multi-choice text, no letter: Levenshtein nearest of the choices is "97" (distance 3)
    ("8", "B", False),  # letter B -> choices[1] = "No" != "Yes"
    ("20", "B", True),  # letter B -> "No" == "No"
    ("21", "2", True),
    ("22", "Sorry, I can't help with images of people yet.", False),  # float() fails -> None
    ("144", "13.80", True),  # float, precision 1: str(round(13.8, 1)) = "13.8"
    ("225", "[1, 7, 6, 2, 5, 4, 3, 0]", False),  # list: compared as the string
]  # fmt: skip

CHOICES = ["3/11", "8/11", "6/11", "3/5"]  # the official few-shot prompt's example choices


@pytest.fixture
def testmini(tmp_path):
    path = tmp_path / "testmini.json"
    path.write_text(json.dumps(TESTMINI))
    return path


class TestNormalizeAsOfficial:
    """``normalize_extracted_answer`` of a given extraction, case by case (gold in the last column)."""

    @pytest.mark.parametrize(
        ("extraction", "question_type", "answer_type", "precision", "choices", "normalized"),
        [
            # multi_choice: strip; "(x)" -> upper-cased letter; a letter in A.. -> that choice; else Levenshtein
            ("B", "multi_choice", "text", None, CHOICES, "8/11"),
            ("b", "multi_choice", "text", None, CHOICES, "3/5"),  # no case change: "b" is no letter; distances 4,4,4,3
            ("(b) 8/11", "multi_choice", "text", None, CHOICES, "8/11"),  # "(b)" -> "B"
            (" B ", "multi_choice", "text", None, CHOICES, "8/11"),  # stripped first
            ("(B) or (C)", "multi_choice", "text", None, CHOICES, "8/11"),  # the first "(x)" wins
            ("", "multi_choice", "text", None, CHOICES, "3/5"),  # empty: distance = length; "3/5" is shortest
            ("E", "multi_choice", "text", None, CHOICES, "3/5"),  # no 5th choice: Levenshtein, "3/5" at 3
            ("B.", "multi_choice", "text", None, CHOICES, "3/5"),  # "B." is no letter: dist 4,4,4,3
            (None, "multi_choice", "text", None, CHOICES, "3/11"),  # str(None) = "None": every choice at 4, first wins
            # integer: str(int(float(x)))
            ("1e3", "free_form", "integer", None, None, "1000"),  # float("1e3") = 1000.0
            ("1,000", "free_form", "integer", None, None, None),  # float("1,000") raises
            ("1_000", "free_form", "integer", None, None, "1000"),  # Python's float() accepts underscores
            ("14,", "free_form", "integer", None, None, None),  # trailing comma: float() raises
            (" 14 ", "free_form", "integer", None, None, "14"),  # float() strips whitespace
            ("14.", "free_form", "integer", None, None, "14"),  # float("14.") = 14.0
            ("-3.9", "free_form", "integer", None, None, "-3"),  # int() truncates toward zero
            ("5.0", "free_form", "integer", None, None, "5"),
            ("fourteen", "free_form", "integer", None, None, None),
            ("nan", "free_form", "integer", None, None, None),  # int(nan) raises ValueError
            ("inf", "free_form", "integer", None, None, None),  # int(inf) raises OverflowError
            # float: str(round(float(x), int(precision)))
            ("0.21%", "free_form", "float", 2.0, None, None),  # float("0.21%") raises
            ("1.455", "free_form", "float", 2.0, None, "1.46"),  # binary 1.45500000000000007 rounds up
            ("2.675", "free_form", "float", 2.0, None, "2.67"),  # binary 2.67499999999999982 rounds down
            ("3", "free_form", "float", 1.0, None, "3.0"),
            ("13.80", "free_form", "float", 1, None, "13.8"),
            ("1.2", "free_form", "float", None, None, None),  # int(None) raises: no precision, no answer
            # list: str(x)
            ("[2007, 2008]", "free_form", "list", None, None, "[2007, 2008]"),
            ("[2007,2008]", "free_form", "list", None, None, "[2007,2008]"),  # kept as written: != "[2007, 2008]"
        ],
    )
    def test_case(self, extraction, question_type, answer_type, precision, choices, normalized):
        assert normalize_extracted_answer(extraction, choices, question_type, answer_type, precision) == normalized


class TestExtractionPaths:
    INTEGER = {"question_type": "free_form", "answer_type": "integer", "choices": None}
    MC = {"question_type": "multi_choice", "answer_type": "text", "choices": ["Yes", "No"]}

    @pytest.mark.parametrize(
        ("response", "problem", "expected"),
        [
            ("<answer>14</answer>", INTEGER, ("14", "official_rule")),  # int("14")
            ('The answer is "12".', INTEGER, ("12", "official_rule")),  # the official quick rule
            ('The answer is "fourteen".', INTEGER, ("14", "vlmr_rule")),  # quick rule does not normalise: next rule
            ("<answer>The answer is 14, obviously</answer>", INTEGER, ("14", "vlmr_rule")),  # not "14,"
            ("<answer>1,000 millilitres.</answer>", INTEGER, ("1000", "vlmr_rule")),  # thousands comma dropped
            ("<answer></answer>", INTEGER, ("", "official_rule")),  # empty answer: the official script stops
            ("<answer>no idea</answer>", INTEGER, ("no idea", "none")),  # nothing found, no LLM
            ("<answer>No</answer>", MC, ("No", "official_rule")),  # an exact choice
            ("<answer>I pick option B.</answer>", MC, ("B", "vlmr_rule")),
            ("<answer>A or B</answer>", MC, ("A or B", "none")),  # a hedge names no letter
        ],
    )
    def test_path(self, response, problem, expected):
        assert extract_answer(response, problem) == expected


class TestOfficialResultFile:
    def test_given_extraction_is_scored_as_official(self, testmini, tmp_path):
        result_file = tmp_path / "output_bard.json"
        result_file.write_text(json.dumps({pid: {**TESTMINI[pid], "response": "...", "extraction": ext, "true_false": tf}
                                           for pid, ext, tf in BARD}))
        bench = get_benchmark("mathvista")
        samples = bench.load(testmini)
        result = score_predictions(bench, samples, bench.read_predictions(result_file), ScoreContext())
        rows = {r["id"]: r for r in result.rows}
        assert {pid: bool(rows[pid]["accuracy"]) for pid, _, _ in BARD} == {pid: tf for pid, _, tf in BARD}
        assert result.overall["accuracy"] == pytest.approx(4 / 8)  # pids 5, 20, 21, 144
        assert result.overall["extracted_by_given"] == 8.0 and result.overall["extracted_by_vlmr_rule"] == 0.0

    def test_vlmr_eval_score_on_the_result_file(self, testmini, tmp_path):
        result_file = tmp_path / "output_bard.json"
        result_file.write_text(json.dumps({pid: {**TESTMINI[pid], "response": "...", "extraction": ext}
                                           for pid, ext, _ in BARD}))
        out = tmp_path / "run"
        assert main(["eval", "score", "--benchmark", "mathvista", "--data", str(testmini), "--predictions",
                     str(result_file), "--out", str(out), "--no-report"]) == 0
        scores = json.loads((out / "scores.json").read_text())
        assert scores["overall"]["accuracy"] == 0.5 and scores["n"] == 8 and scores["n_missing"] == 0
        assert scores["headline"][0]["metric"] == "accuracy" and "calculate_score.py" in scores["headline"][0]["rule"]

    def test_lowercase_given_letter_is_not_the_letter(self, testmini):
        bench = get_benchmark("mathvista")
        sample = next(s for s in bench.load(testmini) if s.id == "5")  # choices 97, 102, 107, 122; gold "97"
        # "c" is no letter for the official code: Levenshtein "c" -> "97" is 2, the others 3 -> "97", right;
        # upper-cased it would be C = "107", wrong
        row = bench.process_results(sample, {"response": "<answer>C</answer>", "extraction": "c"}, ScoreContext())
        assert row["_normalized"] == "97" and row["accuracy"] == 1.0 and row["_path"] == "given"


class TestLoading:
    def test_release_rows(self, testmini):
        samples = get_benchmark("mathvista").load(testmini)
        assert len(samples) == len(TESTMINI)  # rows loaded = rows in the file
        s = next(s for s in samples if s.id == "144")
        assert s.answer["text"] == "13.8" and s.meta["precision"] == 1 and s.images == ["images/144.jpg"]
        assert s.meta["skills"] == ["arithmetic reasoning", "statistical reasoning"]
        assert "(Unit: $)" in s.question  # the official build_query text

    def test_ground_truth_scores_one_and_empty_zero(self, testmini):
        bench = get_benchmark("mathvista")
        samples = bench.load(testmini)
        gold = {s.id: {"id": s.id, "response": f"<answer>{s.answer['text']}</answer>"} for s in samples}
        assert score_predictions(bench, samples, gold, ScoreContext()).overall["accuracy"] == 1.0
        empty = {s.id: {"id": s.id, "response": ""} for s in samples}
        assert score_predictions(bench, samples, empty, ScoreContext()).overall["accuracy"] == 0.0

    def test_hub_copy(self, tmp_path, monkeypatch):
        # AI4Math/MathVista dataset card (huggingface.co/datasets/AI4Math/MathVista, README.md dataset_info):
        # pid string, question string, image string, decoded_image image, choices sequence<string>, unit string,
        # precision float64, answer string, question_type string, answer_type string, metadata struct{category,
        # context, grade, img_height int64, img_width int64, language, skills sequence<string>, source, split,
        # task}, query string; splits testmini (1000) and test (5141).
        monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
        meta = datasets.Features({k: datasets.Value("string") for k in ("category", "context", "grade", "language",
                                                                          "source", "split", "task")})
        features = {"pid": datasets.Value("string"), "question": datasets.Value("string"),
                    "image": datasets.Value("string"), "decoded_image": datasets.Image(),
                    "choices": datasets.Sequence(datasets.Value("string")), "unit": datasets.Value("string"),
                    "precision": datasets.Value("float64"), "answer": datasets.Value("string"),
                    "question_type": datasets.Value("string"), "answer_type": datasets.Value("string"),
                    "metadata": {**meta, "img_height": datasets.Value("int64"), "img_width": datasets.Value("int64"),
                                 "skills": datasets.Sequence(datasets.Value("string"))},
                    "query": datasets.Value("string")}
        pids = ["5", "20", "144"]
        columns = {k: [TESTMINI[p].get(k) for p in pids] for k in features if k not in ("decoded_image", "query")}
        columns["decoded_image"] = [png_bytes(322, 245), png_bytes(850, 600), png_bytes(210, 162)]
        columns["query"] = [f"query of {p}" for p in pids]
        root = write_hub_snapshot(tmp_path / "MathVista", features, {"testmini": columns, "test": columns})
        bench = get_benchmark("mathvista")
        samples = bench.load(root)
        assert [s.id for s in samples] == pids and samples[2].meta["precision"] == 1.0
        assert samples[1].question == "query of 20" and samples[0].meta["skills"] == TESTMINI["5"]["metadata"]["skills"]
        from PIL import Image

        with Image.open(bench.media_root(root) / samples[1].images[0]) as im:
            assert im.size == (850, 600)
        assert len(get_benchmark("mathvista", split="test").load(root)) == 3
