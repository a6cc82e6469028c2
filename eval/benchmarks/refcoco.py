"""RefCOCO / RefCOCO+ / RefCOCOg referring expression comprehension, Acc@0.5.

Data, one sample per referring expression, detected from ``--data``:

* VLM-R1's ``rec_jsons_processed`` files: rows ``{"image", "normal_caption" | "problem",
  "solution": [x1, y1, x2, y2]}``;
* COCO-style rows ``{"file_name", "sentence", "bbox": [x, y, w, h]}`` (a JSON/JSONL export);
* lmms-eval's form, as a Hub copy of ``lmms-lab/RefCOCO``, ``RefCOCOplus`` or ``RefCOCOg``
  (``question_id, image, question, answer: list[str], segmentation, bbox: [x, y, w, h],
  iscrowd, file_name``; one row per referred object) or a JSON export of those rows: its
  ``question`` is one fixed caption prompt, the referring expressions are the ``answer`` list,
  so each expression becomes a sample (id ``<question_id>-<k>``). Option ``split`` (default
  ``val``) picks the Hub split.

Images are looked up under the ``image_root`` option (default: the annotation's folder); a Hub
copy's images are its own.

Metric (headline): the refer toolkit's and lmms-eval's Acc@0.5: the first predicted box, mapped
from the model's coordinate convention to original pixels with :mod:`vlmr.formats`, is a hit when
``IoU >= 0.5`` (``--iou-comparison '>'`` makes the comparison strict). Beside it,
``acc@0.5_vlm_r1`` reproduces VLM-R1's ``src/eval/test_rec_r1.py`` in full: the box is the last
``[int, int, int, int]`` inside braces in the first ``<answer>`` block (no answer block, no box:
``[0, 0, 0, 0]``; decimals never match), its IoU counts an overlap of one pixel or less in either
direction as none (VLM-R1's ``-1/+1`` pixel arithmetic), and a hit needs ``IoU > 0.5``.
Deviation: VLM-R1 scores 2000 shuffled samples (seed 42); vlmr scores the whole split.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.files import image_size
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, is_hub_copy
from vlmr.data_pipelines.releases.refcoco import expressions
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.eval.answers import grounding_scores
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.formats import CoordinateSpace
from vlmr.rewards.metrics import box_iou
from vlmr.schema import Sample

_ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_INT_BOX = re.compile(r"\[(\d+),\s*(\d+),\s*(\d+),\s*(\d+)\]")


def vlm_r1_box(response: str) -> list[float]:
    """VLM-R1's predicted box: the last integer box inside braces of the first ``<answer>`` block,
    ``[0, 0, 0, 0]`` when there is none.

    >>> vlm_r1_box('<answer>{"bbox_2d": [1, 2, 3, 4]}, {"bbox_2d": [5, 6, 7, 8]}</answer>')
    [5.0, 6.0, 7.0, 8.0]
    >>> vlm_r1_box('<answer>{"bbox_2d": [1.5, 2, 3, 4]}</answer>'), vlm_r1_box('{"bbox_2d": [1, 2, 3, 4]}')
    ([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0])
    """
    block = _ANSWER_BLOCK.search(response or "")
    if block:
        text = block.group(1).strip()
        start, end = text.find("{"), text.rfind("}")
        boxes = [m for m in _INT_BOX.finditer(text) if start != -1 and start < m.start() and m.end() <= end]
        if boxes:
            return [float(v) for v in boxes[-1].groups()]
    return [0.0, 0.0, 0.0, 0.0]


def vlm_r1_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """VLM-R1's IoU: the usual one, except that an overlap of at most one pixel in x or y is none.

    >>> vlm_r1_iou([0, 0, 10, 10], [9, 0, 19, 10]), round(vlm_r1_iou([0, 0, 10, 10], [5, 5, 15, 15]), 4)
    (0.0, 0.1429)
    """
    overlap_x = min(a[2], b[2]) - max(a[0], b[0])
    overlap_y = min(a[3], b[3]) - max(a[1], b[1])
    return box_iou(a, b) if overlap_x > 1 and overlap_y > 1 else 0.0


def vlm_r1_scores(response: str, gt_box: Sequence[float], space: CoordinateSpace | None) -> dict[str, float]:
    """``acc@0.5_vlm_r1`` of one response (its box mapped to original pixels like the headline's)."""
    box = vlm_r1_box(response)
    if space is not None and any(box):
        box = space.to_pixels(box)
    return {"acc@0.5_vlm_r1": float(vlm_r1_iou(box, gt_box) > 0.5)}


@register_benchmark("refcoco")
class RefCOCO(Benchmark):
    """RefCOCO/+/g (any split file or Hub copy): Acc@0.5, and VLM-R1's rule beside it."""

    task = "grounding"
    primary_metric = "acc@0.5"
    headline = (MetricRule("acc@0.5", "refer toolkit / lmms-eval: first box, IoU >= 0.5 (strict with "
                                      "--iou-comparison '>')"),)
    alternatives = (MetricRule("acc@0.5_vlm_r1", "VLM-R1 test_rec_r1.py: last integer box in braces of the first "
                                                 "<answer> block, overlap <= 1 px counts as none, IoU > 0.5"),)
    breakdown_keys = ("split",)

    def load(self, path: str | Path) -> list[Sample]:
        """Read one split file or a Hub copy; ids are ``<row id>-<k>`` or ``<file stem>-<row>``."""
        root = self.media_root(path)
        hub = is_hub_copy(path)
        if hub:
            copy = HubCopy(path)
            split = copy.choose_split(self.options.get("split"), prefer=("val",))
            rows = copy.rows(split)
        else:
            split, rows = Path(path).stem, read_rows(path)

        def make(i: int, row: dict[str, Any]) -> list[Sample]:
            if hub and not isinstance(row.get("image"), ImageCell):
                self.skip("Hub row without image")
                return []
            image = row["image"].save(root) if hub else row.get("image") or row["file_name"]
            width, height = image_size(root / image)
            base = row.get("id", row.get("question_id", f"{split}-{i:06d}"))
            several = isinstance(row.get("answer"), list | tuple)
            return [Sample(
                id=f"{base}-{k}" if several else str(base), task="grounding", source="refcoco",
                question=f"Locate {expression.strip()} in the image.", images=[image], answer={"boxes": [box]},
                meta={"width": width, "height": height, "split": split, "expression": expression.strip()},
            ) for k, (expression, box) in enumerate(expressions(row))]

        return self.samples_from(rows, make)

    def media_root(self, path: str | Path) -> Path:
        """The media cache for a Hub copy, else the ``image_root`` option or the annotation's folder."""
        if is_hub_copy(path):
            return super().media_root(path)
        return Path(self.options.get("image_root") or Path(path).parent)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """IoU and Acc@0.5 of the first predicted box; VLM-R1's verdict beside it."""
        response = prediction.get("response") or ""
        comparison = ctx.options.get("iou_comparison", self.options.get("iou_comparison", ">="))
        space = ctx.space_for(sample)
        out = grounding_scores(response, sample.answer["boxes"][0], space, comparison)
        return {**out, **vlm_r1_scores(response, sample.answer["boxes"][0], space)}
