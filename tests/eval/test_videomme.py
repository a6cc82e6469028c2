"""Video-MME on its releases (Hub parquet, official per-video JSON) and the official scorer.

Expected values are derived by hand from BradyFU/Video-MME evaluation/eval_your_results.py:
``extract_characters_regex`` strips the response, deletes the prefixes "The best answer is",
"The correct answer is", "The answer is", "The answer", "The best option isThe correct option
is" and "Best answer:Best option:" (the last two pairs are one string each: a missing comma),
returns "" for a response of more than 10 words without a capital A-D, else the first capital
A-D anywhere (or ""); ``eval_your_results`` counts a question only when the extraction is not
"" and divides correct by that count. lmms-eval's videomme divides by all questions.
"""

from __future__ import annotations

import json

import pytest
from eval_fixtures import VIDEOMME_ROWS, write_video
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.eval.benchmarks.video_mcq import videomme_extract
from vlmr.schema import load_samples


@pytest.mark.parametrize(("response", "expected"), [
    ("C", "C"),
    ("The best answer is C.", "C"),  # prefix deleted -> " C." -> C
    ("(B)", "B"),
    ("b", ""),  # lowercase: no capital A-D at all
    ("", ""),
    ("Based on the video, the answer is C.", "B"),  # 8 words; "the answer is" is lowercase (kept); B of "Based"
    ("I think the man in the video is running very fast now", ""),  # 12 words, no capital A-D
    ("I think the man in the video is running very fast so D", "D"),  # 13 words, but a D: first A-D is D
    ("The answer is A or B", "A"),  # prefix deleted -> " A or B" -> first A-D is A
    ("A. Apples.", "A"),
    ("Answer: D", "A"),  # the A of "Answer" comes first
    ("The correct option is D", "D"),  # not a listed prefix (glued to "The best option is"); T, c, o lack A-D
    ("Best option: (C)", "B"),  # "Best option:" is glued to "Best answer:" in the list: not deleted; B of "Best"
    ("The best answer is: D", "D"),  # -> ": D"
    (" c) berries", ""),  # lowercase only
    ("E", ""),  # only A-D count
])
def test_official_extraction(response, expected):
    assert videomme_extract(response) == expected


class TestScoring:
    def test_accuracy_divides_by_extracted_answers(self, bench_data):
        # 001-1 (gt C) answered "C": correct; 001-2 (gt A) answered "b": no letter extracted.
        # official: 1 correct / 1 extracted = 1.0; lmms-eval: 1 / 2 questions = 0.5; 1 unextractable.
        result = score("videomme", bench_data("videomme"), {"001-1": "<answer>C</answer>", "001-2": "<answer>b</answer>"})
        assert result.overall == {"accuracy": 1.0, "accuracy_all": 0.5, "n_unextractable": 1.0}
        assert result.breakdown["task_type"]["Information Synopsis"]["accuracy"] == 0.0  # none extracted there

    def test_answer_part_is_read(self, bench_data):
        # vlmr reads the <answer> part: "C" (the official script, given the whole text, would take the A of "A is")
        result = score("videomme", bench_data("videomme"), {"001-1": "<think>A is wrong</think><answer>C</answer>"})
        assert result.rows[0]["_pred_choice"] == "C" and result.rows[0]["accuracy_all"] == 1.0

    def test_ground_truth_scores_one_and_empty_zero(self, bench_data):
        data = bench_data("videomme")
        truth = score("videomme", data, {r["question_id"]: r["answer"] for r in VIDEOMME_ROWS})
        empty = score("videomme", data, {r["question_id"]: "" for r in VIDEOMME_ROWS})
        assert truth.overall["accuracy"] == truth.overall["accuracy_all"] == 1.0
        assert empty.overall == {"accuracy": 0.0, "accuracy_all": 0.0, "n_unextractable": 2.0}


class TestRelease:
    def test_hub_parquet_rows_as_published(self, bench_data):
        data = bench_data("videomme")
        bench = get_benchmark("videomme")
        samples = bench.load(data)
        assert len(samples) == len(VIDEOMME_ROWS)  # rows loaded = rows in the file
        for sample, row in zip(samples, VIDEOMME_ROWS, strict=True):
            assert (sample.question, sample.choices, sample.answer["choice"]) == (row["question"], row["options"],
                                                                                 row["answer"])
        assert samples[0].video["path"] == "data/fFjv93ACGo8.mp4" and bench.media_root(data) == data
        assert bench.media_root(data / "videomme/test-00000-of-00001.parquet") == data  # the parquet file itself
        assert samples[1].meta["task_type"] == "Information Synopsis"

    def test_official_per_video_json(self, tmp_path):
        # BradyFU/Video-MME evaluation/output_test_template.json, video 001 (first two questions, without
        # the "response" the template adds), plus the "url" its README's format lists.
        rows = [{"video_id": "001", "duration_category": "short", "video_category": "Knowledge",
                 "video_subcategory": "Humanity & History", "url": "https://www.youtube.com/watch?v=fFjv93ACGo8",
                 "questions": [
                     {"question_id": "001-1", "task_type": "Object Reasoning",
                      "question": "Based on the information provided by the video, which of the following statements "
                                  "is not correct?",
                      "choices": ["A. It was Moina Michael who used poppy to commemorate people die in war first.",
                                  "B. Poppy could grow in the battlefield.",
                                  "C. Poppy has become a symbol of commemoration for people who die in the war since WW1.",
                                  "D. In Flanders Fields is written during WW1."], "answer": "A"},
                     {"question_id": "001-2", "task_type": "Attribute Perception",
                      "question": "What is Moina Michael wearing in the video?",
                      "choices": ["A. Black shirts.", "B. Blue shirts.", "C. Red skirts.", "D. Brown hat."],
                      "answer": "D"}]}]
        (tmp_path / "videomme.json").write_text(json.dumps(rows))
        write_video(tmp_path / "data/fFjv93ACGo8.mp4")
        samples = get_benchmark("videomme").load(tmp_path)
        assert [s.id for s in samples] == ["001-1", "001-2"]
        assert samples[1].choices[3] == "D. Brown hat." and samples[1].answer["choice"] == "D"
        assert samples[0].meta == {"duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
                                   "task_type": "Object Reasoning", "video_id": "001"}
        assert samples[0].video["path"] == "data/fFjv93ACGo8.mp4"

    def test_bad_row_skipped_and_counted(self, tmp_path):
        bad = {**VIDEOMME_ROWS[0], "question_id": "001-9", "answer": "E"}  # no option E
        (tmp_path / "videomme.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [VIDEOMME_ROWS[0], bad]))
        bench = get_benchmark("videomme")
        assert [s.id for s in bench.load(tmp_path)] == ["001-1"]
        assert dict(bench.skipped) == {"answer is not the letter of an option": 1}


def test_build_from_hub_copy(bench_data, tmp_path):
    samples = load_samples(build_dataset("video_mcq", tmp_path / "ds", annotations=str(bench_data("videomme")),
                                         progress=False))
    assert [(s.id, s.answer["choice"], s.source) for s in samples] == [("001-1", "C", "videomme"),
                                                                      ("001-2", "A", "videomme")]
    assert samples[0].choices == VIDEOMME_ROWS[0]["options"] and samples[0].meta["split"] == "test"


def test_save_to_disk_copy(tmp_path):
    import datasets

    datasets.Dataset.from_list(VIDEOMME_ROWS).save_to_disk(str(tmp_path / "videomme_saved"))
    bench = get_benchmark("videomme")
    samples = bench.load(tmp_path / "videomme_saved")
    assert [s.id for s in samples] == ["001-1", "001-2"] and bench.media_root(tmp_path / "videomme_saved") == \
        tmp_path / "videomme_saved"


def test_per_video_json_with_hub_field_names(tmp_path):
    # showlab/livecc evaluation/videomme/results/LiveCC-7B-Instruct_no_subtitles.json: the official per-video
    # nesting with the Hub's field names (video 001, its third question, verbatim with the model's response)
    rows = [{"video_id": "001", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
             "questions": [{"question_id": "001-3", "task_type": "Counting Problem",
                            "question": "How many red socks are above the fireplace at the end of this video?",
                            "options": ["A. 1.", "B. 4.", "C. 2.", "D. 3."], "answer": "D", "response": "D. 3."}]}]
    (tmp_path / "results.json").write_text(json.dumps(rows))
    [sample] = get_benchmark("videomme").load(tmp_path / "results.json")
    assert sample.meta["sub_category"] == "Humanity & History" and sample.video["path"] == "data/001.mp4"
    result = score("videomme", tmp_path / "results.json", {"001-3": rows[0]["questions"][0]["response"]})
    assert result.overall["accuracy"] == 1.0  # "D. 3." -> D


def test_malformed_rows_never_fatal(tmp_path):
    rows = ["not a row", {**VIDEOMME_ROWS[0], "question_id": "x", "options": "A. B."}, VIDEOMME_ROWS[1]]
    (tmp_path / "videomme.json").write_text(json.dumps(rows))
    bench = get_benchmark("videomme")
    assert [s.id for s in bench.load(tmp_path)] == ["001-2"]
    assert sum(bench.skipped.values()) == 2
