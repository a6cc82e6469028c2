"""Image tools: zoom, crop, rotate, and ReFocus-style visual edits (boxes, lines, points,
highlight, mask, grid).

Zoom, crop and rotate work on any image of the episode (Mini-o3's ``observation_N``): the
optional ``image_index`` picks it (0, the default, is the input image; then every image a tool
returned, in order) and the coordinates refer to that image, in the model's convention; the
environment converts them with :mod:`vlmr.formats` and says where a region lies in the input
image's pixels. Zoom, crop and rotate read clean images; the edits accumulate on a working copy
of the input image, which each edit returns in full.
"""

from __future__ import annotations

from typing import Any

from vlmr.tools import image_ops
from vlmr.tools.registry import ToolResult, register_tool
from vlmr.tools.validation import (
    choice,
    integer,
    number,
    optional_text,
    pixel_box,
    pixel_point,
)

COLOR_NAMES = tuple(image_ops.COLORS)


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _region(env, bbox_2d: Any, obs) -> tuple[float, float, float, float]:
    """``bbox_2d`` as pixels of observation ``obs``, checked against the crop limits."""
    limits = env.limits
    return pixel_box(bbox_2d, obs.space, obs.image.size, "bbox_2d", min_side=limits.min_side,
                     max_aspect=limits.max_aspect)


def _where(env, bbox_2d, image_index, obs, box) -> str:
    """How a text names a region: ``[..]``, and for an earlier tool image which one and where it lies."""
    if image_index is None or obs is env._state().observations[0]:
        return _fmt(bbox_2d)
    source = obs.to_source(box)
    inside = f" = [{', '.join(str(round(v)) for v in source)}] in pixels of input image {obs.source}" if source else ""
    return f"{_fmt(bbox_2d)} of image {int(image_index)}{inside}"


def _next(env, what: str) -> str:
    """The sentence naming the index the returned image will have."""
    n = len(env._state().observations)
    return (f" The {what} is image {n}: pass image_index={n} to look closer at it; without image_index, coordinates "
            "refer to the input image.")


@register_tool("image")
def zoom_in(self, bbox_2d: list[float], label: str | None = None, image_index: int | None = None) -> ToolResult:
    """Zoom into a region of an image to see small details; the region comes back enlarged.

    Args:
        bbox_2d: The region as [x1, y1, x2, y2] (top-left and bottom-right corners), {coords}.
        label: Optional name of what you expect to find in the region.
        image_index: Optional: which image to zoom into, 0 (the default) for the input image, 1, 2, ... for the
            images earlier tool calls returned, in order; the coordinates then refer to that image.
    """
    label = optional_text(label, "label")
    obs = self._observation(image_index)
    box = _region(self, bbox_2d, obs)
    result = zoom_result(obs.image, box, self.limits, _where(self, bbox_2d, image_index, obs, box), label,
                         _next(self, "zoomed view"))
    result.origins = [(obs.source, obs.to_source(box))]
    return result


def zoom_result(image, box, limits, where: str, label: str | None, note: str = "") -> ToolResult:
    """``image``'s pixels in ``box`` enlarged to about ``limits.zoom_pixels`` (at most ``limits.max_zoom``
    times), and the text the model reads: "Zoomed into {where} ({label}): WxH px shown at wxh.{note}"."""
    region = image_ops.crop(image, box)
    zoomed = image_ops.scale_to_area(region, limits.zoom_pixels, limits.max_zoom)
    what = f" ({label})" if label else ""
    return ToolResult(f"Zoomed into {where}{what}: {region.width}x{region.height} px shown at "
                      f"{zoomed.width}x{zoomed.height}.{note}", [zoomed])


@register_tool("image")
def crop(self, bbox_2d: list[float], image_index: int | None = None) -> ToolResult:
    """Cut out a region of an image at its original resolution (no enlargement).

    Args:
        bbox_2d: The region as [x1, y1, x2, y2] (top-left and bottom-right corners), {coords}.
        image_index: Optional: which image to crop, 0 (the default) for the input image, 1, 2, ... for the
            images earlier tool calls returned, in order; the coordinates then refer to that image.
    """
    obs = self._observation(image_index)
    box = _region(self, bbox_2d, obs)
    region = image_ops.crop(obs.image, box)
    return ToolResult(f"Cropped region {_where(self, bbox_2d, image_index, obs, box)} ({region.width}x{region.height} "
                      f"px).{_next(self, 'crop')}", [region], origins=[(obs.source, obs.to_source(box))])


@register_tool("image")
def rotate(self, angle: float, image_index: int | None = None) -> ToolResult:
    """Rotate an image, e.g. to read sideways or upside-down text.

    Args:
        angle: Degrees counter-clockwise, e.g. 90, 180 or -90; the canvas grows so nothing is cut off.
        image_index: Optional: which image to rotate, 0 (the default) for the input image, 1, 2, ... for the
            images earlier tool calls returned, in order.
    """
    angle = number(angle, "angle")
    obs = self._observation(image_index)
    out = image_ops.rotate(obs.image, angle)
    return ToolResult(
        f"Rotated image {0 if image_index is None else int(image_index)} by {angle:g} degrees counter-clockwise "
        f"({out.width}x{out.height} px).{_next(self, 'rotated image')}",
        [out],
        origins=[(obs.source, None)],
    )


def _edit(env, edited, note: str) -> ToolResult:
    return ToolResult(f"{note} The edits so far are shown on the whole image.", [edited], canvas=edited)


@register_tool("image")
def draw_box(self, bbox_2d: list[float], label: str | None = None, color: str = "red") -> ToolResult:
    """Draw a rectangle on the image to mark a region, e.g. to check a box before answering.

    Args:
        bbox_2d: The rectangle as [x1, y1, x2, y2] (top-left and bottom-right corners), {coords}.
        label: Optional text written above the rectangle.
        color: Outline color (choices: ["red", "green", "blue", "yellow", "orange", "purple", "cyan", "magenta", "white", "black"])
    """
    label = optional_text(label, "label")
    color = choice(color, "color", COLOR_NAMES)
    box = pixel_box(bbox_2d, self._coords(), self._image().size, "bbox_2d")
    return _edit(self, image_ops.draw_box(self._state().canvas, box, color, label), f"Drew a {color} box at {_fmt(bbox_2d)}.")


@register_tool("image")
def draw_line(self, start_2d: list[float], end_2d: list[float], color: str = "red") -> ToolResult:
    """Draw a straight line, e.g. to compare heights in a chart or follow a direction.

    Args:
        start_2d: The start point as [x, y], {coords}.
        end_2d: The end point as [x, y], in the same coordinates.
        color: Line color (choices: ["red", "green", "blue", "yellow", "orange", "purple", "cyan", "magenta", "white", "black"])
    """
    color = choice(color, "color", COLOR_NAMES)
    space, size = self._coords(), self._image().size
    start = pixel_point(start_2d, space, size, "start_2d")
    end = pixel_point(end_2d, space, size, "end_2d")
    edited = image_ops.draw_line(self._state().canvas, start, end, color)
    return _edit(self, edited, f"Drew a {color} line from {_fmt(start_2d)} to {_fmt(end_2d)}.")


@register_tool("image")
def draw_point(self, point_2d: list[float], label: str | None = None, color: str = "red") -> ToolResult:
    """Mark a point on the image with a dot, e.g. to check where a point answer lands.

    Args:
        point_2d: The point as [x, y], {coords}.
        label: Optional text written next to the dot.
        color: Dot color (choices: ["red", "green", "blue", "yellow", "orange", "purple", "cyan", "magenta", "white", "black"])
    """
    label = optional_text(label, "label")
    color = choice(color, "color", COLOR_NAMES)
    point = pixel_point(point_2d, self._coords(), self._image().size)
    edited = image_ops.draw_point(self._state().canvas, point, color, label)
    return _edit(self, edited, f"Drew a {color} point at {_fmt(point_2d)}.")


@register_tool("image")
def highlight(self, bbox_2d: list[float]) -> ToolResult:
    """Highlight a region by darkening everything outside it, to focus on one part of the image.

    Args:
        bbox_2d: The region to keep bright as [x1, y1, x2, y2], {coords}.
    """
    box = pixel_box(bbox_2d, self._coords(), self._image().size, "bbox_2d")
    return _edit(self, image_ops.highlight(self._state().canvas, box), f"Highlighted {_fmt(bbox_2d)}.")


@register_tool("image")
def mask_out(self, bbox_2d: list[float]) -> ToolResult:
    """Paint a region white to hide it, e.g. to remove distracting parts or items already counted.

    Args:
        bbox_2d: The region to hide as [x1, y1, x2, y2], {coords}.
    """
    box = pixel_box(bbox_2d, self._coords(), self._image().size, "bbox_2d")
    return _edit(self, image_ops.mask_out(self._state().canvas, box), f"Masked out {_fmt(bbox_2d)}.")


@register_tool("image")
def grid(self, divisions: int = 4) -> ToolResult:
    """Overlay a labelled coordinate grid on the image, to read off positions for boxes and points.

    Args:
        divisions: Number of cells along each side, from 2 to 10; lines are labelled in your coordinates.
    """
    n = integer(divisions, "divisions", 2, 10)
    space, image = self._coords(), self._image()
    sx, sy = image.width / space.width, image.height / space.height  # coord-space px -> this image's px
    xs_px = [space.width * i / n for i in range(1, n)]
    ys_px = [space.height * i / n for i in range(1, n)]
    x_labels = [f"x={space.from_pixels([x, 0])[0]:.3g}" for x in xs_px]
    y_labels = [f"y={space.from_pixels([0, y])[1]:.3g}" for y in ys_px]
    edited = image_ops.grid(self._state().canvas, [x * sx for x in xs_px], [y * sy for y in ys_px], x_labels, y_labels)
    return _edit(self, edited, f"Drew a {n}x{n} grid; lines are labelled with their coordinates.")

