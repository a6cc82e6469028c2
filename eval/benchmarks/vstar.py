"""V* Bench (Wu & Xie, "V*: Guided Visual Search as a Core Mechanism in Multimodal LLMs", CVPR 2024).

191 multiple-choice questions on high-resolution images: 115 ``direct_attributes`` (colour,
material of a small object) and 76 ``relative_position`` (left/right of two objects).

Data, detected from ``--data``:

* the release (``craigwu/vstar_bench``): ``direct_attributes/`` and ``relative_position/`` with
  each image beside a JSON of the same name ``{"target_object", "bbox" [x, y, w, h], "question",
  "options"}`` whose first option is the correct one, and ``test_questions.jsonl`` (rows ``image,
  text`` = question + ``(A) ...`` options + instruction, ``category, question_id, label``). A folder
  with ``test_questions.jsonl`` is read through it (fixed letters, as lmms-eval and most papers);
  without it, through the per-image JSON files, whose options are put in an order drawn from the
  image name (the same every run; DeepEyes shuffles unseeded);
* its Hub copy ``lmms-lab/vstar-bench`` (``image, text, label, category, question_id``);
* VLMEvalKit's ``VStarBench.tsv`` (``index, image, question, A``-``D``, ``answer, category``).

Metric: the official ``vstar_bench_eval.py`` reports accuracy per category and pooled over all
questions. ``attribute`` and ``spatial`` are the two categories' accuracies, ``accuracy`` the
pooled one (the paper's "Overall"). Deviation: the official script scores options by the model's
likelihood; a generative model is scored instead on the letter of its ``<answer>`` (or the text of
exactly one option), read by :func:`vlmr.rewards.parse.parse_choice` as VLMEvalKit's exact matching
does; DeepEyes and Mini-o3 add an LLM judge for free-form answers, which vlmr does not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import media_root
from vlmr.data_pipelines.releases.vstar import vstar_samples
from vlmr.eval.answers import choice_scores
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, aggregate_rows, register_benchmark
from vlmr.schema import Sample

CATEGORIES = {"direct_attributes": "attribute", "relative_position": "spatial"}


@register_benchmark("vstar")
class VStar(Benchmark):
    """V* Bench: attribute, spatial and overall accuracy."""

    task = "mcq"
    primary_metric = "accuracy"
    breakdown_keys = ("category",)
    headline = (
        MetricRule("accuracy", "official vstar_bench_eval.py: pooled over the 191 questions (Overall); "
                               "the letter of the <answer> (parse_choice) instead of option likelihoods"),
        MetricRule("attribute", "official: accuracy on direct_attributes"),
        MetricRule("spatial", "official: accuracy on relative_position"),
    )

    def load(self, path: str | Path) -> list[Sample]:
        """Every question (:func:`~vlmr.data_pipelines.releases.vstar.vstar_samples`)."""
        return vstar_samples(path, self.skip, self.options.get("split"))

    def media_root(self, path: str | Path) -> Path:
        return media_root(path)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        return {**choice_scores(prediction.get("response", ""), sample.answer["choice"], sample.choices),
                "_category": sample.meta["category"]}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """Pooled accuracy, plus each category's accuracy under its short name."""
        out = aggregate_rows(rows)
        for category, short in CATEGORIES.items():
            scores = [row["accuracy"] for row in rows if row.get("_category") == category]
            if scores:
                out[short] = sum(scores) / len(scores)
        return out

