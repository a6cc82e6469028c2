"""The build runner: any source's builder -> a validated vlmr dataset directory.

**Builder contract.** A builder is a generator function with keyword-only arguments
``seed``, ``limit``, ``split``, ``shard``, ``num_shards`` plus its own options, yielding
:class:`Built` items (a schema record whose media paths are ``media/<name>``, and the media
to write under those names) or :class:`Skipped` items (a sample that could not be made,
with the reason). With ``num_shards > 1`` a builder yields only the samples ``i`` with
``i % num_shards == shard``, so shards run in parallel processes and together give the
same dataset as one process. :func:`shard_records` is that loop, for every builder.

The runner writes media, validates every record, drops duplicates (same image bytes and
question), counts skips by reason, never crashes on one bad sample, writes atomically
through :class:`~vlmr.schema.DatasetWriter`, and leaves a dataset card (``README.md``)
with counts and the exact command.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image
from tqdm import tqdm

from vlmr.data_pipelines.releases.rows import malformed, rows_in_place
from vlmr.data_pipelines.sources import get_builder
from vlmr.media.image import UnreadableImage, open_rgb
from vlmr.schema import DatasetWriter, SchemaError, resolve_media, validate_record

logger = logging.getLogger(__name__)

Media = Image.Image | np.ndarray | bytes | Path


@dataclass
class Built:
    """One sample from a builder: its record and the media files it refers to."""

    record: dict[str, Any]
    media: dict[str, Media] = field(default_factory=dict)
    note: str | None = None  # counted in the card when written, e.g. how a stored trajectory was converted


@dataclass
class Skipped:
    """A sample a builder could not make (corrupted or missing media, bad annotation)."""

    reason: str

    @classmethod
    def malformed(cls, error: Exception) -> Skipped:
        """A row whose fields could not be read (missing key, wrong type)."""
        return cls(malformed(error))


T = TypeVar("T")


def in_shard(items: Iterable[T], *, limit: int | None, shard: int, num_shards: int) -> Iterator[tuple[int, T]]:
    """``(i, item)`` of this shard's items among the first ``limit``: ``i`` counts every item, so
    ``limit`` applies before sharding and the shards together give what one process gives.

    >>> list(in_shard("abcdefg", limit=5, shard=1, num_shards=2))
    [(1, 'b'), (3, 'd')]
    """
    return ((i, item) for i, item in enumerate(itertools.islice(items, limit)) if i % num_shards == shard)


def shard_records(
    items: Iterable[T],
    make: Callable[[int, T], Built | Skipped | Iterable[Built | Skipped]],
    *,
    limit: int | None,
    shard: int,
    num_shards: int,
) -> Iterator[Built | Skipped]:
    """The builder loop: ``make(i, item)`` for each item :func:`in_shard` gives (one record, or
    several), while a :class:`Skipped` item passes through (counted once, in its shard).

    >>> make = lambda i, word: Built({"id": f"{i}-{word}"})
    >>> [getattr(r, "record", r) for r in shard_records(["a", Skipped("bad"), "c"], make, limit=None, shard=0,
    ...                                                   num_shards=1)]
    [{'id': '0-a'}, Skipped(reason='bad'), {'id': '2-c'}]
    """
    for i, item in in_shard(items, limit=limit, shard=shard, num_shards=num_shards):
        if isinstance(item, Skipped):
            yield item
            continue
        made = make(i, item)
        yield from (made,) if isinstance(made, Built | Skipped) else made


def annotation_rows(path: str | Path) -> list[dict[str, Any] | Skipped]:
    """The rows of an annotation file (:func:`~vlmr.data_pipelines.releases.rows.rows_in_place`), each one that is not a JSON object
    a :class:`Skipped` in its place: counted in the build, and the rows after it keep their index."""
    return [row if isinstance(row, dict) else Skipped("annotation line is not a JSON object")
            for row in rows_in_place(path)]


def image_in(image_dir: str | Path, name: str) -> Path | Skipped:
    """The file ``name`` (from an annotation file) inside ``image_dir``, or a :class:`Skipped` if it points
    elsewhere: an absolute path, a ``..`` or a symlink leading out of the folder."""
    try:
        return resolve_media(image_dir, name)
    except SchemaError:
        return Skipped("image path outside the image directory (absolute, '..' or a symlink out)")


def open_image(path: Path | bytes) -> Image.Image | Skipped:
    """The RGB image at ``path`` (or encoded in bytes, as a Hub copy holds it), or a
    :class:`Skipped` saying why it cannot be read."""
    if isinstance(path, Path) and not path.is_file():
        return Skipped("missing image")
    try:
        return open_rgb(io.BytesIO(path) if isinstance(path, bytes) else path)
    except UnreadableImage:  # corrupt, truncated, not an image, or a decompression bomb
        return Skipped("corrupted image")


def image_prompt(sid: str, source: str, question: str, image_dir: str | Path, image: str, media_name: str,
                 answer: Any, split: str) -> Built | Skipped:
    """A ``vqa`` prompt record for tool RL: the image ``image`` (inside ``image_dir``, stored as ``media_name``),
    its question and reference answer; skipped without a reference or a readable image."""
    if answer is None or not str(answer).strip():
        return Skipped("row without a ground truth")
    path = image_in(image_dir, image)
    opened = path if isinstance(path, Skipped) else open_image(path)
    if isinstance(opened, Skipped):
        return opened
    return Built({"id": sid, "task": "vqa", "source": source, "question": question, "images": [f"media/{media_name}"],
                  "answer": {"text": str(answer).strip()},
                  "meta": {"width": opened.width, "height": opened.height, "split": split}}, {media_name: path})


@dataclass
class BuildSummary:
    """What a build produced: counts per task, skips by reason, duplicates dropped."""

    out_dir: Path
    written: int = 0
    per_task: Counter = field(default_factory=Counter)
    per_split: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    duplicates: int = 0

    @property
    def read(self) -> int:
        """Samples the builder yielded: written, duplicates and skipped."""
        return self.written + self.duplicates + sum(self.skipped.values())

    def text(self) -> str:
        """A few lines for the terminal and the dataset card."""
        lines = [f"{self.written} records written to {self.out_dir} ({self.read} read)"]
        lines += [f"  {task}: {n}" for task, n in sorted(self.per_task.items())]
        lines += [f"  {note}: {n}" for note, n in sorted(self.notes.items())]
        if len(self.per_split) > 1:
            lines += [f"  split {name or '(none)'}: {n}" for name, n in sorted(self.per_split.items())]
        if self.duplicates:
            lines.append(f"  duplicates dropped (same image + question): {self.duplicates}")
        for reason, n in self.skipped.most_common():
            lines.append(f"  skipped {n}: {reason}")
        return "\n".join(lines)


def _media_bytes(value: Media) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, Path):
        return value.read_bytes()
    image = Image.fromarray(value) if isinstance(value, np.ndarray) else value
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _encoded(source: str, shard: int, num_shards: int, options: dict[str, Any]) -> Iterator[Built | Skipped]:
    """One shard's items with their media encoded to bytes (lazily, one sample at a time)."""
    for item in _guarded(get_builder(source)(shard=shard, num_shards=num_shards, **options)):
        if isinstance(item, Built):
            try:
                item = Built(item.record, {name: _media_bytes(v) for name, v in item.media.items()}, item.note)
            except (OSError, ValueError) as e:
                item = Skipped(f"unreadable media ({type(e).__name__})")
        yield item


def _run_shard(source: str, shard: int, num_shards: int, options: dict[str, Any]) -> list[Built | Skipped]:
    """Materialise one shard (runs in a worker process)."""
    return list(_encoded(source, shard, num_shards, options))


def _guarded(builder: Iterator[Built | Skipped]) -> Iterator[Built | Skipped]:
    """Pass items through; an error after the first item ends the shard as a counted skip
    instead of losing the build (an error before any item is a usage error and is raised)."""
    produced = False
    while True:
        try:
            item = next(builder)
        except StopIteration:
            return
        except Exception as e:
            if not produced:
                raise
            logger.warning("builder stopped early: %s: %s", type(e).__name__, e)
            yield Skipped(f"builder stopped early ({type(e).__name__}: {str(e)[:60]})")
            return
        produced = True
        yield item


def _shards(source: str, workers: int, options: dict[str, Any]) -> Iterator[Built | Skipped]:
    if workers <= 1:  # stream: bounded memory, a live progress bar
        yield from _encoded(source, 0, 1, options)
        return
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(_run_shard, source, i, workers, options) for i in range(workers)]
        results = [f.result() for f in futures]
    for i in range(max(len(r) for r in results)):  # interleave so the order matches a 1-worker build
        for shard_items in results:
            if i < len(shard_items):
                yield shard_items[i]


def build_dataset(
    source: str,
    out: str | Path,
    *,
    seed: int = 0,
    limit: int | None = None,
    split: str | Sequence[str] | None = None,
    workers: int = 1,
    overwrite: bool = False,
    command: str | None = None,
    progress: bool = True,
    **options: Any,
) -> Path:
    """Build dataset ``out`` from ``source`` (a name in :mod:`vlmr.data_pipelines.sources`).

    ``split`` may list several splits (``limit`` applies to each); records carry
    ``meta.split``. ``None`` leaves the split to the builder (its default, or what its
    annotation file says), so a test file is never labelled by a default of the runner.
    Returns the dataset directory; a summary is logged and written into its card.
    """
    out = Path(out)
    splits = [split] if split is None or isinstance(split, str) else list(split)
    summary = BuildSummary(out)
    seen: set[str] = set()
    written_media: set[str] = set()
    items = itertools.chain.from_iterable(
        _shards(source, workers, {"seed": seed, "limit": limit, **({} if s is None else {"split": s}), **options})
        for s in splits)
    with DatasetWriter(out, overwrite=overwrite) as writer:
        bar = tqdm(items, desc=f"build {source}", unit="sample", disable=not progress)
        for item in bar:
            if isinstance(item, Skipped):
                summary.skipped[item.reason] += 1
                continue
            record = item.record
            key = hashlib.sha256(b"".join(item.media[n] for n in sorted(item.media))
                                 + record.get("question", "").encode()).hexdigest()
            if key in seen:
                summary.duplicates += 1
                continue
            try:
                validate_record(record)
                for name, data in item.media.items():
                    writer.media_path(name)[0].write_bytes(data)
                writer.add(record)
            except SchemaError as e:
                summary.skipped[f"invalid record: {str(e).split(': ', 2)[-1][:80]}"] += 1
                for name in set(item.media) - written_media:  # keep media of records already written
                    writer.media_path(name)[0].unlink(missing_ok=True)
                continue
            seen.add(key)
            written_media.update(item.media)
            summary.per_split[record.get("meta", {}).get("split", "")] += 1
            summary.written += 1
            summary.per_task[record["task"]] += 1
            if item.note:
                summary.notes[item.note] += 1
        summary.out_dir = out
        writer.write_text("README.md", dataset_card(source, summary, command or _command_line()))
    logger.info("%s", summary.text())
    if progress:
        print(summary.text(), file=sys.stderr)
    return out


def _command_line() -> str:
    return " ".join(["vlmr" if Path(sys.argv[0]).name in ("vlmr", "__main__.py") else sys.argv[0], *sys.argv[1:]])


def dataset_card(source: str, summary: BuildSummary, command: str) -> str:
    """The dataset's README.md: what it is, counts, skips and the command that built it."""
    return (
        f"# vlmr dataset: {source}\n\n"
        f"Built with:\n\n```\n{command}\n```\n\n"
        f"Records follow the vlmr sample schema (see the vlmr README); ground truth in original pixels.\n\n"
        f"```\n{summary.text()}\n```\n"
    )


def split_of_file(annotations: str | Path, known: tuple[str, ...], split: str | None, default: str) -> str:
    """The split a real annotation file holds: its name when it is one of ``known``
    (``charades_sta_test.txt`` -> ``test``, ``val_2.json`` -> ``val_2``), else ``split`` or ``default``.

    A ``split`` that contradicts the file's name is an error, so a test file is never labelled train.

    >>> split_of_file("charades_sta_test.txt", ("train", "test"), None, "test")
    'test'
    """
    stem = Path(annotations).stem.lower()
    named = next((name for name in known if stem == name or stem.endswith(f"_{name}")), None)
    if named and split and split != named:
        raise ValueError(f"--split {split} contradicts the annotation file {Path(annotations).name} (the {named} "
                         f"split); drop --split or pass the {split} file")
    return named or split or default
