"""Side-by-side comparison of two result directories (``vlmr eval compare RUN_A RUN_B``).

When both runs are Avg@k runs (``--num-samples K``) the table also says, per metric, whether the two
95 % intervals of the mean are disjoint (``differ``) or overlap (``within noise``): a gain whose
interval overlaps the baseline's is not one the runs can tell from sampling noise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_scores(run: str | Path) -> dict[str, Any]:
    """``scores.json`` of a results directory (or the file itself)."""
    path = Path(run)
    if path.is_dir():
        path = path / "scores.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `vlmr eval run` or `vlmr eval score` first")
    return json.loads(path.read_text(encoding="utf-8"))


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, float | None, float | None, float | None]]:
    """``(name, A, B, B - A)`` for every overall metric and every breakdown group metric.

    >>> a = {"overall": {"acc": 0.5}, "breakdown": {"split": {"x": {"acc": 0.25, "n": 4}}}}
    >>> b = {"overall": {"acc": 0.75}, "breakdown": {}}
    >>> compare_rows(a, b)
    [('acc', 0.5, 0.75, 0.25), ('split=x acc', 0.25, None, None)]
    """
    rows = []

    def add(name, va, vb):
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        rows.append((name, va, vb, delta))

    for metric in sorted(set(a.get("overall", {})) | set(b.get("overall", {}))):
        add(metric, a.get("overall", {}).get(metric), b.get("overall", {}).get(metric))
    if a.get("tool_use") or b.get("tool_use"):  # with and without --tools: how often the model called one
        add("tool_call_rate", (a.get("tool_use") or {}).get("rate"), (b.get("tool_use") or {}).get("rate"))
    breakdown_a, breakdown_b = a.get("breakdown", {}), b.get("breakdown", {})
    for key in sorted(set(breakdown_a) | set(breakdown_b)):
        groups_a, groups_b = breakdown_a.get(key, {}), breakdown_b.get(key, {})
        for group in sorted(set(groups_a) | set(groups_b)):
            stats_a, stats_b = groups_a.get(group, {}), groups_b.get(group, {})
            for metric in sorted((set(stats_a) | set(stats_b)) - {"n"}):
                add(f"{key}={group} {metric}", stats_a.get(metric), stats_b.get(metric))
    return rows


def interval_verdicts(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, list[float], list[float], str]]:
    """``(name, A's ci95, B's ci95, verdict)`` for every overall and group metric both Avg@k runs carry.

    >>> run = lambda lo, hi: {"avg_at_k": {"overall": {"acc": {"ci95": [lo, hi]}}, "breakdown": {}}}
    >>> interval_verdicts(run(0.60, 0.64), run(0.66, 0.70))[0][3], interval_verdicts(run(0.6, 0.64), run(0.63, 0.7))[0][3]
    ('differ', 'within noise')
    """
    avg_a, avg_b = a.get("avg_at_k") or {}, b.get("avg_at_k") or {}
    pairs = [(m, avg_a["overall"][m], avg_b["overall"][m])
             for m in sorted(set(avg_a.get("overall", {})) & set(avg_b.get("overall", {})))]
    for key in sorted(set(avg_a.get("breakdown", {})) & set(avg_b.get("breakdown", {}))):
        groups_a, groups_b = avg_a["breakdown"][key], avg_b["breakdown"][key]
        for group in sorted(set(groups_a) & set(groups_b)):
            pairs += [(f"{key}={group} {m}", groups_a[group][m], groups_b[group][m])
                      for m in sorted(set(groups_a[group]) & set(groups_b[group]))]
    out = []
    for name, sa, sb in pairs:
        if sa.get("ci95") and sb.get("ci95"):
            (lo_a, hi_a), (lo_b, hi_b) = sa["ci95"], sb["ci95"]
            out.append((name, sa["ci95"], sb["ci95"], "differ" if hi_a < lo_b or hi_b < lo_a else "within noise"))
    return out


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def format_comparison(run_a: str | Path, run_b: str | Path) -> str:
    """A plain-text table comparing two runs, with a header naming benchmark and models."""
    a, b = load_scores(run_a), load_scores(run_b)
    if a.get("benchmark") != b.get("benchmark"):
        header = f"warning: different benchmarks ({a.get('benchmark')} vs {b.get('benchmark')})\n"
    else:
        header = ""
    table = compare_rows(a, b)
    width = max([len("metric")] + [len(r[0]) for r in table])
    lines = [
        f"{header}benchmark: {a.get('benchmark')}  A: {a.get('model')} (n={a.get('n')})  "
        f"B: {b.get('model')} (n={b.get('n')})",
        f"{'metric':<{width}}  {'A':>8}  {'B':>8}  {'B-A':>8}",
    ]
    for name, va, vb, delta in table:
        lines.append(f"{name:<{width}}  {_fmt(va):>8}  {_fmt(vb):>8}  {_fmt(delta, signed=True):>8}")
    verdicts = interval_verdicts(a, b)
    if verdicts:
        k_a, k_b = a["avg_at_k"]["k"], b["avg_at_k"]["k"]
        lines += ["", f"95% intervals of the mean (A: Avg@{k_a}, B: Avg@{k_b}):",
                  f"{'metric':<{width}}  {'A':>17}  {'B':>17}  verdict"]
        for name, ci_a, ci_b, verdict in verdicts:
            lines.append(f"{name:<{width}}  [{ci_a[0]:.4f}, {ci_a[1]:.4f}]  [{ci_b[0]:.4f}, {ci_b[1]:.4f}]  {verdict}")
    elif a.get("avg_at_k") or b.get("avg_at_k"):
        lines += ["", "only one run has intervals (run both with --num-samples K >= 2 to test a difference)"]
    return "\n".join(lines)
