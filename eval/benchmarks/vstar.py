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

import json
import random
import re
import string
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.hub import is_hub_copy
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.data_pipelines.releases.vlmevalkit_tsv import tsv_options
from vlmr.eval.answers import choice_scores
from vlmr.eval.benchmarks.released import ReleasedImageBenchmark, is_tsv
from vlmr.eval.registry import MetricRule, ScoreContext, aggregate_rows, register_benchmark
from vlmr.schema import Sample

CATEGORIES = {"direct_attributes": "attribute", "relative_position": "spatial"}
_OPTION_LINE = re.compile(r"^\(([A-Z])\)\s*(.*)$")


def split_text(text: str) -> tuple[str, list[str]]:
    """``(question, ["A. ...", ...])`` of a ``test_questions.jsonl`` text: the lines before the first
    ``(A)``, then one option per ``(X)`` line; the instruction after the options is dropped.

    >>> split_text("What is the color of the cup?\\n(A) red\\n(B) blue\\nAnswer with the option's letter.")
    ('What is the color of the cup?', ['A. red', 'B. blue'])
    """
    question, options = [], []
    for line in str(text).splitlines():
        m = _OPTION_LINE.match(line.strip())
        if m:
            options.append(f"{m[1]}. {m[2].strip()}")
        elif not options:
            question.append(line)
    return "\n".join(question).strip(), options


def ordered_options(options: list[str], seed: str) -> tuple[list[str], str]:
    """The folder layout's options (correct first) in an order drawn from ``seed``, lettered, and
    the correct letter.

    >>> ordered_options(["rubber", "cotton", "kevlar", "leather"], "direct_attributes/sa_4690.jpg")
    (['A. rubber', 'B. cotton', 'C. leather', 'D. kevlar'], 'A')
    """
    order = list(range(len(options)))
    random.Random(seed).shuffle(order)
    lettered = [f"{string.ascii_uppercase[i]}. {options[j]}" for i, j in enumerate(order)]
    return lettered, string.ascii_uppercase[order.index(0)]


@register_benchmark("vstar")
class VStar(ReleasedImageBenchmark):
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
        path = Path(path)
        root = self.media_root(path)
        if is_tsv(path) or is_hub_copy(path):
            return self.samples_from(self.embedded_rows(path), lambda i, row: self._embedded(row, root))
        if path.is_dir() and not (path / "test_questions.jsonl").is_file():
            return self._folders(path)
        questions = path / "test_questions.jsonl" if path.is_dir() else path
        return self.samples_from(read_rows(questions), lambda i, row: self._jsonl(row, root))

    def _embedded(self, row: dict[str, Any], root: Path) -> Sample | None:
        if "text" in row:  # lmms-lab/vstar-bench: the jsonl's fields, image embedded
            question, options = split_text(row["text"])
            key, letter = row["question_id"], row["label"]
        else:
            question, options, key, letter = row["question"], tsv_options(row), row["index"], row["answer"]
        return self.mcq(str(key), question, options, letter, row["_images"], root, _meta(row["category"]))

    def _jsonl(self, row: dict[str, Any], root: Path) -> Sample | None:
        if not (root / row["image"]).is_file():
            self.skip("image file not found")
            return None
        question, options = split_text(row["text"])
        return self.mcq(str(row["question_id"]), question, options, row["label"], [row["image"]], root,
                        _meta(row["category"]))

    def _folders(self, root: Path) -> list[Sample]:
        """The per-image annotation files of each category folder, in file-name order."""
        annotations = [p for category in CATEGORIES for p in sorted((root / category).glob("*.json"))]
        if not annotations:
            raise FileNotFoundError(f"no V* questions in {root}: expected test_questions.jsonl or "
                                    f"{'/, '.join(CATEGORIES)}/ with per-image JSON files")
        return self.samples_from(annotations, lambda i, p: self._annotated(p, root))

    def _annotated(self, annotation: Path, root: Path) -> Sample | None:
        row = json.loads(annotation.read_text(encoding="utf-8"))  # one object per image (a bad file: skipped)
        image = next((p for p in annotation.parent.glob(annotation.stem + ".*") if p.suffix != ".json"), None)
        if image is None:
            self.skip("image file not found")
            return None
        rel = image.relative_to(root).as_posix()
        options, letter = ordered_options([str(o) for o in row["options"]], rel)
        return self.mcq(rel.rsplit(".", 1)[0], row["question"], options, letter, [rel], root,
                        _meta(annotation.parent.name))

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


def _meta(category: Any) -> dict[str, Any]:
    return {"category": str(category)}
