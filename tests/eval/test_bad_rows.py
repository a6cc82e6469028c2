"""One malformed row of a release never stops a benchmark load or a build: it is skipped and counted."""

from __future__ import annotations

import json

import pytest
from eval_fixtures import write_image
from medical_rows import VQA_RAD, write_vqa_rad

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.schema import load_samples


def test_mathvista(tmp_path):
    good = {"question": "Which?", "image": "images/1.png", "choices": ["a", "b"], "precision": None,
            "answer": "a", "question_type": "multi_choice", "answer_type": "text", "pid": "1", "metadata": {}}
    (tmp_path / "testmini.json").write_text(json.dumps({"1": good, "2": {"pid": "2", "answer": "3"}}))
    bench = get_benchmark("mathvista")
    assert [s.id for s in bench.load(tmp_path)] == ["1"]
    assert bench.skipped == {"malformed row (KeyError: 'question')": 1}


def test_chartqa_load_and_build(tmp_path):
    test = tmp_path / "test"
    write_image(test / "png" / "a.png")
    rows = [{"imgname": "a.png", "query": "Max?", "label": "3"}, {"imgname": "a.png", "query": "Min?"}]
    (test / "test_human.json").write_text(json.dumps(rows))
    bench = get_benchmark("chartqa")
    assert len(bench.load(test / "test_human.json")) == 1 and bench.skipped == {"malformed row (KeyError: 'label')": 1}
    (test / "test_augmented.json").write_text("[]")
    out = build_dataset("chartqa", tmp_path / "ds", root=str(tmp_path), progress=False)
    assert len(load_samples(out)) == 1 and "skipped 1: malformed row (KeyError: 'label')" in (out / "README.md").read_text()


@pytest.mark.parametrize(("name", "row", "reason"), [
    ("refcoco", {"image": "a.png", "problem": "the cat"}, "malformed row (KeyError: 'bbox')"),
    ("countbench", {"image": "a.png", "question": "How many?", "number": "many"}, "row without a count"),
])  # fmt: skip
def test_row_files(tmp_path, name, row, reason):
    write_image(tmp_path / "a.png")
    good = {"image": "a.png", "problem": "the dog", "solution": [1, 2, 3, 4], "question": "How many?", "number": 2}
    (tmp_path / "rows.json").write_text(json.dumps([good, row]))
    bench = get_benchmark(name)
    assert len(bench.load(tmp_path / "rows.json")) == 1 and bench.skipped == {reason: 1}


def test_vqa_rad_load_and_build(tmp_path):
    root = write_vqa_rad(tmp_path / "rad")
    rows = [*VQA_RAD, {"qid": 999, "phrase_type": "test_freeform", "image_name": "synpic29265.jpg", "answer": "x"}]
    (root / "VQA_RAD Dataset Public.json").write_text(json.dumps(rows))
    bench = get_benchmark("vqa_rad")
    assert len(bench.load(root)) == 6 and bench.skipped == {"malformed row (KeyError: 'question')": 1}
    out = build_dataset("vqa_rad", tmp_path / "ds", annotations=str(root / "VQA_RAD Dataset Public.json"),
                        split="test", progress=False)
    assert len(load_samples(out)) == 6 and "skipped 1: malformed row" in (out / "README.md").read_text()
