"""TreeBench as released (``HaochenWang/TreeBench``): ``TreeBench.tsv`` (VLMEvalKit's TSV: ``index,
image, question, A``-``E, answer, category``, ``target_instances``: a Python list of
``[x1, y1, x2, y2]`` boxes in original pixels; ``multi-choice options``: the options as one text, which the
authors' ``inference_treebench.py`` puts in its prompt), or a Hub copy with those columns. A row whose
``A``-``E`` cells are empty takes its options from that text.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import OnSkip, embedded_rows, mcq_sample, media_root
from vlmr.data_pipelines.releases.rows import each_row
from vlmr.data_pipelines.releases.vlmevalkit_tsv import tsv_options
from vlmr.schema import Sample

_OPTION_LINE = re.compile(r"\s*\(?([A-Z])\s*[.):]\s*(.*?)\s*")


def text_options(text: Any) -> list[str]:
    """``["A. text", ...]`` from a ``multi-choice options`` text, one lettered option per line, the letters
    in order from A (a line out of that order ends the list).

    >>> text_options("A. red\\n(B) white\\nC: blue"), text_options(""), text_options("B. red")
    (['A. red', 'B. white', 'C. blue'], [], [])
    """
    options: list[str] = []
    for line in str(text or "").splitlines():
        m = _OPTION_LINE.fullmatch(line)
        if not m or m[1] != string.ascii_uppercase[len(options)] or not m[2]:
            break
        options.append(f"{m[1]}. {m[2]}")
    return options


def treebench_samples(path: str | Path, on_skip: OnSkip, split: str | None = None) -> list[Sample]:
    """Every row of the TSV or Hub copy (``split``) at ``path``; the target boxes in ``answer["boxes"]``."""
    root = media_root(path)

    def sample(i: int, row: dict[str, Any]) -> Sample | None:
        try:
            targets = ast.literal_eval(str(row.get("target_instances") or "[]"))
        except (ValueError, SyntaxError):
            targets = None
        if not isinstance(targets, list) or not all(isinstance(t, list | tuple) and len(t) == 4 for t in targets):
            on_skip("target_instances is not a list of [x1, y1, x2, y2] boxes")
            return None
        options = tsv_options(row) or text_options(row.get("multi-choice options"))
        made = mcq_sample(str(row["index"]), "treebench", row["question"], options, row["answer"],
                          row["_images"], root, {"category": str(row["category"])}, on_skip)
        if made is not None:
            made.answer["boxes"] = [[float(v) for v in t] for t in targets]
        return made

    return each_row(embedded_rows(path, on_skip, "treebench", split), sample, on_skip)
