"""Score predictions against a benchmark's samples: per-sample rows, overall, breakdowns.

Full-split by default: a sample without a prediction is scored as an empty response
(wrong), and counted in ``n_missing``, so a partial run can never look better than a
complete one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext
from vlmr.schema import Sample

logger = logging.getLogger(__name__)


@dataclass
class ScoreResult:
    """Scores of one benchmark run."""

    overall: dict[str, float]
    breakdown: dict[str, dict[str, dict[str, float]]]
    rows: list[dict[str, Any]]  # one per sample: {"id", metrics..., "_extras"...}
    n: int
    n_missing: int
    n_errors: int
    warnings: list[str]


def score_predictions(
    benchmark: Benchmark,
    samples: list[Sample],
    predictions: dict[str, dict[str, Any]],
    ctx: ScoreContext,
) -> ScoreResult:
    """Run ``process_results`` on every sample and aggregate overall and per group."""
    rows: list[dict[str, Any]] = []
    missing = errors = 0
    for sample in samples:
        prediction = predictions.get(sample.id)
        if prediction is None:
            missing += 1
            prediction = {"id": sample.id, "response": ""}
        elif prediction.get("error"):
            errors += 1
        row = benchmark.process_results(sample, prediction, ctx)
        rows.append({"id": sample.id, **row})
    if missing:
        logger.warning("%d of %d samples have no prediction; they are scored as wrong", missing, len(samples))
    warnings = _frame_warnings(rows)
    for warning in warnings:
        logger.warning(warning)
    return ScoreResult(
        overall=benchmark.aggregate(rows),
        breakdown=benchmark.breakdown(samples, rows),
        rows=rows,
        n=len(samples),
        n_missing=missing,
        n_errors=errors,
        warnings=warnings,
    )


def _frame_warnings(rows: list[dict[str, Any]]) -> list[str]:
    """One summary line per distinct coordinate-frame warning (see ``vlmr.formats.boxes_look_misframed``)."""
    counts: dict[str, int] = {}
    for row in rows:
        if row.get("_warning"):
            counts[row["_warning"]] = counts.get(row["_warning"], 0) + 1
    return [f"{n} of {len(rows)} samples: {message}" for message, n in sorted(counts.items())]


def scores_document(
    result: ScoreResult,
    benchmark: Benchmark,
    ctx: ScoreContext,
    command: str,
    model: str | None,
    data: str,
) -> dict[str, Any]:
    """The ``scores.json`` content: deterministic (no timings), so a resumed run matches a clean one."""
    return {
        "benchmark": benchmark.name,
        "primary_metric": benchmark.primary_metric,
        "headline": rule_rows(benchmark.headline_rules(), result.overall),
        "alternatives": rule_rows(benchmark.alternatives, result.overall),
        "skipped_rows": dict(sorted(benchmark.skipped.items())),
        "overall": result.overall,
        "breakdown": result.breakdown,
        "n": result.n,
        "n_missing": result.n_missing,
        "n_errors": result.n_errors,
        "warnings": result.warnings,
        "command": command,
        "model": model,
        "data": data,
        "coordinate_convention": ctx.describe_convention(),
        "options": {k: v for k, v in {**benchmark.options, **ctx.options}.items()},
    }


def rule_rows(rules: tuple[MetricRule, ...], overall: dict[str, float]) -> list[dict[str, Any]]:
    """``[{"metric", "value", "rule"}]`` of the declared rules (``value`` null when not computed).

    >>> rule_rows((MetricRule("acc", "official"),), {"acc": 0.5})
    [{'metric': 'acc', 'value': 0.5, 'rule': 'official'}]
    """
    return [{"metric": r.metric, "value": overall.get(r.metric), "rule": r.rule} for r in rules]


def dumps_scores(document: dict[str, Any]) -> str:
    """Stable JSON text of a scores document (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
