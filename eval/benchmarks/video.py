"""Shared base of video benchmarks: frames sampled with :mod:`vlmr.media.video`, shown as images.

The inference loop takes images, so a video becomes its sampled frames, one image
placeholder each, and the prompt states each frame's time in seconds (how Qwen2.5-VL
and Video-R1 evaluations feed timestamps to models without a native video path).
Options: ``fps`` (default 1.0), ``max_frames`` (default 16), ``max_pixels`` per frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from vlmr.eval.registry import Benchmark
from vlmr.formats import CoordinateSpace
from vlmr.schema import Sample, resolve_media


class VideoBenchmark(Benchmark):
    """A benchmark whose samples carry ``video = {"path", "start"?, "end"?, "fps"?}``; the path may
    be a video file, an animated GIF or a folder of frames (whose ``fps`` the sample states)."""

    def frames(self, sample: Sample, root: Path) -> tuple[list[Any], list[float]]:
        """Sampled frames (PIL) and their times in seconds."""
        from vlmr.media.video import sample_frames

        video = sample.video or {}
        return sample_frames(
            resolve_media(root, video["path"]),
            fps=float(self.options.get("fps", 1.0)),
            max_frames=int(self.options.get("max_frames", 16)),
            start=video.get("start"),
            end=video.get("end"),
            max_pixels=self.options.get("max_pixels"),
            sequence_fps=video.get("fps"),
        )

    def doc_to_visual(self, sample: Sample, root: Path) -> list[Any]:
        """The sampled frames."""
        return self.frames(sample, root)[0]

    def prepare(
        self, sample: Sample, root: Path, space: CoordinateSpace | None, tools: Sequence[str] | None = None
    ) -> tuple[list[dict], list[Any]]:
        """One image placeholder per frame, the frame times prepended to the question."""
        from vlmr.prompts import build_prompt

        frames, times = self.frames(sample, root)
        stamps = ", ".join(f"{t:.1f}s" for t in times)
        text = f"The video frames were sampled at {stamps}.\n{self.doc_to_text(sample)}"
        shown = replace(sample, question=text, video=None, images=[f"frame-{i}" for i in range(len(frames))])
        return build_prompt(shown, None, list(tools or []) or None), frames
