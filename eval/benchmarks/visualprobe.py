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

import re
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.hub import is_hub_copy
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.eval.answers import answer_text
from vlmr.eval.benchmarks.released import ReleasedImageBenchmark, is_tsv, sized
from vlmr.eval.registry import MetricRule, ScoreContext, register_benchmark
from vlmr.rewards.parse import normalise_text
from vlmr.schema import Sample

DIFFICULTIES = ("easy", "medium", "hard")
JUDGE_PROMPT = (
    "Decide whether a model's answer to a question about an image means the same as the correct answer "
    "(synonyms and paraphrases match; numbers and names must agree).\n"
    "Question: {question}\nCorrect answer: {truth}\nModel answer: {prediction}\n"
    "Reply with 'Score: 1' if they match and 'Score: 0' if they do not."
)


def difficulty_of(path: Path) -> str | None:
    """The difficulty a path names (``VisualProbe_Hard/val.json`` -> ``hard``), else ``None``.

    >>> difficulty_of(Path("data/VisualProbe_Medium/val.json")), difficulty_of(Path("val.json"))
    ('medium', None)
    """
    for part in reversed(path.parts):
        m = re.search(r"(easy|medium|hard)", part.lower())
        if m:
            return m[1]
    return None


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
class VisualProbe(ReleasedImageBenchmark):
    """VisualProbe easy / medium / hard: answer accuracy per difficulty."""

    task = "vqa"
    primary_metric = "accuracy"
    breakdown_keys = ("difficulty",)
    headline = (MetricRule("accuracy", "Mini-o3: judged match of the <answer> with the solution; without a judge "
                                       "(--extractor-api-base) the normalised exact match"),)

    def media_root(self, path: str | Path) -> Path:
        if is_tsv(path) or is_hub_copy(path):
            return super().media_root(path)
        return Path(self.options.get("image_root") or (path if Path(path).is_dir() else Path(path).parent))

    def load(self, path: str | Path) -> list[Sample]:
        path, root = Path(path), self.media_root(path)
        if is_tsv(path) or is_hub_copy(path):
            level = self.options.get("difficulty") or difficulty_of(path)
            return self.samples_from(self.embedded_rows(path, "images" if not is_tsv(path) else "image"),
                                     lambda i, row: self._sample(f"{level}-{i}", row, row["_images"], root, level))
        files = [path] if path.is_file() else sorted(path.glob("*/val.json")) or sorted(path.glob("val.json"))
        if not files:
            raise FileNotFoundError(f"no VisualProbe val.json under {path} (expected VisualProbe_<Level>/val.json)")
        samples: list[Sample] = []
        for file in files:
            level = difficulty_of(file.relative_to(path) if path.is_dir() else file) or difficulty_of(file)
            samples += self.samples_from(read_rows(file), lambda i, row, lv=level: self._released(i, row, root, lv))
        return samples

    def _released(self, i: int, row: dict[str, Any], root: Path, level: str | None) -> Sample | None:
        images = row.get("images", row.get("image"))
        images = [str(x) for x in images] if isinstance(images, list) else [str(images)] if images else []
        if not images or not all((root / image).is_file() for image in images):
            self.skip("image file not found")
            return None
        return self._sample(str(row.get("doc_id", row.get("id", f"{level}-{i}"))), row, images, root, level)

    def _sample(self, key: str, row: dict[str, Any], images: list[str], root: Path, level: str | None
                ) -> Sample | None:
        question = str(row.get("problem", row.get("question")) or "").replace("<image>", "").strip()
        truth = answer_text(str(row.get("solution", row.get("answer")) or ""))  # a solution may carry <answer> tags
        if not question or not truth:
            self.skip("row without question or solution")
            return None
        return Sample(id=key, task="vqa", source="visualprobe", question=question, images=images,
                      answer={"text": truth}, meta={**sized(root, images), "difficulty": level or "unknown"})

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        answer = answer_text(prediction.get("response", ""))
        truth = sample.answer["text"]
        exact = float(bool(answer) and normalise_text(answer) == normalise_text(truth))
        if ctx.extractor is None or not answer:
            return {"accuracy": exact, "_pred": answer}
        verdict = ctx.extractor(JUDGE_PROMPT.format(question=sample.question, truth=truth, prediction=answer))
        return {"accuracy": judged(verdict), "accuracy_exact": exact, "_pred": answer}
