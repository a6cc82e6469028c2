"""ReasonSeg (Lai et al., LISA, CVPR 2024): reasoning segmentation, gIoU and cIoU.

Data: a split folder as released (``val/`` or ``test/``): ``NAME.jpg`` next to a LabelMe
``NAME.json`` with ``text`` (queries; LISA evaluates ``text[0]``), ``is_sentence`` and
``shapes`` (polygons labelled ``target``, ``ignore`` or the deprecated ``flag``).

Ground truth is rasterised exactly as LISA's ``get_mask_from_json``: ``flag`` shapes are
dropped, the rest drawn largest-first with ``cv2.polylines`` + ``cv2.fillPoly`` on int32
points, ``ignore`` shapes as 255 (left out of both intersection and union). Metrics as
LISA's ``validate``: per image ``I / (U + 1e-5)``, plus 1 when the union is empty (both
masks empty); gIoU = mean over images, cIoU = ΣI / (ΣU + 1e-10). Broken down by query
type (``is_sentence``: long sentence vs short phrase), as the paper's test table.

A Hub copy (``Ricky06662/ReasonSeg_val`` / ``ReasonSeg_test`` as Seg-Zero published them:
``image, text, mask: list[list[bool]], image_id, ann_id, img_height, img_width``; option
``split``) carries its ground truth as a boolean mask: no ignore region, no query type.

The model answers with a box and a point (vlmr's segmentation prompt); at run time a
segmenter (default GrabCut from :mod:`vlmr.tools.segmenters`) turns them into a mask
stored as ``mask_rle`` in ``predictions.jsonl``. ``vlmr eval score`` uses a given
``mask_rle`` as is, so predictions from SAM-based systems (Seg-Zero, LISA) score directly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from vlmr import masks
from vlmr.data_pipelines.releases.files import image_size
from vlmr.data_pipelines.releases.hub import HubCopy, is_hub_copy
from vlmr.data_pipelines.releases.reasonseg import hub_fields, image_beside, read_labelme
from vlmr.eval.answers import answer_text
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.masks import IGNORE, MaskError, mask_to_rle
from vlmr.rewards.masks import box_mask
from vlmr.schema import Sample, resolve_media

logger = logging.getLogger(__name__)


def lisa_mask(annotation: dict[str, Any], height: int, width: int) -> np.ndarray:
    """LISA's ground-truth label map of a LabelMe annotation (see :func:`vlmr.masks.lisa_mask`)."""
    return masks.lisa_mask(annotation.get("shapes", []), height, width)


def lisa_iou(intersection: int, union: int) -> float:
    """LISA's per-image IoU: ``I / (U + 1e-5)``, and 1 when the union is empty.

    >>> lisa_iou(0, 0), round(lisa_iou(3, 4), 4)
    (1.0, 0.75)
    """
    return intersection / (union + 1e-5) + (1.0 if union == 0 else 0.0)


@register_benchmark("reasonseg")
class ReasonSeg(Benchmark):
    """ReasonSeg val/test: LISA masks with ignore, gIoU and cIoU, split by query type."""

    task = "segmentation"
    primary_metric = "giou"
    headline = (MetricRule("giou", "LISA validate: mean over images of I / (U + 1e-5), 1 when both masks are empty"),
                MetricRule("ciou", "LISA validate: sum of I / sum of U"))
    breakdown_keys = ("query_type",)
    uses_segmenter = True

    def load(self, path: str | Path) -> list[Sample]:
        """Read every ``*.json`` of the split folder with its image, or a Hub copy."""

        if is_hub_copy(path):
            return self._load_hub(path)
        root = Path(path)
        samples = []
        for ann_path in sorted(root.glob("*.json")):
            image = image_beside(ann_path)
            if image is None:
                logger.warning("skipping %s: no image next to it", ann_path.name)
                continue
            ann = read_labelme(ann_path)
            width, height = ann.get("imageWidth"), ann.get("imageHeight")
            if not (width and height):
                width, height = image_size(image)
            if not (width and height):
                logger.warning("skipping %s: its image is unreadable and the annotation has no size", ann_path.name)
                continue
            samples.append(Sample(
                id=ann_path.stem, task="segmentation", source="reasonseg",
                question=str(ann["text"][0]).strip(), images=[image.name],
                meta={"annotation": ann_path.name, "width": int(width), "height": int(height),
                      "query_type": "long" if ann.get("is_sentence") else "short"},
            ))
        return samples

    def _load_hub(self, path: str | Path) -> list[Sample]:
        copy = HubCopy(path)
        split = copy.choose_split(self.options.get("split"), prefer=("test", "val"))
        root = self.media_root(path)

        def make(i: int, row: dict[str, Any]) -> Sample | None:
            query, image, mask = hub_fields(row)
            if image is None or mask is None:
                self.skip("Hub row without image or mask")
                return None
            name = image.save(root)
            width, height = image_size(root / name)
            if mask.shape != (height, width):
                self.skip("mask size differs from the image")
                return None
            return Sample(
                id=str(row.get("ann_id") or f"{split}-{i:05d}"), task="segmentation", source="reasonseg",
                question=query, images=[name], answer={"masks": [mask_to_rle(mask)]},
                meta={"width": width, "height": height},
            )

        return self.samples_from(copy.rows(split), make)

    def gt_mask(self, sample: Sample, root: Path) -> np.ndarray:
        """LISA's ground-truth mask of one sample (1 target, 255 ignore); a Hub copy's mask as given."""
        if sample.answer.get("masks"):
            return masks.rle_to_mask(sample.answer["masks"][0]).astype(np.uint8)
        ann = read_labelme(resolve_media(root, sample.meta["annotation"]))
        return lisa_mask(ann, sample.meta["height"], sample.meta["width"])

    def postprocess(self, sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
        """Predicted mask as ``{"mask_rle": ...}`` (segmenter on the box/point, else the box)."""
        return {"mask_rle": mask_to_rle(self.predict_mask(sample, response, ctx))}

    def predict_mask(self, sample: Sample, response: str, ctx: ScoreContext) -> np.ndarray | dict:
        """The answer's box and point turned into a mask (see :func:`predict_mask`)."""
        return predict_mask(self, sample, response, ctx)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Per-image I, U and IoU against LISA's mask (the stored ``mask_rle`` if any)."""
        from vlmr.rewards.metrics import mask_intersection_union

        gt = self.gt_mask(sample, ctx.root)
        target, ignore = gt == 1, gt == IGNORE
        try:
            pred = stored_or_predicted_mask(self, sample, prediction, ctx, *gt.shape)
        except MaskError as e:
            return invalid_mask_scores(e, target)
        inter, union = mask_intersection_union(pred, target, ignore=ignore)
        return {
            "giou": lisa_iou(inter, union),
            "_intersection": inter,
            "_union": union,
            "_pred_mask": mask_to_rle(pred),
            "_gt_mask": mask_to_rle(target),
        }


def stored_or_predicted_mask(bench: Benchmark, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext,
                             height: int, width: int) -> np.ndarray | dict:
    """The prediction's stored ``mask_rle``, checked against the image size before it is decoded
    (:class:`vlmr.masks.MaskError` if it cannot be this image's mask), else the response's mask."""
    if prediction.get("mask_rle"):
        return masks.checked_mask(prediction["mask_rle"], height, width)
    return predict_mask(bench, sample, prediction.get("response") or "", ctx)


def invalid_mask_scores(error: MaskError, target: np.ndarray) -> dict[str, Any]:
    """Scores of a sample whose stored mask is unusable: IoU 0 (its target still counts in cIoU's union),
    the reason kept as ``_invalid`` so the run counts and names it."""
    return {"giou": 0.0, "_intersection": 0, "_union": int(np.count_nonzero(target)),
            "_invalid": f"mask_rle: {error}", "_gt_mask": mask_to_rle(target)}


def predict_mask(bench: Benchmark, sample: Sample, response: str, ctx: ScoreContext) -> np.ndarray | dict:
    """Box and point of the answer, in pixels, turned into a mask (array or RLE).

    ``ctx.segmenter`` follows :class:`vlmr.tools.segmenters.Segmenter`; without one the
    first box itself is the mask. No box: an empty mask.
    """
    from vlmr.rewards.parse import parse_objects

    height, width = int(sample.meta["height"]), int(sample.meta["width"])
    space = ctx.space_for(sample)
    objects = parse_objects(answer_text(response)) or []
    boxes = [space.to_pixels(o["bbox_2d"]) for o in objects if o.get("bbox_2d")]
    points = [space.to_pixels(o["point_2d"]) for o in objects if o.get("point_2d")]
    if not boxes:
        return np.zeros((height, width), dtype=np.uint8)
    if ctx.segmenter is None:
        return box_mask(boxes[:1], height, width)
    image = bench.doc_to_visual(sample, ctx.root)[0]
    return ctx.segmenter(image, boxes=boxes[:1], points=points[:1] or None)[0]
