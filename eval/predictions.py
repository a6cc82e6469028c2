"""``predictions.jsonl``: one ``{"id", "response", ...}`` per line, appended atomically, keyed by id.

Several processes (``accelerate launch`` shards) and restarted runs append to the same
file. Every append takes an exclusive ``flock``, first cuts a torn last line left by a
killed process, then writes whole lines in one ``write`` and ``fsync``s, so the file only
ever holds complete rows. Reading uses one row per id, the last, and says which ids had
several; a row recorded with an ``error`` never replaces a success, and a later success
(``vlmr eval run --retry-errors``) replaces it. Lines that cannot be read are skipped and
counted by line number, never a reason to reject the file.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class PredictionsFile:
    """A predictions file as read: the row used for each id, and what was skipped or replaced, by line."""

    path: Path
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    malformed: list[str] = field(default_factory=list)  # "line N (reason)" of each skipped line
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # id -> its lines, if a row replaced another

    def warnings(self) -> list[str]:
        """One line per kind of problem, naming the first lines and ids concerned."""
        out = []
        if self.malformed:
            out.append(f"{self.path}: skipped {len(self.malformed)} malformed line(s): {first_items(self.malformed)} "
                       "(a torn last line is what a killed run leaves)")
        if self.duplicates:
            listed = [f"{key} (lines {', '.join(map(str, lines))})" for key, lines in self.duplicates.items()]
            out.append(f"{self.path}: {len(listed)} id(s) appear on several lines; the last row of each is used: "
                       f"{first_items(listed)}")
        return out


def first_items(items: list[str], n: int = 10) -> str:
    """The first ``n`` items joined, and how many more there are."""
    return ", ".join(items[:n]) + (f", ... ({len(items) - n} more)" if len(items) > n else "")


def load_predictions(path: str | Path) -> PredictionsFile:
    """Read a predictions file line by line; never raises on its content.

    A line that is not UTF-8 JSON with an ``id`` is skipped and counted. Of an id's rows the last
    one is used, except that an error row (a failed generation) never replaces a success; an id
    with more than one success is reported (its score would otherwise depend on line order),
    a success after errors is the expected ``--retry-errors`` and is not.
    """
    read = PredictionsFile(Path(path))
    if not read.path.exists():
        return read
    successes: dict[str, list[int]] = {}  # lines of each id's rows without an error
    with read.path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                read.malformed.append(f"line {number} (not UTF-8)")
                continue
            except (ValueError, RecursionError):
                read.malformed.append(f"line {number} (not JSON)")
                continue
            if not isinstance(row, dict) or "id" not in row:
                read.malformed.append(f"line {number} (no \"id\")")
                continue
            key = str(row["id"])
            previous = read.rows.get(key)
            if not row.get("error"):
                successes.setdefault(key, []).append(number)
            if previous is None or not row.get("error") or previous.get("error"):
                read.rows[key] = row
    read.duplicates = {key: numbers for key, numbers in successes.items() if len(numbers) > 1}
    for warning in read.warnings():
        logger.warning(warning)
    return read


def read_predictions(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{id: row}`` of a predictions file (see :func:`load_predictions`: the last row per id, a success
    before an error; unreadable lines skipped).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "predictions.jsonl")
    >>> _ = open(p, "w").write('{"id": "a", "response": "1"}\\n{"id": "a", "response": "2"}\\n{"id": "b", "resp')
    >>> {k: v["response"] for k, v in read_predictions(p).items()}
    {'a': '2'}
    """
    return load_predictions(path).rows


def _cut_torn_tail(fd: int) -> None:
    """Truncate the file after its last newline (drops a partial line from a killed writer)."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return
    os.lseek(fd, size - 1, os.SEEK_SET)
    if os.read(fd, 1) == b"\n":
        return
    pos, chunk = size, 4096
    while pos > 0:
        start = max(0, pos - chunk)
        os.lseek(fd, start, os.SEEK_SET)
        data = os.read(fd, pos - start)
        i = data.rfind(b"\n")
        if i >= 0:
            os.ftruncate(fd, start + i + 1)
            return
        pos = start
    os.ftruncate(fd, 0)


def append_predictions(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Append rows (each with an ``id``) as complete lines under an exclusive lock; returns the count."""
    payload = "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    if not payload:
        return 0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _cut_torn_tail(fd)
        os.lseek(fd, 0, os.SEEK_END)
        data = payload.encode("utf-8")
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return payload.count("\n")


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
