"""TreeBench as released (``HaochenWang/TreeBench``): ``TreeBench.tsv`` (VLMEvalKit's TSV: ``index,
image, question, A``-``E, answer, category``, ``target_instances``: a Python list of
``[x1, y1, x2, y2]`` boxes in original pixels; ``multi-choice options``: the options as one text, which the
authors' ``inference_treebench.py`` puts in its prompt), or a Hub copy with those columns. The options are
read from that text, as the authors' script shows them; the ``A``-``E`` cells only when it has none: the OCR
rows leave the cells empty (their options are in the picture) and a row whose text puts two options on one
line has them shifted, its answer's option missing.
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

_MARKER = re.compile(r"\(?([A-Z])(?:\s*[.):]|\s)\s*")  # "A. ", "(A) ", "A: ", "A " at a line's start


def text_options(text: Any) -> list[str]:
    """``["A. text", ...]`` from a ``multi-choice options`` text: the letters in order from A, each opening a
    line (``A.``, ``(A)``, ``A:`` or ``A`` and a space) or, as the release writes some, following the previous
    option on its line (``A. text. B. text``); a line that opens with no letter or an out-of-order one (a
    repeated letter) ends the list.

    >>> text_options("A. red\\n(B) white\\nC: blue"), text_options("A Cast iron \\nB. gold  C. black\\nC. again")
    (['A. red', 'B. white', 'C. blue'], ['A. Cast iron', 'B. gold', 'C. black'])
    >>> text_options(""), text_options("B. red")
    ([], [])
    """
    options: list[str] = []
    for line in str(text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        m = _MARKER.match(line)
        if not m or len(options) == 26 or m[1] != string.ascii_uppercase[len(options)]:
            break
        rest: str | None = line[m.end():]
        while rest is not None:
            follower = string.ascii_uppercase[len(options) + 1] if len(options) < 25 else None
            inline = re.search(rf"\s\(?{follower}[.)]\s+", rest) if follower else None
            option = (rest[: inline.start()] if inline else rest).strip()
            if not option:
                return options
            options.append(f"{string.ascii_uppercase[len(options)]}. {option}")
            rest = rest[inline.end():] if inline else None
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
        options = text_options(row.get("multi-choice options")) or tsv_options(row)
        made = mcq_sample(str(row["index"]), "treebench", row["question"], options, row["answer"],
                          row["_images"], root, {"category": str(row["category"])}, on_skip)
        if made is not None:
            made.answer["boxes"] = [[float(v) for v in t] for t in targets]
        return made

    return each_row(embedded_rows(path, on_skip, "treebench", split), sample, on_skip)
