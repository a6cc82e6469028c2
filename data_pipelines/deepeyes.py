"""DeepEyes-Datasets-47k (the DeepEyes RL prompts, verl parquet with embedded images) -> ``vqa`` records.

``vlmr data build deepeyes --out data/deepeyes --root DeepEyes-Datasets-47k``
``vlmr data build deepeyes --out data/deepeyes_vstar --root DeepEyes-Datasets-47k --files data_0.1.2_visual_toolbox_v2``

``root`` is the Hub snapshot (``huggingface-cli download ChenShawn/DeepEyes-Datasets-47k --repo-type dataset``,
three parquet files: ``data_0.1.2_visual_toolbox_v2`` (V*-style fine-grained VQA), ``data_v0.8_visual_toolbox_v2``
(charts) and ``data_thinklite_reasoning_acc`` (reasoning)), one parquet file, or the folder
``load_dataset("ChenShawn/DeepEyes-Datasets-47k").save_to_disk(...)`` writes; ``files`` keeps the parquet
files whose name starts with one of its comma-separated stems. Rows are read by :mod:`vlmr.data_pipelines.releases.verl`.

Each row becomes one record: the question from ``extra_info.question``, else the user turn without its
``<image>``, ``Question:`` and the set's format instruction (``USER_PROMPT_V2``, vlmr's to add), the embedded
image(s), ``answer.text`` from ``reward_model.ground_truth`` (free-form, so a judge model or ``accuracy``
scores it) and, in ``meta``, the row's ``env_name``, ``data_source`` and
``ability`` as released. The set stores prompts only (no trajectories), so nothing is converted. Skipped and
counted: a row without an image or whose placeholders and images disagree, a corrupted image, a row
without a ground truth, a malformed row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from vlmr.data_pipelines.build import Built, Skipped, open_image, shard_records
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, is_hub_copy
from vlmr.data_pipelines.releases.parquet import parquet_files, parquet_rows
from vlmr.data_pipelines.releases.rows import MALFORMED
from vlmr.data_pipelines.releases.verl import VerlRow, verl_row

# DeepEyes' user turn ends with USER_PROMPT_V2 (verl/workers/agent/envs/mm_process_engine/prompt.py): cut from its start
_INSTRUCTION = re.compile(r"\s*Think first, call \*\*image_zoom_in_tool\*\* if needed, then answer\..*\Z", re.DOTALL)
_QUESTION_LINE = re.compile(r"\A\s*Question:\s*")


def question_of(row: VerlRow) -> str:
    """The row's question: ``extra_info.question``, else its user text without the set's wrapping.

    >>> question_of(verl_row({"prompt": [{"role": "user", "content": "<image>\\nIs the car on the left?\\nThink "
    ...     "first, call **image_zoom_in_tool** if needed, then answer. Format strictly as: ..."}]}))
    'Is the car on the left?'
    """
    return _QUESTION_LINE.sub("", _INSTRUCTION.sub("", row.question)).strip()


def _rows(files: list[Path]) -> Iterator[tuple[str, int, VerlRow] | Skipped]:
    """``(file stem, row number, row)`` of every file; a malformed row is a :class:`Skipped` in its place."""
    for path in files:
        yield from _parsed(path.stem, parquet_rows(path))


def _saved_rows(root: Path) -> Iterator[tuple[str, int, VerlRow] | Skipped]:
    """The same from a ``datasets`` ``save_to_disk`` copy (``load_dataset(...).save_to_disk(dir)``), split by split;
    image cells come as :class:`ImageCell` from :class:`HubCopy`."""
    copy = HubCopy(root)
    for split in copy.splits:
        rows = ({**row, "images": [c.data if isinstance(c, ImageCell) else c for c in row.get("images") or []]}
                for row in copy.rows(split))
        yield from _parsed(split, rows)


def _parsed(name: str, rows: Iterable[dict]) -> Iterator[tuple[str, int, VerlRow] | Skipped]:
    for j, row in enumerate(rows):
        try:
            yield name, j, verl_row(row)
        except MALFORMED as e:
            yield Skipped.malformed(e)


def verl_record(row: VerlRow, sid: str, source: str, split: str) -> Built | Skipped:
    """The ``vqa`` record of one verl row (see the module docstring), or why it cannot be one."""
    if not row.images:
        return Skipped("prompt without an image")
    if row.image_slots not in (0, len(row.images)):  # 0: the set puts no placeholder, one image per row
        return Skipped(f"prompt has {row.image_slots} <image> placeholders for {len(row.images)} images")
    if any(data is None for data in row.images):
        return Skipped("image cell without embedded bytes")
    if not row.ground_truth or not row.ground_truth.strip():
        return Skipped("row without a ground truth")
    opened = [open_image(data) for data in row.images]
    bad = next((im for im in opened if isinstance(im, Skipped)), None)
    if bad is not None:
        return bad
    names = [f"{source}/{ImageCell(data).name}" for data in row.images]  # one file per distinct picture
    meta = {"width": opened[0].width, "height": opened[0].height, "split": split, "env_name": row.env_name,
            "data_source": row.data_source, "ability": row.ability}
    return Built({"id": sid, "task": "vqa", "source": source, "question": question_of(row),
                  "images": [f"media/{name}" for name in names], "answer": {"text": row.ground_truth.strip()},
                  "meta": {k: v for k, v in meta.items() if v is not None}},
                 dict(zip(names, row.images, strict=True)))


def build_deepeyes(
    *,
    root: str,
    files: str = "",
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One ``vqa`` record per row of the DeepEyes parquet files under ``root`` (``files``: stems to keep), or of
    its ``save_to_disk`` copy."""
    if Path(root).is_dir() and is_hub_copy(root) and not any(Path(root).rglob("*.parquet")):  # save_to_disk
        yield from shard_records(_saved_rows(Path(root)), lambda i, item: verl_record(
            item[2], f"deepeyes-{item[0]}-{item[1]:06d}", "deepeyes", split), limit=limit, shard=shard,
            num_shards=num_shards)
        return
    paths = parquet_files(root)
    stems = [s.strip() for s in files.split(",") if s.strip()]
    if stems:
        paths = [p for p in paths if any(p.stem.startswith(s) for s in stems)]
        if not paths:
            raise FileNotFoundError(f"no parquet file under {root} starts with {stems}")
    yield from shard_records(_rows(paths), lambda i, item: verl_record(item[2], f"deepeyes-{item[0]}-{item[1]:06d}",
                                                                        "deepeyes", split),
                             limit=limit, shard=shard, num_shards=num_shards)
