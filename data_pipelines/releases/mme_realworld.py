"""MME-RealWorld and MME-RealWorld-Lite as released (``yifanzhang114/MME-RealWorld``) and as VLMEvalKit's TSV.

The release: a JSON list of rows ``Question_id, Image, Text, Answer choices ["(A) ...", ...],
Ground truth, Task, Subtask, Category``, images under an ``image_root`` at the row's ``Image`` path, or
under ``imgs/`` there, as the Lite release's ``data.zip`` holds them (``data/MME-RealWorld-Lite.json`` beside
``data/imgs/``).
``MME-RealWorld.tsv`` / ``mme_realworld_lite.tsv``: ``index, image, question, multi-choice options,
A``-``E, answer, category`` = ``Task/Subtask``, ``l2-category`` = the category; the Lite file has the
options only in ``multi-choice options``, as a Python list. The Hub copies lmms-eval reads
(``yifanzhang114/MME-RealWorld-Lmms-eval``, ``yifanzhang114/MME-RealWorld-lite-lmms-eval``, split
``train``) have the same fields, the options as a list, the image as base64 text in ``bytes``.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.files import file_under
from vlmr.data_pipelines.releases.highres import (
    OnSkip,
    embedded_rows,
    is_embedded,
    is_tsv,
    mcq_sample,
    media_root,
)
from vlmr.data_pipelines.releases.rows import each_row, read_rows
from vlmr.data_pipelines.releases.vlmevalkit_tsv import tsv_options
from vlmr.schema import Sample


def category_path(task: str, subtask: str, category: str) -> str:
    """The official grouping key of a category: lower case, ``*/attribute*`` merged per object.

    >>> category_path("Perception", "Monitoring", "Vehicle/attribute/color")
    'Perception/Monitoring/vehicle/attribute'
    """
    category = category.lower()
    if "attribute" in category:
        category = category.split("/")[0] + "/attribute"
    return f"{task}/{subtask}/{category}"


def _lettered(options: list[str]) -> list[str]:
    """``"(A) text"`` options as vlmr's ``"A. text"`` (a bare text gets the next letter)."""
    out = []
    for i, option in enumerate(options):
        m = re.match(r"^\s*\(([A-Z])\)\s*(.*)$", str(option), re.DOTALL)
        out.append(f"{m[1]}. {m[2].strip()}" if m else f"{string.ascii_uppercase[i]}. {str(option).strip()}")
    return out


def _embedded_options(row: dict[str, Any]) -> list[str]:
    """A TSV/Hub row's options: the ``A``-``E`` columns, else the list in ``multi-choice options``."""
    options = tsv_options(row)
    if options:
        return options
    listed = row.get("multi-choice options")
    if isinstance(listed, str):
        try:
            listed = ast.literal_eval(listed)
        except (ValueError, SyntaxError):
            return []
    return _lettered(list(listed)) if isinstance(listed, list | tuple) else []


def _meta(task: str, subtask: str, category: str) -> dict[str, Any]:
    return {"task": task, "domain": f"{task}/{subtask}", "category": category_path(task, subtask, category)}


def mme_realworld_samples(path: str | Path, on_skip: OnSkip, name: str = "mme_realworld",
                          image_root: str | Path | None = None, split: str | None = None) -> list[Sample]:
    """Every question of the release's JSON at ``path`` (images under ``image_root``), or of a TSV or
    Hub copy (``split``); ``name`` is the samples' source."""
    root = media_root(path, image_root)

    def released(i: int, row: dict[str, Any]) -> Sample | None:
        image = file_under(root, (row["Image"], f"imgs/{row['Image']}"))
        if image is None:
            on_skip("image file not found")
            return None
        return mcq_sample(str(row["Question_id"]), name, row["Text"], _lettered(row["Answer choices"]),
                          row["Ground truth"], [image], root, _meta(row["Task"], row["Subtask"], row["Category"]),
                          on_skip)

    def embedded(i: int, row: dict[str, Any]) -> Sample | None:
        task, subtask = str(row["category"]).split("/", 1)
        return mcq_sample(str(row["index"]), name, row["question"], _embedded_options(row), row["answer"],
                          row["_images"], root, _meta(task, subtask, str(row.get("l2-category") or "")), on_skip)

    if is_embedded(path):
        rows = embedded_rows(path, on_skip, name, split, image_column="image" if is_tsv(path) else "bytes")
        return each_row(rows, embedded, on_skip)
    return each_row(read_rows(path), released, on_skip)
