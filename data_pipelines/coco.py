"""COCO instances (``instances_*.json`` read by ``pycocotools.coco.COCO``) -> detection and
per-category counting records.

``vlmr data build coco --out data/coco --ann-file annotations/instances_val2017.json --image-dir val2017``

Crowd annotations (``iscrowd=1``) are handled as COCO evaluation does: they are never
ground-truth boxes to find, and a category that has a crowd region in an image is not
countable there (its count is unknown), so no counting question is asked about it.
Boxes are converted from COCO ``[x, y, w, h]`` to ``[x1, y1, x2, y2]`` original pixels.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vlmr.data_pipelines.build import Built, Skipped, image_in, open_image, shard_records
from vlmr.data_pipelines.cot import drop_thought, grounded_thought
from vlmr.formats import xywh_to_xyxy


def load_coco(ann_file: str | Path):
    """A ``pycocotools.coco.COCO`` index of ``ann_file`` (its progress prints silenced)."""
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(ann_file))


def build_coco(
    *,
    ann_file: str,
    image_dir: str,
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
    tasks: str = "detection,counting",
    max_count_questions: int = 2,
    cot: bool = False,
    thought_dropout: float = 0.0,
) -> Iterator[Built | Skipped]:
    """Per image: one ``detection`` record (all non-crowd boxes with labels) and up to
    ``max_count_questions`` ``counting`` records ("How many dogs are there?"). ``cot`` adds
    grounded thoughts from the ground truth; ``thought_dropout`` empties that fraction."""
    coco = load_coco(ann_file)
    wanted = {t.strip() for t in tasks.split(",") if t.strip()}
    if not wanted or wanted - {"detection", "counting"}:
        raise ValueError(f"unknown coco tasks {sorted(wanted)}; choose from ['counting', 'detection']")

    def records(i: int, image_id: int) -> Iterator[Built | Skipped]:
        rng = np.random.default_rng([seed, image_id])

        def thought(task, answer, subject):
            return drop_thought(grounded_thought(task, answer, subject), rng, thought_dropout) if cot else None

        info = coco.loadImgs(image_id)[0]
        path = image_in(image_dir, info["file_name"])
        image = path if isinstance(path, Skipped) else open_image(path)
        if isinstance(image, Skipped):
            yield image
            return
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        name = f"coco/{info['file_name']}"
        meta = {"width": image.width, "height": image.height, "split": split, "image_id": image_id}
        base = {"source": "coco", "images": [f"media/{name}"], "meta": meta}
        solid = [a for a in anns if not a.get("iscrowd", 0)]
        crowd_cats = {a["category_id"] for a in anns if a.get("iscrowd", 0)}
        if "detection" in wanted and solid:
            labels = [coco.cats[a["category_id"]]["name"] for a in solid]
            answer = {"boxes": [xywh_to_xyxy(a["bbox"]) for a in solid], "labels": labels}
            yield Built({**base, "id": f"coco-{split}-{image_id}-det", "task": "detection",
                         "question": "Detect every object in the image and label it.", "answer": answer,
                         "cot": thought("detection", answer, "objects")}, {name: path})
        if "counting" in wanted:
            cats = sorted({a["category_id"] for a in solid} - crowd_cats)[:max_count_questions]
            for cat in cats:
                mine = [a for a in solid if a["category_id"] == cat]
                cname = coco.cats[cat]["name"]
                answer = {"count": len(mine), "boxes": [xywh_to_xyxy(a["bbox"]) for a in mine]}
                yield Built({**base, "id": f"coco-{split}-{image_id}-count-{cat}", "task": "counting",
                             "question": f"How many {cname} are there in the image?", "answer": answer,
                             "cot": thought("counting", answer, cname)}, {name: path})

    yield from shard_records(sorted(coco.getImgIds()), records, limit=limit, shard=shard, num_shards=num_shards)
