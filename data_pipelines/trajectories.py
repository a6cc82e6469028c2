"""Stored tool trajectories (the cold-start sets of Mini-o3, Pixel-Reasoner, ...) -> vlmr SFT ``cot`` turns.

A released trajectory is a list of assistant turns whose tool calls are written in the set's own syntax
(``<grounding>{"bbox_2d": ..., "source": "observation_1"}</grounding>``, ...), with boxes in the set's own
coordinate convention and relative to the original image or to an earlier tool observation. A source
module parses its calls into :class:`StoredCall` items; :func:`convert_trajectory` turns every one into a
vlmr ``zoom_in`` call in original pixels (through the :class:`vlmr.formats.CoordinateSpace` the set's
convention gives its source image, never guessed from the values), widened as the set's own tool widened
it (``grow``), so the SFT trainer *executes* it and the images the model learns from are the ones vlmr's
own tool produces, showing what the set's tool showed. The stored observation images are not used.

The outcome of each trajectory, counted in the dataset card through :attr:`Built.note`:

* ``trajectory mapped to zoom_in``: every call became a ``zoom_in`` call;
* ``trajectory kept as given (no tool call)``: a plain reasoning answer, kept as the record's text ``cot``;
* skipped ``trajectory dropped: ...``: a call with no mappable box (unknown tool, no box, malformed
  arguments, an observation that does not exist, a box outside its image, a box ``zoom_in`` refuses: thinner
  than :attr:`ToolLimits.min_side` or more elongated than :attr:`ToolLimits.max_aspect`) -- a half-converted
  trajectory would teach the model calls vlmr's tools do not answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vlmr.data_pipelines.build import Skipped
from vlmr.formats import CoordinateSpace
from vlmr.tools.environment import ToolLimits

Box = list[float]
SpaceOf = Callable[[int, int], CoordinateSpace]  # a source image's (width, height) -> how the set's boxes read on it
Grow = Callable[[Box, int, int], Box]  # (box in the source image's pixels, its width, height) -> the region shown

MAPPED = "trajectory mapped to zoom_in"
KEPT = "trajectory kept as given (no tool call)"


@dataclass(frozen=True)
class StoredCall:
    """One tool call as a set stored it: where it sits in its turn, its box, and the image the box refers to.

    ``source`` is 0 for the original image and ``i`` for the ``i``-th observation (the region of the ``i``-th
    earlier call). ``problem`` says why the call has no usable box (the trajectory is then dropped).
    """

    start: int
    end: int
    box: Sequence[float] | None = None
    source: int = 0
    problem: str | None = None


@dataclass(frozen=True)
class Trajectory:
    """A converted trajectory: the record's ``cot`` (assistant turns, or a text) and how it was converted."""

    cot: list[dict] | str
    note: str


def vlmr_call(box_px: Sequence[float]) -> str:
    """The ``zoom_in`` call of a region in original pixels, as vlmr's SFT targets write it.

    >>> vlmr_call([10.4, 20, 30, 40.6])
    '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [10, 20, 30, 41]}}</tool_call>'
    """
    return f'<tool_call>{json.dumps({"name": "zoom_in", "arguments": {"bbox_2d": [round(v) for v in box_px]}})}</tool_call>'


def grown(factor: float) -> Grow:
    """A :data:`Grow` that scales a box by ``factor`` about its centre, clipped to its image.

    >>> grown(1.5)([40, 40, 60, 60], 100, 100)
    [35.0, 35.0, 65.0, 65.0]
    """
    def grow(box: Box, width: int, height: int) -> Box:
        cx, cy, half_w, half_h = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, (box[2] - box[0]) * factor / 2, \
            (box[3] - box[1]) * factor / 2
        return [max(0.0, cx - half_w), max(0.0, cy - half_h), min(float(width), cx + half_w),
                min(float(height), cy + half_h)]
    return grow


def _to_pixels(call: StoredCall, region: list[int], space_of: SpaceOf, grow: Grow | None,
               limits: ToolLimits) -> list[int] | str:
    """``call.box`` in original pixels (clipped to the image), or why it is not a box ``zoom_in`` accepts."""
    box = call.box
    if not (isinstance(box, list | tuple) and len(box) == 4):
        return "tool call without a 4-number box"
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError):
        return "tool call box is not numbers"
    x0, y0, x1, y1 = region
    px = space_of(x1 - x0, y1 - y0).to_pixels(values)  # the box is relative to its source image
    if grow is not None:
        px = grow(px, x1 - x0, y1 - y0)
    left, top = max(x0, int(x0 + px[0])), max(y0, int(y0 + px[1]))
    right, bottom = min(x1, int(x0 + px[2])), min(y1, int(y0 + px[3]))
    if right - left < 1 or bottom - top < 1:
        return "tool call box is empty or outside its image"
    side = min(right - left, bottom - top)
    if side < limits.min_side or max(right - left, bottom - top) / side > limits.max_aspect:
        return f"tool call box is thinner than zoom_in's {limits.min_side} px or longer than {limits.max_aspect:g}:1"
    return [left, top, right, bottom]


def convert_trajectory(turns: Sequence[str], find_calls: Callable[[str], list[StoredCall]], space_of: SpaceOf,
                       width: int, height: int, grow: Grow | None = None,
                       limits: ToolLimits | None = None) -> Trajectory | Skipped:
    """Rewrite the assistant ``turns`` of one trajectory with vlmr ``zoom_in`` calls (see the module docstring).

    Args:
        turns: the assistant turns' texts, in order.
        find_calls: the set's call parser: one turn's text -> its calls, in order.
        space_of: how the set's boxes read on a source image of a given size (e.g.
            ``lambda w, h: CoordinateSpace(w, h, "norm1")`` for boxes relative to a source of size 1.0).
        width, height: the original image's size.
        grow: how the set's tool widened a box before cropping (``None``: it cropped the box as written).
        limits: the ``zoom_in`` limits the boxes must meet (default :class:`ToolLimits`'s).

    >>> find = lambda text: [StoredCall(text.index("<g>"), text.index("</g>") + 4, [0.5, 0.5, 1.0, 1.0])]
    >>> converted = convert_trajectory(["<think>small</think><g>..</g>", "<answer>red</answer>"],
    ...                                lambda t: find(t) if "<g>" in t else [],
    ...                                lambda w, h: CoordinateSpace(w, h, "norm1"), 200, 100)
    >>> converted.note, converted.cot[0]["content"]
    ('trajectory mapped to zoom_in', '<think>small</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [100, 50, 200, 100]}}</tool_call>')
    """
    limits = limits or ToolLimits()
    regions = [[0, 0, int(width), int(height)]]  # observation 0 is the original image
    rewritten = []
    for text in turns:
        pieces, last = [], 0
        for call in sorted(find_calls(text), key=lambda c: c.start):
            if call.problem:
                return Skipped(f"trajectory dropped: {call.problem}")
            if not 0 <= call.source < len(regions):
                return Skipped("trajectory dropped: tool call on an observation that does not exist yet")
            box = _to_pixels(call, regions[call.source], space_of, grow, limits)
            if isinstance(box, str):
                return Skipped(f"trajectory dropped: {box}")
            pieces += [text[last:call.start], vlmr_call(box)]
            last = call.end
            regions.append(box)
        rewritten.append({"role": "assistant", "content": "".join([*pieces, text[last:]])})
    if len(regions) == 1:
        return Trajectory("\n".join(turns), KEPT)
    return Trajectory(rewritten, MAPPED)
