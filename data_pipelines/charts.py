"""The ``charts`` source: bar / line / pie / scatter charts drawn by matplotlib from random
tables, with questions whose answers are computed from the table.

``vlmr data build charts --out data/charts --limit 1000 --kinds bar,line,pie,scatter``

Values are whole numbers printed on the chart, so every answer is readable from the
pixels. The table is kept in ``meta.table`` ({"labels": [...], "values": [...]}); scatter
tables list the points' x and y.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator

import numpy as np
from PIL import Image

from vlmr.data_pipelines.build import Built, shard_records

KINDS = ("bar", "line", "pie", "scatter")
CATEGORIES = ("Apples", "Pears", "Plums", "Kiwis", "Limes", "Figs", "Dates", "Grapes")
YEARS = tuple(str(y) for y in range(2015, 2025))


def render_chart(kind: str, labels: list[str], values: list[float], title: str, size: int = 224) -> Image.Image:
    """Draw one chart (values printed on it) and return it as an RGB PIL image ``size`` px wide."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size / 80, size / 80), dpi=80)
    fig.subplots_adjust(left=0.14, right=0.97, top=0.9, bottom=0.2)  # fixed margins: tight_layout is slow
    ax = fig.add_subplot()
    fig.text(0.5, 0.95, title, fontsize=8, ha="center")  # a figure text: axes titles cost a layout pass
    ax.tick_params(labelsize=6)
    if kind == "bar":
        bars = ax.bar(labels, values, color="#4878cf")
        ax.bar_label(bars, fontsize=6)
        ax.tick_params(axis="x", rotation=45)
        ax.set_yticks([])  # values are printed on the bars; fewer ticks also render faster
    elif kind == "line":
        ax.plot(labels, values, marker="o", color="#d65f5f")
        for x, y in zip(labels, values, strict=True):
            ax.annotate(f"{y:g}", (x, y), fontsize=6, textcoords="offset points", xytext=(0, 3), ha="center")
        ax.tick_params(axis="x", rotation=45)
        ax.set_yticks([])
        ax.margins(x=0.08, y=0.15)  # room for the value labels at the extremes
    elif kind == "pie":
        ax.pie(values, labels=[f"{lab} {v:g}%" for lab, v in zip(labels, values, strict=True)],
               textprops={"fontsize": 6})
    else:
        ax.scatter([float(x) for x in labels], values, s=12, color="#6acc65")
        ax.set_xticks([0, 50, 100])
        ax.set_yticks([0, 50, 100])
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy(), "RGB")


def make_table(kind: str, rng: np.random.Generator) -> tuple[list[str], list[float]]:
    """A random table for ``kind``; pie values are whole percentages summing to 100."""
    n = int(rng.integers(3, 7))
    if kind == "pie":
        cuts = np.sort(rng.choice(np.arange(5, 96), size=n - 1, replace=False))
        return [str(c) for c in rng.choice(CATEGORIES, size=n, replace=False)], [float(v) for v in np.diff([0, *cuts, 100])]
    if kind == "scatter":
        n = int(rng.integers(4, 13))
        return [str(int(x)) for x in rng.integers(0, 100, size=n)], [float(v) for v in rng.integers(0, 100, size=n)]
    labels = list(YEARS[:n]) if kind == "line" else [str(c) for c in rng.choice(CATEGORIES, size=n, replace=False)]
    values = [float(v) for v in rng.choice(np.arange(1, 100), size=n, replace=False)]  # distinct: unique extrema
    return labels, values


def ask(kind: str, labels: list[str], values: list[float], rng: np.random.Generator) -> tuple[str, dict]:
    """One question about the table and its answer (computed from the table)."""
    if kind == "scatter":
        return "How many points are in the scatter plot?", {"number": float(len(values)), "text": str(len(values))}
    unit = "%" if kind == "pie" else ""
    q = int(rng.integers(4))
    if q == 0:
        i = int(rng.integers(len(labels)))
        return f"What is the value for {labels[i]}?", {"number": values[i], "text": f"{values[i]:g}"}
    if q == 1:
        best = labels[int(np.argmax(values))]
        return "Which category has the highest value?", {"text": best}
    if q == 2:
        i, j = rng.choice(len(labels), size=2, replace=False)
        diff = abs(values[i] - values[j])
        return (f"What is the difference between {labels[i]} and {labels[j]}{' in percentage points' * bool(unit)}?",
                {"number": diff, "text": f"{diff:g}"})
    noun = {"bar": "bars", "line": "data points", "pie": "slices"}[kind]
    return f"How many {noun} are there in the chart?", {"number": float(len(values)), "text": str(len(values))}


def build_charts(
    *,
    seed: int = 0,
    limit: int | None = 1000,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
    kinds: str = "bar,line,pie,scatter",
    size: int = 224,
) -> Iterator[Built]:
    """Synthetic bar / line / pie / scatter charts with questions answered from their table.

    ``limit`` questions cycle through ``kinds`` (comma-separated).
    """
    names = [k.strip() for k in kinds.split(",") if k.strip()]
    if not names or set(names) - set(KINDS):
        raise ValueError(f"unknown chart kinds {names}; choose from {list(KINDS)}")

    def chart(i: int, _) -> Built:
        rng = np.random.default_rng([seed, zlib.crc32(split.encode()), i])  # splits never share samples
        kind = names[i % len(names)]
        labels, values = make_table(kind, rng)
        question, answer = ask(kind, labels, values, rng)
        image = render_chart(kind, labels, values, title=f"Chart {i}", size=size)
        name = f"charts/{split}-{i:06d}.png"
        return Built({"id": f"charts-{split}-{i:06d}", "task": "chart_qa", "source": "charts", "question": question,
                      "images": [f"media/{name}"], "answer": answer,
                      "meta": {"width": image.width, "height": image.height, "split": split, "kind": kind,
                               "table": {"labels": labels, "values": values}}},
                     {name: image})

    yield from shard_records(itertools.count(), chart, limit=1000 if limit is None else limit, shard=shard,
                             num_shards=num_shards)
