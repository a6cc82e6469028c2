"""ReasonSeg as released (Lai et al., LISA, CVPR 2024) and Seg-Zero's Hub copies.

A split folder holds ``NAME.jpg`` next to a LabelMe ``NAME.json`` (``text`` queries,
``is_sentence``, ``shapes`` polygons labelled ``target``, ``ignore`` or ``flag``). The Hub copies
``Ricky06662/ReasonSeg_val`` / ``ReasonSeg_test`` carry ``image, text, mask: list[list[bool]],
image_id, ann_id, img_height, img_width``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vlmr.data_pipelines.releases.hub import ImageCell

IMAGE_SUFFIXES = (".jpg", ".png", ".jpeg")


def read_labelme(path: Path) -> dict[str, Any]:
    """One LabelMe annotation file (``OSError``/``ValueError`` when it cannot be read)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:  # a few released files are cp1252, LISA reads them the same way
        return json.loads(path.read_text(encoding="cp1252"))


def image_beside(ann_path: Path) -> Path | None:
    """The image next to an annotation file (same name, ``.jpg``, ``.png`` or ``.jpeg``), if any."""
    return next((p for p in (ann_path.with_suffix(s) for s in IMAGE_SUFFIXES) if p.exists()), None)


def hub_fields(row: dict[str, Any]) -> tuple[str, ImageCell | None, np.ndarray | None]:
    """``(query, image, (H, W) bool mask)`` of a Seg-Zero ReasonSeg Hub row.

    >>> query, _, mask = hub_fields({"text": " the cup ", "image": None, "mask": [[False, True]]})
    >>> query, mask.shape, int(mask.sum())
    ('the cup', (1, 2), 1)
    """
    mask = np.asarray(row["mask"], dtype=bool) if row.get("mask") else None
    return str(row["text"]).strip(), row.get("image"), mask if mask is not None and mask.ndim == 2 else None
