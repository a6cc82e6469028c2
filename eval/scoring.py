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

from vlmr.eval.predictions import PredictionsFile, first_items
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
    n_malformed: int = 0  # predictions lines skipped as unreadable
    n_unknown: int = 0  # predictions whose id is not among the samples scored
    n_invalid: int = 0  # samples whose prediction could not be used (e.g. a bad mask_rle), scored 0
    tool_use: dict[str, float] | None = None  # tool-call rate of the predictions that record their calls


def score_predictions(
    benchmark: Benchmark,
    samples: list[Sample],
    predictions: dict[str, dict[str, Any]] | PredictionsFile,
    ctx: ScoreContext,
) -> ScoreResult:
    """Run ``process_results`` on every sample and aggregate overall and per group.

    ``predictions``: rows by id, or the :class:`~vlmr.eval.predictions.PredictionsFile` they were
    read from, whose skipped lines and repeated ids then count in the result too.
    """
    source = predictions if isinstance(predictions, PredictionsFile) else None
    predictions = source.rows if source is not None else predictions
    benchmark.prepare_scoring(samples, predictions, ctx)
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
    unknown = sorted(set(predictions) - {sample.id for sample in samples})
    invalid = [f"{row['id']} ({row['_invalid']})" for row in rows if row.get("_invalid")]
    warnings = _frame_warnings(rows)
    if unknown:
        warnings.append(f"{len(unknown)} prediction(s) have ids that are not among the {len(samples)} samples "
                        f"scored, and are ignored: {first_items(unknown)}")
    if invalid:
        warnings.append(f"{len(invalid)} of {len(samples)} samples have a prediction that cannot be used and score 0: "
                        f"{first_items(invalid)}")
    for warning in warnings:
        logger.warning(warning)
    if source is not None:
        warnings = source.warnings() + warnings  # already logged when the file was read
    return ScoreResult(
        tool_use=tool_use([predictions.get(sample.id) for sample in samples]),
        overall=benchmark.aggregate(rows),
        breakdown=benchmark.breakdown(samples, rows),
        rows=rows,
        n=len(samples),
        n_missing=missing,
        n_errors=errors,
        warnings=warnings,
        n_malformed=len(source.malformed) if source is not None else 0,
        n_unknown=len(unknown),
        n_invalid=len(invalid),
    )


def tool_use(predictions: list[dict[str, Any] | None]) -> dict[str, float] | None:
    """``{"rate", "mean_calls", "n"}`` over the predictions that record ``n_tool_calls`` (``vlmr eval run``
    writes it), or ``None`` when none does (a predictions file made elsewhere).

    >>> tool_use([{"n_tool_calls": 2}, {"n_tool_calls": 0}, None])
    {'rate': 0.5, 'mean_calls': 1.0, 'n': 2}
    """
    counts = [p["n_tool_calls"] for p in predictions if p and isinstance(p.get("n_tool_calls"), int)]
    if not counts:
        return None
    return {"rate": sum(c > 0 for c in counts) / len(counts), "mean_calls": sum(counts) / len(counts),
            "n": len(counts)}


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
        "n_malformed": result.n_malformed,
        "n_unknown": result.n_unknown,
        "n_invalid": result.n_invalid,
        "tool_use": result.tool_use,
        "warnings": result.warnings,
        "command": command,
        "model": model,
        "data": data,
        "coordinate_convention": ctx.describe_convention(),
        "judge": None if ctx.judge is None else {"api_base": ctx.judge.api_base, "model": ctx.judge.model},
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
