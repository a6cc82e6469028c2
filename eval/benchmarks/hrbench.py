"""HR-Bench 4K and 8K (Wang et al., "Divide, Conquer and Combine: A Training-Free Framework for
High-Resolution Image Perception in Multimodal Large Language Models", AAAI 2025).

Each benchmark has 200 questions on 4K (``hrbench4k``) or 8K (``hrbench8k``, 7680x4320) images,
100 ``single`` (fine-grained single-instance perception, FSP) and 100 ``cross`` (cross-instance,
FCP), each asked four times with its options rotated (``cycle_category`` 0..3): 800 rows.

Data, detected from ``--data``: the release's ``hr_bench_4k.tsv`` / ``hr_bench_8k.tsv``
(``DreamMr/HR-Bench``, VLMEvalKit's TSV: ``index, question, A``-``D``, ``answer, category,
image`` base64, ``cycle_category``), or its Hub copy (the same columns as parquet, config
``hrbench_version_split``, splits ``hrbench_4k`` / ``hrbench_8k``; option ``split``).

Metric: the official ``report_acc_hrbench`` (HR-Bench's and VLMEvalKit's ``utils/hrbench.py``):
per cycle, the accuracy of each category and of all its questions; each figure is then averaged
over the cycles. ``single`` (FSP), ``cross`` (FCP) and ``average`` (the paper's Avg, the mean over
cycles of all questions) are those averages. Deviation: the official script asks an LLM judge
whether the response answers the question; vlmr reads the letter of the ``<answer>`` (or the text
of exactly one option) with :func:`vlmr.rewards.parse.parse_choice`, as VLMEvalKit's exact
matching does before it calls a judge. ``accuracy`` (pooled over the rows) equals ``average``
when every cycle holds the same questions.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import media_root
from vlmr.data_pipelines.releases.hrbench import hrbench_samples
from vlmr.eval.answers import choice_scores
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, aggregate_rows, register_benchmark
from vlmr.schema import Sample

CATEGORIES = ("single", "cross")


def cycle_average(rows: list[dict[str, Any]]) -> dict[str, float]:
    """``report_acc_hrbench``: each category's accuracy (and ``average`` over all) per cycle, then the
    mean of each over the cycles that hold it.

    >>> rows = [{"accuracy": 1.0, "_category": "single", "_cycle": "1"},
    ...         {"accuracy": 0.0, "_category": "cross", "_cycle": "1"},
    ...         {"accuracy": 1.0, "_category": "single", "_cycle": "2"},
    ...         {"accuracy": 1.0, "_category": "cross", "_cycle": "2"}]
    >>> cycle_average(rows)
    {'single': 1.0, 'cross': 0.5, 'average': 0.75}
    """
    by_cycle: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if "_cycle" in row:
            by_cycle[row["_cycle"]][row["_category"]].append(row["accuracy"])
            by_cycle[row["_cycle"]]["average"].append(row["accuracy"])
    sums: dict[str, list[float]] = defaultdict(list)
    for scores in by_cycle.values():
        for key, values in scores.items():
            sums[key].append(sum(values) / len(values))
    return {key: sum(sums[key]) / len(sums[key]) for key in (*CATEGORIES, "average") if sums.get(key)}


@register_benchmark("hrbench")
class HRBench(Benchmark):
    """HR-Bench (either file): FSP (single), FCP (cross) and their average, each averaged over the cycles."""

    task = "mcq"
    primary_metric = "average"
    breakdown_keys = ("category", "cycle_category")
    headline = (
        MetricRule("average", "official report_acc_hrbench: accuracy of each cycle's questions, averaged over "
                              "the 4 cycles; the letter of the <answer> (parse_choice) instead of an LLM judge"),
        MetricRule("single", "official: FSP (single-instance) accuracy, averaged over the cycles"),
        MetricRule("cross", "official: FCP (cross-instance) accuracy, averaged over the cycles"),
    )

    def load(self, path: str | Path) -> list[Sample]:
        """Every row (:func:`~vlmr.data_pipelines.releases.hrbench.hrbench_samples`)."""
        return hrbench_samples(path, self.skip, self.name, self.options.get("split"))

    def media_root(self, path: str | Path) -> Path:
        return media_root(path)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        return {**choice_scores(prediction.get("response", ""), sample.answer["choice"], sample.choices),
                "_category": sample.meta["category"], "_cycle": sample.meta["cycle_category"]}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        return {**aggregate_rows(rows), **cycle_average(rows)}


@register_benchmark("hrbench4k")
class HRBench4K(HRBench):
    """HR-Bench 4K (``hr_bench_4k.tsv``)."""


@register_benchmark("hrbench8k")
class HRBench8K(HRBench):
    """HR-Bench 8K (``hr_bench_8k.tsv``, 7680x4320 images)."""
