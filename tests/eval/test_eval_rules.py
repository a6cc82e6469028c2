"""Benchmarks declare which rule their headline follows and another harness's number beside it."""

from __future__ import annotations

import json

from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext
from vlmr.eval.report import render_markdown
from vlmr.eval.scoring import score_predictions, scores_document
from vlmr.schema import Sample


class Ruled(Benchmark):
    """A benchmark declaring an official headline and lmms-eval's number beside it."""

    name = "ruled"
    headline = (MetricRule("accuracy", "official: answered questions only"),)
    alternatives = (MetricRule("accuracy_all", "lmms-eval: all questions"), MetricRule("absent", "never computed"))

    def load(self, path):
        self.skip("image missing")
        self.skip("image missing")
        return [Sample(id="a", task="vqa", question="?", answer={"text": "x"})]

    def process_results(self, sample, prediction, ctx):
        return {"accuracy": 1.0, "accuracy_all": 0.5}


class TestHeadlineRules:
    def test_scores_and_report_show_rule_alternative_and_skips(self):
        bench = Ruled()
        samples = bench.load("")
        ctx = ScoreContext()
        doc = scores_document(score_predictions(bench, samples, {}, ctx), bench, ctx, "cmd", None, "d")
        assert doc["headline"] == [{"metric": "accuracy", "value": 1.0, "rule": "official: answered questions only"}]
        assert doc["alternatives"][0] == {"metric": "accuracy_all", "value": 0.5, "rule": "lmms-eval: all questions"}
        assert doc["alternatives"][1]["value"] is None and doc["skipped_rows"] == {"image missing": 2}
        text = render_markdown(json.loads(json.dumps(doc)), [], None)
        assert "| headline | accuracy | 1.0000 | official: answered questions only |" in text
        assert "| alternative | accuracy_all | 0.5000 | lmms-eval: all questions |" in text
        assert "| alternative | absent | n/a | never computed |" in text
        assert "- skipped rows: 2 (image missing)" in text

    def test_undeclared_headline_is_the_primary_metric(self):
        assert Benchmark().headline_rules()[0].metric == "accuracy"
