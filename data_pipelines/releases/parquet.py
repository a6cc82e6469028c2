"""Parquet files of released sets, streamed: their rows as plain dicts, their image cells as bytes.

Released tool-RL sets (DeepEyes-47k, Mini-o3's cold start, ...) embed their images in parquet files of
several GB, so rows are read a record batch at a time with ``pyarrow``, never the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any


def parquet_files(root: str | Path) -> list[Path]:
    """``root`` itself when it is a ``.parquet`` file, else the parquet files under it (sorted)."""
    root = Path(root)
    if root.is_file():
        return [root]
    files = sorted(root.rglob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no .parquet files under {root}; pass the folder of the downloaded snapshot "
                                "or one of its .parquet files")
    return files


def parquet_rows(path: str | Path, batch_size: int = 32) -> Iterator[dict[str, Any]]:
    """The rows of one parquet file as plain dicts, read ``batch_size`` rows at a time."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(str(path)).iter_batches(batch_size=batch_size):
        yield from batch.to_pylist()


def image_bytes(cell: Any) -> bytes | None:
    """The embedded bytes of an image cell (``{"bytes", "path"}`` or raw bytes); a bare path is a file on the
    machine that wrote the set (DeepEyes keeps its cluster paths), so it is not followed."""
    if isinstance(cell, bytes | bytearray):
        return bytes(cell) or None
    if isinstance(cell, dict) and isinstance(cell.get("bytes"), bytes | bytearray):
        return bytes(cell["bytes"]) or None
    return None


