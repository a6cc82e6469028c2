"""A folder of images + a CSV, JSONL or JSON list of questions and answers -> vlmr records.

``vlmr data build folder --out data/mine --image-dir photos --annotations qa.csv``

Columns (CSV header or JSON keys; the file is read by :mod:`vlmr.data_pipelines.releases.rows`): ``image`` (path relative to ``image_dir``),
``question``, ``answer``; optional ``task`` (default ``vqa``), ``choices`` (a JSON list, or
``|``-separated in CSV) and ``id``. The answer becomes ``choice`` for ``mcq``, ``count``
for ``counting``, ``number`` + ``text`` for numbers, else ``text``; in JSON it may also be
a full answer dict (``{"boxes": [[x1, y1, x2, y2]]}``, original pixels).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from vlmr.data_pipelines.build import Built, Skipped, annotation_rows, image_in, open_image, shard_records
from vlmr.data_pipelines.chartqa import answer_for


def row_answer(task: str, answer) -> dict:
    """The schema answer of one row (see the module docstring)."""
    if isinstance(answer, dict):
        return answer
    if task == "mcq":
        return {"choice": str(answer).strip().rstrip(".").upper()[:1]}
    if task == "counting":
        return {"count": int(float(answer))}
    return answer_for(str(answer))


def build_folder(
    *,
    image_dir: str,
    annotations: str,
    name: str = "folder",
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One record per row of ``annotations``; images are copied unchanged."""

    def record(i: int, row: dict) -> Built | Skipped:
        missing = [c for c in ("image", "question", "answer") if row.get(c) in (None, "")]
        if missing:
            return Skipped(f"row lacks {', '.join(missing)}")
        image_path = image_in(image_dir, row["image"])
        image = image_path if isinstance(image_path, Skipped) else open_image(image_path)
        if isinstance(image, Skipped):
            return image
        task = row.get("task") or "vqa"
        choices = row.get("choices") or None
        if isinstance(choices, str):
            try:
                choices = json.loads(choices) if choices.startswith("[") else choices.split("|")
            except ValueError:
                return Skipped("choices start with '[' but are not a JSON list")
        try:
            answer = row_answer(task, row["answer"])
        except (ValueError, TypeError):
            return Skipped(f"answer {row['answer']!r} does not fit task {task!r}")
        media = f"{name}/{row['image']}"
        return Built({"id": str(row.get("id") or f"{name}-{split}-{i:06d}"), "task": task, "source": name,
                      "question": row["question"], "images": [f"media/{media}"], "choices": choices,
                      "answer": answer, "meta": {"width": image.width, "height": image.height, "split": split}},
                     {media: image_path})

    yield from shard_records(annotation_rows(annotations), record, limit=limit, shard=shard, num_shards=num_shards)
