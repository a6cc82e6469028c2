"""Rows of an annotation file (``.jsonl``, ``.json``, ``.csv`` or ``.parquet``): a user's own or a release's.

The one reader of such files for data builders and benchmark loaders. The suffix says the
format: ``.csv`` has a header line, ``.json`` is one document (a list of rows, or ``{key: row}``
with the key kept as ``_key``), ``.parquet`` is a Hub copy's file (its image columns hold
:class:`~vlmr.data_pipelines.releases.hub.ImageCell`), anything else is JSON Lines. A file that is not UTF-8 text, or a
``.json`` file that is not one JSON document, is a :class:`~vlmr.schema.SchemaError` naming it.
Every row that is not a JSON object is named (file and line, or row number) in a warning and
stays in its place, so the caller's own row checks skip and count it and the rows after it
keep their index; a JSON Lines line that is not JSON at all stays as a :class:`BadRow`.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "qa.jsonl")
>>> _ = open(p, "w").write('{"q": "x"}\\n{"q": \\n[1]\\n\\n{"q": "y"}\\n')
>>> rows_in_place(p)
[{'q': 'x'}, BadRow(number=2, reason='Expecting value: line 1 column 7 (char 6)'), [1], {'q': 'y'}]
>>> read_rows(p)
[{'q': 'x'}, [1], {'q': 'y'}]
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from vlmr.schema import SchemaError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BadRow:
    """A line of a JSON Lines file that is not JSON: its number, and why."""

    number: int
    reason: str


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise SchemaError(f"{path}: not UTF-8 text (byte {e.start}); save the annotations as UTF-8") from e


def _named(row: Any, where: str) -> Any:
    """``row``, named in a warning (``where``: file and line) unless it is a JSON object."""
    if not isinstance(row, dict):
        reason = row.reason if isinstance(row, BadRow) else type(row).__name__
        logger.warning("%s: skipped, not a JSON object (%s)", where, reason)
    return row


def _line_rows(path: Path) -> list[Any]:
    rows = []
    for number, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as e:
            row = BadRow(number, str(e))
        rows.append(_named(row, f"{path}:{number}"))
    return rows


def _document_rows(path: Path) -> list[Any]:
    try:
        data = json.loads(_text(path))
    except (ValueError, RecursionError) as e:
        raise SchemaError(f"{path}: not one JSON document ({e}); a file of one JSON object per line "
                          "needs the suffix .jsonl") from e
    if isinstance(data, dict):  # {key: row}, e.g. MathVista's {pid: problem}
        data = [{"_key": key, **row} if isinstance(row, dict) else row for key, row in data.items()]
    if not isinstance(data, list):
        raise SchemaError(f"{path}: expected a JSON list or object of rows, got {type(data).__name__}")
    return [_named(row, f"{path}: row {number}") for number, row in enumerate(data, start=1)]


def rows_in_place(path: str | Path) -> list[Any]:
    """The rows of ``path`` in file order, each that is not a JSON object in its place (and in a warning)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        from vlmr.data_pipelines.releases.hub import HubCopy

        copy = HubCopy(path)
        return list(copy.rows(copy.choose_split()))
    if suffix == ".csv":
        return list(csv.DictReader(io.StringIO(_text(path), newline="")))
    return _document_rows(path) if suffix == ".json" else _line_rows(path)


def read_rows(path: str | Path) -> list[Any]:
    """The rows of ``path`` (see :func:`rows_in_place`) without the lines that are not JSON."""
    return [row for row in rows_in_place(path) if not isinstance(row, BadRow)]


T = TypeVar("T")
MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError)  # what reading a bad row raises


def malformed(error: Exception) -> str:
    """The reason a row whose fields could not be read (missing key, wrong type) is skipped."""
    return f"malformed row ({type(error).__name__}: {str(error)[:60]})"


def each_row(rows: Iterable[Any], make: Callable[[int, Any], T | list[T] | None],
             on_skip: Callable[[str], Any]) -> list[T]:
    """``make(index, row)`` of every row, in order; a row it cannot read (a missing or malformed field)
    is passed to ``on_skip`` with the reason, never fatal. ``make`` returns an item, several, or
    ``None`` (a row it skipped itself).

    >>> each_row([{"n": 1}, {}, {"n": 3}], lambda i, row: row["n"] * 10, print)
    malformed row (KeyError: 'n')
    [10, 30]
    """
    out: list[T] = []
    for i, row in enumerate(rows):
        try:
            made = make(i, row)
        except MALFORMED as e:
            on_skip(malformed(e))
            continue
        out += made if isinstance(made, list) else [made] if made is not None else []
    return out
