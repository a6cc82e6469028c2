"""predictions.jsonl: atomic appends, torn-line repair, last row per id, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing

from vlmr.eval.predictions import append_predictions, read_predictions, write_atomic


def _writer(path, worker, n):
    for i in range(n):
        append_predictions(path, [{"id": f"w{worker}-{i}", "response": "x" * 5000}])


class TestPredictions:
    def test_append_and_read(self, tmp_path):
        path = tmp_path / "p.jsonl"
        assert append_predictions(path, [{"id": "a", "response": "1"}, {"id": "b", "response": "2"}]) == 2
        assert append_predictions(path, []) == 0
        assert {k: v["response"] for k, v in read_predictions(path).items()} == {"a": "1", "b": "2"}

    def test_torn_tail_is_cut_before_next_append(self, tmp_path):
        path = tmp_path / "p.jsonl"
        append_predictions(path, [{"id": "a", "response": "1"}])
        with path.open("a") as f:
            f.write('{"id": "b", "respo')  # a writer killed mid-line
        assert set(read_predictions(path)) == {"a"}
        append_predictions(path, [{"id": "c", "response": "3"}])
        lines = path.read_text().splitlines()
        assert [json.loads(line)["id"] for line in lines] == ["a", "c"]

    def test_torn_only_line(self, tmp_path):
        path = tmp_path / "p.jsonl"
        path.write_text('{"id": "a"')
        append_predictions(path, [{"id": "b", "response": ""}])
        assert path.read_text() == '{"id": "b", "response": ""}\n'

    def test_duplicate_ids_keep_the_last_row(self, tmp_path):  # and say so: tests/reliability/test_inputs.py
        path = tmp_path / "p.jsonl"
        append_predictions(path, [{"id": "a", "response": "first"}])
        append_predictions(path, [{"id": "a", "response": "second"}])
        assert read_predictions(path)["a"]["response"] == "second"

    def test_success_replaces_error(self, tmp_path):
        path = tmp_path / "p.jsonl"
        append_predictions(path, [{"id": "a", "response": "", "error": "timeout"}])
        append_predictions(path, [{"id": "a", "response": "ok", "error": None}])
        append_predictions(path, [{"id": "a", "response": "", "error": "timeout again"}])
        assert read_predictions(path)["a"]["response"] == "ok"

    def test_concurrent_writers_never_interleave(self, tmp_path):
        path = tmp_path / "p.jsonl"
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=_writer, args=(path, w, 30)) for w in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        lines = path.read_text().splitlines()
        assert len(lines) == 90 and len(read_predictions(path)) == 90
        assert all(json.loads(line)["response"] == "x" * 5000 for line in lines)

    def test_write_atomic_replaces(self, tmp_path):
        path = tmp_path / "scores.json"
        write_atomic(path, "1")
        write_atomic(path, "2")
        assert path.read_text() == "2" and [p.name for p in tmp_path.iterdir()] == ["scores.json"]
