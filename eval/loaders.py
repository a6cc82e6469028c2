"""Readers for the file shapes official benchmark releases come in (JSON, JSONL, Parquet)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import vlmr.rows

logger = logging.getLogger(__name__)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a benchmark file in file order: a ``.parquet`` file is read as a Hub copy (image
    columns hold :class:`~vlmr.eval.hub.ImageCell`), any other by :func:`vlmr.rows.read_rows`
    (``.json``, ``.jsonl``, ``.csv``; a row that is not a JSON object is skipped and named).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.json")
    >>> _ = open(p, "w").write('{"7": {"q": "x"}}')
    >>> read_rows(p)
    [{'_key': '7', 'q': 'x'}]
    """
    if Path(path).suffix == ".parquet":
        from vlmr.eval.hub import HubCopy

        copy = HubCopy(path)
        return list(copy.rows(copy.choose_split()))
    return vlmr.rows.read_rows(path)


def image_size(path: str | Path) -> tuple[int | None, int | None]:
    """``(width, height)`` of an image, reading only its header; ``(None, None)`` if it is unreadable.

    A missing or corrupted image does not stop loading: the runner records the sample with
    an error (scored wrong, counted in ``n_errors``).
    """
    from vlmr.media.image import UnreadableImage
    from vlmr.media.image import image_size as read_size

    try:
        return read_size(path)
    except UnreadableImage as e:
        logger.warning("unreadable image %s (%s)", path, e)
        return None, None


def find_file(path: str | Path, names: tuple[str, ...]) -> Path:
    """``path`` itself if it is a file, else the first of ``names`` inside the folder ``path``."""
    path = Path(path)
    if path.is_file():
        return path
    for name in names:
        if (path / name).is_file():
            return path / name
    raise FileNotFoundError(f"none of {list(names)} found in {path}; pass the annotation file itself")
