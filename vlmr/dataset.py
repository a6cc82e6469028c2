"""vlmr dataset directories -> ``datasets.Dataset`` rows that trl's trainers consume.

Each record becomes its conversation (:func:`vlmr.conversation.build_conversation`, the one builder
eval, infer and the demo use too); a GRPO row is :meth:`~vlmr.conversation.Conversation.row`:

- ``prompt``: chat messages with ``{"type": "image"}`` placeholders (a video's frames each preceded
  by its time, ``<1.5s>``, since trl's trainers take images only),
- ``images``: the sample's images then its video frames, decoded lazily by ``datasets``,
- ``video``, ``volume``, ``scene``: the record's media with absolute paths (for the tools),
- ``id``, ``task``, ``answer``, ``choices``, ``coord``: what the rewards read
  (:data:`vlmr.conversation.REWARD_COLUMNS`).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vlmr.conversation import FramePolicy, build_conversation
from vlmr.formats import CoordinateSpace
from vlmr.media.image import image_size, open_rgb
from vlmr.prompts import SYSTEM_PROMPT, coordinate_space
from vlmr.schema import Sample, load_samples, native_fps, resolve_media

logger = logging.getLogger(__name__)


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

            probe(resolve_media(root, sample.video["path"]), native_fps(sample.video))
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


def prompt_row(
    root: str | Path,
    sample: Sample,
    space: CoordinateSpace | None,
    tools: list[str] | None = None,
    system: str | None = SYSTEM_PROMPT,
    images: list | None = None,
    frames: FramePolicy = FramePolicy(),
) -> dict:
    """One GRPO/roll-out row (see module docstring) for ``sample``.

    A sample generated in memory passes its decoded ``images`` (``root`` then serves its video only).
    """
    return build_conversation(sample, root, space, tools, system, frames, images).row()


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
