"""Finding a release's files: its annotation file in a folder, an image among the places it may lie, the size
of each image it names."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from vlmr.media.image import UnreadableImage
from vlmr.media.image import image_size as header_size

logger = logging.getLogger(__name__)


def find_file(path: str | Path, names: tuple[str, ...]) -> Path:
    """``path`` itself if it is a file, else the first of ``names`` inside the folder ``path``."""
    path = Path(path)
    if path.is_file():
        return path
    for name in names:
        if (path / name).is_file():
            return path / name
    raise FileNotFoundError(f"none of {list(names)} found in {path}; pass the annotation file itself")


def file_under(root: Path, candidates: Iterable[str]) -> str | None:
    """The first of ``candidates`` (paths relative to ``root``) that is a file there; ``None`` when none is."""
    return next((c for c in candidates if (root / c).is_file()), None)


def image_size(path: str | Path) -> tuple[int | None, int | None]:
    """``(width, height)`` of an image, reading only its header; ``(None, None)`` if it is unreadable.

    A missing or corrupted image does not stop loading: an evaluation records the sample with
    an error (scored wrong, counted in ``n_errors``).
    """
    try:
        return header_size(path)
    except UnreadableImage as e:
        logger.warning("unreadable image %s (%s)", path, e)
        return None, None
