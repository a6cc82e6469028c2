"""What the high-resolution releases (V*, HR-Bench, MME-RealWorld, POPE, TreeBench, VisualProbe) share:
reading a VLMEvalKit TSV or a Hub copy into rows whose images sit in the media cache, and turning a
multiple-choice row into a sample.

Both layouts hold the images inside the file (base64 text, or an image cell); each image is
written once into the media cache (:func:`~vlmr.data_pipelines.releases.hub.hub_media_dir`) under a
name made from its bytes, so a second run reads nothing twice and samples carry plain paths. A row
whose image cannot be used (corrupt base64, not an image) and a row with no options or an answer
that is no option's letter are passed to ``on_skip`` with the reason.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.files import image_size
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, hub_media_dir, is_hub_copy
from vlmr.data_pipelines.releases.vlmevalkit_tsv import decode_image, read_tsv
from vlmr.schema import Sample

OnSkip = Callable[[str], Any]


def is_tsv(path: str | Path) -> bool:
    """Whether ``path`` is a VLMEvalKit TSV file."""
    return Path(path).suffix.lower() == ".tsv" and Path(path).is_file()


def is_embedded(path: str | Path) -> bool:
    """Whether ``path`` holds its images inside: a VLMEvalKit TSV or a Hub copy."""
    return is_tsv(path) or is_hub_copy(path)


def media_root(path: str | Path, image_root: str | Path | None = None) -> Path:
    """The folder the samples' image paths are relative to: the media cache for a TSV or Hub copy,
    else ``image_root`` or the release's folder."""
    if is_embedded(path):
        return hub_media_dir()
    path = Path(path)
    return Path(image_root) if image_root else path if path.is_dir() else path.parent


def embedded_rows(path: str | Path, on_skip: OnSkip, name: str, split: str | None = None,
                  hub_splits: Sequence[str] = ("test",), image_column: str = "image") -> list[dict[str, Any]]:
    """Rows of a TSV or Hub copy of release ``name``, each with ``_images`` (names in the media cache);
    a row whose image cannot be used is skipped. ``hub_splits``: tried in order when ``split`` is not given."""
    media = hub_media_dir()
    if not is_embedded(path):
        raise FileNotFoundError(f"{path}: expected a VLMEvalKit .tsv file or a Hub copy (parquet files or a "
                                f"save_to_disk folder) of {name}")
    if is_tsv(path):
        rows = read_tsv(path, save=lambda data: ImageCell(data).save(media))
    else:
        copy = HubCopy(path)
        rows = [_hub_row(row, image_column, media) for row in copy.rows(copy.choose_split(split, hub_splits))]
    kept = []
    for row in rows:
        if row["_image_error"]:
            on_skip(row["_image_error"])
        else:
            kept.append(row)
    return kept


def mcq_sample(sample_id: str, source: str, question: Any, options: list[str], letter: Any, images: list[str],
               root: Path, meta: dict[str, Any], on_skip: OnSkip) -> Sample | None:
    """A multiple-choice sample, or ``None`` (skipped) for a row without a question, without options,
    or whose answer is not the letter of one of its options."""
    letter = str(letter or "").strip().upper()
    if not str(question or "").strip():
        on_skip("no question")
        return None
    if not options:
        on_skip("question with no options")
        return None
    if letter not in string.ascii_uppercase[: len(options)]:
        on_skip("answer letter outside the options")
        return None
    return Sample(id=sample_id, task="mcq", source=source, question=str(question).strip(), images=images,
                  choices=options, answer={"choice": letter}, meta={**sized(root, images), **meta})


def sized(root: Path, images: list[str]) -> dict[str, Any]:
    """``{"width", "height"}`` of the first image (from its header), for the coordinate frame of tools."""
    if not images:
        return {}
    width, height = image_size(root / images[0])
    return {"width": width, "height": height} if width else {}


def _hub_row(row: dict[str, Any], column: str, media: Path) -> dict[str, Any]:
    """A Hub row with its image(s) saved: an image cell, a list of them, or base64 text (HR-Bench's copy)."""
    value = row.pop(column, None)
    cells = value if isinstance(value, list) else [value]
    row["_images"], row["_image_error"] = [], None
    try:
        for cell in cells:
            if isinstance(cell, str) and cell:
                cell = ImageCell(decode_image(cell))
            if not isinstance(cell, ImageCell):
                raise ValueError("no image")
            row["_images"].append(cell.save(media))
    except ValueError as e:
        row["_image_error"] = str(e)
    return row
