"""Any vlmr dataset directory as a benchmark: each sample's ``task`` picks its metric.

``vlmr eval run --benchmark dataset --data DIR`` evaluates a directory written by
``vlmr data build`` (or :class:`vlmr.schema.DatasetWriter`). A task's spec names its scorer
(:attr:`vlmr.tasks.Task.scorer`, ``(sample, prediction, ctx) -> scores``); the built-in scorers
are the ``score_*`` functions here, per task:

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
math, vqa          ``accuracy``: the ``accuracy`` reward of :mod:`vlmr.rewards` (letter, number,
                   yes/no, math-verify for math, normalised text), so training and eval agree
scene3d_qa         ``exact_match`` against any reference answer (``meta.answers``), and
                   ``exact_match_normalised`` (see :class:`Scene3D`)
================== ==================================================================

Breakdown by ``task`` and ``source``. The ``scene3d`` benchmark is the same thing
restricted to 3D scene QA (a set written by the 3D pipeline, e.g. ``vlmr data build scanqa``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vlmr.data_pipelines.releases.files import image_size
from vlmr.data_pipelines.releases.medical import answer_type
from vlmr.eval import answers
from vlmr.eval.benchmarks.reasonseg import (
    invalid_mask_scores,
    lisa_iou,
    predict_mask,
    stored_or_predicted_mask,
)
from vlmr.eval.caption_metrics import caption_metrics, java_missing_note
from vlmr.eval.medical_scores import medical_scores
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.masks import MaskError, mask_to_rle, rle_to_mask
from vlmr.registry import import_object
from vlmr.rewards.metrics import mask_intersection_union, match_boxes, point_in_box, point_in_mask
from vlmr.rewards.parse import normalise_text, parse_points
from vlmr.schema import Sample, load_samples
from vlmr.tasks import get_task


def score_grounding(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    return answers.grounding_scores(response, sample.answer["boxes"][0], ctx.space_for(sample),
                                    ctx.options.get("iou_comparison", ">="))


def score_detection(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    pred = answers.boxes_in_pixels(response, ctx.space_for(sample))
    gt = sample.answer.get("boxes", [])
    hits = len(match_boxes(pred, gt, min_iou=0.5)) if pred and gt else 0
    precision = hits / len(pred) if pred else float(not gt)
    recall = hits / len(gt) if gt else float(not pred)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision@0.5": precision, "recall@0.5": recall, "f1@0.5": f1, "_pred_boxes": pred}


def score_counting(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    return answers.count_scores(response, sample.answer["count"])


def score_mcq(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    return answers.choice_scores(response, sample.answer["choice"], sample.choices)


def score_pointing(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
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


def score_segmentation(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
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
        gt |= rle_to_mask(m, height, width)
    try:
        pred = stored_or_predicted_mask(DatasetDir(), sample, prediction, ctx, height, width)
    except MaskError as e:
        return invalid_mask_scores(e, gt)
    inter, union = mask_intersection_union(pred, gt)
    return {"giou": lisa_iou(inter, union), "_intersection": inter, "_union": union, "_pred_mask": mask_to_rle(pred),
            "_gt_mask": mask_to_rle(gt)}


def score_temporal(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    return answers.span_scores(response, sample.answer["span"])


def score_chart(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    target = sample.answer.get("text", sample.answer.get("number"))
    return answers.relaxed_scores(response, str(target))


def score_medical(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    text = str(sample.answer.get("text", ""))
    closed = answer_type({"answer": text, "answer_type": sample.meta.get("answer_type")}) == "CLOSED"
    return medical_scores(response, text, closed)


def score_qa(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    if "count" in sample.answer:
        return answers.count_scores(response, sample.answer["count"])
    from vlmr.rewards import get_reward

    score = get_reward("accuracy").score(response, sample.answer, task=sample.task, choices=sample.choices)
    out = {"accuracy": float(score or 0.0), "_pred": answers.answer_text(response)}
    if ctx.judge is not None:  # the judge's verdict beside the rule's (it falls back to the rule itself)
        judged = ctx.judge.score(response, sample.answer, question=sample.question, task=sample.task,
                                 choices=sample.choices)
        out["judge_accuracy"] = float(judged or 0.0)
    return out


def score_scene_qa(sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
    response = prediction.get("response") or ""
    """ScanQA's Top-1 EM: the answer is one of the references exactly (``answer in ref_answers``)."""
    if "count" in sample.answer:
        return answers.count_scores(response, sample.answer["count"])
    refs = [str(a) for a in sample.meta.get("answers") or [sample.answer.get("text", "")]]
    pred = answers.answer_text(response)
    normalised = normalise_text(pred)
    out = {"exact_match": float(bool(pred) and pred in refs),
           "exact_match_normalised": float(bool(normalised) and normalised in {normalise_text(r) for r in refs}),
           "_pred": pred, "_refs": refs}
    missing = java_missing_note()
    if missing:
        out["_warning"] = f"METEOR not computed: {missing}"
    return out


def _scorer_of(task: str) -> Callable[[Sample, dict[str, Any], ScoreContext], dict[str, Any]] | None:
    """The scorer its spec names for ``task`` (``None``: the task is not scored, or unknown here)."""
    try:
        path = get_task(task).scorer
    except (ImportError, AttributeError, TypeError, ValueError):  # a task this process cannot import
        return None
    return import_object(path) if path else None


@register_benchmark("dataset")
class DatasetDir(Benchmark):
    """A vlmr dataset directory; every task scored by its own metric."""

    task = "vqa"
    primary_metric = "accuracy"
    breakdown_keys = ("task", "source")
    uses_segmenter = True
    tasks: tuple[str, ...] | None = None  # restrict to these tasks (None: all scoreable)

    def prepare_scoring(self, samples: list[Sample], predictions: dict[str, dict[str, Any]], ctx: ScoreContext
                        ) -> None:
        """With a judge, every answer :func:`score_qa` will have judged is asked about at once (concurrently)."""
        if ctx.judge is None:
            return
        judged = [s for s in samples if _scorer_of(s.task) is score_qa and "count" not in s.answer]
        ctx.judge.ask_ahead([((predictions.get(s.id) or {}).get("response") or "", s.answer,
                              {"question": s.question, "task": s.task, "choices": s.choices}) for s in judged])

    def load(self, path: str | Path) -> list[Sample]:
        """All samples of the directory whose task has a scorer."""
        samples = []
        for sample in load_samples(path):
            if not _scorer_of(sample.task) or (self.tasks and sample.task not in self.tasks):
                continue
            sample.meta = {**sample.meta, "task": sample.task, "source": sample.source or "unknown"}
            if sample.images and not (sample.meta.get("width") and sample.meta.get("height")):
                sample.meta["width"], sample.meta["height"] = image_size(Path(path) / sample.images[0])
            samples.append(sample)
        return samples

    def postprocess(self, sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
        """Segmentation samples store their predicted mask (segmenter on the box/point)."""
        if sample.task != "segmentation":
            return {}
        return {"mask_rle": mask_to_rle(predict_mask(self, sample, response, ctx))}

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """The scorer of the sample's task (:attr:`vlmr.tasks.Task.scorer`) on the prediction."""
        return _scorer_of(sample.task)(sample, prediction, ctx)


@register_benchmark("scene3d")
class Scene3D(DatasetDir):
    """3D scene QA (ScanQA, Azuma et al., CVPR 2022) written by ``vlmr data build scanqa``.

    Metrics as ScanQA's ``scripts/score.py``: ``exact_match`` (Top-1 EM: the answer string is
    one of the reference answers, no normalisation) and, over the whole set,
    ``bleu_1`` ... ``bleu_4``, ``meteor``, ``rouge_l``, ``cider`` with pycocoevalcap against
    all references (:mod:`vlmr.eval.caption_metrics`; METEOR needs Java, reported missing
    with the reason otherwise). Beside it, ``exact_match_normalised``: the same after
    lower-casing and dropping punctuation and articles, for generated (not classified)
    answers. Not computed: ScanQA's "Top-10 EM" (a generative model answers once) and
    "Top-1 F-value" (needs NLTK's WordNet data).
    """

    tasks = ("scene3d_qa",)
    primary_metric = "exact_match"
    breakdown_keys = ("source",)
    uses_segmenter = False
    headline = (
        MetricRule("exact_match", "official ScanQA score.py Top1 (EM): the answer string is one of the references"),
        *(MetricRule(m, "official ScanQA score.py: pycocoevalcap, PTB-tokenized, against all references, corpus-level")
          for m in ("bleu_1", "bleu_4", "meteor", "rouge_l", "cider")),
    )
    alternatives = (MetricRule("exact_match_normalised", "vlmr: EM after lower-casing and dropping punctuation and "
                                                         "articles (SQuAD normalisation)"),)

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._caption_cache: dict[tuple, dict[str, float]] = {}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """Means of the per-question scores plus the corpus-level caption metrics."""
        out = super().aggregate(rows)
        scored = [r for r in rows if "_refs" in r]
        key = tuple((r["_pred"], tuple(r["_refs"])) for r in scored)
        if key not in self._caption_cache:  # a breakdown group holding every row repeats the overall corpus
            self._caption_cache = {key: caption_metrics([p for p, _ in key], [list(refs) for _, refs in key])[0]}
        return {**out, **self._caption_cache[key]}

