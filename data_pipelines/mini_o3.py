"""Mini-o3's cold-start trajectories -> ``vqa`` SFT records whose crops vlmr's ``zoom_in`` executes.

``vlmr data build mini_o3_coldstart --out data/mini_o3_sft --root Mini-o3-Coldstart-Dataset``

``root`` is the Hub snapshot of ``Mini-o3/Mini-o3-Coldstart-Dataset`` (parquet) or one of its files, read by
:mod:`vlmr.data_pipelines.releases.sharegpt`. Every ``<grounding>`` call is converted by
:func:`vlmr.data_pipelines.trajectories.convert_trajectory`: its box is relative to the original image or to
an earlier observation (the crop of an earlier call: ``observation_i``), with the source's width and height as
1.0 -- the ``norm1`` convention of :mod:`vlmr.formats` -- and becomes a ``zoom_in`` call in original pixels.
Only the original image is kept: the observations are produced again by vlmr's tool during SFT. The record's
answer is the text of the last ``<answer>``; the card counts trajectories mapped, kept as given and dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from vlmr.data_pipelines.build import Built, Skipped, open_image, shard_records
from vlmr.data_pipelines.releases.hub import ImageCell
from vlmr.data_pipelines.releases.parquet import parquet_files, parquet_rows
from vlmr.data_pipelines.releases.rows import MALFORMED
from vlmr.data_pipelines.releases.sharegpt import ShareGptRow, sharegpt_row
from vlmr.data_pipelines.trajectories import StoredCall, convert_trajectory
from vlmr.formats import CoordinateSpace
from vlmr.rewards.parse import split_think_answer

_GROUNDING = re.compile(r"<grounding>(.*?)</grounding>", re.DOTALL)
_OBSERVATION = re.compile(r"observation_(\d+)")


def relative(width: int, height: int) -> CoordinateSpace:
    """Mini-o3's boxes: relative to their source image, whose width and height are 1.0."""
    return CoordinateSpace(width, height, "norm1")


def grounding_calls(text: str) -> list[StoredCall]:
    """The ``<grounding>`` calls of one assistant turn (see the module docstring).

    >>> [(c.box, c.source, c.problem) for c in grounding_calls(
    ...     '<grounding>{"bbox_2d": [0.1, 0.2, 0.5, 0.6], "source": "observation_2"}</grounding>'
    ...     '<grounding>{"bbox_2d": [0, 0, 1, 1], "source": "the sky"}</grounding><grounding>[1, 2</grounding>')]
    [([0.1, 0.2, 0.5, 0.6], 2, None), (None, 0, "tool call source 'the sky' is not original_image or observation_i"), (None, 0, 'tool call arguments are not a JSON object')]
    """
    calls = []
    for m in _GROUNDING.finditer(text):
        try:
            arguments = json.loads(m.group(1))
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            calls.append(StoredCall(m.start(), m.end(), problem="tool call arguments are not a JSON object"))
            continue
        source = str(arguments.get("source", "original_image"))
        observation = _OBSERVATION.fullmatch(source)
        if source != "original_image" and observation is None:
            calls.append(StoredCall(m.start(), m.end(),
                                    problem=f"tool call source {source!r} is not original_image or observation_i"))
            continue
        calls.append(StoredCall(m.start(), m.end(), arguments.get("bbox_2d"),
                                int(observation.group(1)) if observation else 0))
    return calls


def _rows(files: list[Path]) -> Iterator[tuple[str, int, ShareGptRow] | Skipped]:
    for path in files:
        for j, row in enumerate(parquet_rows(path)):
            try:
                yield path.stem, j, sharegpt_row(row)
            except MALFORMED as e:
                yield Skipped.malformed(e)


def coldstart_record(row: ShareGptRow, sid: str, split: str) -> Built | Skipped:
    """The SFT record of one trajectory, or why it cannot be one."""
    if not row.images or not isinstance(row.images[0], bytes):
        return Skipped("prompt without an image")
    turns = row.assistant_turns
    answer = split_think_answer(turns[-1])[1] if turns else None
    if not answer or "<answer>" not in turns[-1]:
        return Skipped("trajectory without a final <answer>")
    image = open_image(row.images[0])
    if isinstance(image, Skipped):
        return image
    converted = convert_trajectory(turns, grounding_calls, relative, image.width, image.height)
    if isinstance(converted, Skipped):
        return converted
    cell = ImageCell(row.images[0])
    name = f"mini_o3/{cell.name}"
    meta = {"width": image.width, "height": image.height, "split": split, "data_source": row.data_source}
    return Built({"id": sid, "task": "vqa", "source": "mini_o3_coldstart", "question": row.question,
                  "images": [f"media/{name}"], "answer": {"text": answer.strip()}, "cot": converted.cot,
                  "meta": meta}, {name: cell.data}, converted.note)


def build_mini_o3_coldstart(
    *,
    root: str,
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One SFT record per cold-start trajectory of the parquet files under ``root``."""
    yield from shard_records(_rows(parquet_files(root)),
                             lambda i, item: coldstart_record(item[2], f"mini_o3-{item[0]}-{item[1]:06d}", split),
                             limit=limit, shard=shard, num_shards=num_shards)
