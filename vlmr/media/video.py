"""Video probing and frame sampling with decord, decoding only the frames that are used.

The frame budget follows qwen-vl-utils (``smart_nframes``): ``duration * fps`` frames,
at least ``MIN_FRAMES``, at most ``max_frames``, rounded down to a multiple of
``FRAME_FACTOR`` (Qwen2-VL/2.5-VL merge two frames in time), spread evenly over the
clip with both ends included. Unlike ``qwen_vl_utils.fetch_video`` the frames are decoded
in small chunks and resized straight away, so peak memory is bounded by the chunk size
and the (resized) output, never by the full-resolution clip as a float tensor.

>>> plan_indices(n_frames=300, video_fps=30.0, fps=2.0)[:3]
[0, 16, 31]
>>> len(plan_indices(n_frames=300, video_fps=30.0, fps=2.0, max_frames=8))
8
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vlmr.formats import smart_resize
from vlmr.media.image import open_rgb

logger = logging.getLogger(__name__)

FRAME_FACTOR = 2  # Qwen2/2.5-VL merge pairs of frames into one temporal patch
MIN_FRAMES = 4  # qwen-vl-utils FPS_MIN_FRAMES
MAX_FRAMES = 768  # qwen-vl-utils FPS_MAX_FRAMES
DECODE_CHUNK = 16  # full-resolution frames held in memory at once
# One ffmpeg thread per reader: decord's auto threading grew peak memory by ~300 MB per call on
# repeated calls (malloc arenas) without being faster here; parallelism belongs to dataloader workers.
DECODE_THREADS = 1


IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class ImageSequence:
    """A clip stored as images, read with PIL behind the part of decord's reader that vlmr uses:
    a folder of frames (sorted by name, e.g. MVBench's TVQA ``00001.jpg``...) or an animated GIF.

    A folder carries no frame rate, so ``fps`` is required for it; a GIF's own frame duration
    is used unless ``fps`` is given.
    """

    def __init__(self, path: Path, fps: float | None = None):
        self.path = path
        if path.is_dir():
            self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS)
            self.n = len(self.files)
            if fps is None:
                raise ValueError(f"frame folder {path} needs its frame rate (the record's video.fps)")
            self.fps = float(fps)
        else:
            self.files = []
            with Image.open(path) as im:
                self.n = getattr(im, "n_frames", 1)
                self.fps = float(fps or 1000.0 / (im.info.get("duration") or 40))  # GIFs without timing: 25 fps
        if not self.fps > 0 or self.n == 0:
            raise ValueError(f"cannot decode video {path}: no frames or no frame rate")

    def __len__(self) -> int:
        return self.n

    def get_avg_fps(self) -> float:
        return self.fps

    def frames(self, indices: Sequence[int]) -> np.ndarray:
        """(T, H, W, 3) uint8 RGB frames at ``indices``."""
        if self.files:
            images = []
            for i in indices:
                images.append(np.asarray(open_rgb(self.files[i])))
            return np.stack(images)
        out = []
        with Image.open(self.path) as gif:
            for i in indices:
                gif.seek(i)
                out.append(np.asarray(gif.convert("RGB")))
        return np.stack(out)

    def times(self, indices: Sequence[int]) -> list[float]:
        return [i / self.fps for i in indices]


def _open(path: str | Path, sequence_fps: float | None = None):
    """Open ``path`` (decord, or :class:`ImageSequence` for a frame folder / GIF);
    missing file -> FileNotFoundError, unreadable -> ValueError."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".gif":
        try:
            return ImageSequence(path, sequence_fps)
        except (OSError, Image.DecompressionBombError) as e:  # a bomb is no OSError
            raise ValueError(f"cannot decode video {path}: {e}") from e
    try:
        import decord
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("video support needs decord: pip install 'vlmr[video]'") from e
    if not path.is_file():
        raise FileNotFoundError(f"video file {path} not found")
    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=DECODE_THREADS)
    except (RuntimeError, AssertionError) as e:  # decord asserts a positive frame count
        raise ValueError(f"cannot decode video {path}: {str(e).splitlines()[0]}") from e
    if len(reader) == 0 or not reader.get_avg_fps() > 0:
        raise ValueError(f"cannot decode video {path}: no frames or no frame rate")
    return reader


def _decode(reader, indices: Sequence[int]) -> np.ndarray:
    """(T, H, W, 3) uint8 frames at ``indices`` from a decord reader or an :class:`ImageSequence`."""
    if isinstance(reader, ImageSequence):
        return reader.frames(indices)
    return reader.get_batch(list(indices)).asnumpy()


def _times(reader, indices: Sequence[int]) -> list[float]:
    if isinstance(reader, ImageSequence):
        return reader.times(indices)
    return reader.get_frame_timestamp(list(indices))[:, 0].tolist() if len(indices) else []


def probe(path: str | Path, sequence_fps: float | None = None) -> dict:
    """Return ``{"fps", "n_frames", "duration", "width", "height"}`` of a video (decodes one frame);
    ``sequence_fps``: the frame rate of a frame folder (see :func:`sample_frames`)."""
    reader = _open(path, sequence_fps)
    try:
        height, width = _decode(reader, [0]).shape[1:3]  # decodes one frame; decord exposes no frame size
    except (RuntimeError, OSError) as e:
        raise ValueError(f"cannot decode video {path}: {str(e).splitlines()[0]}") from e
    fps = float(reader.get_avg_fps())
    return {"fps": fps, "n_frames": len(reader), "duration": len(reader) / fps, "width": width, "height": height}


def plan_indices(
    n_frames: int,
    video_fps: float,
    fps: float = 2.0,
    max_frames: int | None = None,
    start: float | None = None,
    end: float | None = None,
) -> list[int]:
    """Frame indices to decode: ``duration * fps`` frames spread evenly over ``[start, end]`` seconds.

    Args:
        n_frames: frames in the video.
        video_fps: the video's frame rate.
        fps: frames to sample per second of clip.
        max_frames: upper bound on the number of frames (default ``MAX_FRAMES``).
        start: clip start in seconds (default 0).
        end: clip end in seconds (default the end of the video).

    Returns:
        Sorted frame indices; a multiple of ``FRAME_FACTOR`` of them when the clip has enough frames.
    """
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    duration = n_frames / video_fps
    first = 0 if start is None else math.ceil(max(0.0, start) * video_fps)
    last = n_frames - 1 if end is None else min(math.floor(end * video_fps), n_frames - 1)
    if first > last:
        raise ValueError(f"empty clip: start={start}s end={end}s in a {duration:.2f}s video ({n_frames} frames)")
    available = last - first + 1
    wanted = available / video_fps * fps
    wanted = min(max(wanted, MIN_FRAMES), max_frames or MAX_FRAMES, available)
    count = max(1, int(wanted // FRAME_FACTOR * FRAME_FACTOR) if wanted >= FRAME_FACTOR else int(wanted))
    return np.linspace(first, last, count).round().astype(int).tolist()


def _resize(frame: np.ndarray, min_pixels: int | None, max_pixels: int | None) -> Image.Image:
    """An RGB image owning its pixels (not a view of the decoded batch): shrunk to ``max_pixels``, or,
    with both bounds, at the Qwen-VL size qwen-vl-utils gives it (sides multiples of 28, area within)."""
    import cv2

    height, width = frame.shape[:2]
    new_h, new_w = height, width
    if max_pixels and (min_pixels or height * width > max_pixels):
        new_h, new_w = smart_resize(height, width, factor=28, min_pixels=min_pixels or 28 * 28, max_pixels=max_pixels)
    if (new_h, new_w) == (height, width):
        return Image.fromarray(frame.copy())
    shrink = new_h * new_w < height * width  # area averaging shrinks without aliasing
    return Image.fromarray(cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC))


def sample_frames(
    path: str | Path,
    fps: float = 2.0,
    max_frames: int | None = None,
    start: float | None = None,
    end: float | None = None,
    max_pixels: int | None = None,
    timestamps: Sequence[float] | None = None,
    indices: Sequence[int] | None = None,
    total_pixels: int | None = None,
    sequence_fps: float | None = None,
    min_pixels: int | None = None,
) -> tuple[list[Image.Image], list[float]]:
    """Decode frames of a video and return them with their times in seconds.

    Frames are chosen by (first that applies) explicit ``indices``, ``timestamps`` in
    seconds (nearest frame), or :func:`plan_indices` (``fps``, ``max_frames``, ``start``,
    ``end``). Only the chosen frames are decoded.

    Args:
        path: video file.
        fps: frames per second of clip to sample.
        max_frames: cap on the number of sampled frames.
        start: clip start in seconds.
        end: clip end in seconds.
        max_pixels: per-frame pixel budget; larger frames are resized (sides multiples of 28).
        timestamps: explicit times in seconds.
        indices: explicit frame indices.
        total_pixels: pixel budget for all frames together (qwen-vl-utils ``total_pixels``).
        sequence_fps: frame rate of a clip stored as a frame folder (required) or a GIF
            (default: the GIF's own timing); ignored for video files.
        min_pixels: with ``max_pixels``, every frame is resized to the Qwen-VL size (sides multiples
            of 28, area between the two), as qwen-vl-utils' ``fetch_video`` does.

    Returns:
        ``(frames, times)``: RGB PIL images and the presentation time (s) of each.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file cannot be decoded, or indices/timestamps are out of range.
    """
    reader = _open(path, sequence_fps)
    n_frames, video_fps = len(reader), float(reader.get_avg_fps())
    if indices is not None:
        chosen = [int(i) for i in indices]
        bad = [i for i in chosen if not 0 <= i < n_frames]
        if bad:
            raise ValueError(f"frame indices {bad} out of range for {path}: valid 0..{n_frames - 1}")
    elif timestamps is not None:
        duration = n_frames / video_fps
        bad = [t for t in timestamps if not 0 <= t <= duration]
        if bad:
            raise ValueError(f"timestamps {bad} out of range for {path}: valid 0..{duration:.2f} s")
        chosen = [min(int(round(t * video_fps)), n_frames - 1) for t in timestamps]
    else:
        chosen = plan_indices(n_frames, video_fps, fps, max_frames, start, end)
    if total_pixels:
        budget = int(total_pixels / max(len(chosen), 1))
        max_pixels = min(max_pixels, budget) if max_pixels else budget
    frames: list[Image.Image] = []
    try:
        for i in range(0, len(chosen), DECODE_CHUNK):
            batch = _decode(reader, chosen[i : i + DECODE_CHUNK])  # (T, H, W, 3) uint8
            frames += [_resize(f, min_pixels, max_pixels) for f in batch]
            del batch
        times = _times(reader, chosen)
    except (RuntimeError, OSError) as e:
        raise ValueError(f"cannot decode video {path}: {str(e).splitlines()[0]}") from e
    return frames, [round(float(t), 3) for t in times]


def frames_strip(
    frames: Sequence[Image.Image], times: Sequence[float], height: int = 120, columns: int = 8
) -> Image.Image:
    """Tile frames left to right (wrapping after ``columns``), each labelled with its time in seconds."""
    if not frames:
        raise ValueError("frames_strip needs at least one frame")
    thumbs = [f.convert("RGB").resize((max(1, round(f.width * height / f.height)), height)) for f in frames]
    width = max(t.width for t in thumbs)
    cols = min(columns, len(thumbs))
    rows = math.ceil(len(thumbs) / cols)
    sheet = Image.new("RGB", (cols * (width + 4) + 4, rows * (height + 4) + 4), (32, 32, 32))
    draw = ImageDraw.Draw(sheet)
    for k, (thumb, t) in enumerate(zip(thumbs, times, strict=True)):
        x, y = 4 + (k % cols) * (width + 4), 4 + (k // cols) * (height + 4)
        sheet.paste(thumb, (x, y))
        draw.rectangle([x, y, x + 52, y + 13], fill=(0, 0, 0))
        draw.text((x + 2, y + 1), f"{t:.2f}s", fill=(255, 255, 0))
    return sheet
