"""Video tools: look again at chosen moments (FrameThinker-style frame spotlighting).

Frames are decoded on demand with :mod:`vlmr.media.video` (only the requested frames).
``indices`` count the frames the model was shown (sampled with the row's video ``sample_fps``,
``start``, ``end`` and ``max_frames``, which the conversation builder writes into the row); times are seconds from the start of the video.
"""

from __future__ import annotations

from typing import Any

from vlmr.formats import CoordinateSpace
from vlmr.schema import native_fps, sampling
from vlmr.tools.image_tools import zoom_result
from vlmr.tools.registry import ToolResult, register_tool
from vlmr.tools.validation import ToolArgumentError, number, optional_text, pixel_box


def _video(env) -> dict:
    state = env._state()
    if not state.video:
        raise ToolArgumentError("this sample has no video; use the image tools or answer directly.")
    if "probe" not in state.cache:
        from vlmr.media.video import probe

        state.cache["probe"] = probe(state.video["path"], native_fps(state.video))
    return state.video


def _clip(env) -> tuple[float, float]:
    """(start, end) seconds of the clip the model was shown."""
    video = _video(env)
    duration = env._state().cache["probe"]["duration"]
    start = float(video.get("start") or 0.0)
    end = float(video["end"]) if video.get("end") is not None else duration
    return start, min(end, duration)


def _shown_indices(env) -> list[int]:
    """Native frame indices of the frames the model was shown, in order."""
    state = env._state()
    if "shown" not in state.cache:
        from vlmr.media.video import plan_indices

        video, info = _video(env), state.cache["probe"]
        fps, max_frames = sampling(video)
        state.cache["shown"] = plan_indices(info["n_frames"], info["fps"], fps or 2.0, max_frames,
                                            video.get("start"), video.get("end"))
    return state.cache["shown"]


def _timestamps(env, values: Any, name: str) -> list[float]:
    if not isinstance(values, list | tuple) or not values:
        raise ToolArgumentError(f"{name} must be a non-empty list of times in seconds like [1.5, 4.0], got {values!r}.")
    start, end = _clip(env)
    times = [number(v, f"{name}[{i}]") for i, v in enumerate(values)]
    bad = [t for t in times if not start <= t <= end]
    if bad:
        raise ToolArgumentError(f"{name} {bad} are outside the clip; valid times are {start:g} to {end:.2f} s.")
    return times


@register_tool("video")
def select_frames(self, timestamps: list[float] | None = None, indices: list[int] | None = None) -> ToolResult:
    """Look again at chosen moments of the video at full detail; give times or frame positions.

    Args:
        timestamps: Times in seconds from the start of the video, e.g. [3.5, 7.0].
        indices: Positions of frames in the video as you were shown it, counting from 0.
    """
    if (timestamps is None) == (indices is None):
        raise ToolArgumentError("give exactly one of timestamps (seconds) or indices (frame positions).")
    limit = self.limits.max_frames
    from vlmr.media.video import sample_frames

    video = _video(self)
    path, rate = video["path"], native_fps(video)  # a frame folder states its rate
    if timestamps is not None:
        times = _timestamps(self, timestamps, "timestamps")
        if len(times) > limit:
            raise ToolArgumentError(f"at most {limit} frames per call, got {len(times)}; ask for fewer.")
        frames, got = sample_frames(path, timestamps=times, max_pixels=self.limits.max_pixels, sequence_fps=rate)
    else:
        if not isinstance(indices, list | tuple) or not indices:
            raise ToolArgumentError(f"indices must be a non-empty list of frame positions like [0, 5], got {indices!r}.")
        shown = _shown_indices(self)
        positions = [number(v, f"indices[{i}]") for i, v in enumerate(indices)]
        bad = [p for p in positions if not (p.is_integer() and 0 <= p < len(shown))]
        if bad:
            raise ToolArgumentError(f"indices {bad} are not frame positions; valid positions are 0 to {len(shown) - 1}.")
        if len(positions) > limit:
            raise ToolArgumentError(f"at most {limit} frames per call, got {len(positions)}; ask for fewer.")
        frames, got = sample_frames(path, indices=[shown[int(p)] for p in positions], max_pixels=self.limits.max_pixels,
                                    sequence_fps=rate)
    listing = ", ".join(f"{t:.2f}s" for t in got)
    return ToolResult(f"Showing {len(frames)} frame(s) at {listing}, in that order.", frames)


@register_tool("video")
def zoom_in_frame(self, timestamp: float, bbox_2d: list[float], label: str | None = None) -> ToolResult:
    """Zoom into a region of one video frame to see small details; the region comes back enlarged.

    Args:
        timestamp: Time of the frame in seconds from the start of the video.
        bbox_2d: The region as [x1, y1, x2, y2] (top-left and bottom-right corners), {coords}.
        label: Optional name of what you expect to find in the region.
    """
    from vlmr.media.video import sample_frames

    label = optional_text(label, "label")
    (time_s,) = _timestamps(self, [timestamp] if not isinstance(timestamp, list) else timestamp, "timestamp")
    video = _video(self)
    frames, got = sample_frames(video["path"], timestamps=[time_s], sequence_fps=native_fps(video))
    frame = frames[0]
    space = self._state().space or CoordinateSpace(frame.width, frame.height, "pixel")
    box = pixel_box(bbox_2d, space, frame.size, "bbox_2d", self.limits.min_side, self.limits.max_aspect)
    return zoom_result(frame, box, self.limits, f"the frame at {got[0]:.2f}s, region {bbox_2d}", label)
