"""Avg@k: a benchmark answered K times with sampling, summarised as mean, spread and interval.

One greedy number cannot tell a gain from noise: reruns of one checkpoint on V* spread over three
points (DeepEyes #46, #60), and Mini-o3 reports Avg@32, the mean accuracy of 32 sampled runs.
``vlmr eval run --num-samples K --temperature T`` makes K ordinary runs under ``OUT/samples/runK``
(each resumable by itself, so a killed run regenerates nothing it finished) and writes into
``OUT/scores.json``:

* ``overall``: each metric's mean over the K runs (what a table reports as Avg@K);
* ``avg_at_k.overall`` / ``avg_at_k.breakdown``: per metric (and per group) ``mean``, ``std`` (sample
  standard deviation over the runs, ``ddof=1``), ``ci95`` (Student-t 95 % interval of the mean over
  the runs: ``mean +- t(0.975, K-1) * std / sqrt(K)``) and the K values in ``runs``;
* ``avg_at_k.pass_at_k``: the share of questions answered right in at least one of the K runs
  (per-sample metric ``pass_metric``), overall and per group.

The interval measures run-to-run (sampling) noise on this fixed set of questions; it says nothing
about how a score would move on other questions.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from vlmr.eval.registry import Benchmark
from vlmr.schema import Sample


def interval(values: Sequence[float], confidence: float = 0.95) -> dict[str, Any]:
    """``{"mean", "std", "ci95", "runs"}`` of the per-run values (``std`` and ``ci95`` need 2+ runs).

    >>> [round(x, 4) for x in interval([0.5, 0.7, 0.6])["ci95"]]  # 0.6 -+ 4.3027 * 0.1 / sqrt(3)
    [0.3516, 0.8484]
    >>> interval([0.5])
    {'mean': 0.5, 'std': None, 'ci95': None, 'runs': [0.5]}
    """
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    if len(values) < 2:
        return {"mean": mean, "std": None, "ci95": None, "runs": values}
    from scipy.stats import t

    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = float(t.ppf(0.5 + confidence / 2, len(values) - 1)) * std / math.sqrt(len(values))
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "runs": values}


def pass_metric(bench: Benchmark, rows: Sequence[dict[str, Any]]) -> str | None:
    """The per-sample 0/1 metric Pass@K counts: the primary metric if samples carry it, else ``accuracy``."""
    for metric in (bench.primary_metric, "accuracy"):
        if rows and all(isinstance(row.get(metric), int | float) for row in rows):
            return metric
    return None


def pass_at_k(bench: Benchmark, samples: Sequence[Sample], runs: Sequence[Sequence[dict[str, Any]]],
              metric: str) -> dict[str, Any]:
    """Share of samples with ``metric`` >= 1 in at least one run, overall and per breakdown group."""
    solved = [any(run[i].get(metric, 0) >= 1 for run in runs) for i in range(len(samples))]
    groups: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for sample, ok in zip(samples, solved, strict=True):
        for key, values in bench.groups(sample).items():
            for value in values:
                groups[key][value].append(ok)
    return {"metric": metric, "overall": sum(solved) / len(solved) if solved else 0.0,
            "breakdown": {key: {g: sum(v) / len(v) for g, v in sorted(by.items())} for key, by in groups.items()}}


def summarise_runs(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``{"overall": {metric: interval}, "breakdown": {key: {group: {metric: interval}}}}`` over the
    runs' ``scores.json`` documents (a metric or group missing from one run is left out)."""
    overall = {m: interval([d["overall"][m] for d in docs])
               for m in sorted(set.intersection(*(set(d["overall"]) for d in docs)))}
    breakdown: dict[str, dict[str, dict[str, Any]]] = {}
    for key in sorted(set.intersection(*(set(d.get("breakdown", {})) for d in docs))):
        groups = set.intersection(*(set(d["breakdown"][key]) for d in docs))
        breakdown[key] = {}
        for group in sorted(groups):
            stats = [d["breakdown"][key][group] for d in docs]
            metrics = set.intersection(*(set(s) for s in stats)) - {"n"}
            breakdown[key][group] = {m: interval([s[m] for s in stats]) for m in sorted(metrics)}
    return {"overall": overall, "breakdown": breakdown}


def avg_at_k_document(bench: Benchmark, samples: Sequence[Sample], docs: Sequence[dict[str, Any]],
                      runs: Sequence[Sequence[dict[str, Any]]], temperature: float) -> dict[str, Any]:
    """The ``scores.json`` of an Avg@k run: the first run's document with ``overall`` and ``breakdown``
    replaced by the means over the runs, counts summed, and the ``avg_at_k`` section."""
    summary = summarise_runs(docs)
    doc = copy.deepcopy(dict(docs[0]))
    doc["overall"] = {m: s["mean"] for m, s in summary["overall"].items()}
    doc["breakdown"] = {key: {g: {**{m: s["mean"] for m, s in stats.items()},
                                  "n": docs[0]["breakdown"][key][g].get("n")} for g, stats in groups.items()}
                        for key, groups in summary["breakdown"].items()}
    uses = [d["tool_use"] for d in docs if d.get("tool_use")]
    doc["tool_use"] = {"rate": sum(u["rate"] for u in uses) / len(uses),
                       "mean_calls": sum(u["mean_calls"] for u in uses) / len(uses),
                       "n": sum(u["n"] for u in uses)} if uses else None
    for count in ("n_missing", "n_errors", "n_malformed", "n_unknown", "n_invalid"):
        doc[count] = sum(d.get(count, 0) for d in docs)
    doc["warnings"] = [f"run {i}: {w}" for i, d in enumerate(docs) for w in d.get("warnings", [])]
    for rule in doc.get("headline", []) + doc.get("alternatives", []):
        rule["value"] = doc["overall"].get(rule["metric"])
    metric = pass_metric(bench, runs[0])
    doc["avg_at_k"] = {"k": len(docs), "temperature": temperature, **summary,
                       "pass_at_k": pass_at_k(bench, samples, runs, metric) if metric else None}
    return doc
