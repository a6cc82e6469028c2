"""The metric core: every IoU, matching and answer check of vlmr lives here, once.

Rewards (training) and eval (benchmarks) both call these functions, so a training reward
and an eval metric cannot drift apart. Boxes are ``[x1, y1, x2, y2]`` with ``x1 < x2`` and
``y1 < y2`` in one frame (original pixels, see :mod:`vlmr.formats`); a box with reversed
corners, zero area or a non-finite coordinate is *invalid* and overlaps nothing. Masks are
COCO RLE dicts, polygons or binary arrays. Time spans are ``[start, end]`` in seconds.

>>> box_iou([0, 0, 10, 10], [5, 0, 15, 10])
0.3333333333333333
>>> temporal_iou([2.5, 7.0], [3.0, 7.0])
0.8888888888888888
>>> relaxed_match("10.4", "10"), relaxed_match("12%", "0.12")
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils
from scipy.optimize import linear_sum_assignment

from vlmr.masks import MaskLike, rle_to_mask, to_rle

# --------------------------------------------------------------------------- boxes


def _as_boxes(boxes: Any) -> np.ndarray:
    """Boxes as a float64 array of shape (N, 4); an empty input gives (0, 4)."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.float64)
    return arr.reshape(-1, 4)


def valid_boxes(boxes: Any) -> np.ndarray:
    """Boolean mask (N,) of boxes that are finite with ``x1 < x2`` and ``y1 < y2``.

    >>> valid_boxes([[0, 0, 1, 1], [5, 5, 2, 2], [0, 0, float("nan"), 1]]).tolist()
    [True, False, False]
    """
    b = _as_boxes(boxes)
    return np.isfinite(b).all(axis=1) & (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])  # NaN compares False


def _valid_or_zero(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(valid mask, boxes with invalid rows zeroed)`` so arithmetic never sees NaN/inf."""
    ok = valid_boxes(boxes)
    return ok, np.where(ok[:, None], boxes, 0.0)


def box_area(boxes: Any) -> np.ndarray:
    """Areas (N,) of boxes; invalid boxes have area 0.

    >>> box_area([[0, 0, 2, 3], [3, 3, 1, 1]]).tolist()
    [6.0, 0.0]
    """
    _, b = _valid_or_zero(_as_boxes(boxes))
    with np.errstate(over="ignore"):  # a huge box has infinite area and IoU 0 with anything
        return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def _intersection_union(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise intersection and union areas of (N, 4) and (M, 4) xyxy boxes, each (N, M)."""
    inter_w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])  # (N, M)
    inter_h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])  # (N, M)
    inter = np.maximum(inter_w, 0.0) * np.maximum(inter_h, 0.0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])  # (N,)
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # (M,)
    return inter, area_a[:, None] + area_b[None, :] - inter


def box_iou_matrix(boxes_a: Any, boxes_b: Any) -> np.ndarray:
    """Pairwise IoU of (N, 4) and (M, 4) boxes as an (N, M) array, vectorised.

    Invalid boxes (reversed corners, zero area, NaN/inf) get IoU 0 with everything.

    >>> box_iou_matrix([[0, 0, 2, 2]], [[0, 0, 2, 2], [1, 0, 3, 2], [10, 10, 9, 9]]).round(3).tolist()
    [[1.0, 0.333, 0.0]]
    """
    a, b = _as_boxes(boxes_a), _as_boxes(boxes_b)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ok_a, a = _valid_or_zero(a)
    ok_b, b = _valid_or_zero(b)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        inter, union = _intersection_union(a, b)
        iou = inter / union
    keep = ok_a[:, None] & ok_b[None, :] & np.isfinite(iou)
    return np.where(keep, np.minimum(iou, 1.0), 0.0)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes, in [0, 1]; 0 if either box is invalid.

    >>> box_iou([0, 0, 10, 10], [0, 0, 10, 10])
    1.0
    >>> box_iou([10, 10, 0, 0], [0, 0, 10, 10])  # reversed corners are not a box
    0.0
    """
    return float(box_iou_matrix([a], [b])[0, 0])


def box_giou_matrix(boxes_a: Any, boxes_b: Any) -> np.ndarray:
    """Pairwise generalised IoU of (N, 4) and (M, 4) boxes, (N, M) in [-1, 1]; -1 for invalid boxes.

    >>> box_giou_matrix([[0, 0, 1, 1]], [[0, 0, 1, 1], [2, 0, 3, 1]]).round(3).tolist()
    [[1.0, -0.333]]
    """
    a, b = _as_boxes(boxes_a), _as_boxes(boxes_b)
    if len(a) == 0 or len(b) == 0:
        return np.full((len(a), len(b)), -1.0)
    ok_a, a = _valid_or_zero(a)
    ok_b, b = _valid_or_zero(b)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        inter, union = _intersection_union(a, b)
        enclose_w = np.maximum(a[:, None, 2], b[None, :, 2]) - np.minimum(a[:, None, 0], b[None, :, 0])
        enclose_h = np.maximum(a[:, None, 3], b[None, :, 3]) - np.minimum(a[:, None, 1], b[None, :, 1])
        enclose = enclose_w * enclose_h
        giou = inter / union - (enclose - union) / enclose
    keep = ok_a[:, None] & ok_b[None, :] & np.isfinite(giou)
    return np.where(keep, np.clip(giou, -1.0, 1.0), -1.0)


def box_giou(a: Sequence[float], b: Sequence[float]) -> float:
    """Generalised IoU (Rezatofighi et al., CVPR 2019), in [-1, 1]; -1 if either box is invalid.

    ``GIoU = IoU - |C \\ (A u B)| / |C|`` with ``C`` the smallest box enclosing both.

    >>> box_giou([0, 0, 10, 10], [0, 0, 10, 10])
    1.0
    >>> box_giou([0, 0, 1, 1], [2, 0, 3, 1])
    -0.3333333333333333
    """
    return float(box_giou_matrix([a], [b])[0, 0])


def box_l1(a: Sequence[float], b: Sequence[float]) -> float:
    """Mean absolute difference of the four coordinates (pixels); ``inf`` if not comparable.

    >>> box_l1([0, 0, 10, 10], [2, 0, 10, 14])
    1.5
    """
    a_, b_ = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a_.shape != b_.shape or a_.size == 0 or not (np.isfinite(a_).all() and np.isfinite(b_).all()):
        return math.inf
    return float(np.abs(a_ - b_).mean())


def match_boxes(pred: Any, gt: Any, min_iou: float = 0.0) -> list[tuple[int, int, float]]:
    """One-to-one matching of predicted and true boxes maximising total IoU (Hungarian).

    Returns ``(pred_index, gt_index, iou)`` triples sorted by ``pred_index``, keeping pairs
    with ``iou > 0`` and ``iou >= min_iou``; unmatched boxes on either side are left out.

    >>> match_boxes([[10, 10, 20, 20], [0, 0, 10, 10]], [[0, 0, 10, 10], [10, 10, 20, 21]])
    [(0, 1, 0.9090909090909091), (1, 0, 1.0)]
    """
    iou = box_iou_matrix(pred, gt)
    if iou.size == 0:
        return []
    if iou.shape == (1, 1):  # the common single-object case needs no assignment solver
        rows, cols = np.zeros(1, dtype=int), np.zeros(1, dtype=int)
    else:
        rows, cols = linear_sum_assignment(iou, maximize=True)
    return [
        (int(r), int(c), float(iou[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if iou[r, c] > 0 and iou[r, c] >= min_iou
    ]


def point_in_box(point: Sequence[float], box: Sequence[float]) -> bool:
    """Whether ``[x, y]`` lies inside (or on the edge of) a valid box.

    >>> point_in_box([5, 5], [0, 0, 10, 10]), point_in_box([11, 5], [0, 0, 10, 10])
    (True, False)
    """
    if len(point) < 2 or len(box) != 4 or not valid_boxes([box])[0]:
        return False
    x, y = float(point[0]), float(point[1])
    return bool(box[0] <= x <= box[2] and box[1] <= y <= box[3])


# --------------------------------------------------------------------------- masks


def mask_iou(
    pred_rle: MaskLike, gt_rle: MaskLike, height: int | None = None, width: int | None = None
) -> float:
    """IoU of two masks computed on RLE (``pycocotools.mask.iou``); 1.0 if both are empty.

    Both empty counts as a match, as LISA/ReasonSeg's "no-object target" rule does.
    ``height``/``width`` are needed only when the ground truth is a polygon.

    >>> a = np.zeros((4, 4), np.uint8); a[:2] = 1
    >>> b = np.zeros((4, 4), np.uint8); b[:, :2] = 1
    >>> mask_iou(to_rle(a), to_rle(b))
    0.3333333333333333
    """
    gt = to_rle(gt_rle, height, width)
    pred = to_rle(pred_rle, *gt["size"])
    if tuple(pred["size"]) != tuple(gt["size"]):
        raise ValueError(f"mask sizes differ: prediction {pred['size']} vs ground truth {gt['size']}")
    if mask_utils.area(pred) == 0 and mask_utils.area(gt) == 0:
        return 1.0
    return float(mask_utils.iou([pred], [gt], [0])[0, 0])


def mask_intersection_union(pred: MaskLike, gt: MaskLike, ignore: MaskLike | None = None) -> tuple[int, int]:
    """Pixel counts ``(intersection, union)`` of two masks, excluding ``ignore`` pixels.

    This is what ReasonSeg/LISA accumulate: gIoU averages per-image ``I/U``, cIoU divides
    summed ``I`` by summed ``U``. Pixels set in ``ignore`` (LISA's label 255) count in neither.

    >>> p = np.array([[1, 1], [0, 0]]); g = np.array([[1, 0], [1, 0]])
    >>> mask_intersection_union(p, g)
    (1, 3)
    >>> mask_intersection_union(p, g, ignore=np.array([[0, 0], [1, 0]]))
    (1, 2)
    """
    g = rle_to_mask(gt)
    p = rle_to_mask(pred, *g.shape)
    if p.shape != g.shape:
        raise ValueError(f"mask sizes differ: prediction {p.shape} vs ground truth {g.shape}")
    if ignore is not None:
        keep = ~rle_to_mask(ignore, *g.shape)
        p, g = p & keep, g & keep
    return int(np.count_nonzero(p & g)), int(np.count_nonzero(p | g))


def point_in_mask(point: Sequence[float], mask: MaskLike) -> bool:
    """Whether pixel ``[x, y]`` (rounded down) is set in a mask; RLE masks are not decoded.

    >>> m = np.zeros((4, 4), np.uint8); m[1, 2] = 1
    >>> point_in_mask([2.7, 1.2], m), point_in_mask([2, 1], to_rle(m)), point_in_mask([1, 2], to_rle(m))
    (True, True, False)
    """
    if len(point) < 2 or not all(math.isfinite(float(v)) for v in point[:2]):
        return False
    x, y = int(math.floor(point[0])), int(math.floor(point[1]))
    if isinstance(mask, np.ndarray):
        return bool(0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and mask[y, x])
    rle = to_rle(mask)
    h, w = rle["size"]
    if not (0 <= y < h and 0 <= x < w):
        return False
    index = x * h + y  # COCO RLE runs are column-major
    pixel = mask_utils.frPyObjects({"size": [h, w], "counts": [index, 1, h * w - index - 1]}, h, w)
    return bool(mask_utils.area(mask_utils.merge([rle, pixel], intersect=True)) > 0)


# --------------------------------------------------------------------------- time and answers


def temporal_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two time spans ``[start, end]``; 0 for reversed, empty or non-finite spans.

    >>> temporal_iou([0, 10], [5, 15])
    0.3333333333333333
    >>> temporal_iou([7, 2], [2, 7])
    0.0
    """
    if len(a) != 2 or len(b) != 2:
        return 0.0
    s1, e1, s2, e2 = (float(v) for v in (*a, *b))
    if not all(math.isfinite(v) for v in (s1, e1, s2, e2)) or e1 <= s1 or e2 <= s2:
        return 0.0
    inter = max(0.0, min(e1, e2) - max(s1, s2))
    return inter / (max(e1, e2) - min(s1, s2)) if inter > 0 else 0.0


def _chart_float(text: str) -> float | None:
    """ChartQA's ``_to_float``: a trailing ``%`` divides by 100."""
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_match(pred: Any, target: Any, tolerance: float = 0.05) -> bool:
    """ChartQA relaxed accuracy (Masry et al., 2022): numbers within ``tolerance`` relative error.

    Both numeric and ``target != 0``: ``|p - t| / |t| <= tolerance`` (a trailing ``%`` divides
    by 100); otherwise a case-insensitive exact string match, as in the official script.

    >>> relaxed_match("95", "100"), relaxed_match("94", "100"), relaxed_match("Paris", "paris")
    (True, False, True)
    """
    p, t = str(pred).strip(), str(target).strip()
    pf, tf = _chart_float(p), _chart_float(t)
    if pf is not None and tf:
        return bool(abs(pf - tf) / abs(tf) <= tolerance)
    return p.lower() == t.lower()
