"""The vlmr sample record: one schema for every modality, validated with clear messages.

A dataset directory holds ``records.jsonl`` (one record per line), ``media/`` and a
``README.md`` card. Media paths in records are relative to the directory and may not
leave it. Ground truth is in original-image pixels (see :mod:`vlmr.formats`).

>>> s = Sample.from_dict({"id": "a1", "task": "counting", "question": "How many?",
...                       "images": ["media/a1.png"], "answer": {"count": 3}})
>>> s.answer["count"]
3
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ANSWER_KEYS = ("boxes", "labels", "points", "masks", "count", "span", "choice", "number", "text", "boxes_3d")
RECORDS_FILE = "records.jsonl"


class SchemaError(ValueError):
    """A record does not follow the vlmr schema; the message names the record and field."""


@dataclass
class Sample:
    """One sample, as in the README's "The sample record"; ``answer`` keys are :data:`ANSWER_KEYS`.

    ``video`` is ``{"path", "native_fps", "sample_fps", "max_frames", "start", "end"}`` (see
    :func:`native_fps` and :func:`sampling`); ``volume`` (CT/MRI) is
    ``{"path", ...}``; ``scene`` (3D point cloud) is ``{"path", ...}``; all paths relative.
    """

    id: str
    task: str
    question: str
    source: str = ""
    images: list[str] = field(default_factory=list)
    video: dict[str, Any] | None = None
    volume: dict[str, Any] | None = None
    scene: dict[str, Any] | None = None
    choices: list[str] | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    cot: str | list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Sample:
        """Validate ``record`` and build a Sample; raises :class:`SchemaError` naming the field."""
        validate_record(record)
        known = {k: record[k] for k in cls.__dataclass_fields__ if k in record}
        known["answer"] = {k: v for k, v in (record.get("answer") or {}).items() if v is not None}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (the on-disk form)."""
        return asdict(self)

    def media_paths(self) -> list[str]:
        """All relative media paths this record refers to."""
        paths = list(self.images)
        paths += [m["path"] for m in (self.video, self.volume, self.scene) if m and m.get("path")]
        return paths


def native_fps(video: dict[str, Any]) -> float | None:
    """The video file's own frame rate: ``native_fps``, or the key ``fps`` of records written before
    the two rates were named apart (every builder and benchmark wrote the file's rate there).
    Required for a folder of frames; a video file or GIF states its own.

    >>> native_fps({"path": "clip.mp4", "fps": 30.0}), native_fps({"path": "f/", "native_fps": 3, "fps": 30})
    (30.0, 3.0)
    """
    value = video.get("native_fps", video.get("fps"))
    return float(value) if value is not None else None


def sampling(video: dict[str, Any]) -> tuple[float | None, int | None]:
    """``(sample_fps, max_frames)`` the record asks its video to be sampled with (``None``: the
    frame policy's, see :class:`vlmr.conversation.FramePolicy`)."""
    fps, cap = video.get("sample_fps"), video.get("max_frames")
    return (float(fps) if fps is not None else None), (int(cap) if cap is not None else None)


def _fail(record: dict, fieldname: str, message: str) -> None:
    rid = record.get("id", "<no id>") if isinstance(record, dict) else "<not a dict>"
    raise SchemaError(f"record {rid!r}: field {fieldname!r}: {message}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_xy_list(record, name, value, size):
    if not isinstance(value, list):
        _fail(record, name, f"expected a list, got {type(value).__name__}")
    for i, item in enumerate(value):
        if not (isinstance(item, list | tuple) and len(item) == size and all(_is_number(v) for v in item)):
            _fail(record, f"{name}[{i}]", f"expected {size} finite numbers, got {item!r}")
        if size == 4 and (item[2] < item[0] or item[3] < item[1]):
            _fail(record, f"{name}[{i}]", f"expected x1 <= x2 and y1 <= y2 (xyxy pixels), got {item!r}")


def _check_answer(record: dict, answer: Any) -> None:
    if not isinstance(answer, dict):
        _fail(record, "answer", f"expected a dict with keys from {ANSWER_KEYS}, got {type(answer).__name__}")
    unknown = sorted(k for k in answer if k not in ANSWER_KEYS)
    if unknown:
        _fail(record, "answer", f"unknown keys {unknown}; allowed: {list(ANSWER_KEYS)}")
    present = {k: v for k, v in answer.items() if v is not None}
    if "boxes" in present:
        _check_xy_list(record, "answer.boxes", present["boxes"], 4)
    if "points" in present:
        _check_xy_list(record, "answer.points", present["points"], 2)
    if "boxes_3d" in present:
        _check_xy_list(record, "answer.boxes_3d", present["boxes_3d"], 6)
    if "count" in present and not (isinstance(present["count"], int) and not isinstance(present["count"], bool)
                                   and present["count"] >= 0):
        _fail(record, "answer.count", f"expected a non-negative integer, got {present['count']!r}")
    if "span" in present:
        span = present["span"]
        if not (isinstance(span, list | tuple) and len(span) == 2 and all(_is_number(v) for v in span)
                and 0 <= span[0] <= span[1]):
            _fail(record, "answer.span", f"expected [start_s, end_s] with 0 <= start <= end, got {span!r}")
    if "number" in present and not _is_number(present["number"]):
        _fail(record, "answer.number", f"expected a finite number, got {present['number']!r}")
    for key in ("choice", "text"):
        if key in present and not isinstance(present[key], str):
            _fail(record, f"answer.{key}", f"expected a string, got {type(present[key]).__name__}")
    if "masks" in present:
        masks = present["masks"]
        if not isinstance(masks, list):
            _fail(record, "answer.masks", "expected a list of COCO RLE dicts {'size': [h, w], 'counts': str}")
        from vlmr.masks import rle_problem

        for i, m in enumerate(masks):
            problem = rle_problem(m)  # an inconsistent RLE would hang pycocotools in every metric
            if problem:
                _fail(record, f"answer.masks[{i}]", problem)
    if "labels" in present and not (isinstance(present["labels"], list)
                                    and all(isinstance(x, str) for x in present["labels"])):
        _fail(record, "answer.labels", f"expected a list of strings, got {present['labels']!r}")


def _check_media(record: dict, name: str, value: Any) -> None:
    if value is None:
        return
    if not (isinstance(value, dict) and isinstance(value.get("path"), str) and value["path"]):
        _fail(record, name, f"expected null or a dict with a relative 'path', got {value!r}")


def validate_record(record: Any) -> None:
    """Raise :class:`SchemaError` if ``record`` (a dict) breaks the schema; return None if valid."""
    if not isinstance(record, dict):
        raise SchemaError(f"record must be a JSON object, got {type(record).__name__}")
    for key, kind in (("id", str), ("task", str), ("question", str)):
        if not isinstance(record.get(key), kind) or (key != "question" and not record.get(key)):
            _fail(record, key, f"required, expected a non-empty {kind.__name__}, got {record.get(key)!r}")
    unknown = sorted(set(record) - set(Sample.__dataclass_fields__))
    if unknown:
        _fail(record, unknown[0], f"unknown field; allowed: {list(Sample.__dataclass_fields__)}")
    _check_task(record)
    images = record.get("images", [])
    if not (isinstance(images, list) and all(isinstance(p, str) and p for p in images)):
        _fail(record, "images", f"expected a list of relative paths, got {images!r}")
    for name in ("video", "volume", "scene"):
        _check_media(record, name, record.get(name))
    for key in ("fps", "native_fps", "sample_fps", "max_frames"):
        value = (record.get("video") or {}).get(key)
        if value is not None and not (_is_number(value) and value > 0):
            _fail(record, f"video.{key}", f"expected a positive number, got {value!r}")
    choices = record.get("choices")
    if choices is not None and not (isinstance(choices, list) and all(isinstance(c, str) for c in choices)):
        _fail(record, "choices", f"expected null or a list of strings, got {choices!r}")
    _check_answer(record, record.get("answer", {}))
    if not isinstance(record.get("meta", {}), dict):
        _fail(record, "meta", f"expected a dict, got {type(record.get('meta')).__name__}")


def _check_task(record: dict) -> None:
    """The record's task is a registered one or a ``package.module:Name`` that imports (:mod:`vlmr.tasks`)."""
    from vlmr.tasks import get_task

    try:
        get_task(record["task"])
    except (ImportError, AttributeError, TypeError, ValueError) as e:  # unknown, not importable, not a Task
        _fail(record, "task", str(e))


def resolve_media(root: str | Path, relative: str) -> Path:
    """Absolute path of ``relative`` inside dataset ``root``; refuses paths that leave the root.

    >>> resolve_media("/data/ds", "../etc/passwd")
    Traceback (most recent call last):
    ...
    vlmr.schema.SchemaError: media path '../etc/passwd' leaves the dataset root /data/ds
    """
    root = Path(root).resolve()
    if Path(relative).is_absolute():
        raise SchemaError(f"media path {relative!r} must be relative to the dataset root {root}")
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise SchemaError(f"media path {relative!r} leaves the dataset root {root}")
    return path


def read_records(root: str | Path) -> Iterator[Sample]:
    """Yield validated samples of the dataset at ``root`` (errors name the file line)."""
    path = Path(root) / RECORDS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {root} a vlmr dataset directory (built by `vlmr data build`)?")
    with path.open("rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                sample = Sample.from_dict(json.loads(line.decode("utf-8").strip()))
                for rel in sample.media_paths():
                    resolve_media(root, rel)
            except UnicodeDecodeError as e:
                raise SchemaError(f"{path}:{lineno}: not UTF-8 text (byte {e.start})") from e
            except json.JSONDecodeError as e:
                raise SchemaError(f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno})") from e
            except (SchemaError, RecursionError) as e:
                raise SchemaError(f"{path}:{lineno}: {e}") from e
            yield sample


def load_samples(root: str | Path) -> list[Sample]:
    """All samples of a dataset directory, validated."""
    return list(read_records(root))


def temporary_sibling(out_dir: str | Path) -> Path:
    """A new empty directory beside ``out_dir`` to fill and then rename into place, with the mode a
    plain ``mkdir`` gives under the user's umask (``mkdtemp`` alone makes it 0700 for good)."""
    out_dir = Path(out_dir)
    path = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)
    return path


class DatasetWriter:
    """Write a dataset directory atomically: everything goes to a temporary sibling
    directory that is renamed into place only when the ``with`` block succeeds.

    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "ds")
    >>> with DatasetWriter(out) as w:
    ...     w.add(Sample(id="q1", task="vqa", question="Is it red?", answer={"text": "yes"}))
    >>> [s.id for s in load_samples(out)]
    ['q1']
    """

    def __init__(self, out_dir: str | Path, overwrite: bool = False):
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not overwrite:
            raise FileExistsError(f"{self.out_dir} exists; pass overwrite=True (CLI: --overwrite) to replace it")
        self.overwrite = overwrite
        self.count = 0
        self._ids: set[str] = set()

    def __enter__(self) -> DatasetWriter:
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.root = temporary_sibling(self.out_dir)
        (self.root / "media").mkdir()
        self._file = (self.root / RECORDS_FILE).open("w", encoding="utf-8")
        return self

    def media_path(self, name: str) -> tuple[Path, str]:
        """(absolute path to write, relative path to store) for a media file called ``name``.

        ``name`` must stay inside ``media/`` (a ``..`` that reaches ``records.jsonl`` is refused).
        """
        path = resolve_media(self.root / "media", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, path.relative_to(self.root.resolve()).as_posix()

    def add(self, sample: Sample | dict[str, Any]) -> None:
        """Validate and append one record; ids must be unique within the dataset."""
        record = sample.to_dict() if isinstance(sample, Sample) else sample
        validate_record(record)
        if record["id"] in self._ids:
            raise SchemaError(f"record {record['id']!r}: field 'id': duplicate id in this dataset")
        for rel in Sample.from_dict(record).media_paths():
            if not resolve_media(self.root, rel).exists():
                raise SchemaError(f"record {record['id']!r}: media file {rel!r} was not written")
        self._ids.add(record["id"])
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def write_text(self, name: str, text: str) -> None:
        """Write a side file (e.g. the README.md dataset card) into the dataset root."""
        (self.root / name).write_text(text, encoding="utf-8")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._file.close()
        if exc_type is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        if self.out_dir.exists():
            backup = self.out_dir.with_name(f".{self.out_dir.name}.old-{os.getpid()}")
            os.replace(self.out_dir, backup)
            os.replace(self.root, self.out_dir)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(self.root, self.out_dir)

