"""Read a model's final answer and draw it on the input: boxes, points, a mask, a time span.

Pure functions (no model, no web framework): :func:`read_answer` turns the response into
an :class:`Answer` in **original-image pixels** (converted with the model's
:class:`~vlmr.formats.CoordinateSpace`), :func:`tint` blends a mask into an image (dataset
previews and eval galleries use it too), :func:`draw_overlay` paints boxes, points and a
mask on a copy of the image, :func:`draw_timeline` puts a time span under a strip of
video frames.

>>> from vlmr.formats import CoordinateSpace
>>> answer = read_answer('<think>top left</think><answer>{"bbox_2d": [0, 0, 500, 500], "label": "cube"}</answer>',
...                      "grounding", CoordinateSpace(200, 100, "norm1000"))
>>> answer.text, answer.boxes, answer.labels
('{"bbox_2d": [0, 0, 500, 500], "label": "cube"}', [[0.0, 0.0, 100.0, 50.0]], ['cube'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vlmr.formats import CoordinateSpace
from vlmr.rewards.parse import parse_boxes, parse_labels, parse_points, split_think_answer
from vlmr.tasks import get_task

BOX_COLORS = ((255, 59, 48), (0, 122, 255), (52, 199, 89), (255, 149, 0), (175, 82, 222), (255, 214, 10))
MASK_COLOR = (0, 200, 255)
MASK_ALPHA = 0.45  # strong enough to see the shape, weak enough to see the object under it


@dataclass
class Answer:
    """What the model answered: the answer text and what could be read from it (pixels, seconds)."""

    text: str
    thinking: str | None = None
    boxes: list[list[float]] = field(default_factory=list)
    points: list[list[float]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    span: list[float] | None = None
    count: int | None = None

    def summary(self) -> str:
        """One line per thing read from the answer, for the page (``""`` if nothing was read).

        >>> Answer("2", count=2, boxes=[[1.0, 2.0, 30.5, 40.0]]).summary()
        'box 1: [1, 2, 30, 40] px\\ncount: 2'
        """
        lines = [f"box {i + 1}: [{', '.join(f'{v:.0f}' for v in box)}] px" for i, box in enumerate(self.boxes)]
        lines += [f"point {i + 1}: [{p[0]:.0f}, {p[1]:.0f}] px" for i, p in enumerate(self.points)]
        if self.span is not None:
            lines.append(f"time span: {self.span[0]:.2f} s to {self.span[1]:.2f} s")
        if self.count is not None:
            lines.append(f"count: {self.count}")
        return "\n".join(lines)


def _pairs(flat: list[float], size: int) -> list[list[float]]:
    return [flat[i : i + size] for i in range(0, len(flat), size)]


def read_answer(response: str, task: str, space: CoordinateSpace | None) -> Answer:
    """Parse the final answer of ``response`` for ``task``; coordinates come back in original pixels.

    Spatial payloads are read for every task (a free question may still be answered with a
    box); the rest as the task reads it (:meth:`vlmr.tasks.Task.read`: a count for ``counting``,
    a span for ``temporal_grounding``, where a bare number means that). Never raises on the
    response: what cannot be read is left empty.
    """
    thinking, text = split_think_answer(response)
    text = text or ""
    answer = Answer(text=text, thinking=thinking)
    boxes = parse_boxes(text) or []
    points = parse_points(text) or []
    if space is not None:
        boxes = _pairs(space.to_pixels([v for b in boxes for v in b]), 4)
        points = _pairs(space.to_pixels([v for p in points for v in p]), 2)
    answer.boxes, answer.points = boxes, points
    answer.labels = parse_labels(text) or []
    for key, value in get_task(task).read(text).items():
        setattr(answer, key, value)
    return answer


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(10, size))


def _line_width(image: Image.Image) -> int:
    """Outline width that stays visible on small and large images."""
    return max(2, round(min(image.size) / 150))


def tint(
    image: Image.Image,
    mask: np.ndarray,
    color: Sequence[int] = MASK_COLOR,
    alpha: float = MASK_ALPHA,
) -> Image.Image:
    """A copy of ``image`` (as RGB) with the pixels where ``mask`` is true blended towards ``color``.

    Each masked pixel becomes ``(1 - alpha) * pixel + alpha * color``, rounded; a mask of another
    size than the image is not drawn (the caller checks an untrusted mask's size first).

    >>> mask = np.array([[True, False]])
    >>> np.asarray(tint(Image.new("RGB", (2, 1), (100, 100, 100)), mask, (255, 0, 0), 0.5)).tolist()
    [[[178, 50, 50], [100, 100, 100]]]
    """
    out = image.convert("RGB")
    if mask.shape != (out.height, out.width) or not mask.any():
        return out.copy()
    pixels = np.asarray(out).astype(np.float32)  # (H, W, 3)
    pixels[mask] = (1 - alpha) * pixels[mask] + alpha * np.asarray(color, np.float32)
    return Image.fromarray(pixels.round().astype(np.uint8), "RGB")


def draw_overlay(
    image: Image.Image,
    boxes: Sequence[Sequence[float]] = (),
    points: Sequence[Sequence[float]] = (),
    labels: Sequence[str] = (),
    mask: np.ndarray | None = None,
) -> Image.Image:
    """A copy of ``image`` with ``mask`` tinted, ``boxes`` outlined (labelled) and ``points`` marked.

    Coordinates are original pixels; boxes and points outside the image are clipped by drawing.

    >>> im = draw_overlay(Image.new("RGB", (40, 30), "white"), boxes=[[5, 5, 20, 20]], points=[[30, 20]])
    >>> im.size, im.getpixel((5, 10)), im.getpixel((12, 12)), im.getpixel((30, 20))
    ((40, 30), (255, 59, 48), (255, 255, 255), (255, 59, 48))
    """
    out = tint(image, mask) if mask is not None else image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    width = _line_width(out)
    font = _font(3 * width + 6)
    for i, box in enumerate(boxes):
        color = BOX_COLORS[i % len(BOX_COLORS)]
        x1, y1, x2, y2 = (float(v) for v in box)
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            continue
        x1, x2 = sorted((x1, x2))
        y1, y2 = sorted((y1, y2))
        draw.rectangle([x1, y1, x2 - 1, y2 - 1], outline=color, width=width)
        label = labels[i] if i < len(labels) and labels[i] else None
        if label:
            left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
            ty = y1 - (bottom - top) - 2 * width if y1 - (bottom - top) - 2 * width >= 0 else y1
            draw.rectangle([x1, ty, x1 + right - left + 2 * width, ty + bottom - top + 2 * width], fill=color)
            draw.text((x1 + width - left, ty + width - top), label, fill=(255, 255, 255), font=font)
    radius = 2 * width + 1
    for i, point in enumerate(points):
        x, y = (float(v) for v in point[:2])
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        color = BOX_COLORS[i % len(BOX_COLORS)]
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=color, outline=(255, 255, 255))
    return out


def draw_timeline(strip: Image.Image, duration: float, span: Sequence[float] | None) -> Image.Image:
    """``strip`` (frames of the video) above a timeline of ``duration`` seconds with ``span`` highlighted.

    >>> im = draw_timeline(Image.new("RGB", (200, 40)), duration=10.0, span=[2.0, 5.0])
    >>> im.size, im.getpixel((70, 52)), im.getpixel((150, 52))
    ((200, 86), (255, 59, 48), (90, 90, 90))
    """
    if duration <= 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration}")
    bar_top, bar_height, margin = strip.height + 8, 10, 10
    out = Image.new("RGB", (strip.width, strip.height + 46), (245, 245, 245))
    out.paste(strip.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(out)
    left, right = margin, strip.width - margin
    scale = (right - left) / duration
    draw.rectangle([left, bar_top, right, bar_top + bar_height], fill=(90, 90, 90))
    font = _font(12)
    draw.text((left, bar_top + bar_height + 4), "0 s", fill=(0, 0, 0), font=font)
    end_label = f"{duration:.1f} s"
    draw.text((right - draw.textlength(end_label, font=font), bar_top + bar_height + 4), end_label, fill=(0, 0, 0),
              font=font)
    if span is None or len(span) != 2 or not all(math.isfinite(float(t)) for t in span):
        draw.text((left, bar_top + bar_height + 18), "no time span could be read from the answer", fill=(90, 90, 90),
                  font=font)
        return out
    start, end = sorted(min(max(float(t), 0.0), duration) for t in span)
    x1, x2 = left + start * scale, max(left + end * scale, left + start * scale + 2)
    draw.rectangle([x1, bar_top - 2, x2, bar_top + bar_height + 2], fill=BOX_COLORS[0])
    label = f"{start:.1f}-{end:.1f} s"
    draw.text((min(max(x1, left), right - draw.textlength(label, font=font)), bar_top + bar_height + 18), label,
              fill=BOX_COLORS[0], font=font)
    return out


def note(image: Image.Image, text: str) -> Image.Image:
    """A copy of ``image`` with ``text`` on a dark band along the bottom (e.g. "no box in the answer")."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    font = _font(max(12, out.height // 25))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    band = bottom - top + 8
    draw.rectangle([0, out.height - band, out.width, out.height], fill=(30, 30, 30))
    draw.text((4 - left, out.height - band + 4 - top), text, fill=(255, 255, 255), font=font)
    return out


def render_answer(
    image: Image.Image,
    answer: Answer,
    task: str,
    segmenter=None,
    duration: float | None = None,
) -> Image.Image:
    """The answer drawn on the input: a timeline for a video (``duration`` seconds, ``image`` = frame strip),
    else boxes, points and, for a task drawn as a mask (segmentation) with a ``segmenter``, the mask of
    the boxes/points; the task's note (:meth:`vlmr.tasks.Task.note`) underneath.

    >>> im = render_answer(Image.new("RGB", (40, 30), "white"), Answer("[1, 2]", count=2), "counting")
    >>> im.size, im.getpixel((1, 1)), im.getpixel((1, 28))
    ((40, 30), (255, 255, 255), (30, 30, 30))
    """
    if duration is not None:
        return draw_timeline(image, duration, answer.span)
    spec = get_task(task)
    mask = None
    if spec.segments and segmenter is not None and (answer.boxes or answer.points):
        from vlmr.masks import rle_to_mask

        rles = segmenter(image, boxes=answer.boxes, points=answer.points or None)
        masks = [rle_to_mask(rle) for rle in rles]
        mask = np.logical_or.reduce(masks) if masks else None
    out = draw_overlay(image, answer.boxes, answer.points, answer.labels, mask)
    line = spec.note(answer)
    return note(out, line) if line else out
