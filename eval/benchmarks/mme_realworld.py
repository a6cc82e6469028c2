"""MME-RealWorld and MME-RealWorld-Lite (Zhang et al., "MME-RealWorld: Could Your Multimodal LLM
Challenge High-Resolution Real-World Scenarios that are Difficult for Humans?", ICLR 2025).

Five-option multiple choice (E is "none of the above" in many questions) on high-resolution images
of five domains (Monitoring, Autonomous_Driving, OCR with Complex Context, Diagram and Table,
Remote Sensing), each under Perception and Reasoning.

Data, detected from ``--data``:

* the release (``yifanzhang114/MME-RealWorld``): a JSON list of rows ``Question_id, Image, Text,
  Answer choices ["(A) ...", ...], Ground truth, Task, Subtask, Category`` (the same rows as the
  official ``output_test_template.json``), images under option ``image_root`` (default: the JSON's
  folder) at the row's ``Image`` path or under its ``imgs/`` (the Lite release's ``data.zip``:
  ``MME-RealWorld-Lite.json`` beside ``imgs/``);
* VLMEvalKit's ``MME-RealWorld.tsv`` / ``mme_realworld_lite.tsv`` (``index, image, question,
  multi-choice options, A``-``E, answer, category`` = ``Task/Subtask``, ``l2-category`` = the
  category; the Lite file has the options only as a Python list in ``multi-choice options``), or
  the Hub copies lmms-eval reads (``yifanzhang114/MME-RealWorld-Lmms-eval``,
  ``yifanzhang114/MME-RealWorld-lite-lmms-eval``: those fields, the image as base64 in ``bytes``).

Metric: the official ``evaluation/eval_your_results.py``: ``extract_characters_regex`` (drop "The
best answer is"-style prefixes, as listed with their missing commas; more than 10 words and no
capital A-E: unanswered; else the first capital A-E; with none, the first option whose text contains
the answer) compared with the ground-truth letter; accuracy pooled over all questions, and per task,
per domain (``Task/Subtask``) and per category (``Task/Subtask/category``, lower case, every
``*/attribute*`` category merged into ``<object>/attribute``) as the script aggregates them.
``perception`` and ``reasoning`` are the two tasks' accuracies. Deliberate differences: the rule
reads the ``<answer>`` part; an empty answer is wrong (the official fallback finds ``""`` in the
first option and reads it as A).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import media_root
from vlmr.data_pipelines.releases.mme_realworld import mme_realworld_samples
from vlmr.eval.answers import answer_text
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, aggregate_rows, register_benchmark
from vlmr.schema import Sample

TASKS = ("Perception", "Reasoning")
_PREFIXES = (
    "The best answer is", "The correct answer is", "The answer is", "The answer",
    "The best option isThe correct option is", "Best answer:Best option:",
)  # fmt: skip  (the official list concatenates the last pairs by missing commas; kept)


def mme_extract(text: str, choices: list[str]) -> str:
    """The official ``extract_characters_regex``: a letter A-E, or ``""``; ``choices`` as ``"(A) ..."``.

    >>> mme_extract("The best answer is (D).", []), mme_extract("458", ["(A) 458", "(B) 457"])
    ('D', 'A')
    >>> mme_extract("I cannot tell which one of these it would be at all", ["(A) x"])
    ''
    """
    s = text.strip()
    for prefix in _PREFIXES:
        s = s.replace(prefix, "")
    if len(s.split()) > 10 and not re.search("[ABCDE]", s):
        return ""
    m = re.search(r"[ABCDE]", s)
    if m is None:
        return next((choice[1] for choice in choices if s.lower() in choice.lower()), "")
    return m[0]


@register_benchmark("mme_realworld")
class MMERealWorld(Benchmark):
    """MME-RealWorld: accuracy pooled, per task, domain and category (the official aggregation)."""

    task = "mcq"
    primary_metric = "accuracy"
    breakdown_keys = ("task", "domain", "category")
    headline = (
        MetricRule("accuracy", "official eval_your_results.py: extract_characters_regex on the <answer> "
                               "(an empty answer is wrong), pooled over all questions (Overall Acc)"),
        MetricRule("perception", "official: accuracy of the Perception questions"),
        MetricRule("reasoning", "official: accuracy of the Reasoning questions"),
    )

    def media_root(self, path: str | Path) -> Path:
        return media_root(path, self.options.get("image_root"))

    def load(self, path: str | Path) -> list[Sample]:
        """Every question (:func:`~vlmr.data_pipelines.releases.mme_realworld.mme_realworld_samples`)."""
        return mme_realworld_samples(path, self.skip, self.name, self.options.get("image_root"),
                                     self.options.get("split"))

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        text = answer_text(prediction.get("response", ""))
        official = [f"({c[0]}) {c[3:]}" for c in sample.choices or []]  # "A. x" back to the release's "(A) x"
        letter = mme_extract(text, official) if text else ""
        return {"accuracy": float(letter == sample.answer["choice"]), "_pred_choice": letter,
                "_task": sample.meta["task"]}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """Pooled accuracy, plus each task's accuracy under its lower-case name."""
        out = aggregate_rows(rows)
        for task in TASKS:
            scores = [row["accuracy"] for row in rows if row.get("_task") == task]
            if scores:
                out[task.lower()] = sum(scores) / len(scores)
        return out


@register_benchmark("mme_realworld_lite")
class MMERealWorldLite(MMERealWorld):
    """MME-RealWorld-Lite (``mme_realworld_lite.tsv`` or the Lite JSON): the same rule on its subset."""

