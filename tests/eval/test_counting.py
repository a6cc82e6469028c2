"""CountBench / PixMo-Count: the release as published, its Hub copies, and the counting rules.

Headline rule (stated in the module docstring): the last number, digits or number words, of the
``<answer>`` text (else of the prose after the thinking). Alternatives, derived from their code:
PaliGemma's big_vision ``evaluators/proj/paligemma/transfers/tallyqa.py`` (used for CountBenchQA)
and lmms-eval ``tasks/countbench/utils.py``: ``REPLACEMENTS.get(answer.lower(), answer) == str(number)``
on the whole response (lmms-eval strips it first); lmms-eval ``tasks/pixmo_count/utils.py``:
``re.search(r"\\d+", response.strip()).group() == str(count)``.
"""

from __future__ import annotations

import json
import math

import datasets
import pytest
from eval_fixtures import png_bytes, write_hub_snapshot, write_image

from vlmr.eval import get_benchmark
from vlmr.eval.answers import count_scores
from vlmr.eval.benchmarks.counting import exact_count_match, first_integer_match
from vlmr.eval.registry import ScoreContext
from vlmr.eval.scoring import score_predictions, scores_document

# Verbatim: the first six rows of teaching-clip-to-count/teaching-clip-to-count.github.io CountBench.json
# (540 rows, commit 4c83108) and the first six of google-research/big_vision
# big_vision/datasets/countbenchqa/data/countbench_paired_questions.json (540 entries, row-aligned).
COUNTBENCH = [
    {"image_url": "http://www.wirerealm.com/wp-content/uploads/2015/08/top-10-best-gaming-headsets-1024x448.jpg", "text": "We review the ten best gaming headsets in the market", "number": 10},
    {"image_url": "https://wmich.edu/sites/default/files/styles/720p_anamorphic/public/images/u1297/2019/lightbulb3_0.jpg?itok=9fGHQTIR&timestamp=1565960849", "text": "background photo of three light bulbs", "number": 3},
    {"image_url": "http://img0.etsystatic.com/000/0/5304297/il_fullxfull.191730668.jpg", "text": "City prints: Set of three big prints - $150.00 USD", "number": 3},
    {"image_url": "https://cdn.vectorstock.com/i/thumb-large/74/37/4657437.jpg", "text": "Set of eight arrows in all directions vector", "number": 8},
    {"image_url": "https://laurelleaffarm.com/item-photos/vintage-silver-plate-tablespoons-serving-spoon-set-of-six-1847-Rogers-Ambassador-pattern-Laurel-Leaf-Farm-item-no-pw515216-1.jpg", "text": "vintage silver plate tablespoons, serving spoon set of six 1847 Rogers pattern", "number": 6},
    {"image_url": "https://us.123rf.com/450wm/pingpao/pingpao1505/pingpao150500257/40608684-vintage-color-filltered-of-two-cute-little-girls-having-fun-blowing-bubbles-on-beach-in-summer-time.jpg?ver=6", "text": "kids playing beach: Vintage color filltered of two cute little girls having fun blowing bubbles on beach in summer time Stock Photo", "number": 2},
]  # fmt: skip
QUESTIONS = [{"question": "How many headsets are there in the image?"}, {"question": "How many light bulbs are there in the image?"}, {"question": "How many prints are there in the image?"}, {"question": "How many arrows are there in the image?"}, {"question": "How many spoons are there in the image?"}, {"question": "How many girls are there in the image?"}]  # fmt: skip


def countbench_release(root, questions=True):
    """CountBench.json + images/: rows 0-3 downloaded by row index, row 4 by its URL basename, row 5 not at all."""
    (root / "images").mkdir(parents=True)
    for i in range(4):
        write_image(root / "images" / f"{i}.jpg", width=100 + i, height=50)
    write_image(root / "images" / "vintage-silver-plate-tablespoons-serving-spoon-set-of-six-1847-Rogers-Ambassador-"
                                  "pattern-Laurel-Leaf-Farm-item-no-pw515216-1.jpg", width=120, height=60)
    (root / "CountBench.json").write_text(json.dumps(COUNTBENCH))
    if questions:
        (root / "countbench_paired_questions.json").write_text(json.dumps(QUESTIONS))
    return root / "CountBench.json"


class TestHeadlineRule:
    @pytest.mark.parametrize(
        ("response", "count", "correct"),
        [
            ("<answer>3</answer>", 3, True),
            ("<answer>three</answer>", 3, True),  # number words
            ("There are 2 rows with 3 apples each, 6 in total.", 6, True),  # prose: the last number
            ("<think>I first saw 5</think><answer>4</answer>", 4, True),  # only the <answer> text
            ("<answer>There are 4 cats.</answer>", 4, True),  # a trailing period
            ("", 4, False),  # empty
            ("<answer>many</answer>", 4, False),  # no number
            ("<answer>3 or 4</answer>", 3, False),  # a hedge ends on 4
            ("<answer>1,000</answer>", 1000, True),  # thousands separator
            ("<answer>2.5</answer>", 2, False),  # a fraction is no count
            ("<answer>-3</answer>", 3, False),  # nor a negative
            ("<answer>none</answer>", 0, True),  # "none" alone counts 0
            ("<answer>twenty-one</answer>", 21, True),
            ("<answer>(B) 7</answer>", 7, True),  # a letter in parentheses is no number
            ("<answer>7 apples; 3 are red</answer>", 7, False),  # the rule's price: the last number is 3
            ("I think the answer is Ten.", 10, True),  # upper-case word, no tags
            ("<answer>3.0</answer>", 3, True),  # an integral float
        ],
    )
    def test_case(self, response, count, correct):
        assert count_scores(response, count)["accuracy"] == float(correct)

    def test_errors_count_silence_as_zero(self):
        rows = [count_scores("<answer>3</answer>", 3), count_scores("<answer>7</answer>", 5), count_scores("", 4)]
        assert [r["abs_error"] for r in rows] == [0.0, 2.0, 4.0] and [r["parsed"] for r in rows] == [1.0, 1.0, 0.0]


class TestAlternativeRules:
    @pytest.mark.parametrize(
        ("response", "count", "exact", "first_integer"),
        [
            ("3", 3, True, True),
            (" Three ", 3, True, False),  # stripped, lower-cased, word -> numeral; no digits for lmms pixmo
            ("3.", 3, False, True),  # "3." is not "3"; its first digits are
            ("<answer>3</answer>", 3, False, True),  # the whole response, tags and all
            ("none", 0, True, False),
            ("There are 2 rows with 3 apples each, 6 in total.", 6, False, False),  # first digits: 2
            ("twenty", 20, True, False),
        ],
    )
    def test_case(self, response, count, exact, first_integer):
        assert exact_count_match(response, count) is exact
        assert first_integer_match(response, count) is first_integer


class TestCountBenchRelease:
    def test_rows_questions_downloads_and_skips(self, tmp_path):
        data = countbench_release(tmp_path)
        bench = get_benchmark("countbench")
        samples = bench.load(data)
        assert len(samples) == 5 and bench.skipped == {"image missing (not embedded, not downloaded into image_dir)": 1}
        assert [s.id for s in samples] == [f"CountBench-{i:05d}" for i in range(5)]  # ids keep the row index
        assert samples[1].question == "How many light bulbs are there in the image?" and samples[1].answer["count"] == 3
        assert samples[4].images[0].startswith("vintage-silver-plate") and samples[4].meta["width"] == 120
        assert bench.media_root(data) == tmp_path / "images"
        ctx = ScoreContext(root=bench.media_root(data))
        gold = {s.id: {"response": f"<answer>{s.answer['count']}</answer>"} for s in samples}
        result = score_predictions(bench, samples, gold, ctx)
        assert result.overall["accuracy"] == 1.0 and result.overall["accuracy_exact"] == 0.0  # tags fail "exact"
        doc = scores_document(result, bench, ctx, "cmd", None, str(data))
        assert doc["skipped_rows"] == {"image missing (not embedded, not downloaded into image_dir)": 1}
        assert doc["alternatives"][0]["metric"] == "accuracy_exact"
        empty = score_predictions(bench, samples, {}, ctx)
        assert empty.overall["accuracy"] == 0.0 and empty.overall["rmse"] == pytest.approx(
            math.sqrt((10**2 + 3**2 + 3**2 + 8**2 + 6**2) / 5))

    def test_without_questions_the_caption_hides_the_count(self, tmp_path):
        [first] = get_benchmark("countbench").load(countbench_release(tmp_path, questions=False))[:1]
        assert first.question == ('The caption of this image reads "We review the ___ best gaming headsets in the '
                                  'market". How many are there?')

    def test_questions_must_pair_row_by_row(self, tmp_path):
        data = countbench_release(tmp_path)
        (tmp_path / "countbench_paired_questions.json").write_text(json.dumps(QUESTIONS[:5]))
        with pytest.raises(ValueError, match="5 questions for 6 rows"):
            get_benchmark("countbench").load(data)


class TestHubCopies:
    @pytest.fixture(autouse=True)
    def cache(self, tmp_path, monkeypatch):
        monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))

    def test_vikhyatk_countbenchqa(self, tmp_path):
        # vikhyatk/CountBenchQA card: image image, text string, question string, number int32; split test (491)
        features = {"image": datasets.Image(), "text": datasets.Value("string"), "question": datasets.Value("string"),
                    "number": datasets.Value("int32")}
        rows = list(zip(COUNTBENCH[:3], QUESTIONS[:3], strict=True))
        root = write_hub_snapshot(tmp_path / "cbqa", features, {"test": {
            "image": [png_bytes(color=(i, 0, 0)) for i in range(3)], "text": [r["text"] for r, _ in rows],
            "question": [q["question"] for _, q in rows], "number": [r["number"] for r, _ in rows]}})
        bench = get_benchmark("countbench")
        samples = bench.load(root)
        assert [s.answer["count"] for s in samples] == [10, 3, 3] and samples[0].question == QUESTIONS[0]["question"]
        gold = {s.id: {"response": str(s.answer["count"])} for s in samples}
        result = score_predictions(bench, samples, gold, ScoreContext(root=bench.media_root(root)))
        assert result.overall["accuracy"] == 1.0 and result.overall["accuracy_exact"] == 1.0

    def test_nielsr_countbench_with_empty_images_and_paired_questions(self, tmp_path):
        # nielsr/countbench: image_url string, text string, number int64, image image (49 of 540 empty)
        features = {"image_url": datasets.Value("string"), "text": datasets.Value("string"),
                    "number": datasets.Value("int64"), "image": datasets.Image()}
        root = write_hub_snapshot(tmp_path / "nielsr", features, {"train": {
            "image_url": [r["image_url"] for r in COUNTBENCH], "text": [r["text"] for r in COUNTBENCH],
            "number": [r["number"] for r in COUNTBENCH],
            "image": [png_bytes(color=(i, 9, 9)) if i != 2 else None for i in range(6)]}})
        (root / "countbench_paired_questions.json").write_text(json.dumps(QUESTIONS))
        bench = get_benchmark("countbench")
        samples = bench.load(root)
        assert len(samples) == 5 and sum(bench.skipped.values()) == 1
        assert samples[2].question == QUESTIONS[3]["question"]  # row 2 skipped: questions stay row-aligned

    def test_allenai_pixmo_count_with_downloaded_images(self, tmp_path):
        # allenai/pixmo-count card: image_url string, image_sha256 string, count int32,
        # points sequence{x float32, y float32}, label string; splits train/validation/test (540 test).
        features = {"image_url": datasets.Value("string"), "image_sha256": datasets.Value("string"),
                    "count": datasets.Value("int32"),
                    "points": datasets.Sequence({"x": datasets.Value("float32"), "y": datasets.Value("float32")}),
                    "label": datasets.Value("string")}  # rows synthesised in that schema
        root = write_hub_snapshot(tmp_path / "pixmo", features, {"test": {
            "image_url": ["https://example.org/a/boats.jpg", "https://example.org/b/dogs.png"],
            "image_sha256": ["ab12", "cd34"], "count": [4, 7],
            "points": [{"x": [], "y": []}, {"x": [], "y": []}], "label": ["boats", "dogs"]}})
        write_image(root / "images" / "ab12.jpg", width=90, height=40)  # downloaded, named by its sha256
        bench = get_benchmark("pixmo_count")
        samples = bench.load(root)
        assert len(samples) == 1 and samples[0].question == "How many boats are there?" and bench.skipped
        assert samples[0].meta["width"] == 90 and (bench.media_root(root) / samples[0].images[0]).is_file()
        row = bench.process_results(samples[0], {"response": "There are 4 boats, 2 red"}, ScoreContext())
        assert row["accuracy"] == 0.0 and row["accuracy_first_integer"] == 1.0  # last number 2; first digits 4
