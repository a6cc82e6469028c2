"""vlmr dataset directories -> ``datasets.Dataset`` rows that trl's trainers consume.

Prompts are built here from the records (never stored twice on disk). Each row carries:

- ``prompt`` (GRPO) or ``messages`` (SFT): chat messages with ``{"type": "image"}`` placeholders,
- ``images``: the sample's images, decoded lazily by ``datasets`` (``Sequence(Image())``); a
  video becomes frames here (sampled with :mod:`vlmr.media.video`), shown to the model as
  images each preceded by its time (``<1.5s>``), since trl's trainers take images only,
- ``video``: the record's video with an absolute path (for the video tools), or ``None``,
- ``answer``, ``task``, ``id``: ground truth and routing for the rewards,
- ``coord``: the :class:`~vlmr.formats.CoordinateSpace` of the first image as a dict
  (:func:`~vlmr.formats.coord_column`), so rewards and tools convert model coordinates to
  original pixels the same way.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vlmr.formats import CoordinateSpace, coord_column
from vlmr.media.image import image_size, open_rgb
from vlmr.prompts import SYSTEM_PROMPT, build_prompt, coordinate_space
from vlmr.schema import Sample, load_samples, resolve_media

logger = logging.getLogger(__name__)

MAX_FRAMES = 16  # frames per video when the record's video has no max_frames (4 tokens each on the tiny model)


def _arrow_safe(answer: dict) -> dict:
    """Coordinates as floats, so rows with int and float boxes share one Arrow type."""
    out = dict(answer)
    for key in ("boxes", "points", "boxes_3d"):
        if out.get(key) is not None:
            out[key] = [[float(v) for v in item] for item in out[key]]
    for key in ("span", "number"):
        if out.get(key) is not None:
            out[key] = [float(v) for v in out[key]] if key == "span" else float(out[key])
    return out


def _image_size(root: Path, sample: Sample) -> tuple[int, int] | None:
    if sample.meta.get("width") and sample.meta.get("height"):
        return int(sample.meta["width"]), int(sample.meta["height"])
    if not sample.images:
        return None
    return image_size(resolve_media(root, sample.images[0]))


def media_problem(root: Path, sample: Sample) -> str | None:
    """Why the images or video of ``sample`` cannot be read (``None`` if they can): each image is
    decoded in full, a truncated file fails here rather than in the middle of an epoch."""
    try:
        for rel in sample.images:
            open_rgb(resolve_media(root, rel))
        if sample.video:
            from vlmr.media.video import probe

            probe(resolve_media(root, sample.video["path"]))
    except (OSError, ValueError) as e:  # UnreadableImage is an OSError; an unreadable video a ValueError
        return str(e)
    return None


def readable_samples(root: str | Path, samples: list[Sample]) -> list[Sample]:
    """``samples`` without those whose media cannot be read; the skipped ones are counted and named in a warning."""
    root = Path(root)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # decoders release the GIL
        problems = list(pool.map(lambda sample: media_problem(root, sample), samples))
    skipped = [f"{sample.id} ({problem})" for sample, problem in zip(samples, problems, strict=True) if problem]
    if skipped:
        logger.warning("%s: skipped %d of %d samples whose media cannot be read: %s", root, len(skipped),
                       len(samples), "; ".join(skipped[:5]) + (f"; ... ({len(skipped) - 5} more)" if len(skipped) > 5
                                                               else ""))
    return [sample for sample, problem in zip(samples, problems, strict=True) if not problem]


def prepared_samples(
    root: str | Path,
    family: str = "qwen2_5_vl",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    limit: int | None = None,
) -> list[tuple[Sample, CoordinateSpace | None]]:
    """Readable samples of the dataset at ``root`` (see :func:`readable_samples`) with the coordinate
    space the model sees each in."""
    root = Path(root)
    return [
        (sample, coordinate_space(sample, family, min_pixels, max_pixels, image_size=_image_size(root, sample)))
        for sample in readable_samples(root, load_samples(root)[:limit])
    ]


def video_frames(root: str | Path, video: dict) -> tuple[list, list[float]]:
    """Frames of a record's ``video`` (its ``fps``, ``start``, ``end``, ``max_frames``) and their times (s)."""
    from vlmr.media.video import sample_frames

    return sample_frames(
        resolve_media(root, video["path"]), fps=float(video.get("fps") or 2.0),
        max_frames=int(video.get("max_frames") or MAX_FRAMES), start=video.get("start"), end=video.get("end"),
    )


def _frames_in_prompt(messages: list[dict], times: list[float]) -> list[dict]:
    """Replace the ``{"type": "video"}`` placeholder by one timestamped image placeholder per frame."""
    frames = [part for t in times for part in ({"type": "text", "text": f"<{t:.1f}s>"}, {"type": "image"})]
    return [
        {**m, "content": [p for part in m["content"] for p in (frames if part.get("type") == "video" else [part])]}
        if isinstance(m.get("content"), list) else m
        for m in messages
    ]


def prompt_row(
    root: str | Path,
    sample: Sample,
    space: CoordinateSpace | None,
    tools: list[str] | None = None,
    system: str | None = SYSTEM_PROMPT,
    images: list | None = None,
) -> dict:
    """One GRPO/eval row (see module docstring) for ``sample``.

    ``images`` holds paths, plus PIL frames (after the sample's own images) for a video. A sample
    generated in memory passes its decoded ``images`` instead (``root`` then serves its video only).
    """
    prompt = build_prompt(sample, space, tools=tools, system=system)
    images = list(images) if images is not None else [str(resolve_media(root, p)) for p in sample.images]
    video = None
    if sample.video:
        frames, times = video_frames(root, sample.video)
        prompt = _frames_in_prompt(prompt, times)
        images += frames
        video = {**sample.video, "path": str(resolve_media(root, sample.video["path"]))}
    return {
        "id": sample.id,
        "task": sample.task,
        "prompt": prompt,
        "images": images,
        "video": video,
        "answer": _arrow_safe(sample.answer),
        "coord": coord_column(space),
    }


def to_hf_dataset(rows: list[dict]):
    """A ``datasets.Dataset`` of ``rows`` with ``images`` (paths or PIL images) decoded lazily as PIL images."""
    import datasets

    if rows and "images" in rows[0]:
        encode = datasets.Image().encode_example  # paths and in-memory frames -> one {bytes, path} type
        rows = [{**row, "images": [encode(im) for im in row["images"]]} for row in rows]
    ds = datasets.Dataset.from_list(rows)
    if "images" in ds.column_names:
        ds = ds.cast_column("images", datasets.Sequence(datasets.Image()))
    return ds
