"""ReasonSeg / LISA (LabelMe-style JSON next to each image) -> reasoning segmentation records.

``vlmr data build reasonseg --out data/reasonseg --root ReasonSeg/val --split val``
``vlmr data build reasonseg --out data/reasonseg --root ReasonSeg_val --split val`` (a Hub copy)

Each ``NAME.jpg`` has a ``NAME.json`` with ``text`` (one or more queries), ``is_sentence``
and ``shapes`` (polygons with a ``label``). The mask is built exactly as LISA's
``get_mask_from_json``: "flag" shapes are skipped, polygons are drawn (outline + fill)
largest area first, a label containing "ignore" paints 255 (an ignore region), any other
label paints 1. The target mask (value 1) is stored as COCO RLE with its tight box; the
ignore region goes to ``meta.ignore_mask`` so metrics can exclude it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vlmr.data_pipelines.build import Built, Skipped, open_image, shard_records
from vlmr.data_pipelines.releases.hub import HubCopy, is_hub_copy
from vlmr.data_pipelines.releases.reasonseg import hub_fields, image_beside, read_labelme
from vlmr.data_pipelines.releases.rows import MALFORMED
from vlmr.masks import IGNORE, lisa_mask, mask_box, mask_to_rle


def question_for(text: str, is_sentence: bool) -> str:
    """LISA's prompt wording: a sentence is asked as is, a short phrase as "What is X ...?"."""
    text = text.strip()
    if is_sentence:
        return f"{text} Please output the segmentation mask."
    return f"What is {text} in this image? Please output the segmentation mask."


def build_reasonseg(
    *,
    root: str,
    seed: int = 0,
    limit: int | None = None,
    split: str = "val",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One ``segmentation`` record per query text of every ``*.json`` under ``root``, or per row
    of a Hub copy (``root`` = the snapshot)."""
    if is_hub_copy(root):
        yield from _build_hub(Path(root), limit, split, shard, num_shards)
        return
    yield from shard_records(sorted(Path(root).glob("*.json")), lambda i, ann_path: _release_records(ann_path, split),
                             limit=limit, shard=shard, num_shards=num_shards)


def _release_records(ann_path: Path, split: str) -> Iterator[Built | Skipped]:
    """The records of one LISA annotation file (one per query text) and its image beside it."""
    try:
        ann = read_labelme(ann_path)
    except (OSError, ValueError):
        yield Skipped("unreadable annotation json")
        return
    image_path = image_beside(ann_path) or ann_path.with_suffix(".jpg")
    image = open_image(image_path)
    if isinstance(image, Skipped):
        yield image
        return
    labels = lisa_mask(ann.get("shapes", []), image.height, image.width)
    target = labels == 1
    if not target.any():
        yield Skipped("no target polygon")
        return
    texts = ann["text"] if isinstance(ann["text"], list) else [ann["text"]]
    name = f"reasonseg/{image_path.name}"
    meta = {"width": image.width, "height": image.height, "split": split,
            "is_sentence": bool(ann.get("is_sentence", False))}
    if (labels == IGNORE).any():
        meta["ignore_mask"] = mask_to_rle(labels == IGNORE)
    answer = {"masks": [mask_to_rle(target)], "boxes": [mask_box(target)]}
    for j, text in enumerate(texts):
        yield Built({"id": f"reasonseg-{split}-{ann_path.stem}-{j}", "task": "segmentation",
                     "source": "reasonseg", "question": question_for(text, meta["is_sentence"]),
                     "images": [f"media/{name}"], "answer": answer, "meta": meta},
                    {name: image_path})


def _build_hub(root: Path, limit: int | None, split: str, shard: int, num_shards: int) -> Iterator[Built | Skipped]:
    """Records of a Seg-Zero ReasonSeg Hub copy (its boolean mask is the target; no ignore region).

    Seg-Zero's copies name their only split ``test`` whatever they hold, so a copy without
    ``split`` is read whole and its records carry the ``split`` asked for. A query ending in "."
    or "?" counts as a sentence (the copies drop ``is_sentence``).
    """
    copy = HubCopy(root)
    rows = copy.rows(split if split in copy.splits else copy.choose_split())
    yield from shard_records(rows, lambda i, row: _hub_record(i, row, split), limit=limit, shard=shard,
                             num_shards=num_shards)


def _hub_record(i: int, row: dict, split: str) -> Built | Skipped:
    """The record of one Hub row (``i``: its index, the id when the row has no ``ann_id``)."""
    try:
        query, cell, target = hub_fields(row)
    except MALFORMED as e:
        return Skipped.malformed(e)
    image = open_image(cell.data) if cell else Skipped("missing image")
    if isinstance(image, Skipped):
        return image
    if target is None or target.shape != (image.height, image.width) or not target.any():
        return Skipped("no target mask of the image's size")
    name = f"reasonseg/{cell.name}"
    is_sentence = query.endswith((".", "?"))
    return Built({"id": f"reasonseg-{split}-{row.get('ann_id') or i}", "task": "segmentation",
                  "source": "reasonseg", "question": question_for(query, is_sentence),
                  "images": [f"media/{name}"], "answer": {"masks": [mask_to_rle(target)], "boxes": [mask_box(target)]},
                  "meta": {"width": image.width, "height": image.height, "split": split,
                           "is_sentence": is_sentence}}, {name: cell.data})
