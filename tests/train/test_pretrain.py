"""Pretraining the tiny model (``vlmr model pretrain-tiny``) and starting the quickstart from its checkpoint."""

import json

import pytest

from vlmr.train.pretrain import REPORT, PretrainSpec, Stage, _samples, conversations, stage_steps


def test_stage_steps_share_the_run_and_the_last_stage_takes_the_rounding():
    assert stage_steps(PretrainSpec(steps=2000)) == [300, 500, 1200]
    assert sum(stage_steps(PretrainSpec(steps=7))) == 7


def test_alignment_stage_draws_one_ordinary_shape_per_scene():
    spec = PretrainSpec()
    first = spec.curriculum[0]
    stage = Stage(1.0, "detection", first.min_objects, first.max_objects, first.min_size, first.max_size)
    for sample, images in (next(s) for s in [_samples(stage, spec, "t", 0)] * 12):
        (box,) = sample.answer["boxes"]
        assert 6 <= max(box[2] - box[0], box[3] - box[1]) <= 38  # default sizes, 11-28 px, turned up to 0.4 rad
        assert images[0].size == (spec.width, spec.width)


def test_stream_follows_the_curriculum_and_asks_zoom_questions_both_ways():
    spec = PretrainSpec(steps=40, batch_size=2)
    rows = list(conversations(spec))
    assert len(rows) == 80
    questions = [next(m for m in row["messages"] if m["role"] == "user")["content"][-1]["text"] for row in rows]
    first_stage = questions[: stage_steps(spec)[0] * spec.batch_size]
    assert not any(q.startswith("How many") for q in first_stage)  # counting waits for scenes with 2 shapes
    zoom = [row for row, q in zip(rows, questions, strict=True) if "small shape at the" in q]
    with_tools = [row for row in zoom if row["tools"]]
    assert with_tools and len(with_tools) < len(zoom)  # offered zoom_in, and asked with no tool at all
    for row in with_tools:
        assert "<tool_call>" in row["messages"][-3]["content"][-1]["text"]  # the trajectory calls zoom_in
        assert len(row["images"]) == 2  # the scene, then the zoomed crop the tool returned


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A nano model pretrained for 2 steps by the CLI."""
    from vlmr.cli import main

    out = tmp_path_factory.mktemp("pretrain") / "pre"
    assert main(["model", "pretrain-tiny", str(out), "--size", "nano", "--vision-steps", "2", "--steps", "2",
                 "--batch-size", "2", "--report-n", "2"]) == 0
    return out


@pytest.mark.slow
def test_pretrain_tiny_writes_a_loadable_checkpoint_report_and_card(pretrained):
    from vlmr.cli import main

    out = pretrained
    report = json.loads((out / "pretrain_report.json").read_text())
    assert set(report["heldout"]) == {*REPORT, "zoom_tool_call_rate"}
    assert all(0.0 <= v <= 1.0 for v in report["heldout"].values())
    assert report["command"].startswith(
        "vlmr model pretrain-tiny DIR --size nano --vision-steps 2 --steps 2 --batch-size 2 --seed 0")
    meta = json.loads((out / "vlmr_meta.json").read_text())
    assert meta["pretraining"]["steps"] == 2 and meta["family"] == "qwen2_5_vl"
    assert meta["pretraining"]["vision"]["steps"] == 2
    assert set(meta["pretraining"]["vision_losses"]) == {"color", "center", "shape", "object_color", "box", "position"}
    probes = meta["pretraining"]["vision_probe"]
    assert set(probes) == {"count_probe", "color_probe", "shape_probe", "box_probe_iou"}
    assert all(0.0 <= v <= 1.0 for v in probes.values()) and report["vision_probe"] == probes
    card = (out / "PRETRAINED.md").read_text()
    assert "| color_accuracy |" in card and "2 steps of 2 conversations" in card
    assert "Stage 1, the vision tower alone (2 steps of 32 scenes)" in card and f"color_probe {probes['color_probe']:.3f}" in card
    assert main(["model", "pretrain-tiny", str(out), "--steps", "1"]) == 2  # an existing run is not replaced


@pytest.mark.slow
def test_quickstart_starts_from_a_pretrained_checkpoint(pretrained, tmp_path):
    from vlmr.quickstart import run_quickstart

    result = run_quickstart(tmp_path / "qs", model=pretrained, n_train=12, n_heldout=6,
                            overrides=["--trainer.max_steps", "1", "--trainer.per_device_train_batch_size", "8"])
    saved = json.loads((tmp_path / "qs" / "results.json").read_text())
    assert saved["model"] == str(pretrained) and saved["size"] is None
    assert not (tmp_path / "qs" / "model").exists()  # nothing built: the given checkpoint is the start
    assert json.loads((result.checkpoint / "vlmr_meta.json").read_text())["family"] == "qwen2_5_vl"
