"""VisualProbe: released val.json rows in Mini-o3's layout, exact match without a judge, a judge when given."""

from __future__ import annotations

import pytest
from highres_fixtures import VISUALPROBE_ROWS, build_visualprobe, build_visualprobe_hub
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.schema import load_samples

HARD = VISUALPROBE_ROWS["VisualProbe_Hard"]


def test_rows_read_equal_rows_in_file(tmp_path):
    samples = get_benchmark("visualprobe").load(build_visualprobe(tmp_path))
    assert [s.id for s in samples] == [f"hard-{row['doc_id']}" for row in HARD]
    assert {s.meta["difficulty"] for s in samples} == {"hard"}
    assert samples[0].question == "What is the color of the lampshade on the left side of the piano?"  # no <image>
    assert samples[0].answer == {"text": "White."}
    assert samples[0].images == ["VisualProbe_Hard/data/visual_probe_hard_60.jpg"]


def test_a_val_json_given_alone_finds_its_images_beside_it(tmp_path):
    # the paths name VisualProbe_Hard/ from BASE_IMAGE_DIR; the file's own folder holds data/ (the Hub repository)
    alone = build_visualprobe(tmp_path) / "VisualProbe_Hard" / "val.json"
    samples = get_benchmark("visualprobe").load(alone)
    assert len(samples) == len(HARD) and samples[1].images == ["data/visual_probe_hard_20.jpg"]
    assert samples[1].meta["difficulty"] == "hard" and samples[1].meta["width"] == 120


@pytest.mark.parametrize("layout", ["hub_snapshot", "parquet"])
def test_hub_copies_keep_the_release_rows_and_ids(tmp_path, monkeypatch, layout):
    # hub_snapshot: the Mini-o3/VisualProbe_Hard repository as downloaded (val.json beside data/); parquet: the
    # val.json's columns with the images embedded
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    if layout == "hub_snapshot":
        path = build_visualprobe(tmp_path / "base") / "VisualProbe_Hard"
    else:
        path = build_visualprobe_hub(tmp_path / "VisualProbe_Hard")
    samples = get_benchmark("visualprobe").load(path)
    assert [s.id for s in samples] == [f"hard-{row['doc_id']}" for row in HARD]
    assert samples[1].question == 'What is the line of English where the dark yellow "YE" is located?'
    assert samples[1].answer == {"text": "YE OLDE."}
    assert samples[1].meta == {"width": 120, "height": 90, "difficulty": "hard"}
    # vlmr data build: the same rows as records, the image copied into the dataset
    out = build_dataset("visualprobe", tmp_path / "ds", annotations=str(path), progress=False)
    records = load_samples(out)
    assert [r.id for r in records] == [s.id for s in samples] and records[3].answer == {"text": "two"}
    assert records[3].question == "How many people are sitting on the wooden chairs?"
    assert all((out / r.images[0]).is_file() for r in records)


def test_a_row_whose_image_is_missing_is_skipped_and_counted(tmp_path):
    root = build_visualprobe(tmp_path)
    (root / "VisualProbe_Hard" / "data" / "visual_probe_hard_65.jpg").unlink()
    bench = get_benchmark("visualprobe")
    assert [s.id for s in bench.load(root)] == ["hard-visual_probe_hard_60", "hard-visual_probe_hard_20",
                                                 "hard-visual_probe_hard_69"]
    assert dict(bench.skipped) == {"image file not found": 1}


def test_exact_match(tmp_path):
    responses = {"hard-visual_probe_hard_60": "<answer>white</answer>",  # normalised "white" == "white.": right
                 "hard-visual_probe_hard_20": "<answer>Ye Olde</answer>",  # "ye olde" == "ye olde": right
                 "hard-visual_probe_hard_65": "<answer>orange</answer>",  # wrong
                 "hard-visual_probe_hard_69": "<answer>2</answer>"}  # "2" != "two": wrong without a judge
    result = score("visualprobe", build_visualprobe(tmp_path), responses)
    assert result.overall == {"accuracy": 2 / 4}
    assert result.breakdown["difficulty"]["hard"]["accuracy"] == 0.5


def test_a_judge_decides_when_given(tmp_path):
    asked = []

    def judge(prompt: str) -> str:
        asked.append(prompt)
        return "The answers agree. Score: 1" if "Model answer: 2" in prompt else "Score: 0"

    result = score("visualprobe", build_visualprobe(tmp_path), {"hard-visual_probe_hard_69": "<answer>2</answer>"},
                   extractor=judge)
    row = next(r for r in result.rows if r["id"] == "hard-visual_probe_hard_69")
    assert row == {"id": "hard-visual_probe_hard_69", "accuracy": 1.0, "accuracy_exact": 0.0, "_pred": "2"}
    assert len(asked) == 1 and "Correct answer: two" in asked[0]  # empty answers are not sent to the judge

