"""VisualProbe (Lai et al., "Mini-o3: Scaling Up Reasoning Patterns and Interaction Turns for Visual
Search", 2025): open questions about small details of high-resolution images, in three difficulty
levels (easy, medium, hard).

Data, as Mini-o3's training recipe reads it: ``VisualProbe_Easy/val.json``,
``VisualProbe_Medium/val.json``, ``VisualProbe_Hard/val.json`` (JSON lists of rows ``problem``,
``images`` [paths], ``solution``; ``question`` / ``image`` / ``answer`` are read too), images under
option ``image_root`` (Mini-o3's ``BASE_IMAGE_DIR``; default: the folder given). ``--data`` is one
``val.json`` (its difficulty from the folder name) or the folder holding the three; a Hub copy with
those columns and the images embedded is read too.

Metric: Mini-o3 scores the ``<answer>`` text against ``solution`` with a GPT-4o judge (1 for a
meaningful match, 0 otherwise) and reports accuracy per difficulty, averaged over 32 sampled runs
(``--num-samples 32``). Deviation: without a judge the headline ``accuracy`` is the exact match of
the normalised answer (lower case, no punctuation or articles), stricter than a judge; with
``--extractor-api-base/--extractor-model`` that model judges instead (vlmr's own judge instruction,
not Mini-o3's GPT-4o prompt), and each verdict is cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import media_root
from vlmr.data_pipelines.releases.visualprobe import visualprobe_samples
from vlmr.eval.answers import answer_text
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.rewards.parse import normalise_text
from vlmr.schema import Sample

JUDGE_PROMPT = (
    "Decide whether a model's answer to a question about an image means the same as the correct answer "
    "(synonyms and paraphrases match; numbers and names must agree).\n"
    "Question: {question}\nCorrect answer: {truth}\nModel answer: {prediction}\n"
    "Reply with 'Score: 1' if they match and 'Score: 0' if they do not."
)


def judged(verdict: str) -> float:
    """1.0 when the judge's text after its last ``score:`` holds a 1 (Mini-o3's reading), else 0.0.

    >>> judged("Reasoning... Score: 1"), judged("score: 0"), judged("no verdict")
    (1.0, 0.0, 0.0)
    """
    text = verdict.lower()
    if "score:" not in text:
        return 0.0
    return float("1" in text.split("score:")[-1].strip().split("\n")[0])


@register_benchmark("visualprobe")
class VisualProbe(Benchmark):
    """VisualProbe easy / medium / hard: answer accuracy per difficulty."""

    task = "vqa"
    primary_metric = "accuracy"
    breakdown_keys = ("difficulty",)
    headline = (MetricRule("accuracy", "Mini-o3: judged match of the <answer> with the solution; without a judge "
                                       "(--extractor-api-base) the normalised exact match"),)

    def media_root(self, path: str | Path) -> Path:
        return media_root(path, self.options.get("image_root"))

    def load(self, path: str | Path) -> list[Sample]:
        """Every question (:func:`~vlmr.data_pipelines.releases.visualprobe.visualprobe_samples`)."""
        return visualprobe_samples(path, self.skip, self.options.get("image_root"), self.options.get("difficulty"),
                                   self.options.get("split"))

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        answer = answer_text(prediction.get("response", ""))
        truth = sample.answer["text"]
        exact = float(bool(answer) and normalise_text(answer) == normalise_text(truth))
        if ctx.extractor is None or not answer:
            return {"accuracy": exact, "_pred": answer}
        verdict = ctx.extractor(JUDGE_PROMPT.format(question=sample.question, truth=truth, prediction=answer))
        return {"accuracy": judged(verdict), "accuracy_exact": exact, "_pred": answer}
