"""RefCOCO / RefCOCO+ / RefCOCOg rows in the forms they are published in.

VLM-R1's ``rec_jsons_processed`` rows ``{"image", "normal_caption" | "problem", "solution":
[x1, y1, x2, y2]}``; COCO-style rows ``{"file_name", "sentence", "bbox": [x, y, w, h]}``; and
lmms-eval's ``lmms-lab/RefCOCO*`` rows, whose referring expressions are the ``answer`` list.
"""

from __future__ import annotations

from typing import Any

from vlmr.formats import xywh_to_xyxy


def expressions(row: dict[str, Any]) -> list[tuple[str, list[float]]]:
    """``[(expression, xyxy box)]`` of one row in any supported form (several for lmms-eval rows).

    >>> expressions({"question": "Describe the region.", "answer": ["man left", "guy in red"], "bbox": [1, 2, 3, 4]})
    [('man left', [1.0, 2.0, 4.0, 6.0]), ('guy in red', [1.0, 2.0, 4.0, 6.0])]
    """
    if "solution" in row:
        return [(row.get("normal_caption") or row["problem"], [float(v) for v in row["solution"]])]
    box = xywh_to_xyxy(row["bbox"])
    if isinstance(row.get("answer"), list | tuple):  # lmms-eval: the expressions are the answers
        return [(str(text), box) for text in row["answer"]]
    return [(row.get("sentence") or row["question"], box)]
