"""Shared base of video benchmarks: their frame policy.

A video becomes frames through the one conversation builder (:mod:`vlmr.conversation`): shown as
images, each preceded by its time (``<1.5s>``), as in training. A video benchmark states only its
frame policy: ``fps`` 1.0, ``max_frames`` 16 (options ``fps``, ``max_frames``, ``min_pixels``,
``max_pixels`` change it); a record's own ``video.sample_fps``/``max_frames`` win.
"""

from __future__ import annotations

from typing import Any, ClassVar

from vlmr.eval.registry import Benchmark


class VideoBenchmark(Benchmark):
    """A benchmark whose samples carry ``video = {"path", "start"?, "end"?, "native_fps"?}``; the path may
    be a video file, an animated GIF or a folder of frames (whose ``native_fps`` the sample states)."""

    frame_defaults: ClassVar[dict[str, Any]] = {"fps": 1.0, "max_frames": 16}
