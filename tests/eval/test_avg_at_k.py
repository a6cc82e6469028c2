"""Avg@k: the statistics by hand, a K=4 run on the tiny model, its resume after a kill, and compare."""

from __future__ import annotations

import json

import pytest
from highres_fixtures import build_vstar

from vlmr.eval import get_benchmark
from vlmr.eval.avg_at_k import interval, pass_at_k, summarise_runs
from vlmr.eval.compare import format_comparison
from vlmr.eval.runner import EvalConfig, run_eval

GEN = {"max_new_tokens": 6, "temperature": 1.0, "batch_size": 1}


class TestStatistics:
    def test_interval_by_hand(self):
        # runs 0.80, 0.90, 0.85, 0.85: mean 0.85; squared deviations 0.0025+0.0025+0+0 = 0.005, / 3 -> var 1/600,
        # std 0.040825; t(0.975, 3) = 3.182446; half width 3.182446 * 0.040825 / 2 = 0.064962
        out = interval([0.80, 0.90, 0.85, 0.85])
        assert out["mean"] == pytest.approx(0.85) and out["std"] == pytest.approx(0.0408248, abs=1e-6)
        assert out["ci95"] == pytest.approx([0.85 - 0.0649623, 0.85 + 0.0649623], abs=1e-6)

    def test_single_run_has_no_spread(self):
        assert interval([0.5]) == {"mean": 0.5, "std": None, "ci95": None, "runs": [0.5]}

    def test_pass_at_k_counts_a_question_solved_in_any_run(self, tmp_path):
        bench = get_benchmark("vstar")
        samples = bench.load(build_vstar(tmp_path))
        runs = [[{"accuracy": 0.0}, {"accuracy": 0.0}], [{"accuracy": 1.0}, {"accuracy": 0.0}]]
        # question 0 right in run 1, question 1 never: Pass@2 = 1/2, on both questions' category too
        assert pass_at_k(bench, samples, runs, "accuracy") == {
            "metric": "accuracy", "overall": 0.5, "breakdown": {"category": {"direct_attributes": 0.5}}}

    def test_summary_keeps_what_every_run_has(self):
        docs = [{"overall": {"acc": 0.5, "f1": 0.2}, "breakdown": {"s": {"x": {"acc": 1.0, "n": 2}}}},
                {"overall": {"acc": 0.7}, "breakdown": {"s": {"x": {"acc": 0.0, "n": 2}, "y": {"acc": 1.0}}}}]
        out = summarise_runs(docs)
        assert list(out["overall"]) == ["acc"] and out["overall"]["acc"]["mean"] == pytest.approx(0.6)
        assert list(out["breakdown"]["s"]) == ["x"] and out["breakdown"]["s"]["x"]["acc"]["runs"] == [1.0, 0.0]


def test_greedy_avg_at_k_is_refused():
    with pytest.raises(ValueError, match="identical greedy answers"):
        EvalConfig(benchmark="vstar", data="x", out="y", num_samples=4)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch

    from vlmr.tiny_model import build_tiny_model

    torch.set_num_threads(1)
    return str(build_tiny_model(tmp_path_factory.mktemp("model") / "nano", size="nano"))


@pytest.mark.slow
class TestRun:
    def test_k4_writes_mean_std_ci_and_pass_at_k(self, tiny_model, tmp_path):
        out = tmp_path / "run"
        scores = run_eval(EvalConfig(benchmark="vstar", data=str(build_vstar(tmp_path / "data")), out=str(out),
                                     model=tiny_model, num_samples=4, **GEN))
        runs = [json.loads((out / "samples" / f"run{k:02d}" / "scores.json").read_text()) for k in range(4)]
        per_run = [r["overall"]["accuracy"] for r in runs]
        avg = scores["avg_at_k"]
        assert avg["k"] == 4 and avg["temperature"] == 1.0
        assert avg["overall"]["accuracy"]["runs"] == per_run
        assert scores["overall"]["accuracy"] == pytest.approx(sum(per_run) / 4)
        assert avg["overall"]["accuracy"]["std"] is not None and len(avg["overall"]["accuracy"]["ci95"]) == 2
        assert avg["pass_at_k"]["metric"] == "accuracy" and 0.0 <= avg["pass_at_k"]["overall"] <= 1.0
        assert scores["headline"][0]["value"] == scores["overall"]["accuracy"]
        assert json.loads((out / "scores.json").read_text()) == json.loads(json.dumps(scores))
        # each sampled run has its own seed, so the four runs are not one greedy answer copied
        responses = [[json.loads(x)["response"] for x in (out / "samples" / f"run{k:02d}" / "predictions.jsonl")
                      .read_text().splitlines()] for k in range(4)]
        assert len({tuple(r) for r in responses}) > 1

    def test_killed_run_resumes_without_recomputing(self, tiny_model, tmp_path, monkeypatch):
        data = str(build_vstar(tmp_path / "data"))
        clean = tmp_path / "clean"
        run_eval(EvalConfig(benchmark="vstar", data=data, out=str(clean), model=tiny_model, num_samples=4, **GEN))

        import vlmr.eval.runner as runner

        real_append, calls = runner.append_predictions, []

        def append_then_die(path, rows):
            calls.append(path)
            if len(calls) == 4:  # the 4th batch (run01's second sample) dies before it is written
                raise KeyboardInterrupt
            return real_append(path, rows)

        out = tmp_path / "killed"
        cfg = EvalConfig(benchmark="vstar", data=data, out=str(out), model=tiny_model, num_samples=4, **GEN)
        monkeypatch.setattr(runner, "append_predictions", append_then_die)
        with pytest.raises(KeyboardInterrupt):
            run_eval(cfg)
        monkeypatch.setattr(runner, "append_predictions", real_append)
        run_eval(cfg)
        generated = [json.loads((out / "samples" / f"run{k:02d}" / "run_info.rank0.json").read_text())["n_generated"]
                     for k in range(4)]
        assert generated == [0, 1, 2, 2]  # run00 and run01's first sample were kept
        # per-batch seeds: the resumed run sampled exactly what the uninterrupted one did
        assert (out / "scores.json").read_text() == (clean / "scores.json").read_text()
        assert "within noise" in format_comparison(out, clean)


def test_cli_flags_reach_the_config(capsys):
    from vlmr.cli import main

    code = main(["eval", "run", "--benchmark", "vstar", "--data", "x", "--out", "y", "--model", "m",
                 "--num-samples", "4"])
    assert code == 2 and "identical greedy answers" in capsys.readouterr().out
