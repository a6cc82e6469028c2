"""Per-sample scoring shared by benchmarks: read one response, compare with ground truth.

Each function takes the raw response (``<think>``/``<answer>`` tags allowed), parses the
``<answer>`` part with :mod:`vlmr.rewards.parse`, compares with :mod:`vlmr.rewards.metrics`
(the one implementation of every geometric metric) and returns ``{metric: float}`` plus
``_``-prefixed extras for reports. Unparseable answers score 0, never raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vlmr.formats import CoordinateSpace, boxes_look_misframed
from vlmr.rewards.metrics import box_iou, relaxed_match, temporal_iou
from vlmr.rewards.parse import (
    parse_boxes,
    parse_choice,
    parse_count,
    parse_span,
    split_think_answer,
)

COMPARISONS = (">=", ">")
SPAN_THRESHOLDS = (0.3, 0.5, 0.7)


def answer_text(response: Any) -> str:
    """The ``<answer>`` part of a response (or the text after ``</think>``), ``""`` if none.

    >>> answer_text("<think>hmm</think><answer> B </answer>")
    'B'
    """
    _, answer = split_think_answer(response if isinstance(response, str) else "")
    return (answer or "").strip()


def passes(iou: float, threshold: float, comparison: str = ">=") -> bool:
    """``iou >= threshold`` or ``iou > threshold`` (the comparison is part of a metric's definition).

    >>> passes(0.5, 0.5, ">="), passes(0.5, 0.5, ">")
    (True, False)
    """
    if comparison not in COMPARISONS:
        raise ValueError(f"unknown IoU comparison {comparison!r}; choose one of {COMPARISONS}")
    return iou >= threshold if comparison == ">=" else iou > threshold


def boxes_in_pixels(response: str, space: CoordinateSpace | None) -> list[list[float]]:
    """Predicted boxes of a response converted to original-image pixels (``[]`` if none)."""
    boxes = parse_boxes(answer_text(response)) or []
    if space is None:
        return [list(map(float, b)) for b in boxes]
    return [space.to_pixels(b) for b in boxes]


def grounding_scores(
    response: str, gt_box: Sequence[float], space: CoordinateSpace | None, comparison: str = ">="
) -> dict[str, Any]:
    """RefCOCO-style scores of the first predicted box: ``iou`` and ``acc@0.5``."""
    boxes = boxes_in_pixels(response, space)
    iou = box_iou(boxes[0], gt_box) if boxes else 0.0
    out: dict[str, Any] = {"iou": iou, "acc@0.5": float(passes(iou, 0.5, comparison)), "_pred_boxes": boxes[:1]}
    if boxes and space is not None:
        warning = boxes_look_misframed(boxes[:1], space.width, space.height)
        if warning:
            out["_warning"] = warning
    return out


def count_scores(response: str, gt: int) -> dict[str, Any]:
    """Counting ``accuracy``, ``abs_error`` and ``squared_error`` (no parse: predicted 0).

    >>> count_scores("<answer>3</answer>", 5)["abs_error"]
    2.0
    """
    pred = parse_count(answer_text(response))
    value = pred if pred is not None else 0
    return {
        "accuracy": float(pred == gt),
        "abs_error": float(abs(value - gt)),
        "squared_error": float((value - gt) ** 2),
        "parsed": float(pred is not None),
        "_pred_count": pred,
    }


def choice_scores(response: str, gt_letter: str, choices: Sequence[str] | None = None) -> dict[str, Any]:
    """Multiple-choice ``accuracy`` from the predicted letter.

    >>> choice_scores("<answer>(C)</answer>", "C", ["A. x", "B. y", "C. z"])["accuracy"]
    1.0
    """
    letter = parse_choice(answer_text(response), choices=list(choices) if choices else None)
    return {"accuracy": float(letter is not None and letter == gt_letter.strip().upper()), "_pred_choice": letter}


def span_scores(response: str, gt_span: Sequence[float], comparison: str = ">=") -> dict[str, Any]:
    """Temporal grounding: ``iou`` (mIoU once averaged) and ``R@1,IoU=m`` for m in 0.3/0.5/0.7.

    A reversed span (``7.0 - 2.5``) is swapped before the IoU, as lmms-eval's ``eval_tvg.py``
    does (the ``temporal_iou`` training reward keeps scoring it 0).

    >>> span_scores("<answer>2.5s - 7.5s</answer>", [2.5, 10.0])["r@0.5"]
    1.0
    >>> span_scores("<answer>7.5 - 2.5</answer>", [2.5, 10.0])["miou"]
    0.6666666666666666
    """
    span = parse_span(answer_text(response))
    span = sorted(span) if span else None
    iou = temporal_iou(span, gt_span) if span else 0.0
    out: dict[str, Any] = {"miou": iou, "_pred_span": span}
    for m in SPAN_THRESHOLDS:
        out[f"r@{m}"] = float(passes(iou, m, comparison))
    return out


def relaxed_scores(response: str, targets: str | Sequence[str]) -> dict[str, Any]:
    """ChartQA ``relaxed_accuracy`` of the stripped answer text: right if it matches any target.

    >>> relaxed_scores("<answer>96</answer>", ["100", "96.5"])["relaxed_accuracy"]
    1.0
    """
    pred = answer_text(response)
    targets = [targets] if isinstance(targets, str) else targets
    correct = bool(pred) and any(relaxed_match(pred, str(t).strip()) for t in targets)
    return {"relaxed_accuracy": float(correct), "_pred": pred}
