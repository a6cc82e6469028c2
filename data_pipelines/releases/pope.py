"""POPE's question files as released (``RUCAIBox/POPE``, ``output/``).

Nine files, one per dataset and negative-sampling setting: ``coco/coco_pope_{random,popular,
adversarial}.json`` and ``seem/{aokvqa,gqa}/{aokvqa,gqa}_pope_seem_{...}.json``, 3,000 questions
each, rows ``{"question_id", "image", "text", "label": "yes"|"no"}``. The COCO files are JSON Lines
despite their ``.json`` suffix and the SEEM ones (A-OKVQA, GQA) JSON lists: the content decides.
A line that is not a JSON object stays in place as ``None`` so its reader can skip and count it.

>>> import os, tempfile
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "coco_pope_random.json")
>>> _ = open(p, "w").write('{"question_id": 1, "text": "Is there a car?", "label": "no"}\\n{"broken\\n')
>>> pope_rows(p), pope_setting(p)
([{'question_id': 1, 'text': 'Is there a car?', 'label': 'no'}, None], ('coco', 'random'))
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vlmr.schema import SchemaError

_NAME = re.compile(r"^(?P<dataset>[a-z]+)_pope_(?:seem_)?(?P<setting>random|popular|adversarial)$")
SETTINGS = ("random", "popular", "adversarial")


def pope_files(folder: str | Path) -> list[Path]:
    """The POPE question files under ``folder`` (any depth), in name order."""
    return sorted(p for p in Path(folder).rglob("*_pope_*.json") if _NAME.match(p.stem))


def pope_setting(path: str | Path) -> tuple[str, str]:
    """``(dataset, setting)`` a file's name declares (``gqa_pope_seem_popular.json`` -> ``("gqa", "popular")``)."""
    m = _NAME.match(Path(path).stem)
    if not m:
        raise ValueError(f"{path}: not a POPE file name (<dataset>_pope_[seem_]<random|popular|adversarial>.json)")
    return m["dataset"], m["setting"]


def pope_rows(path: str | Path) -> list[dict[str, Any] | None]:
    """The rows of one POPE file, a JSON list or JSON Lines; a line that is not a JSON object is ``None``."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise SchemaError(f"{path}: not UTF-8 text (byte {e.start})") from e
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as e:
            raise SchemaError(f"{path}: not one JSON list ({e})") from e
        return [row if isinstance(row, dict) else None for row in rows]
    out: list[dict[str, Any] | None] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        out.append(row if isinstance(row, dict) else None)
    return out
