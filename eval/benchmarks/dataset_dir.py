"""Any vlmr dataset directory as a benchmark: each sample's ``task`` picks its metric.

``vlmr eval run --benchmark dataset --data DIR`` evaluates a directory written by
``vlmr data build`` (or :class:`vlmr.schema.DatasetWriter`). Scores per task:

================== ==================================================================
task               metrics
================== ==================================================================
grounding          ``iou``, ``acc@0.5`` of the first box (``>=``; option ``iou_comparison``)
detection          ``precision@0.5``, ``recall@0.5``, ``f1@0.5`` (one-to-one matching)
counting           ``accuracy``, ``abs_error`` (MAE), ``rmse``
mcq                ``accuracy`` of the option letter
pointing           ``accuracy``: point inside the true mask (or box)
segmentation       ``giou``, ``ciou`` (LISA definitions; ``--segmenter`` mask of the box/point)
temporal_grounding ``miou``, ``r@0.3/0.5/0.7``
chart_qa           ``relaxed_accuracy``
medical_vqa        ``closed_accuracy`` / ``open_recall`` (LLaVA-Med), ``exact_match``
math, vqa,         ``accuracy``: the ``accuracy`` reward of :mod:`vlmr.rewards` (letter, number,
scene3d_qa         yes/no, math-verify for math, normalised text), so training and eval agree
================== ==================================================================

Breakdown by ``task`` and ``source``. The ``scene3d`` benchmark is the same thing
restricted to 3D scene tasks (a set written by the 3D pipeline).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vlmr.eval import answers
from vlmr.eval.benchmarks.medical import answer_type
from vlmr.eval.benchmarks.reasonseg import lisa_iou, predict_mask, rle_json
from vlmr.eval.loaders import image_size
from vlmr.eval.medical_scores import medical_scores
from vlmr.eval.registry import Benchmark, ScoreContext, register_benchmark
from vlmr.rewards.metrics import mask_intersection_union, match_boxes, point_in_box, point_in_mask
from vlmr.rewards.parse import parse_points
from vlmr.schema import Sample, load_samples

Scorer = Callable[[Sample, str, ScoreContext], dict[str, Any]]


def _grounding(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    return answers.grounding_scores(response, sample.answer["boxes"][0], ctx.space_for(sample),
                                    ctx.options.get("iou_comparison", ">="))


def _detection(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    pred = answers.boxes_in_pixels(response, ctx.space_for(sample))
    gt = sample.answer.get("boxes", [])
    hits = len(match_boxes(pred, gt, min_iou=0.5)) if pred and gt else 0
    precision = hits / len(pred) if pred else float(not gt)
    recall = hits / len(gt) if gt else float(not pred)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision@0.5": precision, "recall@0.5": recall, "f1@0.5": f1, "_pred_boxes": pred}


def _counting(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    return answers.count_scores(response, sample.answer["count"])


def _mcq(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    return answers.choice_scores(response, sample.answer["choice"], sample.choices)


def _pointing(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    points = parse_points(answers.answer_text(response)) or []
    space = ctx.space_for(sample)
    point = space.to_pixels(points[0]) if points and space else (points[0] if points else None)
    if point is None:
        hit = False
    elif sample.answer.get("masks"):
        hit = any(point_in_mask(point, m) for m in sample.answer["masks"])
    else:
        hit = any(point_in_box(point, b) for b in sample.answer.get("boxes", []))
    return {"accuracy": float(hit), "_pred_points": [point] if point else []}


def _segmentation(sample: Sample, response: str, ctx: ScoreContext, mask_rle: dict | None = None) -> dict[str, Any]:
    from vlmr.rewards.metrics import to_rle

    masks = sample.answer.get("masks", [])
    if sample.meta.get("height") and sample.meta.get("width"):
        height, width = int(sample.meta["height"]), int(sample.meta["width"])
    elif masks and isinstance(masks[0], dict) and masks[0].get("size"):
        height, width = (int(v) for v in masks[0]["size"])
    else:  # no image size anywhere: nothing can be compared
        return {"giou": 0.0, "_intersection": 0, "_union": 0}
    sample.meta.update(height=height, width=width)
    gt = np.zeros((height, width), dtype=bool)
    for m in masks:
        gt |= _decode(to_rle(m, height, width)).astype(bool)
    pred = mask_rle if mask_rle else predict_mask(DatasetDir(), sample, response, ctx)
    inter, union = mask_intersection_union(pred, gt)
    return {"giou": lisa_iou(inter, union), "_intersection": inter, "_union": union, "_pred_mask": rle_json(pred),
            "_gt_mask": rle_json(gt.astype(np.uint8))}


def _decode(rle: dict) -> np.ndarray:
    from pycocotools import mask as mask_utils

    return mask_utils.decode(rle)


def _temporal(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    return answers.span_scores(response, sample.answer["span"])


def _chart(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    target = sample.answer.get("text", sample.answer.get("number"))
    return answers.relaxed_scores(response, str(target))


def _medical(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    text = str(sample.answer.get("text", ""))
    closed = answer_type({"answer": text, "answer_type": sample.meta.get("answer_type")}) == "CLOSED"
    return medical_scores(response, text, closed)


def _qa(sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
    if "count" in sample.answer:
        return answers.count_scores(response, sample.answer["count"])
    from vlmr.rewards import get_reward

    score = get_reward("accuracy").score(response, sample.answer, task=sample.task, choices=sample.choices)
    return {"accuracy": float(score or 0.0), "_pred": answers.answer_text(response)}


TASK_SCORERS: dict[str, Scorer] = {
    "grounding": _grounding,
    "detection": _detection,
    "counting": _counting,
    "mcq": _mcq,
    "pointing": _pointing,
    "segmentation": _segmentation,
    "temporal_grounding": _temporal,
    "chart_qa": _chart,
    "medical_vqa": _medical,
    "math": _qa,
    "vqa": _qa,
    "scene3d_qa": _qa,
}


@register_benchmark("dataset")
class DatasetDir(Benchmark):
    """A vlmr dataset directory; every task scored by its own metric."""

    task = "vqa"
    primary_metric = "accuracy"
    breakdown_keys = ("task", "source")
    uses_segmenter = True
    tasks: tuple[str, ...] | None = None  # restrict to these tasks (None: all scoreable)

    def load(self, path: str | Path) -> list[Sample]:
        """All samples of the directory whose task has a scorer."""
        samples = []
        for sample in load_samples(path):
            if sample.task not in TASK_SCORERS or (self.tasks and sample.task not in self.tasks):
                continue
            sample.meta = {**sample.meta, "task": sample.task, "source": sample.source or "unknown"}
            if sample.images and not (sample.meta.get("width") and sample.meta.get("height")):
                sample.meta["width"], sample.meta["height"] = image_size(Path(path) / sample.images[0])
            samples.append(sample)
        return samples

    def build_messages(self, sample: Sample, space, tools=None):
        """The shared prompt of the sample's own task."""
        from vlmr.prompts import build_prompt

        return build_prompt(sample, space, list(tools or []) or None)

    def postprocess(self, sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
        """Segmentation samples store their predicted mask (segmenter on the box/point)."""
        if sample.task != "segmentation":
            return {}
        return {"mask_rle": rle_json(predict_mask(self, sample, response, ctx))}

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """The task's scorer on the response (a stored ``mask_rle`` for segmentation)."""
        response = prediction.get("response") or ""
        if sample.task == "segmentation":
            return _segmentation(sample, response, ctx, prediction.get("mask_rle"))
        return TASK_SCORERS[sample.task](sample, response, ctx)


@register_benchmark("scene3d")
class Scene3D(DatasetDir):
    """3D scene QA set written by the 3D pipeline (``scene3d_qa`` samples)."""

    tasks = ("scene3d_qa",)
    breakdown_keys = ("source",)
    uses_segmenter = False
