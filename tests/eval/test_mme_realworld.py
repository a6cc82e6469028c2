"""MME-RealWorld on its release JSON, VLMEvalKit's TSVs and lmms-eval's Hub copies, scored by the official rule.

Expected values by hand from yfzhang114/MME-RealWorld evaluation/eval_your_results.py: the letter is
``extract_characters_regex(Output, Answer choices)`` (prefixes removed, first capital A-E, else the
first option containing the text); correct when it equals "Ground truth"; counts pooled per category
(lower case, "*/attribute*" merged), per Subtask within a Task, per Task, and overall.
"""

from __future__ import annotations

from functools import partial

import pytest
from highres_fixtures import (
    MME_RW_ROWS,
    build_mme_realworld,
    build_mme_realworld_hub,
    build_mme_realworld_tsv,
)
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.eval.benchmarks.mme_realworld import mme_extract
from vlmr.schema import load_samples


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


def test_lite_release_finds_its_images_in_imgs(tmp_path):
    # yifanzhang114/MME-RealWorld-Lite's data.zip: data/MME-RealWorld-Lite.json beside data/imgs/<Image>
    data = build_mme_realworld(tmp_path / "data", lite=True)
    samples = get_benchmark("mme_realworld_lite").load(data)
    assert [s.id for s in samples] == [row["Question_id"] for row in MME_RW_ROWS]
    assert samples[1].images == ["imgs/diagram_and_table/cons9.jpg"] and samples[1].answer == {"choice": "B"}
    assert samples[1].choices[:2] == ["A. 458", "B. 457"] and samples[1].meta["domain"] == "Perception/Diagram and Table"
    out = build_dataset("mme_realworld_lite", tmp_path / "ds", annotations=str(data), progress=False)
    assert [r.id for r in load_samples(out)] == [s.id for s in samples]


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


@pytest.mark.parametrize(("write", "name"), [
    (build_mme_realworld_tsv, "mme_realworld"),                            # VLMEvalKit MME-RealWorld.tsv
    (partial(build_mme_realworld_tsv, lite=True), "mme_realworld_lite"),  # mme_realworld_lite.tsv
    (build_mme_realworld_hub, "mme_realworld"),                            # lmms-eval's Hub copy, base64 in bytes
    (build_mme_realworld_hub, "mme_realworld_lite"),                       # its Lite copy, the same layout
], ids=["tsv", "lite_tsv", "hub", "lite_hub"])
def test_embedded_layouts_read_as_the_release(tmp_path, monkeypatch, write, name):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    path = write(tmp_path / "copy")
    samples = get_benchmark(name).load(path)
    released = get_benchmark(name).load(build_mme_realworld(tmp_path / "release"))
    assert [s.id for s in samples] == ["0", "1", "2", "3"]  # every row written, numbered by its index
    assert [(s.question, s.choices, s.answer, s.meta) for s in samples] == [
        (s.question, s.choices, s.answer, s.meta) for s in released]
    bus = samples[2]
    assert bus.question == "What is the number of buses in the image?" and bus.answer == {"choice": "E"}
    assert bus.choices == ["A. 13", "B. 90", "C. 77", "D. 6", "E. The image does not feature the buses"]
    assert bus.meta == {"width": 64, "height": 48, "task": "Perception", "domain": "Perception/Monitoring",
                        "category": "Perception/Monitoring/vehicle/counting"}
    assert (tmp_path / "cache" / bus.images[0]).is_file()
    # vlmr data build: the same rows as records, each image copied into the dataset
    out = build_dataset(name, tmp_path / "ds", annotations=str(path), progress=False)
    records = load_samples(out)
    assert [r.id for r in records] == ["0", "1", "2", "3"] and records[2].choices == bus.choices
    assert records[2].answer == {"choice": "E"} and records[2].meta["category"] == bus.meta["category"]
    assert all((out / r.images[0]).is_file() for r in records)
