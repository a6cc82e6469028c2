"""Mask IoU reward: predicted masks, or predicted boxes/points turned into masks by a segmenter."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from vlmr.masks import Segmenter, rle_problem
from vlmr.rewards.base import Reward, boxes_to_pixels, coordinate_space, image_size
from vlmr.rewards.metrics import mask_iou, to_rle, valid_boxes
from vlmr.rewards.parse import parse_boxes, parse_masks, parse_points, split_think_answer
from vlmr.rewards.registry import register_reward

logger = logging.getLogger(__name__)


def first_image(images: Any = None, image: Any = None, **_: Any) -> Any:
    """The sample's first image (PIL image or path) from the ``images`` or ``image`` column."""
    value = images if images is not None else image
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _load(image: Any) -> Any:
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    with Image.open(image) as img:
        return img.convert("RGB")


def _image_key(image: Any, sample_id: Any) -> str:
    """Identity of an image for the per-batch cache: sample id, path or a content hash."""
    if isinstance(sample_id, str) and sample_id:
        return f"id:{sample_id}"
    if isinstance(image, str):
        return f"path:{image}"
    return "pil:" + hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest()


def box_mask(boxes: list[list[float]], height: int, width: int) -> np.ndarray:
    """The union of ``boxes`` (pixels) as a mask: every pixel a box touches, clipped to the image; the
    one rasteriser of boxes, so the ``mask_iou`` reward and eval's box fallback agree.

    >>> int(box_mask([[0.5, 0, 4, 1.2]], height=8, width=8).sum())
    8
    """
    mask = np.zeros((height, width), dtype=np.uint8)
    for x1, y1, x2, y2 in boxes:
        xa, ya = max(0, int(np.floor(x1))), max(0, int(np.floor(y1)))
        xb, yb = min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2)))
        if xb > xa and yb > ya:
            mask[ya:yb, xa:xb] = 1
    return mask


def boxes_as_masks(boxes: list[list[float]], height: int, width: int) -> list[dict]:
    """Rectangles as RLE masks (:func:`box_mask`): the default "segmenter" when none is configured.

    >>> [int(mask_utils.area(m)) for m in boxes_as_masks([[0, 0, 4, 2]], height=8, width=8)]
    [8]
    """
    return [mask_utils.encode(np.asfortranarray(box_mask([box], height, width))) for box in boxes]


@register_reward("mask_iou")
class MaskIouReward(Reward):
    """IoU of the union of predicted masks with the union of true masks (ReasonSeg gIoU per sample).

    The prediction may contain masks (COCO RLE or polygons, converted to original pixels),
    or boxes and points (``{"bbox_2d": ..., "point_2d": ...}``) that ``segmenter`` turns into
    masks, as Seg-Zero does with SAM. Without a segmenter, boxes are filled as rectangles.
    Segmenter calls are cached per (image, prompt) within a batch, so identical answers in a
    GRPO group cost one call. Both empty counts as IoU 1 (LISA's no-object rule).

    Args:
        segmenter: a :class:`Segmenter` (default ``None``: boxes as rectangles).
        threshold: ``None`` for continuous IoU (default), or 1.0 when ``IoU >= threshold``.

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``masks``.

    >>> gt = np.zeros((10, 10), np.uint8); gt[0:10, 0:5] = 1
    >>> r = MaskIouReward()
    >>> r.score("<answer>[0, 0, 5, 10]</answer>", {"masks": [to_rle(gt)]})
    1.0
    >>> r.score('{"polygon": [[0, 0], [10, 0], [10, 10], [0, 10]]}', {"masks": [to_rle(gt)]})
    0.5
    """

    columns = ("answer", "coord", "images", "id")  # the image and id feed the segmenter and its cache

    def __init__(self, segmenter: Segmenter | None = None, threshold: float | None = None):
        if segmenter is not None and not callable(segmenter):
            raise TypeError(
                f"segmenter must be callable as segmenter(image, boxes, points, point_labels), got {segmenter!r}"
            )
        if threshold is not None and not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1] or None, got {threshold}")
        self.segmenter = segmenter
        self.threshold = None if threshold is None else float(threshold)
        self._cache: dict | None = None
        self._segmenter_seconds, self._segmenter_calls = 0.0, 0  # per batch, logged through trl

    def begin_batch(self) -> None:
        self._cache = {}
        self._segmenter_seconds, self._segmenter_calls = 0.0, 0

    def end_batch(self) -> None:
        self._cache = None

    def __call__(self, completions: list[Any], **columns: Any) -> list[float | None]:
        """trl's signature; also logs the batch's segmenter time and calls through trl's ``log_metric``."""
        rewards = super().__call__(completions, **columns)
        log_metric = columns.get("log_metric")
        if log_metric is not None and self.segmenter is not None:
            log_metric("mask_iou/segmenter_seconds", self._segmenter_seconds)
            log_metric("mask_iou/segmenter_calls", float(self._segmenter_calls))
        return rewards

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        masks = (answer or {}).get("masks")
        if not isinstance(masks, list):
            return None
        size = image_size(**context)
        h, w = (size[1], size[0]) if size else (None, None)
        gt = [to_rle(m, h, w) for m in masks]
        if gt:
            h, w = gt[0]["size"]
        if h is None:
            raise ValueError("mask_iou needs the image size: give answer masks as RLE or a meta/coord column")
        pred = self._predicted_masks(prediction, h, w, context) or []
        empty = {"size": [h, w], "counts": [h * w]}  # uncompressed RLE of an empty mask
        iou = mask_iou(mask_utils.merge(pred) if pred else empty, mask_utils.merge(gt) if gt else empty)
        return float(iou >= self.threshold) if self.threshold is not None else iou

    def _predicted_masks(self, prediction: str, h: int, w: int, context: dict) -> list[dict]:
        """RLE masks of the prediction in the (h, w) frame (``[]`` if it holds nothing usable)."""
        _, text = split_think_answer(prediction)
        written = parse_masks(text)
        if written:
            return self._convert_written(written, h, w, context)
        boxes = boxes_to_pixels(parse_boxes(text), **context) or []
        boxes = [b for b, ok in zip(boxes, valid_boxes(boxes), strict=True) if ok]
        points = boxes_to_pixels(parse_points(text), **context) or None
        if not boxes and not points:
            return []
        if self.segmenter is None:
            return boxes_as_masks(boxes, h, w)
        image = first_image(**context)
        if image is None:
            logger.warning("mask_iou: no image in the 'images' column; boxes are scored as rectangles")
            return boxes_as_masks(boxes, h, w)
        return self._segment(image, boxes, points, context.get("id"), h, w)

    def _convert_written(self, written: list[dict], h: int, w: int, context: dict) -> list[dict]:
        space = coordinate_space(**context)
        out = []
        for m in written:
            if "counts" in m:
                if rle_problem(m, h, w) is None:  # written by the model: checked before pycocotools reads it
                    out.append(to_rle(m))
                continue
            polys = [space.to_pixels(p) for p in m["polygon"]] if space else m["polygon"]
            out.append(to_rle(polys, h, w))
        return out

    def _segment(
        self, image: Any, boxes: list, points: list | None, sample_id: Any, h: int, w: int
    ) -> list[dict]:
        key = (_image_key(image, sample_id), tuple(map(tuple, boxes)), tuple(map(tuple, points or [])))
        if self._cache is not None and key in self._cache:
            return self._cache[key]
        labels = [1] * len(points) if points else None
        start = time.perf_counter()
        masks = [to_rle(m) for m in self.segmenter(_load(image), boxes, points, labels)]
        self._segmenter_seconds += time.perf_counter() - start
        self._segmenter_calls += 1
        masks = [m for m in masks if tuple(m["size"]) == (h, w)]
        if self._cache is not None:
            self._cache[key] = masks
        return masks

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cache": None}
