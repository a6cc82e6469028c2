"""TreeBench (Wang et al., "Traceable Evidence Enhanced Visual Grounded Reasoning: Evaluation and
Methodology", 2025): 405 multiple-choice questions on SA-1B images, each with the boxes of the
objects that answer it ("traceable evidence").

Data: the release's ``TreeBench.tsv`` (``HaochenWang/TreeBench``, VLMEvalKit's TSV: ``index,
image, question, A``-``E, answer, category`` = ``Perception/<subtask>`` or ``Reasoning/<subtask>``,
``target_instances``: a Python list of ``[x1, y1, x2, y2]`` boxes in original pixels), or a Hub copy
with those columns.

Metric: the authors' ``inference_treebench.py``: ``accuracy`` = the ``<answer>`` text, upper-cased,
equal to the answer letter, pooled over the questions of its ten categories (per category under
``breakdown.category``); ``miou`` = per question, each target box's best IoU with the boxes written
``<box>[x1,y1,x2,y2]</box>`` (integers without spaces, ``x1 < x2`` and ``y1 < y2``) anywhere in the
response, averaged over the targets (0 without boxes or targets), then averaged over all questions.
``accuracy_vlmevalkit`` is VLMEvalKit's ``TreeBench.evaluate`` (the answer read by
``extract_characters_regex``). Deviation: boxes are read in the model family's coordinate
convention and mapped to original pixels before the IoU (the scripts compare the numbers as written;
the same for ``--convention pixel``). IoU is :func:`vlmr.rewards.metrics.box_iou`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import media_root
from vlmr.data_pipelines.releases.treebench import treebench_samples
from vlmr.eval.benchmarks.mme_realworld import mme_extract
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.rewards.metrics import box_iou
from vlmr.schema import Sample

CATEGORIES = (
    "Perception/Attributes", "Perception/Material", "Perception/Physical State", "Perception/Object Retrieval",
    "Perception/OCR", "Reasoning/Perspective Transform", "Reasoning/Ordering", "Reasoning/Contact and Occlusion",
    "Reasoning/Spatial Containment", "Reasoning/Comparison",
)  # fmt: skip
VLMEVALKIT_CHOICES = ["(A)", "(B)", "(C)", "(D)", "(E)"]  # extract_characters_regex's default choices
_BOX = re.compile(r"<box>(.*?)</box>", re.DOTALL)
_COORDS = re.compile(r"\[(\d+),(\d+),(\d+),(\d+)\]")


def evidence_boxes(response: str) -> list[list[int]]:
    """The boxes of a response as the official ``compute_box_iou`` reads them.

    >>> evidence_boxes("<box>[10,20,30,40]</box> <box>[1, 2, 3, 4]</box> <box>[5,5,5,9]</box>")
    [[10, 20, 30, 40]]
    """
    boxes = []
    for inner in _BOX.findall(response):
        m = _COORDS.match(inner.strip())
        if m:
            x1, y1, x2, y2 = map(int, m.groups())
            if x1 < x2 and y1 < y2:
                boxes.append([x1, y1, x2, y2])
    return boxes


def mean_best_iou(predicted: list[list[float]], targets: list[list[float]]) -> float:
    """Each target's best IoU with a predicted box, averaged over the targets (0 without either).

    >>> mean_best_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [0, 0, 10, 20]])
    0.75
    """
    if not targets or not predicted:
        return 0.0
    return sum(max(box_iou(p, t) for p in predicted) for t in targets) / len(targets)


@register_benchmark("treebench")
class TreeBench(Benchmark):
    """TreeBench: accuracy per category and mean IoU of the evidence boxes."""

    task = "mcq"
    primary_metric = "accuracy"
    breakdown_keys = ("category",)
    headline = (
        MetricRule("accuracy", "official inference_treebench.py: <answer> upper-cased == the letter, pooled over "
                               "the ten categories"),
        MetricRule("miou", "official inference_treebench.py: mean over questions of the targets' best IoU with the "
                           "<box>[x1,y1,x2,y2]</box> boxes of the response (mapped to original pixels)"),
    )
    alternatives = (MetricRule("accuracy_vlmevalkit", "VLMEvalKit TreeBench: extract_characters_regex of the "
                                                      "<answer>"),)

    def load(self, path: str | Path) -> list[Sample]:
        """Every row (:func:`~vlmr.data_pipelines.releases.treebench.treebench_samples`)."""
        return treebench_samples(path, self.skip, self.options.get("split"))

    def media_root(self, path: str | Path) -> Path:
        return media_root(path)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        response = prediction.get("response", "") or ""
        m = re.search(r"<answer>(.*?)</answer>", response, re.DOTALL)
        answer = m[1].strip().upper() if m else response  # as the authors' script: no tags, the whole response
        space = ctx.space_for(sample)
        boxes = [space.to_pixels(b) if space else list(map(float, b)) for b in evidence_boxes(response)]
        out: dict[str, Any] = {
            "miou": mean_best_iou(boxes, sample.answer["boxes"]),
            "accuracy_vlmevalkit": float(mme_extract(answer, VLMEVALKIT_CHOICES) == sample.answer["choice"]),
            "_pred_boxes": boxes, "_pred": answer,
        }
        if sample.meta["category"] in CATEGORIES:  # the official overall counts only its ten categories
            out["accuracy"] = float(answer == sample.answer["choice"])
        return out
