"""POPE (Li et al., "Evaluating Object Hallucination in Large Vision-Language Models", EMNLP 2023).

Yes/no questions "Is there a <object> in the image?" over COCO, A-OKVQA and GQA images, each with
random, popular and adversarial negatives (3,000 questions per file).

Data, detected from ``--data``:

* the release (``RUCAIBox/POPE``): its ``output/`` folder (or any folder holding the nine
  ``*_pope_*.json`` files, or one of them; see :mod:`vlmr.data_pipelines.releases.pope`), with
  images under option ``image_root`` (default: the data folder), found as ``<image>``,
  ``val2014/<image>`` (COCO, A-OKVQA) or ``images/<image>`` (GQA);
* its Hub copy ``lmms-lab/POPE`` (``question_id, question, answer, image_source, image,
  category``; split ``test``);
* VLMEvalKit's ``POPE.tsv`` (``index, image, question, answer`` Yes/No, ``category``, where a
  question shared by settings lists them all: ``adversarial,popular``).

Metric: the official ``evaluate.py``: keep the answer's first sentence (up to the first ``.``),
drop commas, split on spaces; ``No``, ``no`` or ``not`` among the words is "no", anything else
"yes". From the counts: ``accuracy``, ``precision``, ``recall``, ``f1`` (positive = yes) and
``yes_ratio``, overall and per file (``breakdown.subset``, e.g. ``coco/adversarial``, the numbers the
paper tables). A TSV question listed under several settings counts once per setting, as
VLMEvalKit's ``POPE_rating`` does. Deliberate differences: the rule reads the ``<answer>`` part
(the text after ``</think>``, or the whole response without tags); an empty answer (no prediction,
an error, nothing after the tags), which the official rule calls "yes", is counted wrong (a "no" on
a "yes" question, a "yes" on a "no" one); a zero denominator gives 0 instead of an error.
``accuracy_vlmevalkit`` / ``f1_vlmevalkit`` follow VLMEvalKit's ``YOrN_Extraction`` (punctuation
removed, lower case: "yes" without "no" is yes, "no" without "yes" is no, else unknown, which counts
as a wrong "no").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import media_root
from vlmr.data_pipelines.releases.pope import pope_samples
from vlmr.eval.answers import answer_text
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.schema import Sample


def pope_answer(text: str) -> str:
    """The official ``evaluate.py`` reading of an answer: ``"no"`` or ``"yes"``.

    >>> pope_answer("No, there is no car."), pope_answer("There is not a car"), pope_answer("Nope. No.")
    ('no', 'no', 'yes')
    """
    if "." in text:
        text = text.split(".")[0]
    words = text.replace(",", "").split(" ")
    return "no" if "No" in words or "not" in words or "no" in words else "yes"


def vlmevalkit_answer(text: str) -> str:
    """VLMEvalKit's ``YOrN_Extraction``: ``"yes"``, ``"no"`` or ``"unknown"``.

    >>> vlmevalkit_answer("Yes."), vlmevalkit_answer("yes or no"), vlmevalkit_answer("There is not")
    ('yes', 'unknown', 'unknown')
    """
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    yes, no = "yes" in words, "no" in words
    return "yes" if yes and not no else "no" if no and not yes else "unknown"


def yes_no_metrics(rows: list[dict[str, Any]], pred: str = "_pred_yes") -> dict[str, float]:
    """Accuracy, precision, recall, F1 and yes-ratio of the rows' ``pred`` against ``_label_yes``,
    each row counted ``_weight`` times.

    >>> rows = [{"_pred_yes": 1, "_label_yes": 1}, {"_pred_yes": 1, "_label_yes": 0},
    ...         {"_pred_yes": 0, "_label_yes": 0}, {"_pred_yes": 0, "_label_yes": 1, "_weight": 2}]
    >>> yes_no_metrics(rows)
    {'accuracy': 0.4, 'precision': 0.5, 'recall': 0.3333333333333333, 'f1': 0.4, 'yes_ratio': 0.4}
    """
    tp = fp = tn = fn = 0
    for row in rows:
        if "_label_yes" not in row:
            continue
        w, p, t = row.get("_weight", 1), row[pred], row["_label_yes"]
        tp += w * (p and t)
        fp += w * (p and not t)
        tn += w * (not p and not t)
        fn += w * (not p and t)
    total = tp + fp + tn + fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"accuracy": (tp + tn) / total if total else 0.0, "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "yes_ratio": (tp + fp) / total if total else 0.0}


@register_benchmark("pope")
class POPE(Benchmark):
    """POPE: accuracy, precision, recall, F1 and yes-ratio, per dataset and negative sampling."""

    task = "vqa"
    primary_metric = "f1"
    breakdown_keys = ("subset", "dataset", "setting")
    headline = (
        MetricRule("f1", "official evaluate.py: first sentence, commas dropped, 'No'/'no'/'not' among the words "
                         "is no, else yes; F1 of yes (an empty answer counts wrong)"),
        MetricRule("accuracy", "official evaluate.py: (TP + TN) / all"),
        MetricRule("precision", "official evaluate.py: TP / (TP + FP)"),
        MetricRule("recall", "official evaluate.py: TP / (TP + FN)"),
        MetricRule("yes_ratio", "official evaluate.py: share of answers read as yes"),
    )
    alternatives = (
        MetricRule("accuracy_vlmevalkit", "VLMEvalKit YOrN_Extraction: yes without no / no without yes, "
                                          "else unknown (wrong)"),
        MetricRule("f1_vlmevalkit", "VLMEvalKit POPE_rating: F1 with unknown read as no"),
    )

    def media_root(self, path: str | Path) -> Path:
        return media_root(path, self.options.get("image_root"))

    def load(self, path: str | Path) -> list[Sample]:
        """Every question (:func:`~vlmr.data_pipelines.releases.pope.pope_samples`)."""
        return pope_samples(path, self.skip, self.options.get("image_root"), self.options.get("split"))

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        text = answer_text(prediction.get("response", ""))
        label_yes = sample.answer["text"] == "yes"
        pred = pope_answer(text) if text else ("no" if label_yes else "yes")  # empty: wrong either way
        other = vlmevalkit_answer(text)
        return {"accuracy": float((pred == "yes") == label_yes),
                "accuracy_vlmevalkit": float(other == sample.answer["text"]),
                "_pred": pred, "_pred_yes": int(pred == "yes"), "_pred_yes_vlmevalkit": int(other == "yes"),
                "_label_yes": int(label_yes), "_weight": len(sample.meta["setting"])}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        scored = [row for row in rows if "_label_yes" in row]
        weight = sum(row["_weight"] for row in scored)
        other = sum(row["_weight"] * row["accuracy_vlmevalkit"] for row in scored) / weight if weight else 0.0
        return {**yes_no_metrics(rows), "accuracy_vlmevalkit": other,
                "f1_vlmevalkit": yes_no_metrics(rows, "_pred_yes_vlmevalkit")["f1"]}

    def breakdown(self, samples, rows):
        """Per group, each question counts once (its weight is the number of settings it is in, overall)."""
        return super().breakdown(samples, [{**row, "_weight": 1} for row in rows])
