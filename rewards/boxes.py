"""Box rewards on one matching rule: predicted and true boxes are paired by Hungarian matching.

Every multi-box score divides by ``max(n_pred, n_true)``, so a missing object and an
extra box both cost (VisionReasoner, Liu et al. 2025): fifty copies of the right box
earn 1/50 of the reward. Predicted boxes are converted to original pixels first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from vlmr.rewards.base import Reward, boxes_to_pixels
from vlmr.rewards.metrics import box_area, box_giou_matrix, box_iou_matrix, box_l1, match_boxes, point_in_box
from vlmr.rewards.parse import parse_boxes, parse_objects, parse_points, split_think_answer
from vlmr.rewards.registry import register_reward


def true_boxes(answer: dict[str, Any] | None) -> list[list[float]] | None:
    """Ground-truth boxes of an answer, or ``None`` when it has none (reward not applicable)."""
    boxes = (answer or {}).get("boxes")
    if not isinstance(boxes, (list, tuple)):
        return None
    return [list(map(float, b)) for b in boxes if isinstance(b, (list, tuple)) and len(b) == 4]


def predicted_boxes(prediction: str, **context: Any) -> list[list[float]]:
    """Boxes of the answer part in original pixels (``[]`` when none parse)."""
    _, text = split_think_answer(prediction)
    return boxes_to_pixels(parse_boxes(text), **context) or []


def _check_threshold(threshold: float | None, low: float = 0.0) -> float | None:
    if threshold is not None and not low <= threshold <= 1:
        raise ValueError(f"threshold must be in [{low}, 1] or None, got {threshold}")
    return None if threshold is None else float(threshold)


def _no_objects(pred: list, gt: list) -> float | None:
    """Score when either side is empty: 1.0 if both are (a correct "nothing here"), else 0.0."""
    if gt and pred:
        return None
    return 1.0 if not gt and not pred else 0.0


class _BoxMatchReward(Reward):
    """Shared frame of the box rewards: ``None`` without true boxes, the empty-side rule,
    then :meth:`score_boxes` on non-empty predicted and true boxes (original pixels)."""

    columns = ("answer", "coord")  # predictions are read in the row's coordinate space

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        gt = true_boxes(answer)
        if gt is None:
            return None
        pred = predicted_boxes(prediction, **context)
        empty = _no_objects(pred, gt)
        return empty if empty is not None else self.score_boxes(pred, gt)

    def score_boxes(self, pred: list[list[float]], gt: list[list[float]]) -> float:
        """Score of non-empty ``pred`` against non-empty ``gt``."""
        raise NotImplementedError


@register_reward("iou")
class IouReward(_BoxMatchReward):
    """Mean IoU of Hungarian-matched boxes over ``max(n_pred, n_true)``, optionally thresholded.

    For one true and one predicted box this is their IoU; with ``threshold`` a matched pair
    counts 1 when ``IoU >= threshold`` (the VLM-R1 / Visual-RFT hit reward). Invalid boxes
    (reversed corners, NaN, zero area) overlap nothing.

    Args:
        threshold: ``None`` for continuous IoU (default), or a value in [0, 1].

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``boxes``.

    >>> r = IouReward()
    >>> r(["<answer>[0, 0, 10, 10]</answer>", "<answer>[0, 0, 10, 20]</answer>", "none"],
    ...   answer=[{"boxes": [[0, 0, 10, 10]]}] * 3)
    [1.0, 0.5, 0.0]
    >>> IouReward(threshold=0.5).score('{"bbox_2d": [0, 0, 10, 20]}', {"boxes": [[0, 0, 10, 10]]})
    1.0
    """

    def __init__(self, threshold: float | None = None):
        self.threshold = _check_threshold(threshold)

    def score_boxes(self, pred: list[list[float]], gt: list[list[float]]) -> float:
        ious = [iou for _, _, iou in match_boxes(pred, gt)]
        if self.threshold is not None:
            ious = [float(iou >= self.threshold) for iou in ious]
        return float(sum(ious) / max(len(pred), len(gt)))


@register_reward("giou")
class GiouReward(_BoxMatchReward):
    """Generalised IoU (Rezatofighi et al., CVPR 2019) of matched boxes, mapped to [0, 1].

    Boxes are matched to maximise total GIoU, so disjoint boxes still get a signal that
    grows as they approach. Continuous: ``(GIoU + 1) / 2`` per pair, unmatched boxes 0,
    summed over ``max(n_pred, n_true)``; with ``threshold``: 1 per pair with ``GIoU >= threshold``.

    Args:
        threshold: ``None`` (default) or a value in [-1, 1].

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``boxes``.

    >>> round(GiouReward().score("[2, 0, 3, 1]", {"boxes": [[0, 0, 1, 1]]}), 4)
    0.3333
    """

    def __init__(self, threshold: float | None = None):
        self.threshold = _check_threshold(threshold, low=-1.0)

    def score_boxes(self, pred: list[list[float]], gt: list[list[float]]) -> float:
        giou = box_giou_matrix(pred, gt)  # (P, G)
        rows, cols = linear_sum_assignment(giou, maximize=True)
        pairs = giou[rows, cols]
        values = pairs >= self.threshold if self.threshold is not None else (pairs + 1.0) / 2.0
        return float(np.sum(values) / max(len(pred), len(gt)))


@register_reward("box_l1")
class BoxL1Reward(_BoxMatchReward):
    """Share of true boxes whose matched prediction is within ``threshold`` px mean L1 (Seg-Zero).

    Boxes are matched by IoU; a pair counts when the mean absolute coordinate error in
    original pixels is below ``threshold``; the sum is divided by ``max(n_pred, n_true)``.

    Args:
        threshold: mean L1 distance in original pixels (default 10.0).

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``boxes``.

    >>> BoxL1Reward().score("[2, 0, 10, 14]", {"boxes": [[0, 0, 10, 10]]})
    1.0
    >>> BoxL1Reward(threshold=1.0).score("[2, 0, 10, 14]", {"boxes": [[0, 0, 10, 10]]})
    0.0
    """

    def __init__(self, threshold: float = 10.0):
        if threshold <= 0:
            raise ValueError(f"threshold must be > 0 pixels, got {threshold}")
        self.threshold = float(threshold)

    def score_boxes(self, pred: list[list[float]], gt: list[list[float]]) -> float:
        hits = sum(box_l1(pred[i], gt[j]) < self.threshold for i, j, _ in match_boxes(pred, gt))
        return float(hits / max(len(pred), len(gt)))


@register_reward("detection")
class DetectionReward(Reward):
    """Multi-object reward: precision, recall, F1 or mean IoU of Hungarian-matched boxes.

    A predicted box is a true positive when matched with ``IoU >= threshold`` (and, with
    ``match_labels``, the same label, case-insensitive). ``mean_iou`` sums matched IoUs
    over ``max(n_pred, n_true)``. Missing objects lower recall; extra or repeated boxes
    lower precision (VisionReasoner, Liu et al. 2025).

    Args:
        metric: ``"f1"`` (default), ``"precision"``, ``"recall"`` or ``"mean_iou"``.
        threshold: IoU for a true positive (default 0.5).
        match_labels: also require the predicted ``label`` to equal the true one (default False).

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``boxes``.

    >>> gt = {"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]]}
    >>> DetectionReward().score("[[0, 0, 10, 10], [50, 50, 60, 60]]", gt)
    0.5
    >>> DetectionReward(metric="precision").score("[[0, 0, 10, 10]]" * 4, gt)
    0.25
    """

    METRICS = ("f1", "precision", "recall", "mean_iou")

    columns = ("answer", "coord")  # predictions are read in the row's coordinate space

    def __init__(self, metric: str = "f1", threshold: float = 0.5, match_labels: bool = False):
        if metric not in self.METRICS:
            raise ValueError(f"metric must be one of {self.METRICS}, got {metric!r}")
        self.metric = metric
        self.threshold = _check_threshold(threshold)
        self.match_labels = bool(match_labels)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        gt = true_boxes(answer)
        if gt is None:
            return None
        _, text = split_think_answer(prediction)
        objects = parse_objects(text) or []
        pred = boxes_to_pixels([o["bbox_2d"] for o in objects], **context) or []
        empty = _no_objects(pred, gt)
        if empty is not None:
            return empty
        iou = box_iou_matrix(pred, gt)  # (P, G)
        if self.match_labels:
            labels = [str(x).strip().lower() for x in (answer or {}).get("labels") or []]
            same = np.array([[j < len(labels) and (o["label"] or "").strip().lower() == labels[j]
                              for j in range(len(gt))] for o in objects])  # fmt: skip
            iou = np.where(same, iou, 0.0)
        rows, cols = linear_sum_assignment(iou, maximize=True)
        matched = iou[rows, cols]
        if self.metric == "mean_iou":
            return float(matched.sum() / max(len(pred), len(gt)))
        tp = float(np.count_nonzero(matched >= self.threshold))
        precision, recall = tp / len(pred), tp / len(gt)
        if self.metric == "precision":
            return precision
        if self.metric == "recall":
            return recall
        return 0.0 if tp == 0 else 2 * precision * recall / (precision + recall)


@register_reward("box_size")
class BoxSizeReward(Reward):
    """Penalise boxes much larger than the object (GUI-G1, Zhou et al. 2025).

    IoU and hit rewards let a policy inflate its boxes. Each predicted box is compared
    with the true box it matches (else the largest true box):
    ``min(1, max_ratio * area_true / area_pred)``, averaged over predicted boxes;
    invalid boxes score 0. Use it next to ``iou``, which punishes boxes that are too small.

    Args:
        max_ratio: area ratio allowed before the penalty starts (default 2.0).

    Returns:
        A value in [0, 1] (1 = no box too large), or ``None`` if ``answer`` has no ``boxes``.

    >>> BoxSizeReward().score("[0, 0, 100, 100]", {"boxes": [[10, 10, 20, 20]]})
    0.02
    >>> BoxSizeReward().score("[9, 9, 21, 21]", {"boxes": [[10, 10, 20, 20]]})
    1.0
    """

    columns = ("answer", "coord")  # predictions are read in the row's coordinate space

    def __init__(self, max_ratio: float = 2.0):
        if max_ratio < 1:
            raise ValueError(f"max_ratio must be >= 1, got {max_ratio}")
        self.max_ratio = float(max_ratio)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        gt = true_boxes(answer)
        if gt is None:
            return None
        pred = predicted_boxes(prediction, **context)
        if not pred or not gt:
            return 1.0 if not pred and not gt else 0.0
        gt_area, pred_area = box_area(gt), box_area(pred)
        reference = np.full(len(pred), gt_area.max())
        for i, j, _ in match_boxes(pred, gt):
            reference[i] = gt_area[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(pred_area > 0, self.max_ratio * reference / pred_area, 0.0)
        return float(np.clip(ratio, 0.0, 1.0).mean())


@register_reward("box_points")
class BoxPointsReward(Reward):
    """Seg-Zero's box-and-points reward (Liu et al. 2025): IoU hit, L1 hit, points inside.

    ``(iou_term + l1_term + point_term) / 3`` where, over Hungarian-matched boxes divided by
    ``max(n_pred, n_true)``, ``iou_term`` counts pairs with ``IoU > iou_threshold`` and
    ``l1_term`` pairs with mean L1 ``< l1_threshold`` px; ``point_term`` is the share of
    predicted points (``point_2d``, ``points_1``...) inside a true box (0 without points).

    Args:
        iou_threshold: IoU for a box hit (default 0.5).
        l1_threshold: mean L1 in original pixels for a box hit (default 10.0).

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``boxes``.

    >>> BoxPointsReward().score('{"bbox_2d": [0, 0, 10, 10], "point_2d": [5, 5]}', {"boxes": [[0, 0, 10, 10]]})
    1.0
    >>> round(BoxPointsReward().score('{"bbox_2d": [0, 0, 10, 10], "point_2d": [50, 5]}',
    ...                               {"boxes": [[0, 0, 10, 10]]}), 3)
    0.667
    """

    columns = ("answer", "coord")  # predictions are read in the row's coordinate space

    def __init__(self, iou_threshold: float = 0.5, l1_threshold: float = 10.0):
        self.iou_threshold = _check_threshold(iou_threshold)
        if l1_threshold <= 0:
            raise ValueError(f"l1_threshold must be > 0 pixels, got {l1_threshold}")
        self.l1_threshold = float(l1_threshold)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        gt = true_boxes(answer)
        if gt is None:
            return None
        _, text = split_think_answer(prediction)
        pred = boxes_to_pixels(parse_boxes(text), **context) or []
        empty = _no_objects(pred, gt)
        if empty is not None:
            return empty
        n = max(len(pred), len(gt))
        matches = match_boxes(pred, gt)
        iou_term = sum(iou > self.iou_threshold for _, _, iou in matches) / n
        l1_term = sum(box_l1(pred[i], gt[j]) < self.l1_threshold for i, j, _ in matches) / n
        points = boxes_to_pixels(parse_points(text), **context) or []
        inside = [any(point_in_box(p, b) for b in gt) for p in points]
        point_term = sum(inside) / len(inside) if inside else 0.0
        return float((iou_term + l1_term + point_term) / 3.0)
