"""V* Bench as released (``craigwu/vstar_bench``), its Hub copy and VLMEvalKit's TSV.

The release: ``direct_attributes/`` and ``relative_position/`` with each image beside a JSON of the
same name (``target_object, bbox, question, options``, the correct option first), and
``test_questions.jsonl`` (``image, text`` = question + ``(A) ...`` options + instruction,
``category, question_id, label``). A folder with ``test_questions.jsonl`` is read through it;
without it, through the per-image JSON files, their options in an order drawn from the image name.
The Hub copy ``lmms-lab/vstar-bench`` has the jsonl's fields with the image embedded;
``VStarBench.tsv`` has ``index, image, question, A``-``D``, ``answer, category``.
"""

from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import OnSkip, embedded_rows, is_embedded, mcq_sample, media_root
from vlmr.data_pipelines.releases.rows import each_row, read_rows
from vlmr.data_pipelines.releases.vlmevalkit_tsv import tsv_options
from vlmr.schema import Sample

CATEGORIES = ("direct_attributes", "relative_position")
_OPTION_LINE = re.compile(r"^\(([A-Z])\)\s*(.*)$")


def split_text(text: str) -> tuple[str, list[str]]:
    """``(question, ["A. ...", ...])`` of a ``test_questions.jsonl`` text: the lines before the first
    ``(A)``, then one option per ``(X)`` line; the instruction after the options is dropped.

    >>> split_text("What is the color of the cup?\\n(A) red\\n(B) blue\\nAnswer with the option's letter.")
    ('What is the color of the cup?', ['A. red', 'B. blue'])
    """
    question, options = [], []
    for line in str(text).splitlines():
        m = _OPTION_LINE.match(line.strip())
        if m:
            options.append(f"{m[1]}. {m[2].strip()}")
        elif not options:
            question.append(line)
    return "\n".join(question).strip(), options


def ordered_options(options: list[str], seed: str) -> tuple[list[str], str]:
    """The folder layout's options (correct first) in an order drawn from ``seed``, lettered, and
    the correct letter.

    >>> ordered_options(["rubber", "cotton", "kevlar", "leather"], "direct_attributes/sa_4690.jpg")
    (['A. rubber', 'B. cotton', 'C. leather', 'D. kevlar'], 'A')
    """
    order = list(range(len(options)))
    random.Random(seed).shuffle(order)
    lettered = [f"{string.ascii_uppercase[i]}. {options[j]}" for i, j in enumerate(order)]
    return lettered, string.ascii_uppercase[order.index(0)]


def vstar_samples(path: str | Path, on_skip: OnSkip, split: str | None = None) -> list[Sample]:
    """Every question of the release, Hub copy (``split``) or TSV at ``path``, images relative to
    :func:`~vlmr.data_pipelines.releases.highres.media_root`."""
    path = Path(path)
    root = media_root(path)

    def mcq(key: Any, question: Any, options: list[str], letter: Any, images: list[str], category: Any
            ) -> Sample | None:
        return mcq_sample(str(key), "vstar", question, options, letter, images, root, {"category": str(category)},
                          on_skip)

    def embedded(i: int, row: dict[str, Any]) -> Sample | None:
        if "text" in row:  # lmms-lab/vstar-bench: the jsonl's fields, image embedded
            question, options = split_text(row["text"])
            return mcq(row["question_id"], question, options, row["label"], row["_images"], row["category"])
        return mcq(row["index"], row["question"], tsv_options(row), row["answer"], row["_images"], row["category"])

    def listed(i: int, row: dict[str, Any]) -> Sample | None:
        if not (root / row["image"]).is_file():
            on_skip("image file not found")
            return None
        question, options = split_text(row["text"])
        return mcq(row["question_id"], question, options, row["label"], [row["image"]], row["category"])

    def annotated(i: int, annotation: Path) -> Sample | None:
        row = json.loads(annotation.read_text(encoding="utf-8"))  # one object per image (a bad file: skipped)
        image = next((p for p in annotation.parent.glob(annotation.stem + ".*") if p.suffix != ".json"), None)
        if image is None:
            on_skip("image file not found")
            return None
        rel = image.relative_to(root).as_posix()
        options, letter = ordered_options([str(o) for o in row["options"]], rel)
        return mcq(rel.rsplit(".", 1)[0], row["question"], options, letter, [rel], annotation.parent.name)

    if is_embedded(path):
        return each_row(embedded_rows(path, on_skip, "vstar", split), embedded, on_skip)
    if path.is_dir() and not (path / "test_questions.jsonl").is_file():
        annotations = [p for category in CATEGORIES for p in sorted((path / category).glob("*.json"))]
        if not annotations:
            raise FileNotFoundError(f"no V* questions in {path}: expected test_questions.jsonl or "
                                    f"{'/, '.join(CATEGORIES)}/ with per-image JSON files")
        return each_row(annotations, annotated, on_skip)
    return each_row(read_rows(path / "test_questions.jsonl" if path.is_dir() else path), listed, on_skip)
