"""RefCOCO / RefCOCO+ / RefCOCOg -> referring-expression grounding, one record per expression.

``vlmr data build refcoco --out data/refcoco --refs-file refcoco/refs.json
--instances-file refcoco/instances.json --image-dir train2014 --split val``
``vlmr data build refcoco --out data/refcoco --root RefCOCO --split val`` (a Hub copy)

From the release: ``refs(unc).p`` converted to JSON (a list of refs as in the official release:
``ref_id``, ``ann_id``, ``image_id``, ``split``, ``sentences: [{"sent": ...}]``; the pickle itself
vlmr never loads: convert it once with a trusted tool) plus COCO ``instances.json``; boxes come
from the referred instance's COCO ``[x, y, w, h]``, converted to ``[x1, y1, x2, y2]`` pixels.
From a Hub copy of ``lmms-lab/RefCOCO``, ``RefCOCOplus`` or ``RefCOCOg`` (``root``): each row's
``answer`` list holds the expressions (:func:`vlmr.data_pipelines.releases.refcoco.expressions`), each
image is written once under its content name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vlmr.data_pipelines.build import Built, Skipped, image_in, open_image, shard_records
from vlmr.data_pipelines.cot import drop_thought, grounded_thought
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell
from vlmr.data_pipelines.releases.refcoco import expressions
from vlmr.data_pipelines.releases.rows import MALFORMED
from vlmr.formats import xywh_to_xyxy


def build_refcoco(
    *,
    refs_file: str | None = None,
    instances_file: str | None = None,
    image_dir: str | None = None,
    root: str | None = None,
    dataset: str = "refcoco",
    seed: int = 0,
    limit: int | None = None,
    split: str = "val",
    shard: int = 0,
    num_shards: int = 1,
    cot: bool = False,
    thought_dropout: float = 0.0,
) -> Iterator[Built | Skipped]:
    """One ``grounding`` record per referring expression of the refs in ``split`` (of ``root``, a
    Hub copy, or of ``refs_file`` + ``instances_file`` + ``image_dir``). ``cot`` adds a grounded
    thought citing the box, ``thought_dropout`` empties that fraction."""
    if root:
        items = _hub_items(Path(root), split)
    elif refs_file and instances_file and image_dir:
        items = _release_items(Path(refs_file), Path(instances_file), Path(image_dir), split)
    else:
        raise ValueError("give --root (a Hub copy) or --refs-file, --instances-file and --image-dir (the release)")

    def record(i: int, item: tuple) -> Built | Skipped:
        key, text, box, source, file_name = item
        data = source.data if isinstance(source, ImageCell) else source
        image = open_image(data)
        if isinstance(image, Skipped):
            return image
        name = f"{dataset}/{file_name}"
        text = text.strip()
        answer = {"boxes": [box], "labels": [text]}
        thought = None
        if cot:
            rng = np.random.default_rng([seed, i])
            thought = drop_thought(grounded_thought("grounding", answer, f"the {text}"), rng, thought_dropout)
        return Built({
            "id": f"{dataset}-{split}-{key}", "task": "grounding", "source": dataset,
            "question": f"Locate the {text} in the image and output its bounding box.",
            "images": [f"media/{name}"], "answer": answer, "cot": thought,
            "meta": {"width": image.width, "height": image.height, "split": split, "expression": text},
        }, {name: data})

    yield from shard_records(items, record, limit=limit, shard=shard, num_shards=num_shards)


def _release_items(refs_file: Path, instances_file: Path, image_dir: Path, split: str) -> Iterator:
    """``(key, expression, box, image path, file name)`` per sentence of the refs in ``split``."""
    refs = json.loads(refs_file.read_text(encoding="utf-8"))
    instances = json.loads(instances_file.read_text(encoding="utf-8"))
    anns = {a["id"]: a for a in instances["annotations"]}
    images = {im["id"]: im for im in instances["images"]}
    pairs = [(ref, sent) for ref in refs if ref.get("split") == split for sent in ref.get("sentences", [])]
    for i, (ref, sent) in enumerate(pairs):
        try:
            ann, info = anns.get(ref["ann_id"]), images.get(ref["image_id"])
            if ann is None or info is None:
                yield Skipped("ref points at a missing annotation or image")
                continue
            path = image_in(image_dir, info["file_name"])
            if isinstance(path, Skipped):
                yield path
                continue
            text = sent.get("sent") or sent.get("raw", "")
            yield (f"{ref['ref_id']}-{sent.get('sent_id', i)}", text, xywh_to_xyxy(ann["bbox"]), path,
                   info["file_name"])
        except MALFORMED as e:
            yield Skipped.malformed(e)


def _hub_items(root: Path, split: str) -> Iterator:
    """The same items from a Hub copy (lmms-eval's rows: one per referred object, its expressions
    in ``answer``); the image is the row's own, named by its content."""
    copy = HubCopy(root)
    for row in copy.rows(copy.choose_split(split)):
        if not isinstance(row.get("image"), ImageCell):
            yield Skipped("Hub row without image")
            continue
        try:
            found = expressions(row)
        except MALFORMED as e:
            yield Skipped.malformed(e)
            continue
        for k, (text, box) in enumerate(found):
            yield f"{row.get('question_id')}-{k}", str(text), box, row["image"], row["image"].name
