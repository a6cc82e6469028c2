"""ChartQA (Masry et al., ACL Findings 2022): relaxed accuracy.

Data, detected from ``--data``:

* the release's ``test/`` folder with ``test_human.json`` and ``test_augmented.json`` (rows
  ``{"imgname", "query", "label"}``) and images in ``png/``; or one of those files;
* a Hub copy: ``HuggingFaceM4/ChartQA`` (``image, query, label: list[str], human_or_machine``:
  0 human, 1 machine) or ``lmms-lab/ChartQA`` (``type: human_test|augmented_test, question,
  answer, image``); option ``split`` (default ``test``).

Metric: pix2struct's ``relaxed_correctness`` (the official scorer), implemented once in
:func:`vlmr.rewards.metrics.relaxed_match`: when both answers parse as floats (a trailing
``%`` divides by 100) and the target is non-zero, correct iff ``|p - t| / |t| <= 0.05``;
otherwise case-insensitive exact match (so a zero target needs an exact ``"0"``). With several
targets (HuggingFaceM4's ``label`` list) the best one counts, as pix2struct takes the max. The
prediction is the ``<answer>`` text, stripped (the official scorers compare the decoded answer
as is; vlmr's answers carry tags and whitespace). Overall accuracy pools both subsets (as
lmms-eval); the per-subset numbers the paper reports are under ``breakdown.split``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.chartqa import hub_fields
from vlmr.data_pipelines.releases.files import image_size
from vlmr.data_pipelines.releases.hub import HubCopy, is_hub_copy
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.eval.answers import relaxed_scores
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.schema import Sample

SPLIT_FILES = ("test_human.json", "test_augmented.json")


@register_benchmark("chartqa")
class ChartQA(Benchmark):
    """ChartQA human + augmented test subsets, relaxed accuracy."""

    task = "chart_qa"
    primary_metric = "relaxed_accuracy"
    headline = (MetricRule("relaxed_accuracy", "pix2struct relaxed_correctness (ChartQA paper): numbers within 5 % "
                                               "relative error (x% = x/100), else case-insensitive exact match"),)
    breakdown_keys = ("split",)

    def load(self, path: str | Path) -> list[Sample]:
        """Both split files of a release folder, the one file given, or a Hub copy."""
        if is_hub_copy(path):
            return self._load_hub(path)
        path = Path(path)
        files = [path] if path.is_file() else [path / f for f in SPLIT_FILES if (path / f).exists()]
        if not files:
            raise FileNotFoundError(f"no {' or '.join(SPLIT_FILES)} in {path}")
        samples = []
        for file in files:
            subset = file.stem.removeprefix("test_")
            samples += self.samples_from(read_rows(file), lambda i, row, subset=subset, folder=file.parent: self._sample(
                f"{subset}-{i:05d}", subset, row["query"], [str(row["label"])], f"png/{row['imgname']}", folder))
        return samples

    def _load_hub(self, path: str | Path) -> list[Sample]:
        copy = HubCopy(path)
        media = self.media_root(path)

        def make(i: int, row: dict[str, Any]) -> Sample | None:
            subset, question, targets, image = hub_fields(row)
            if image is None or not targets:
                self.skip("Hub row without image or label")
                return None
            return self._sample(f"{subset}-{i:05d}", subset, question, targets, image.save(media), media)

        return self.samples_from(copy.rows(copy.choose_split(self.options.get("split"), prefer=("test",))), make)

    def _sample(self, sid: str, subset: str, question: str, targets: list[str], image: str, root: Path) -> Sample:
        width, height = image_size(root / image)
        meta = {"split": subset, "width": width, "height": height}
        if len(targets) > 1:
            meta["targets"] = targets
        return Sample(id=sid, task="chart_qa", source="chartqa", question=question, images=[image],
                      answer={"text": targets[0]}, meta=meta)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Relaxed correctness of the answer text against the best target."""
        return relaxed_scores(prediction.get("response") or "", sample.meta.get("targets") or [sample.answer["text"]])
