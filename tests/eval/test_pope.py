"""POPE on its releases (the official JSON / JSON Lines files, VLMEvalKit's TSV) and the official scorer.

Expected values are derived by hand from RUCAIBox/POPE evaluate.py: keep the text before the first
".", delete ",", split on " "; "No", "not" or "no" among the words -> no, else yes. Positive = yes:
precision TP/(TP+FP), recall TP/(TP+FN), F1 2PR/(P+R), accuracy (TP+TN)/all, yes-ratio = share of yes.
"""

from __future__ import annotations

import pytest
from highres_fixtures import POPE_COCO_EARLIER_LINES, b64_png, build_pope, write_image, write_tsv
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.eval.benchmarks.pope import pope_answer
from vlmr.schema import load_samples


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes, there is a snowboard.", "yes"),
    ("There is no car in the image.", "no"),
    ("No.", "no"),                                   # "No" is a word of the first sentence
    ("Not really.", "yes"),                          # "Not" is neither "No" nor "not"
    ("Yes. But no.", "yes"),                          # only the first sentence counts
    ("no,", "no"),                                   # the comma is deleted first
    ("There are no cars", "no"),
    ("None", "yes"),
    ("", "yes"),                                     # the official rule: anything else is yes
])
def test_official_normalisation(text, expected):
    assert pope_answer(text) == expected


def test_release_files_json_lines_and_json_list(tmp_path):
    samples = get_benchmark("pope").load(build_pope(tmp_path))
    assert [s.id for s in samples] == ["coco_random_1", "coco_random_2", "coco_random_3",
                                       "gqa_popular_1", "gqa_popular_2", "gqa_popular_3"]
    assert samples[0].images == ["val2014/COCO_val2014_000000310196.jpg"]
    assert samples[3].images == ["images/2405722.jpg"] and samples[3].question == "Is there a bird in the image?"
    assert samples[1].answer == {"text": "no"}
    assert samples[1].meta == {"width": 64, "height": 48, "dataset": "coco", "setting": ["random"],
                               "subset": ["coco/random"]}


def test_every_coco_setting_of_the_earlier_release(tmp_path):
    # AoiDragon/POPE's popular and adversarial COCO files beside the random one: question_id from 0, an image_id
    root = build_pope(tmp_path / "output")
    for setting, lines in POPE_COCO_EARLIER_LINES.items():
        (root / "coco" / f"coco_pope_{setting}.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_image(root / "val2014" / "COCO_val2014_000000548882.jpg")
    samples = get_benchmark("pope").load(root)
    assert [s.id for s in samples] == ["coco_adversarial_0", "coco_adversarial_1", "coco_popular_0", "coco_popular_1",
                                       "coco_random_1", "coco_random_2", "coco_random_3",
                                       "gqa_popular_1", "gqa_popular_2", "gqa_popular_3"]
    chair = samples[1]
    assert chair.question == "Is there a chair in the image?" and chair.answer == {"text": "no"}
    assert chair.images == ["val2014/COCO_val2014_000000548882.jpg"]
    assert chair.meta["subset"] == ["coco/adversarial"] and samples[3].meta["subset"] == ["coco/popular"]
    # vlmr data build: popular's first question repeats adversarial's (same image and text); the builder's duplicate
    # rule keeps the first, as it does for every source
    out = build_dataset("pope", tmp_path / "ds", annotations=str(root), progress=False)
    assert [r.id for r in load_samples(out)] == [s.id for s in samples if s.id != "coco_popular_0"]


def test_official_metrics_overall_and_per_file(tmp_path):
    responses = {
        "coco_random_1": "Yes, there is a snowboard.",         # yes, label yes: TP
        "coco_random_2": "There is no car in the image.",      # no,  label no:  TN
        "coco_random_3": "<answer>No.</answer>",                # no,  label yes: FN
        "gqa_popular_1": "I do not see a bird",                # no ("not"), label yes: FN
        # gqa_popular_2: no prediction -> counted wrong (a "no" on a yes question): FN
        "gqa_popular_3": "<think>no idea</think><answer>yes</answer>",  # the answer part: yes: TP
    }
    result = score("pope", build_pope(tmp_path), responses)
    # TP 2, FP 0, TN 1, FN 3: accuracy 3/6, precision 2/2, recall 2/5, F1 2*0.4/1.4, yes 2/6
    assert result.overall["accuracy"] == 0.5 and result.overall["precision"] == 1.0
    assert result.overall["recall"] == 0.4 and result.overall["f1"] == pytest.approx(0.8 / 1.4)
    assert result.overall["yes_ratio"] == pytest.approx(1 / 3)
    # VLMEvalKit: "I do not see a bird" and "" are unknown (wrong); the rest read as above: 3/6
    assert result.overall["accuracy_vlmevalkit"] == 0.5
    coco = result.breakdown["subset"]["coco/random"]  # TP 1, TN 1, FN 1
    assert coco["accuracy"] == pytest.approx(2 / 3) and coco["f1"] == pytest.approx(2 / 3) and coco["n"] == 3
    gqa = result.breakdown["subset"]["gqa/popular"]  # TP 1, FN 2: recall 1/3, F1 2*(1/3)/(4/3)
    assert gqa["recall"] == pytest.approx(1 / 3) and gqa["f1"] == pytest.approx(0.5)


def test_vlmevalkit_tsv_question_in_several_settings_counts_once_per_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    path = write_tsv(tmp_path / "POPE.tsv", ["index", "image", "question", "answer", "category"], [
        ["0", b64_png(), "Is there a snowboard in the image?", "Yes", "adversarial,popular"],
        ["1", "0", "Is there a car in the image?", "No", "random"],
        ["2", "0", "Is there a dog in the image?", "Maybe", "random"],       # not yes/no: skipped
        ["3", "0", "Is there a cat in the image?", "No", "hard"],            # unknown setting: skipped
    ])
    bench = get_benchmark("pope")
    result = score("pope", path, {"0": "Yes", "1": "Yes"})
    # row 0 counts twice (TP x2), row 1 once (FP): accuracy 2/3, precision 2/3, recall 1, F1 0.8, yes 3/3
    assert result.overall["accuracy"] == pytest.approx(2 / 3) and result.overall["f1"] == pytest.approx(0.8)
    assert result.overall["yes_ratio"] == 1.0 and result.n == 2
    assert result.breakdown["setting"]["adversarial"]["accuracy"] == 1.0
    assert result.breakdown["setting"]["random"]["precision"] == 0.0  # one FP, no TP
    bench.load(path)
    assert dict(bench.skipped) == {"label is not yes or no, or no question": 1,
                                   "setting not one of random, popular, adversarial": 1}


def test_hub_copy(tmp_path, monkeypatch):
    # lmms-lab/POPE: question_id, question, answer, image_source, image, category
    import datasets
    from eval_fixtures import png_bytes, write_hub_snapshot

    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    string = datasets.Value("string")
    snapshot = write_hub_snapshot(tmp_path / "hub", {
        "question_id": string, "question": string, "answer": string, "image_source": string,
        "image": datasets.Image(), "category": string},
        {"test": {"question_id": ["1", "2"], "question": ["Is there a snowboard in the image?",
                                                          "Is there a car in the image?"],
                  "answer": ["yes", "no"], "image_source": ["COCO_val2014_000000310196"] * 2,
                  "image": [png_bytes()] * 2, "category": ["random", "random"]}})
    samples = get_benchmark("pope").load(snapshot)
    assert [(s.id, s.answer["text"], s.meta["subset"]) for s in samples] == [
        ("1", "yes", ["coco/random"]), ("2", "no", ["coco/random"])]
    assert samples[0].images == samples[1].images  # the same picture is one file in the cache
