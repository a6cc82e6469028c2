"""Medical VQA releases: VQA-RAD (Lau et al., 2018) and SLAKE (Liu et al., ISBI 2021).

VQA-RAD's ``VQA_RAD Dataset Public.json`` (rows ``{"qid", "phrase_type", "image_name",
"question", "answer", "answer_type", "image_organ", ...}``) keeps its split in ``phrase_type``
and writes ``answer_type`` with stray spaces (``"CLOSED "``); SLAKE's ``{train,validate,test}.json``
rows carry ``img_name``, ``q_lang`` and ``answer_type``. Hub copies (``flaviagiammarino/vqa-rad``:
``image, question, answer``) may have no ``answer_type`` at all.
"""

from __future__ import annotations

import re
from typing import Any


def row_split(row: dict[str, Any]) -> str:
    """A VQA-RAD row's split from its ``phrase_type`` (``test_freeform``/``test_para`` -> test).

    >>> row_split({"phrase_type": "test_para"}), row_split({"phrase_type": "freeform"})
    ('test', 'train')
    """
    return "test" if str(row.get("phrase_type", "")).startswith("test") else "train"


def answer_type(row: dict[str, Any]) -> str:
    """``CLOSED`` or ``OPEN``: the release's (stray spaces stripped), else a yes/no answer (case and
    punctuation aside) is closed, as the releases label them.

    >>> answer_type({"answer_type": "CLOSED "}), answer_type({"answer": "No."}), answer_type({"answer": 4})
    ('CLOSED', 'CLOSED', 'OPEN')
    """
    if row.get("answer_type"):
        return str(row["answer_type"]).strip().upper()
    return "CLOSED" if re.sub(r"[^\w\s]", " ", str(row.get("answer", "")).lower()).split() in (["yes"], ["no"]) \
        else "OPEN"
