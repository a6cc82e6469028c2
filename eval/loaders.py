"""Readers for the file shapes official benchmark releases come in (JSON, JSONL, Parquet)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``.json`` (list, or ``{key: row}`` with the key kept as ``_key``), ``.jsonl``
    or ``.parquet`` file, in file order (a parquet file is read as a Hub copy: image columns
    hold :class:`~vlmr.eval.hub.ImageCell`).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.json")
    >>> _ = open(p, "w").write('{"7": {"q": "x"}}')
    >>> read_rows(p)
    [{'_key': '7', 'q': 'x'}]
    """
    path = Path(path)
    if path.suffix == ".parquet":
        from vlmr.eval.hub import HubCopy

        copy = HubCopy(path)
        return list(copy.rows(copy.choose_split()))
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if isinstance(data, dict):
        return [{"_key": key, **row} for key, row in data.items()]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list or object of rows, got {type(data).__name__}")
    return data


def image_size(path: str | Path) -> tuple[int | None, int | None]:
    """``(width, height)`` of an image, reading only its header; ``(None, None)`` if it is unreadable.

    A missing or corrupted image does not stop loading: the runner records the sample with
    an error (scored wrong, counted in ``n_errors``).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError) as e:
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
