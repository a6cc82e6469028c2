"""Pointing rewards: do the predicted points land on the objects?"""

from __future__ import annotations

from typing import Any

import numpy as np

from vlmr.rewards.base import Reward, boxes_to_pixels, image_size
from vlmr.rewards.metrics import point_in_box, point_in_mask, to_rle
from vlmr.rewards.parse import parse_points, split_think_answer
from vlmr.rewards.registry import register_reward


class _PointHitReward(Reward):
    """``precision * recall`` of point hits: the share of points on some object times the share
    of objects hit by some point. Scattering points everywhere lowers precision; pointing at
    one object of several lowers recall."""

    key = ""

    columns = ("answer", "coord")  # predictions are read in the row's coordinate space

    def objects(self, answer: dict[str, Any], **context: Any) -> list[Any] | None:
        """The ground-truth objects points are tested against, or ``None``."""
        raise NotImplementedError

    def hit(self, point: list[float], obj: Any) -> bool:
        """Whether ``point`` (original pixels) lies on ``obj``."""
        raise NotImplementedError

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        objects = self.objects(answer or {}, **context)
        if objects is None:
            return None
        _, text = split_think_answer(prediction)
        points = boxes_to_pixels(parse_points(text), **context) or []
        if not points or not objects:
            return 1.0 if not points and not objects else 0.0
        hits = np.array([[self.hit(p, o) for o in objects] for p in points])  # (P, G)
        return float(hits.any(axis=1).mean() * hits.any(axis=0).mean())


@register_reward("point_in_box")
class PointInBoxReward(_PointHitReward):
    """Points inside the true boxes: ``(points inside a box / points) * (boxes hit / boxes)``.

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``boxes``.

    >>> r = PointInBoxReward()
    >>> r.score('{"point_2d": [5, 5]}', {"boxes": [[0, 0, 10, 10]]}), r.score("(50, 5)", {"boxes": [[0, 0, 10, 10]]})
    (1.0, 0.0)
    >>> r.score("[5, 5], [50, 50]", {"boxes": [[0, 0, 10, 10]]})
    0.5
    """

    def objects(self, answer: dict[str, Any], **context: Any) -> list[Any] | None:
        boxes = answer.get("boxes")
        return [list(map(float, b)) for b in boxes if len(b) == 4] if isinstance(boxes, list) else None

    def hit(self, point: list[float], obj: Any) -> bool:
        return point_in_box(point, obj)


@register_reward("point_in_mask")
class PointInMaskReward(_PointHitReward):
    """Points on the true masks: ``(points on a mask / points) * (masks hit / masks)``.

    Masks are COCO RLE or polygons in original pixels (polygons need the image size from
    the ``meta``/``coord`` column).

    Returns:
        A value in [0, 1], or ``None`` if ``answer`` has no ``masks``.

    >>> m = np.zeros((8, 8), np.uint8); m[2:4, 2:4] = 1
    >>> PointInMaskReward().score('{"point_2d": [3, 2]}', {"masks": [to_rle(m)]})
    1.0
    """

    def objects(self, answer: dict[str, Any], **context: Any) -> list[Any] | None:
        masks = answer.get("masks")
        if not isinstance(masks, list):
            return None
        size = image_size(**context)
        h, w = (size[1], size[0]) if size else (None, None)
        try:
            return [to_rle(m, h, w) for m in masks]
        except (ValueError, TypeError, KeyError):
            return None

    def hit(self, point: list[float], obj: Any) -> bool:
        return point_in_mask(point, obj)
