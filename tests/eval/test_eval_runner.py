"""The runner end to end on the offline tiny model: every benchmark, resume, kill -9, sharding."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eval_fixtures import BUILDERS, write_image

from vlmr.eval.predictions import read_predictions
from vlmr.eval.runner import EvalConfig, run_eval

pytestmark = pytest.mark.slow
GEN = {"max_new_tokens": 6}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch

    from vlmr.tiny_model import build_tiny_model

    torch.set_num_threads(1)
    return str(build_tiny_model(tmp_path_factory.mktemp("model") / "nano", size="nano"))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_benchmark_end_to_end(name, bench_data, tiny_model, tmp_path, monkeypatch):
    if name == "scene3d":  # METEOR's JVM start costs ~30 s here; test_scanqa.py covers the Java path
        monkeypatch.setattr("vlmr.eval.caption_metrics.shutil.which", lambda _: None)
    data = bench_data(name)
    out = tmp_path / "run"
    scores = run_eval(EvalConfig(benchmark=name, data=str(data), out=str(out), model=tiny_model, batch_size=2,
                                 limit=2, options={"max_frames": 4}, command=f"test {name}", **GEN))
    on_disk = json.loads((out / "scores.json").read_text())
    assert on_disk == json.loads(json.dumps(scores))
    assert scores["benchmark"] == name and scores["n_missing"] == 0
    assert scores["primary_metric"] in scores["overall"]
    assert scores["coordinate_convention"] == "resized (qwen2_5_vl)"  # read from the tiny model's config
    preds = read_predictions(out / "predictions.jsonl")
    assert len(preds) == scores["n"] and all(isinstance(p["response"], str) for p in preds.values())
    assert (out / "report.md").exists()


def test_resume_skips_done_samples(bench_data, tiny_model, tmp_path):
    data = bench_data("countbench")
    out = tmp_path / "run"
    cfg = dict(benchmark="countbench", data=str(data), out=str(out), model=tiny_model, batch_size=1, **GEN)
    run_eval(EvalConfig(limit=1, **cfg))
    first = (out / "predictions.jsonl").read_text()
    run_eval(EvalConfig(**cfg))
    text = (out / "predictions.jsonl").read_text()
    assert text.startswith(first) and len(text.splitlines()) == 2
    info = json.loads((out / "run_info.rank0.json").read_text())
    assert info["n_resumed"] == 1 and info["n_generated"] == 1


def test_unreadable_image_is_recorded_not_fatal(bench_data, tiny_model, tmp_path):
    data = bench_data("countbench")
    (data.parent / "images/1.png").write_bytes(b"not a png")
    out = tmp_path / "run"
    scores = run_eval(EvalConfig(benchmark="countbench", data=str(data), out=str(out), model=tiny_model, **GEN))
    assert scores["n"] == 2 and scores["n_errors"] == 1
    error = read_predictions(out / "predictions.jsonl")["countbench-00001"]["error"]
    assert error.startswith("UnreadableImage") and "cannot identify image file" in error  # the file is named
    write_image(data.parent / "images/1.png")  # repaired: --retry-errors generates it again
    scores = run_eval(EvalConfig(benchmark="countbench", data=str(data), out=str(out), model=tiny_model,
                                 retry_errors=True, **GEN))
    assert scores["n_errors"] == 0 and len((out / "predictions.jsonl").read_text().splitlines()) == 3


def _many_counting(root: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        write_image(root / f"images/{i}.png", color=(10 * (i % 20), 90, 160))
        rows.append({"image": f"images/{i}.png", "question": "How many squares are there?", "number": i % 5})
    (root / "counts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root / "counts.jsonl"


def _argv(data: Path, out: Path, model: str) -> list[str]:
    return ["eval", "run", "--benchmark", "countbench", "--data", str(data), "--model", model, "--out", str(out),
            "--batch-size", "2", "--max-new-tokens", "24", "--no-report"]


def test_kill_9_then_restart_gives_identical_scores(tiny_model, tmp_path, monkeypatch):
    from vlmr.cli import main

    n = 20
    data = _many_counting(tmp_path / "data", n)
    out = tmp_path / "run"
    argv = _argv(data, out, tiny_model)
    monkeypatch.setattr(sys, "argv", ["vlmr", *argv])  # the command recorded in scores.json
    # 1. a clean run gives the reference scores.json; then start over in the same directory
    assert main(argv) == 0
    reference = (out / "scores.json").read_text()
    reference_preds = read_predictions(out / "predictions.jsonl")
    for f in out.rglob("*"):
        if f.is_file():
            f.unlink()
    # 2. the same command in a real process, killed with SIGKILL once the first batches are on disk
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "vlmr.cli", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    preds = out / "predictions.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if preds.exists() and len(preds.read_text().splitlines()) >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(preds.read_text().splitlines())
    assert 2 <= n_before < n, "the run must be killed in the middle"
    assert not (out / "scores.json").exists()
    # 3. restart: finishes the rest, no duplicate rows, byte-identical scores.json
    assert main(argv) == 0
    ids = [json.loads(line)["id"] for line in preds.read_text().splitlines()]
    assert len(ids) == n and len(set(ids)) == n
    assert (out / "scores.json").read_text() == reference
    resumed = read_predictions(preds)
    assert {k: v["response"] for k, v in resumed.items()} == {k: v["response"] for k, v in reference_preds.items()}


def test_two_shards_cover_every_sample_once(tiny_model, tmp_path):
    data = _many_counting(tmp_path / "data", 6)
    out = tmp_path / "run"
    base = dict(benchmark="countbench", data=str(data), out=str(out), model=tiny_model, batch_size=2, **GEN)
    from vlmr.eval.registry import get_benchmark
    from vlmr.eval.runner import generate, load_samples

    bench = get_benchmark("countbench")
    samples = load_samples(bench, data)
    old = {k: os.environ.get(k) for k in ("RANK", "WORLD_SIZE")}
    try:
        for rank in (1, 0):
            os.environ.update(RANK=str(rank), WORLD_SIZE="2")
            stats = generate(bench, samples, EvalConfig(**base), out)
            assert stats["n_shard"] == 3 and stats["n_generated"] == 3
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    ids = [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(s.id for s in samples)
    assert ids[:3] == [samples[i].id for i in (1, 3, 5)]  # rank 1 ran first and took every second sample


def test_tools_reach_the_loop(bench_data, tiny_model, tmp_path):
    data = bench_data("refcoco")
    out = tmp_path / "run"
    scores = run_eval(EvalConfig(benchmark="refcoco", data=str(data), out=str(out), model=tiny_model,
                                 tools=["zoom_in", "crop"], max_turns=2, report=False, **GEN))
    assert scores["n"] == 2 and scores["n_errors"] == 0
    rows = read_predictions(out / "predictions.jsonl").values()
    assert all("n_tool_calls" in r for r in rows)


def test_api_backend_reads_original_pixels(bench_data, tmp_path):
    from eval_fixtures import ChatServer

    data = bench_data("refcoco")
    out = tmp_path / "run"
    with ChatServer('<think>white square</think><answer>{"bbox_2d": [10, 10, 30, 30]}</answer>') as server:
        scores = run_eval(EvalConfig(benchmark="refcoco", data=str(data), out=str(out), model="served",
                                     api_base=server.url, batch_size=2, report=False))
    # the batch's two requests reach the server concurrently, in either order
    assert len(server.prompts) == 2 and sum("Locate white square" in p for p in server.prompts) == 1
    assert scores["coordinate_convention"] == "pixel (generic)"
    # sample 0's box is exactly right in original pixels; sample 1's target is [0, 0, 20, 40]
    assert scores["overall"]["acc@0.5"] == 0.5
