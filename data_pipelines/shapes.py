"""Synthetic shape scenes with exact ground truth (boxes, masks, labels).

A scene is a textured background with coloured shapes that never overlap, so every
object's mask is exact (drawn without anti-aliasing) and its box is the tight box of the
mask in original pixels, ``[x1, y1, x2, y2]`` with exclusive ends (pixel edges, as COCO's
``[x, y, w, h]`` with ``w = max_x - min_x + 1``). Deterministic given the seed.

>>> scene = make_scene(0, width=160, height=120, n_objects=3)
>>> scene.image.size, len(scene.objects)
((160, 120), 3)
>>> obj = scene.objects[0]
>>> ys, xs = obj.mask.nonzero()
>>> obj.box == [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from vlmr.masks import mask_box

# Saturated colours that stay distinct from the muted backgrounds below.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 35),
    "green": (30, 165, 60),
    "blue": (35, 75, 225),
    "yellow": (245, 215, 25),
    "orange": (250, 130, 20),
    "purple": (135, 45, 185),
    "white": (250, 250, 250),
    "black": (15, 15, 15),
}
SHAPES = ("circle", "square", "triangle", "diamond", "pentagon", "star")


@dataclass
class ShapeObject:
    """One object of a scene; ``box`` is xyxy in original pixels, ``mask`` is exact (H, W) bool."""

    shape: str
    color: str
    box: list[int]
    mask: np.ndarray
    size: int  # nominal side / diameter in pixels

    @property
    def label(self) -> str:
        """Referring name, e.g. ``"red circle"``."""
        return f"{self.color} {self.shape}"

    @property
    def center(self) -> tuple[float, float]:
        """Centroid of the mask in pixels (x, y): a point that lies on the object for convex shapes."""
        ys, xs = self.mask.nonzero()
        return float(xs.mean()), float(ys.mean())

    @property
    def area(self) -> int:
        """Number of mask pixels."""
        return int(self.mask.sum())


@dataclass
class ShapeScene:
    """A rendered scene: PIL RGB ``image`` and its non-overlapping ``objects``."""

    image: Image.Image
    objects: list[ShapeObject]
    seed: int

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def find(self, label: str) -> list[ShapeObject]:
        """Objects whose label is ``label`` (e.g. ``"red circle"``)."""
        return [o for o in self.objects if o.label == label]


@dataclass(frozen=True)
class ObjectSpec:
    """What to draw: a shape, a colour and a nominal size in pixels."""

    shape: str
    color: str
    size: int


def _polygon(shape: str, cx: float, cy: float, size: int, angle: float) -> np.ndarray:
    r = size / 2
    if shape == "square":
        pts = [(-r, -r), (r, -r), (r, r), (-r, r)]
    elif shape == "diamond":
        pts = [(0, -r), (r, 0), (0, r), (-r, 0)]
    elif shape == "triangle":
        pts = [(r * math.cos(a), r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    elif shape == "pentagon":
        pts = [(r * math.cos(a), r * math.sin(a)) for a in np.linspace(-math.pi / 2, 1.5 * math.pi, 6)[:-1]]
    elif shape == "star":
        angles = np.linspace(-math.pi / 2, 1.5 * math.pi, 11)[:-1]
        pts = [((r if i % 2 == 0 else r * 0.45) * math.cos(a), (r if i % 2 == 0 else r * 0.45) * math.sin(a))
               for i, a in enumerate(angles)]
    else:
        raise ValueError(f"unknown shape {shape!r}; choose one of {list(SHAPES)}")
    c, s = math.cos(angle), math.sin(angle)
    return np.array([(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts], dtype=np.float64)


def _draw_mask(shape: str, cx: float, cy: float, size: int, angle: float, height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=np.uint8)
    if shape == "circle":
        cv2.circle(mask, (round(cx), round(cy)), max(1, size // 2), 1, thickness=-1, lineType=cv2.LINE_8)
    else:
        pts = np.round(_polygon(shape, cx, cy, size, angle)).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8)
    return mask.astype(bool)


def background_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A muted, low-saturation texture (smooth blobs + stripes + grain), uint8 (H, W, 3)."""
    base = rng.uniform(90, 180, size=3)
    grid = rng.normal(0, 28, size=(max(2, height // 24), max(2, width // 24), 3))
    blobs = cv2.resize(grid.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)  # (H, W, 3)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    theta, period = rng.uniform(0, math.pi), rng.uniform(6, 20)
    stripes = 10 * np.sin((xx * math.cos(theta) + yy * math.sin(theta)) * 2 * math.pi / period)  # (H, W)
    grain = rng.normal(0, 6, size=(height, width, 1))
    img = base + blobs + stripes[..., None] + grain
    gray = img.mean(axis=2, keepdims=True)
    img = gray + 0.45 * (img - gray)  # desaturate so saturated shapes stand out
    return np.clip(img, 0, 255).astype(np.uint8)


def random_specs(
    rng: np.random.Generator, n: int, min_size: int, max_size: int,
    shapes: Sequence[str] = SHAPES, colors: Sequence[str] = tuple(COLORS),
) -> list[ObjectSpec]:
    """``n`` random object specs with sizes drawn log-uniformly in [min_size, max_size]."""
    sizes = np.exp(rng.uniform(math.log(min_size), math.log(max_size), size=n))
    return [ObjectSpec(str(rng.choice(shapes)), str(rng.choice(colors)), int(round(s))) for s in sizes]


def render_scene(
    rng: np.random.Generator, specs: Sequence[ObjectSpec], width: int, height: int,
    textured: bool = True, gap: int = 3, max_tries: int = 60,
) -> tuple[Image.Image, list[ShapeObject]]:
    """Place ``specs`` without overlap (specs that do not fit are dropped) and render them."""
    if textured:
        canvas = background_texture(rng, height, width)
    else:
        canvas = np.full((height, width, 3), 200, dtype=np.uint8)
    occupied = np.zeros((height, width), dtype=bool)
    objects: list[ShapeObject] = []
    for spec in specs:
        size = int(min(spec.size, width - 2, height - 2))
        for _ in range(max_tries):
            cx = rng.uniform(size / 2 + 1, width - size / 2 - 1)
            cy = rng.uniform(size / 2 + 1, height - size / 2 - 1)
            mask = _draw_mask(spec.shape, cx, cy, size, rng.uniform(-0.4, 0.4), height, width)
            if not mask.any():
                continue
            box = mask_box(mask)
            y0, y1 = max(0, box[1] - gap), min(height, box[3] + gap)
            x0, x1 = max(0, box[0] - gap), min(width, box[2] + gap)
            if occupied[y0:y1, x0:x1].any():
                continue
            occupied[y0:y1, x0:x1] = True
            shade = np.clip(np.array(COLORS[spec.color]) + rng.integers(-12, 13, size=3), 0, 255)
            canvas[mask] = shade.astype(np.uint8)
            objects.append(ShapeObject(spec.shape, spec.color, box, mask, size))
            break
    return Image.fromarray(canvas, "RGB"), objects


def make_scene(
    seed: int,
    width: int = 224,
    height: int = 224,
    n_objects: int | tuple[int, int] = (3, 6),
    min_size: int = 14,
    max_size: int = 56,
    textured_background: bool = True,
    specs: Sequence[ObjectSpec] | None = None,
) -> ShapeScene:
    """Render a deterministic scene of non-overlapping coloured shapes.

    Args:
        seed: RNG seed; the same seed gives the same pixels and objects.
        width, height: image size in pixels (default 224x224, small for CPU training).
        n_objects: object count, or an inclusive ``(low, high)`` range to draw it from.
        min_size, max_size: nominal object size range in pixels (log-uniform).
        textured_background: muted texture (True) or a flat grey background.
        specs: exact objects to draw instead of random ones (those that do not fit are dropped).

    Returns:
        A :class:`ShapeScene`; each object's ``box`` is the tight xyxy box of its exact ``mask``.
    """
    if min_size < 3 or max_size < min_size:
        raise ValueError(f"need 3 <= min_size <= max_size, got min_size={min_size}, max_size={max_size}")
    rng = np.random.default_rng(seed)
    if specs is None:
        n = n_objects if isinstance(n_objects, int) else int(rng.integers(n_objects[0], n_objects[1] + 1))
        specs = random_specs(rng, n, min_size, max_size)
    image, objects = render_scene(rng, specs, width, height, textured_background)
    return ShapeScene(image=image, objects=objects, seed=seed)
