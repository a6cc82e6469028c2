"""MME-RealWorld on its release JSON and VLMEvalKit's TSV, scored by the official rule.

Expected values by hand from yfzhang114/MME-RealWorld evaluation/eval_your_results.py: the letter is
``extract_characters_regex(Output, Answer choices)`` (prefixes removed, first capital A-E, else the
first option containing the text); correct when it equals "Ground truth"; counts pooled per category
(lower case, "*/attribute*" merged), per Subtask within a Task, per Task, and overall.
"""

from __future__ import annotations

import pytest
from highres_fixtures import MME_RW_ROWS, b64_png, build_mme_realworld, write_tsv
from test_eval_metrics import score

from vlmr.eval import get_benchmark
from vlmr.eval.benchmarks.mme_realworld import mme_extract


@pytest.mark.parametrize(("text", "expected"), [
    ("D", "D"),
    ("The best answer is (B)", "B"),
    ("458", "A"),                     # no capital A-E: the first option containing "458" is (A)
    ("45", "A"),                      # "45" is in "(A) 458" too
    ("none of them", ""),
    ("Based on the table", "B"),      # the B of "Based"
    ("The best option is C", "C"),    # not a prefix (glued to the next one in the list); T, b, o ... no A-E until C
])
def test_official_extraction(text, expected):
    choices = ["(A) 458", "(B) 457", "(C) 456", "(D) 455", "(E) This image doesn't feature the data."]
    assert mme_extract(text, choices) == expected


def test_release_rows_become_samples(tmp_path):
    samples = get_benchmark("mme_realworld").load(build_mme_realworld(tmp_path))
    assert len(samples) == len(MME_RW_ROWS) == 4
    bus = samples[2]
    assert bus.id == "perception/monitoring/Vehicle/counting/0310" and bus.answer == {"choice": "E"}
    assert bus.choices == ["A. 13", "B. 90", "C. 77", "D. 6", "E. The image does not feature the buses"]
    assert bus.meta == {"width": 64, "height": 48, "task": "Perception", "domain": "Perception/Monitoring",
                        "category": "Perception/Monitoring/vehicle/counting"}


def test_template_outputs_scored_as_the_official_script(tmp_path):
    # the template's Outputs: D (gt D) right, A (gt B) wrong, E (gt E) right, D (gt C) wrong
    data = build_mme_realworld(tmp_path)
    result = score("mme_realworld", data, {r["Question_id"]: r["Output"] for r in MME_RW_ROWS})
    # Perception 2 of 3, Reasoning 0 of 1, overall 2 of 4
    assert result.overall == {"accuracy": 0.5, "perception": pytest.approx(2 / 3), "reasoning": 0.0}
    assert result.breakdown["domain"]["Perception/Diagram and Table"]["accuracy"] == 0.0
    assert result.breakdown["category"]["Perception/Autonomous_Driving/objects_identify"]["accuracy"] == 1.0


def test_empty_answer_is_wrong_not_a(tmp_path):
    # the official fallback finds "" in "(A) ..." and reads an empty answer as A; vlmr counts it wrong
    data = build_mme_realworld(tmp_path)
    assert mme_extract("", ["(A) x"]) == "A"
    result = score("mme_realworld", data, {MME_RW_ROWS[0]["Question_id"]: "<answer></answer>"})
    assert result.rows[0]["accuracy"] == 0.0 and result.rows[0]["_pred_choice"] == ""


def test_vlmevalkit_tsv_full_and_lite(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    full = write_tsv(tmp_path / "MME-RealWorld.tsv",
                     ["index", "image", "question", "multi-choice options", "A", "B", "C", "D", "E", "answer",
                      "category", "l2-category"],
                     [["0", b64_png(), "What is the number of buses in the image?", "The choices are listed below:",
                       "13", "90", "77", "6", "The image does not feature the buses", "E", "Perception/Monitoring",
                       "Vehicle/counting"]])
    (sample,) = get_benchmark("mme_realworld").load(full)
    assert sample.choices[4] == "E. The image does not feature the buses"
    assert sample.meta["category"] == "Perception/Monitoring/vehicle/counting"
    lite = write_tsv(tmp_path / "mme_realworld_lite.tsv",
                     ["index", "image", "question", "multi-choice options", "answer", "category", "l2-category"],
                     [["7", b64_png(), "What is the data of Interest in Feb-23 in the table?",
                       "['(A) 458', '(B) 457', '(C) 456', '(D) 455', \"(E) This image doesn't feature the data.\"]",
                       "B", "Perception/Diagram and Table", "diagram"]])
    (sample,) = get_benchmark("mme_realworld_lite").load(lite)
    assert sample.choices[:2] == ["A. 458", "B. 457"] and sample.answer == {"choice": "B"}
