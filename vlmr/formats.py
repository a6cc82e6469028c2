"""Coordinate conventions: the one place that converts between frames.

Ground truth is always stored in **original-image pixels** (boxes ``[x1, y1, x2, y2]``,
points ``[x, y]``, polygons ``[x1, y1, x2, y2, ...]``). Models speak in their own frame:

==============  ===========================================================  ===============
convention      meaning                                                      used by
==============  ===========================================================  ===============
``pixel``       absolute pixels of the original image                        API models, GT
``resized``     absolute pixels of the model-input image (``smart_resize``)   Qwen2.5-VL
``norm1000``    0-1000 relative to the image                                 Qwen2-VL, Qwen3-VL
``norm1``       0-1 relative to the image                                    many others
==============  ===========================================================  ===============

Which family uses which convention, and how it sizes images, is the family's spec (:mod:`vlmr.families`).

A :class:`CoordinateSpace` describes one image as one model sees it; ``to_pixels`` and
``from_pixels`` convert any x/y sequence both ways. Rewards, tools, metrics and the demo
all go through it, so nothing compares boxes from two frames. A dataset row or a tool
environment row carries it as the ``coord`` column, a plain dict written by
:func:`coord_column` and read back by :meth:`CoordinateSpace.from_dict`.

>>> space = CoordinateSpace.for_image(width=640, height=480, family="qwen2_5_vl")
>>> (space.input_width, space.input_height)
(644, 476)
>>> space.to_pixels([0, 0, 644, 476])
[0.0, 0.0, 640.0, 480.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from vlmr.families import family_for_model_type, get_family  # noqa: F401  (family lookups, re-exported)
from vlmr.families.base import smart_resize  # noqa: F401  (the Qwen-VL size rule, re-exported)

CONVENTIONS = ("pixel", "resized", "norm1000", "norm1")


@dataclass(frozen=True)
class CoordinateSpace:
    """One image as one model sees it: original size, model-input size, convention."""

    width: int
    height: int
    convention: str = "pixel"
    input_width: int | None = None  # model-input size; needed by the "resized" convention
    input_height: int | None = None

    def __post_init__(self):
        if self.convention not in CONVENTIONS:
            raise ValueError(f"unknown coordinate convention {self.convention!r}; choose one of {CONVENTIONS}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        if self.convention == "resized" and not (self.input_width and self.input_height):
            raise ValueError("the 'resized' convention needs input_width and input_height (use for_image())")

    @classmethod
    def for_image(
        cls,
        width: int,
        height: int,
        family: str = "qwen2_5_vl",
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        convention: str | None = None,
    ) -> CoordinateSpace:
        """Space of a ``width x height`` image fed to a model of ``family`` (a :mod:`vlmr.families` name;
        pixel limits optional, the family's by default)."""
        fam = get_family(family)
        in_h, in_w = fam.input_size(height, width, min_pixels, max_pixels)
        return cls(width, height, convention or fam.convention, in_w, in_h)

    @classmethod
    def from_dict(cls, coord: dict[str, Any] | None) -> CoordinateSpace | None:
        """The space of a ``coord`` column (see :func:`coord_column`); ``None`` when it holds no image size.

        A missing ``convention`` means original pixels.

        >>> CoordinateSpace.from_dict({"convention": "norm1000", "width": 640, "height": 480})
        CoordinateSpace(width=640, height=480, convention='norm1000', input_width=None, input_height=None)
        >>> CoordinateSpace.from_dict(coord_column(None)) is None
        True
        """
        if coord is None:
            return None
        if not isinstance(coord, dict):
            raise TypeError(f"a coord column is a dict (CoordinateSpace.to_dict()), got {type(coord).__name__}")
        if not (coord.get("width") and coord.get("height")):
            return None
        return cls(int(coord["width"]), int(coord["height"]), coord.get("convention") or "pixel",
                   coord.get("input_width"), coord.get("input_height"))

    def to_dict(self) -> dict[str, Any]:
        """The ``coord`` column of this space: its fields as a plain dict."""
        return asdict(self)

    def _ratios(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((x numerator, x denominator), (y ...)): model coordinate * num / den = pixels."""
        if self.convention == "pixel":
            return (1.0, 1.0), (1.0, 1.0)
        if self.convention == "resized":
            return (self.width, self.input_width), (self.height, self.input_height)
        if self.convention == "norm1000":
            return (self.width, 1000.0), (self.height, 1000.0)
        return (self.width, 1.0), (self.height, 1.0)  # norm1

    def to_pixels(self, xy: Sequence[float]) -> list[float]:
        """Convert a flat ``[x, y, x, y, ...]`` sequence (box, point, polygon) to original pixels."""
        ratios = self._ratios()
        return [float(v) * ratios[i % 2][0] / ratios[i % 2][1] for i, v in enumerate(xy)]

    def from_pixels(self, xy: Sequence[float]) -> list[float]:
        """Convert a flat ``[x, y, ...]`` sequence from original pixels to this model's convention."""
        ratios = self._ratios()
        return [float(v) * ratios[i % 2][1] / ratios[i % 2][0] for i, v in enumerate(xy)]

    def describe(self) -> str:
        """One line for reports and prompts, e.g. ``resized (644x476 input of a 640x480 image)``."""
        if self.convention == "resized":
            return f"resized ({self.input_width}x{self.input_height} input of a {self.width}x{self.height} image)"
        return f"{self.convention} ({self.width}x{self.height} image)"


def coord_column(space: CoordinateSpace | None) -> dict[str, Any]:
    """The ``coord`` column of a row: ``space.to_dict()``, all ``None`` for a sample without an image
    (so every row of a dataset has the same keys and one Arrow type)."""
    if space is None:
        return dict.fromkeys(f.name for f in fields(CoordinateSpace))
    return space.to_dict()


def boxes_look_misframed(boxes_px: Sequence[Sequence[float]], width: int, height: int) -> str | None:
    """Warn when predicted boxes (already in pixels) look like they were in another frame.

    Returns a message (or ``None``): boxes that all fit inside [0, 1] suggest ``norm1``;
    boxes far outside the image suggest ``norm1000`` or resized coordinates read as pixels.
    """
    if not boxes_px:
        return None
    coords = [v for box in boxes_px for v in box]
    if max(coords) <= 1.0 and max(width, height) > 10:
        return "all predicted coordinates are <= 1: the model may be using 0-1 coordinates"
    if max(box[2] for box in boxes_px) > 1.5 * width or max(box[3] for box in boxes_px) > 1.5 * height:
        return (
            f"predicted boxes reach beyond 1.5x the {width}x{height} image: "
            "the model may be using another coordinate convention (check --family / convention)"
        )
    return None


def xywh_to_xyxy(box: Sequence[float]) -> list[float]:
    """COCO ``[x, y, w, h]`` -> ``[x1, y1, x2, y2]``.

    >>> xywh_to_xyxy([10, 20, 30, 40])
    [10.0, 20.0, 40.0, 60.0]
    """
    x, y, w, h = (float(v) for v in box)
    return [x, y, x + w, y + h]
