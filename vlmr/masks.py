"""Masks, once, on pycocotools: binary arrays <-> COCO RLE, polygons, tight boxes, LISA's label
map, the check of an untrusted RLE, and the segmenter contract.

A mask travels (records, ``predictions.jsonl``, rewards) as compressed COCO RLE with string
counts, ``{"size": [h, w], "counts": str}``; :func:`to_rle` gives pycocotools' own form
(bytes counts) for its functions. A base layer: it imports nothing else of vlmr.

>>> m = np.zeros((4, 5), dtype=bool); m[1:3, 2:4] = True
>>> rle = mask_to_rle(m)
>>> rle
{'size': [4, 5], 'counts': '92203'}
>>> bool((rle_to_mask(rle) == m).all()), mask_box(m)
(True, [2, 1, 4, 3])
>>> checked_mask({"size": [100000, 100000], "counts": "0"}, height=4, width=5)
Traceback (most recent call last):
...
vlmr.masks.MaskError: mask size [100000, 100000] is not the image's [4, 5] (height, width)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from pycocotools import mask as mask_utils

MaskLike = Any  # COCO RLE dict | polygon list | {"polygon": [...]} | binary np.ndarray (H, W)

IGNORE = 255  # LISA's label of an ignore region (left out of intersection and union)


class MaskError(ValueError):
    """An RLE that cannot be the mask of its image; the message says what is wrong with it."""


def to_rle(mask: MaskLike, height: int | None = None, width: int | None = None) -> dict:
    """Any mask form as pycocotools' compressed RLE (``counts`` as bytes).

    Accepts a binary array (H, W) (any non-zero value is set), a COCO RLE dict (string, bytes
    or list counts), a polygon list ``[[x1, y1, x2, y2, ...], ...]`` / ``[[x, y], ...]`` or
    ``{"polygon": [...]}``; polygons need ``height``/``width``.

    >>> rle = to_rle(np.eye(3, dtype=np.uint8))
    >>> rle["size"], int(mask_utils.area(rle))
    ([3, 3], 3)
    >>> int(mask_utils.area(to_rle([[0, 0, 4, 0, 4, 4, 0, 4]], height=8, width=8)))
    16
    """
    if isinstance(mask, np.ndarray):
        return mask_utils.encode(np.asfortranarray((mask != 0).astype(np.uint8)))
    if isinstance(mask, dict) and "counts" in mask:
        h, w = (int(v) for v in mask["size"])
        counts = mask["counts"]
        if isinstance(counts, list):
            return mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
        return {"size": [h, w], "counts": counts.encode() if isinstance(counts, str) else counts}
    polygon = mask.get("polygon") if isinstance(mask, dict) else mask
    if height is None or width is None:
        raise ValueError("a polygon mask needs height and width to be rasterised")
    polys = _polygons(polygon)
    if not polys:
        return mask_utils.encode(np.zeros((height, width), dtype=np.uint8, order="F"))
    return mask_utils.merge(mask_utils.frPyObjects(polys, height, width))


def _polygons(polygon: Any) -> list[list[float]]:
    """Polygon input as flat ``[x, y, ...]`` lists with >= 3 finite points."""
    if not polygon:
        return []
    first = polygon[0]
    if isinstance(first, int | float):
        polys = [list(polygon)]
    elif isinstance(first, Sequence) and first and isinstance(first[0], int | float) and len(first) == 2:
        polys = [[float(v) for pt in polygon for v in pt]]  # [[x, y], [x, y], ...]
    else:
        polys = [[float(v) for v in p] for p in polygon]
    return [p for p in polys if len(p) >= 6 and len(p) % 2 == 0 and all(np.isfinite(p))]


def mask_to_rle(mask: MaskLike, height: int | None = None, width: int | None = None) -> dict:
    """Any mask form (see :func:`to_rle`) as JSON-safe compressed RLE ``{"size": [h, w], "counts": str}``.

    >>> mask_to_rle(np.eye(2, dtype=bool))
    {'size': [2, 2], 'counts': '0120'}
    """
    rle = to_rle(mask, height, width)
    counts = rle["counts"]
    return {"size": [int(v) for v in rle["size"]], "counts": counts.decode("ascii") if isinstance(counts, bytes)
            else counts}


def rle_to_mask(mask: MaskLike, height: int | None = None, width: int | None = None) -> np.ndarray:
    """Any mask form (see :func:`to_rle`) as a boolean (H, W) array."""
    if isinstance(mask, np.ndarray):
        return mask != 0
    return mask_utils.decode(to_rle(mask, height, width)).astype(bool)


def rle_problem(rle: Any, height: int | None = None, width: int | None = None) -> str | None:
    """Why ``rle`` is not a consistent COCO RLE of a ``height x width`` mask (any size if not given);
    ``None`` if it is one. Nothing is decoded: pycocotools trusts its input, and an RLE whose runs
    do not add up to its size makes it read garbage or loop forever.

    >>> rle_problem({"size": [2, 2], "counts": [1, 2, 1]}), rle_problem({"size": [2, 2], "counts": "11"})
    (None, 'mask counts cover 2 pixels, the mask has 4')
    """
    if not (isinstance(rle, dict) and "size" in rle and "counts" in rle):
        return f"a mask must be COCO RLE {{'size': [h, w], 'counts': ...}}, got {_short(rle)}"
    size = rle["size"]
    if not (isinstance(size, list | tuple) and len(size) == 2 and all(type(v) is int and v >= 0 for v in size)):
        return f"mask size must be [height, width], got {_short(size)}"
    if height is not None and list(size) != [height, width]:
        return f"mask size {list(size)} is not the image's [{height}, {width}] (height, width)"
    counts = rle["counts"]
    if isinstance(counts, bytes | str):
        counts = _string_counts(counts)
    if not (isinstance(counts, list) and all(type(v) is int and v >= 0 for v in counts)):
        return f"mask counts must be a COCO RLE string or a list of run lengths, got {_short(rle['counts'])}"
    if sum(counts) != size[0] * size[1]:
        return f"mask counts cover {sum(counts)} pixels, the mask has {size[0] * size[1]}"
    return None


def checked_mask(rle: Any, height: int, width: int) -> np.ndarray:
    """An untrusted RLE (e.g. a ``mask_rle`` of ``predictions.jsonl``) decoded as the ``height x width``
    image's mask, after :func:`rle_problem` found nothing wrong with it (its size is checked first).

    Raises :class:`MaskError` naming the problem.
    """
    problem = rle_problem(rle, height, width)
    if problem is not None:
        raise MaskError(problem)
    return rle_to_mask(rle)


def _string_counts(text: str | bytes) -> list[int] | None:
    """Run lengths of compressed COCO RLE counts (``None`` if ``text`` is not such a string).

    The format (pycocotools' ``rleToString``): each run is written in 5-bit groups, low group
    first, as characters ``48 + group`` with 0x20 set while more groups follow; the last group's
    0x10 bit is the sign. From the fourth run on, a run is stored as its difference to the run
    two before it. pycocotools decodes such a string without checking it, hence this reader.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            return None
    counts: list[int] = []
    value = shift = 0
    for char in text:
        group = ord(char) - 48
        if not 0 <= group < 64:
            return None
        value |= (group & 0x1F) << shift
        shift += 5
        if group & 0x20:
            continue
        if group & 0x10:
            value -= 1 << shift  # sign-extend
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
        value = shift = 0
    return counts if shift == 0 else None  # a run cut short


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def mask_box(mask: np.ndarray) -> list[int]:
    """Tight ``[x1, y1, x2, y2]`` of a non-empty mask, ends exclusive (pixel edges)."""
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def lisa_mask(shapes: list[dict], height: int, width: int) -> np.ndarray:
    """LISA's label map (H, W) uint8 from LabelMe ``shapes``: 1 target, :data:`IGNORE` (255) ignore, 0 background.

    As LISA's ``get_mask_from_json``: ``flag`` shapes are dropped, the rest drawn (outline and
    fill on int32 points) largest area first, so small shapes stay on top; a label containing
    "ignore" paints 255, any other label 1.

    >>> shapes = [{"label": "target", "points": [[0, 0], [3, 0], [3, 3], [0, 3]]},
    ...           {"label": "ignore", "points": [[2, 2], [3, 2], [3, 3], [2, 3]]}]
    >>> m = lisa_mask(shapes, 5, 5)
    >>> int((m == 1).sum()), int((m == IGNORE).sum())
    (12, 4)
    """
    import cv2

    shapes = [s for s in shapes if s.get("label", "").lower() != "flag"]
    areas = []
    for shape in shapes:
        drawn = np.zeros((height, width), dtype=np.uint8)
        points = np.array([shape["points"]], dtype=np.int32)
        cv2.polylines(drawn, points, True, 1, 1)
        cv2.fillPoly(drawn, points, 1)
        areas.append(int(drawn.sum()))
    labels = np.zeros((height, width), dtype=np.uint8)
    for index in np.argsort(areas)[::-1]:
        shape = shapes[int(index)]
        value = IGNORE if "ignore" in shape.get("label", "").lower() else 1
        points = np.array([shape["points"]], dtype=np.int32)
        cv2.polylines(labels, points, True, value, 1)
        cv2.fillPoly(labels, points, value)
    return labels


@runtime_checkable
class Segmenter(Protocol):
    """What rewards, eval and the demo need from a promptable segmenter (pixels in, RLE out).

    Prompts are in original-image pixels; one COCO RLE per box comes back (one for a
    points-only prompt). Backends: :mod:`vlmr.tools.segmenters`.
    """

    def __call__(
        self,
        image: Any,
        boxes: list[list[float]],
        points: list[list[float]] | None = None,
        point_labels: list[int] | None = None,
    ) -> list[dict]: ...

    def segment_batch(self, images: Sequence[Any], prompts: Sequence[dict]) -> list[list[dict]]: ...
