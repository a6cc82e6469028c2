"""Medical VQA: VQA-RAD (Lau et al., 2018) and SLAKE (Liu et al., ISBI 2021), closed/open.

Data, detected from ``--data``:

* VQA-RAD as released: ``VQA_RAD Dataset Public.json`` (2,248 rows ``{"qid", "phrase_type",
  "image_name", "question", "answer", "answer_type", "image_organ", "question_type", ...}``;
  images in ``VQA_RAD Image Folder/``). The split is in ``phrase_type``: ``test_freeform`` and
  ``test_para`` are the 451-question test set, ``freeform`` and ``para`` train. The benchmark
  evaluates the test set (option ``split``: ``test``, ``train`` or ``all``). ``answer_type``
  values carry stray spaces in the release (``"CLOSED "``) and answers may be numbers.
* SLAKE as released: ``test.json`` (rows ``{"qid", "img_name", "question", "answer",
  "answer_type", "q_lang", "modality", "content_type", "location", ...}``; images in ``imgs/``);
  English questions only (option ``lang``), 1,061 of the 2,094 test rows.
* Hub copies (parquet or ``save_to_disk``): ``flaviagiammarino/vqa-rad`` (``image, question,
  answer``; splits train/test) and SLAKE copies carrying the release's fields plus an ``image``
  column; option ``split`` (default ``test``). Where a copy has no ``answer_type``, a yes/no
  answer makes the question closed, anything else open.

Option ``image_dir`` overrides the release's image folder.

Metrics (:mod:`vlmr.eval.medical_scores`): the headline is LLaVA-Med's, as papers report it:
``closed_accuracy`` (the ground truth appears in the answer) and ``open_recall`` (recall of the
ground-truth words after LLaVA-Med's normalisation); ``exact_match`` (strict, every question) and
``closed_accuracy_llava_med_script`` (the script's own rule to the letter) are beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.files import find_file, image_size
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, is_hub_copy
from vlmr.data_pipelines.releases.medical import answer_type, row_split
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.eval.medical_scores import medical_scores
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.schema import Sample

HEADLINE = (
    MetricRule("closed_accuracy", "LLaVA-Med run_eval.py: the normalised ground truth appears in the answer "
                                  "(whole words), closed questions"),
    MetricRule("open_recall", "LLaVA-Med run_eval.py: recall of the ground-truth words after normalisation, "
                              "open questions"),
)
ALTERNATIVES = (
    MetricRule("exact_match", "vlmr strict: normalised answer equals the ground truth, every question"),
    MetricRule("closed_accuracy_llava_med_script", "LLaVA-Med run_eval.py to the letter: substrings, and wrong "
                                                   "answers containing yes/no left out of the average"),
)


class _MedicalVQA(Benchmark):
    task = "medical_vqa"
    primary_metric = "exact_match"  # the per-question number every sample has (sorts the gallery)
    headline = HEADLINE
    alternatives = ALTERNATIVES
    default_image_dir = ""
    default_file = ""
    breakdown_keys = ("answer_type",)

    def load(self, path: str | Path) -> list[Sample]:
        """Read the question file (or the default file in the folder), or a Hub copy."""
        hub = is_hub_copy(path)
        if hub:
            copy = HubCopy(path)
            rows = list(copy.rows(copy.choose_split(self.options.get("split"), prefer=("test",))))
        else:
            rows = read_rows(find_file(path, (self.default_file,)))
        root = self.media_root(path)
        image_dir = self.options.get("image_dir", self.default_image_dir)

        def make(i: int, row: dict[str, Any]) -> Sample | None:
            if not self.keep(row, hub):
                return None
            if hub:
                if not isinstance(row.get("image"), ImageCell):
                    self.skip("Hub row without image")
                    return None
                rel = row["image"].save(root)
            else:
                rel = f"{image_dir}/{row.get('image_name') or row['img_name']}".lstrip("/")
            width, height = image_size(root / rel)
            meta = {k: row[k] for k in ("image_organ", "modality", "content_type", "location") if row.get(k)}
            return Sample(
                id=str(row.get("qid", i)), task="medical_vqa", source=self.name, question=str(row["question"]),
                images=[rel], answer={"text": str(row["answer"]).strip()},
                meta={**meta, "answer_type": answer_type(row), "width": width, "height": height},
            )

        return self.samples_from(rows, make)

    def keep(self, row: dict[str, Any], hub: bool) -> bool:
        """Whether a row belongs to the evaluated subset."""
        return True

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """LLaVA-Med's closed/open scores and the strict match."""
        closed = sample.meta["answer_type"] == "CLOSED"
        return medical_scores(prediction.get("response") or "", sample.answer["text"], closed)


@register_benchmark("vqa_rad")
class VQARAD(_MedicalVQA):
    """VQA-RAD: radiology VQA, closed and open questions; the test set by default."""

    default_file = "VQA_RAD Dataset Public.json"
    default_image_dir = "VQA_RAD Image Folder"
    breakdown_keys = ("answer_type", "image_organ")

    def keep(self, row: dict[str, Any], hub: bool) -> bool:
        """The release rows of the ``split`` option (default ``test``); a Hub split is kept whole."""
        split = self.options.get("split", "test")
        return hub or split == "all" or row_split(row) == split


@register_benchmark("slake")
class SLAKE(_MedicalVQA):
    """SLAKE: bilingual medical VQA (English subset by default)."""

    default_file = "test.json"
    default_image_dir = "imgs"
    breakdown_keys = ("answer_type", "modality", "content_type")

    def keep(self, row: dict[str, Any], hub: bool) -> bool:
        """Questions in the ``lang`` option's language (default ``en``)."""
        return row.get("q_lang", "en") == self.options.get("lang", "en")
