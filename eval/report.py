"""Human-readable outputs of a run: ``report.md``, plots and an HTML gallery of the worst cases.

``scores.json`` is the machine-readable result (see :mod:`vlmr.eval.scoring`); this module
adds what a person reads: tables of the overall and per-group numbers, per-group bar
charts, IoU histograms, a count calibration plot, and the lowest-scoring samples with
ground truth (green) and prediction (red) drawn over the image.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vlmr.eval.predictions import write_atomic
from vlmr.media.image import open_rgb
from vlmr.schema import Sample, resolve_media

logger = logging.getLogger(__name__)

GREEN, RED = (40, 200, 80), (230, 40, 40)
IOU_KEYS = ("iou", "giou", "miou")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table.

    >>> print(markdown_table(["metric", "value"], [["acc", 0.5]]))
    | metric | value |
    |---|---|
    | acc | 0.5000 |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(scores: dict[str, Any], plots: Sequence[str], gallery: str | None) -> str:
    """``report.md`` text from a scores document and the relative paths of plots/gallery."""
    parts = [
        f"# {scores['benchmark']} — {scores.get('model') or 'predictions'}",
        "",
        f"- samples: {scores['n']} (missing predictions: {scores['n_missing']}, errors: {scores['n_errors']})",
        f"- coordinate convention: {scores['coordinate_convention']}",
        f"- data: `{scores['data']}`",
        f"- command: `{scores['command']}`",
        *[f"- **warning**: {w}" for w in scores.get("warnings", [])],
        *[f"- skipped rows: {n} ({reason})" for reason, n in scores.get("skipped_rows", {}).items()],
        "",
        "## Headline",
        "",
        markdown_table(["", "metric", "value", "rule"], [
            [role, r["metric"], "n/a" if r["value"] is None else r["value"], r["rule"]]
            for role, key in (("headline", "headline"), ("alternative", "alternatives")) for r in scores.get(key, [])
        ]),
        "",
        "## Overall",
        "",
        markdown_table(["metric", "value"], sorted(scores["overall"].items())),
    ]
    for key, groups in scores["breakdown"].items():
        metrics = sorted({m for g in groups.values() for m in g if m != "n"})
        rows = [[group, *(stats.get(m, "") for m in metrics), stats["n"]] for group, stats in groups.items()]
        parts += ["", f"## By {key}", "", markdown_table([key, *metrics, "n"], rows)]
    if plots:
        parts += ["", "## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots]
    if gallery:
        parts += ["", f"Worst cases: [{gallery}]({gallery})"]
    return "\n".join(parts) + "\n"


def make_plots(out_dir: Path, scores: dict[str, Any], rows: Sequence[dict[str, Any]],
               samples: Sequence[Sample]) -> list[str]:
    """Per-group bars of the primary metric, IoU histograms, count calibration; relative paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_dir = out_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    made: list[str] = []
    primary = scores["primary_metric"]

    def save(fig, name: str) -> None:
        fig.tight_layout()
        fig.savefig(plot_dir / name, dpi=90)
        plt.close(fig)
        made.append(f"plots/{name}")

    for key, groups in scores["breakdown"].items():
        items = [(g, s[primary]) for g, s in groups.items() if primary in s][:40]
        if len(items) < 2:
            continue
        fig, ax = plt.subplots(figsize=(max(4, 0.4 * len(items) + 2), 3.2))
        ax.bar([g for g, _ in items], [v for _, v in items], color="#4477aa")
        ax.set_ylabel(primary)
        ax.set_title(f"{scores['benchmark']}: {primary} by {key}")
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        save(fig, f"by_{key}.png")
    for key in IOU_KEYS:
        values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
        if values:
            fig, ax = plt.subplots(figsize=(4.5, 3))
            ax.hist([min(v, 1.0) for v in values], bins=20, range=(0, 1), color="#cc6677")
            ax.set_xlabel(key)
            ax.set_ylabel("samples")
            save(fig, f"hist_{key}.png")
    pairs = [(s.answer["count"], r["_pred_count"]) for s, r in zip(samples, rows, strict=True)
             if "count" in s.answer and r.get("_pred_count") is not None]
    if pairs:
        fig, ax = plt.subplots(figsize=(3.8, 3.8))
        top = max(max(p) for p in pairs) + 1
        ax.scatter([t for t, _ in pairs], [p for _, p in pairs], alpha=0.5)
        ax.plot([0, top], [0, top], "k--", linewidth=1)
        ax.set_xlabel("true count")
        ax.set_ylabel("predicted count")
        save(fig, "count_calibration.png")
    return made


def _draw(image, sample: Sample, row: dict[str, Any]):
    """Image with ground truth (green) and prediction (red): boxes, points, masks."""
    from PIL import ImageDraw

    from vlmr.masks import rle_to_mask
    from vlmr.render import tint

    canvas = image.convert("RGB")
    for rle, color in ((row.get("_gt_mask"), GREEN), (row.get("_pred_mask"), RED)):
        if rle:
            canvas = tint(canvas, rle_to_mask(rle), color, 0.5)
    draw = ImageDraw.Draw(canvas)
    width = max(2, round(max(canvas.size) / 200))
    for box in sample.answer.get("boxes", []):
        draw.rectangle(box, outline=GREEN, width=width)
    for box in row.get("_pred_boxes") or []:
        if all(math.isfinite(v) for v in box) and box[2] >= box[0] and box[3] >= box[1]:
            draw.rectangle(box, outline=RED, width=width)
    for x, y in row.get("_pred_points") or []:
        draw.ellipse([x - 3 * width, y - 3 * width, x + 3 * width, y + 3 * width], outline=RED, width=width)
    return canvas


def make_gallery(out_dir: Path, scores: dict[str, Any], rows: Sequence[dict[str, Any]], samples: Sequence[Sample],
                 predictions: dict[str, dict[str, Any]], root: Path, n_worst: int = 24) -> str | None:
    """``gallery.html`` with the ``n_worst`` lowest-scoring samples; returns its relative path."""
    from PIL import Image

    primary = scores["primary_metric"]
    scored = [(r[primary], i) for i, r in enumerate(rows) if isinstance(r.get(primary), int | float)]
    if not scored:
        return None
    img_dir = out_dir / "gallery"
    img_dir.mkdir(parents=True, exist_ok=True)
    cards = []
    for value, i in sorted(scored)[:n_worst]:
        sample, row = samples[i], rows[i]
        picture = ""
        if sample.images:
            try:
                drawn = _draw(open_rgb(resolve_media(root, sample.images[0])), sample, row)
                drawn.thumbnail((512, 512))
                factor = max(1, 256 // max(drawn.size))  # blow tiny images up so the overlay is visible
                drawn = drawn.resize((drawn.width * factor, drawn.height * factor), Image.Resampling.NEAREST)
                name = f"{i:05d}.png"
                drawn.save(img_dir / name)
                picture = f'<img src="gallery/{name}" alt="{html.escape(sample.id)}">'
            except (OSError, ValueError) as e:
                logger.warning("gallery: cannot draw %s (%s)", sample.id, e)
        response = (predictions.get(sample.id) or {}).get("response", "")
        extras = {k[1:]: v for k, v in row.items() if k.startswith("_") and not k.endswith("mask")}
        cards.append(
            f'<div class="card">{picture}<p><b>{html.escape(sample.id)}</b> — {primary} = {value:.3f}</p>'
            f"<p><b>Q:</b> {html.escape(sample.question)}</p>"
            f"<p><b>Gold:</b> {html.escape(str(sample.answer))}</p>"
            f"<pre>{html.escape(str(response))}</pre>"
            f"<p><small>{html.escape(str(extras))}</small></p></div>"
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(scores['benchmark'])}: worst cases</title><style>"
        "body{font-family:sans-serif;margin:1em}.card{display:inline-block;vertical-align:top;width:520px;"
        "margin:6px;padding:6px;border:1px solid #ccc}pre{white-space:pre-wrap;background:#f6f6f6;"
        "max-height:12em;overflow:auto}img{max-width:512px}</style></head><body>"
        f"<h1>{html.escape(scores['benchmark'])}: {len(cards)} worst by {primary}</h1>"
        "<p>green: ground truth, red: prediction</p>" + "".join(cards) + "</body></html>"
    )
    write_atomic(out_dir / "gallery.html", page)
    return "gallery.html"


def write_report(out_dir: str | Path, scores: dict[str, Any], rows: Sequence[dict[str, Any]],
                 samples: Sequence[Sample], predictions: dict[str, dict[str, Any]], root: Path) -> Path:
    """Write plots, ``gallery.html`` and ``report.md`` into ``out_dir``; returns the report path."""
    out_dir = Path(out_dir)
    plots = make_plots(out_dir, scores, rows, samples)
    gallery = make_gallery(out_dir, scores, rows, samples, predictions, root)
    path = out_dir / "report.md"
    write_atomic(path, render_markdown(scores, plots, gallery))
    return path
