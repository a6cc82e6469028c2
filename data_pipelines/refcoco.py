"""RefCOCO / RefCOCO+ / RefCOCOg (``refs(unc).p`` converted to JSON, or a refs JSON list,
plus COCO ``instances.json``) -> referring-expression grounding, one record per expression.

``vlmr data build refcoco --out data/refcoco --refs-file refcoco/refs.json
--instances-file refcoco/instances.json --image-dir train2014 --split val``

The refs file is a JSON list of refs as in the official release (``ref_id``, ``ann_id``,
``image_id``, ``split``, ``sentences: [{"sent": ...}]``); the official ``refs(unc).p`` is a
pickle, which vlmr never loads: convert it once with a trusted tool. Boxes come from the
referred instance's COCO ``[x, y, w, h]``, converted to ``[x1, y1, x2, y2]`` pixels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vlmr.data_pipelines.build import Built, Skipped
from vlmr.data_pipelines.coco import image_in, open_image, xywh_to_xyxy
from vlmr.data_pipelines.cot import drop_thought, grounded_thought


def build_refcoco(
    *,
    refs_file: str,
    instances_file: str,
    image_dir: str,
    dataset: str = "refcoco",
    seed: int = 0,
    limit: int | None = None,
    split: str = "val",
    shard: int = 0,
    num_shards: int = 1,
    cot: bool = False,
    thought_dropout: float = 0.0,
) -> Iterator[Built | Skipped]:
    """One ``grounding`` record per referring expression of the refs in ``split``; ``cot``
    adds a grounded thought citing the box, ``thought_dropout`` empties that fraction."""
    refs = json.loads(Path(refs_file).read_text(encoding="utf-8"))
    instances = json.loads(Path(instances_file).read_text(encoding="utf-8"))
    anns = {a["id"]: a for a in instances["annotations"]}
    images = {im["id"]: im for im in instances["images"]}
    items = [(ref, sent) for ref in refs if ref.get("split") == split for sent in ref.get("sentences", [])]
    for i, (ref, sent) in enumerate(items[:limit]):
        if i % num_shards != shard:
            continue
        ann, info = anns.get(ref["ann_id"]), images.get(ref["image_id"])
        if ann is None or info is None:
            yield Skipped("ref points at a missing annotation or image")
            continue
        path = image_in(image_dir, info["file_name"])
        image = path if isinstance(path, Skipped) else open_image(path)
        if isinstance(image, Skipped):
            yield image
            continue
        name = f"{dataset}/{info['file_name']}"
        text = sent.get("sent") or sent.get("raw", "")
        sent_id = sent.get("sent_id", i)
        answer = {"boxes": [xywh_to_xyxy(ann["bbox"])], "labels": [text.strip()]}
        thought = None
        if cot:
            rng = np.random.default_rng([seed, i])
            thought = drop_thought(grounded_thought("grounding", answer, f"the {text.strip()}"), rng, thought_dropout)
        yield Built({
            "id": f"{dataset}-{split}-{ref['ref_id']}-{sent_id}", "task": "grounding", "source": dataset,
            "question": f"Locate the {text.strip()} in the image and output its bounding box.",
            "images": [f"media/{name}"], "answer": answer, "cot": thought,
            "meta": {"width": image.width, "height": image.height, "split": split, "ref_id": ref["ref_id"],
                     "expression": text.strip()},
        }, {name: path})
