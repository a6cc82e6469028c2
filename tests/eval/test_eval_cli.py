"""``vlmr eval score`` / ``compare`` / ``list`` and the reports, without a model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vlmr.cli import main
from vlmr.eval import Benchmark, get_benchmark, list_benchmarks, register_benchmark
from vlmr.rewards.metrics import to_rle


def _write_preds(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


class TestRegistry:
    def test_builtins_listed(self):
        assert {"mathvista", "reasonseg", "refcoco", "chartqa", "countbench", "pixmo_count", "videomme", "mvbench",
                "charades_sta", "vqa_rad", "slake", "dataset", "scene3d"} <= set(list_benchmarks())

    def test_unknown_name_lists_choices(self):
        with pytest.raises(ValueError, match="unknown benchmark 'mathvist'.*mathvista"):
            get_benchmark("mathvist")

    def test_user_benchmark_by_module_path(self):
        bench = get_benchmark("vlmr.eval.benchmarks.counting:PixMoCount")
        assert bench.name == "pixmo_count"

    def test_not_a_benchmark(self):
        with pytest.raises(TypeError, match="not a Benchmark subclass"):
            get_benchmark("vlmr.eval.runner:EvalConfig")

    def test_register_twice_under_one_name_fails(self):
        @register_benchmark("tmp_dup_test")
        class A(Benchmark):
            pass

        with pytest.raises(ValueError, match="already registered"):

            @register_benchmark("tmp_dup_test")
            class B(Benchmark):
                pass


class TestScoreCommand:
    def test_reasonseg_mask_rle_scores_and_reports(self, bench_data, tmp_path, capsys):
        data = bench_data("reasonseg")
        pred = np.zeros((48, 64), np.uint8)
        pred[10:31, 10:31] = 1  # the whole target square incl. the ignore corner: I = U = 320
        rle = to_rle(pred)
        rle["counts"] = rle["counts"].decode()
        preds = _write_preds(tmp_path / "p.jsonl", [{"id": "img_a", "response": "", "mask_rle": rle},
                                                    {"id": "img_b", "response": ""}])
        out = tmp_path / "run"
        code = main(["eval", "score", "--benchmark", "reasonseg", "--data", str(data), "--predictions", str(preds),
                     "--out", str(out), "--segmenter", "box"])
        assert code == 0
        scores = json.loads((out / "scores.json").read_text())
        assert scores["overall"]["giou"] == pytest.approx(0.5, abs=1e-6)  # (1 + 0) / 2
        assert scores["overall"]["ciou"] == pytest.approx(320 / (320 + 441))
        assert scores["n"] == 2 and scores["n_missing"] == 0
        assert "giou" in capsys.readouterr().out
        report = (out / "report.md").read_text()
        assert "## By query_type" in report and "plots/hist_giou.png" in report
        assert (out / "plots/hist_giou.png").stat().st_size > 0
        gallery = (out / "gallery.html").read_text()
        assert gallery.count("<img") == 2 and "img_b" in gallery
        assert len((out / "per_sample.jsonl").read_text().splitlines()) == 2

    def test_counts_calibration_plot_and_compare(self, bench_data, tmp_path, capsys):
        data = bench_data("countbench")
        runs = []
        for name, answers in (("a", ["3", "4"]), ("b", ["3", "5"])):
            preds = _write_preds(tmp_path / f"{name}.jsonl", [
                {"id": f"countbench-{i:05d}", "response": f"<answer>{a}</answer>"} for i, a in enumerate(answers)])
            out = tmp_path / name
            assert main(["eval", "score", "--benchmark", "countbench", "--data", str(data), "--predictions",
                         str(preds), "--out", str(out), "--model", f"model-{name}"]) == 0
            runs.append(out)
        assert (runs[0] / "plots/count_calibration.png").exists()
        capsys.readouterr()
        assert main(["eval", "compare", str(runs[0]), str(runs[1])]) == 0
        table = capsys.readouterr().out
        assert "model-a" in table and "model-b" in table
        line = next(line for line in table.splitlines() if line.startswith("accuracy "))
        assert line.split()[1:] == ["0.5000", "1.0000", "+0.5000"]

    def test_no_report_announces_only_what_it_wrote(self, bench_data, tmp_path, capsys):
        data = bench_data("countbench")
        preds = _write_preds(tmp_path / "p.jsonl", [{"id": "countbench-00000", "response": "<answer>3</answer>"}])
        out = tmp_path / "run"
        assert main(["eval", "score", "--benchmark", "countbench", "--data", str(data), "--predictions", str(preds),
                     "--out", str(out), "--no-report"]) == 0
        said = capsys.readouterr().out
        assert "(scores.json, per_sample.jsonl)" in said and "report.md" not in said
        assert not (out / "report.md").exists()

    def test_errored_samples_fail_the_command_unless_allowed(self, bench_data, tmp_path, capsys):
        data = bench_data("countbench")  # two samples
        preds = _write_preds(tmp_path / "p.jsonl", [
            {"id": "countbench-00000", "response": "<answer>3</answer>"},
            {"id": "countbench-00001", "response": "", "error": "ValueError: unknown part 'video'"}])
        argv = ["eval", "score", "--benchmark", "countbench", "--data", str(data), "--predictions", str(preds),
                "--out", str(tmp_path / "o"), "--no-report"]
        assert main(argv) == 1
        said = capsys.readouterr().out
        assert said.splitlines()[0] == "countbench: 2 samples, 1 errors (50.0%), 0 missing"
        assert "1 of 2 samples errored" in said
        assert main([*argv, "--max-error-rate", "0.5"]) == 0
        assert main([*argv, "--max-error-rate", "0.49"]) == 1
        assert main([*argv, "--max-error-rate", "2"]) == 2

    def test_missing_predictions_file(self, bench_data, tmp_path):
        data = bench_data("countbench")
        assert main(["eval", "score", "--benchmark", "countbench", "--data", str(data), "--predictions",
                     str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]) == 2

    def test_list(self, capsys):
        assert main(["eval", "list"]) == 0
        assert "mathvista" in capsys.readouterr().out
