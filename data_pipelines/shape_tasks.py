"""The ``shapes`` source: synthetic scenes turned into grounding, pointing, counting,
segmentation, spatial-relation ("left of", "largest") and zoom-requiring questions, with
exact answers and chain-of-thought whose boxes are written as ``{"bbox_2d": [...]}`` in
original pixels (the trainer converts them to the model's frame).

``vlmr data build shapes --out data/shapes --limit 1000 --tasks grounding,counting,zoom``

Task ``zoom`` (record task ``vqa``) asks the colour of a shape a few pixels wide at a named
place ("at the top left"), too small to read at the model's input resolution; its SFT
trajectory calls ``zoom_in`` on that ninth of the image (no other shape inside), then
answers. All coordinates are original pixels.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterator

import numpy as np

from vlmr.data_pipelines.build import Built, shard_records
from vlmr.data_pipelines.cot import zoom_trajectory
from vlmr.data_pipelines.shapes import (
    COLORS,
    SHAPES,
    ObjectSpec,
    ShapeObject,
    ShapeScene,
    make_scene,
    random_specs,
)
from vlmr.masks import mask_to_rle

TASKS = ("grounding", "pointing", "counting", "segmentation", "spatial", "color", "detection", "zoom")
MAX_REDRAWS = 8
ZOOM_WINDOW = 40  # smallest side of a zoom region (px); above the tools' 28 px minimum
ZOOM_MARGIN = 6  # px a zoom region extends past its 3x3 cell, so a tiny shape near the border fits


def default_object_sizes(width: int) -> tuple[int, int]:
    """The object size range (px) of ordinary scenes ``width`` px wide: a tenth to a quarter of the width."""
    return max(10, width // 10), max(14, width // 4)


def _cell(obj: ShapeObject, scene: ShapeScene) -> tuple[int, int]:
    """(row, column) of the 3x3 cell that holds ``obj``'s centre."""
    cx, cy = obj.center
    return min(2, int(3 * cy / scene.height)), min(2, int(3 * cx / scene.width))


def _where(obj: ShapeObject, scene: ShapeScene) -> str:
    """Coarse position words, e.g. ``"top left"``."""
    row, col = _cell(obj, scene)
    return f"{('top', 'middle', 'bottom')[row]} {('left', 'center', 'right')[col]}"


def _unique_target(scene: ShapeScene, rng: np.random.Generator) -> ShapeObject | None:
    unique = [o for o in scene.objects if len(scene.find(o.label)) == 1]
    return unique[int(rng.integers(len(unique)))] if unique else None


def _box_json(obj: ShapeObject) -> str:
    """A grounded mention in the answer format (original pixels; the trainer converts them)."""
    return json.dumps({"bbox_2d": [int(v) for v in obj.box], "label": obj.label})


def _spatial_question(scene: ShapeScene, rng: np.random.Generator):
    """"Which shape is the largest?" or "Is the A left of the B?" (only when clear-cut)."""
    named = [o for o in scene.objects if len(scene.find(o.label)) == 1]
    if len(named) < 2:
        return None
    if rng.random() < 0.5:
        ranked = sorted(named, key=lambda o: o.area, reverse=True)
        if ranked[0].area < 1.3 * ranked[1].area:  # too close to call by eye
            return None
        thought = "; ".join(f"{o.label} at {_box_json(o)}, {o.area} px" for o in ranked[:3])
        return "vqa", "Which named shape is the largest? Answer with its colour and shape.", \
            {"text": ranked[0].label}, f"{thought}. The largest is the {ranked[0].label}."
    a, b = (named[int(i)] for i in rng.choice(len(named), size=2, replace=False))
    if a.box[2] < b.box[0]:
        verdict = "yes"
    elif a.box[0] > b.box[2]:
        verdict = "no"
    else:  # their x ranges overlap: "left of" would be ambiguous
        return None
    thought = (f"The {a.label} is at {_box_json(a)} and the {b.label} is at {_box_json(b)}; "
               f"the {a.label} is {'left' if verdict == 'yes' else 'right'} of the {b.label}.")
    return "vqa", f"Is the {a.label} to the left of the {b.label}? Answer yes or no.", {"text": verdict}, thought


def _color_question(scene: ShapeScene, rng: np.random.Generator):
    """"What color is the circle?" about a shape whose kind no other object in the scene has."""
    unique = [o for o in scene.objects if sum(p.shape == o.shape for p in scene.objects) == 1]
    if not unique:
        return None
    target = unique[int(rng.integers(len(unique)))]
    thought = f"The {target.shape} is at the {_where(target, scene)}: {_box_json(target)}."
    return "vqa", f"What color is the {target.shape}?", {"text": target.color}, thought


def _detection_question(scene: ShapeScene, rng: np.random.Generator):
    """"Find every shape.": all objects with their labels, in reading order (rows of the 3x3 grid, then x)."""
    if not scene.objects:
        return None
    ordered = sorted(scene.objects, key=lambda o: (_cell(o, scene)[0], o.box[0]))
    answer = {"boxes": [[float(v) for v in o.box] for o in ordered], "labels": [o.label for o in ordered]}
    n = len(ordered)
    return "detection", "Find every shape.", answer, f"There {'is 1 shape' if n == 1 else f'are {n} shapes'}."


def _record(idx: str, task: str, question: str, scene_name: str, scene: ShapeScene, answer: dict,
            cot, split: str, extra_meta: dict | None = None) -> dict:
    return {
        "id": idx, "task": task, "source": "shapes", "question": question, "images": [f"media/{scene_name}"],
        "answer": answer, "cot": cot,
        "meta": {"width": scene.width, "height": scene.height, "split": split, **(extra_meta or {})},
    }


def _object_question(task: str, scene: ShapeScene, rng: np.random.Generator):
    target = _unique_target(scene, rng)
    if target is None:
        return None
    box, point = [float(v) for v in target.box], [round(v, 1) for v in target.center]
    located = json.dumps({"point_2d": point}) if task == "pointing" else _box_json(target)
    thought = f"The {target.label} is at the {_where(target, scene)}: {located}."
    if task == "grounding":
        return "grounding", f"Find the {target.label}.", {"boxes": [box], "labels": [target.label]}, thought
    if task == "pointing":
        return "pointing", f"Point to the {target.label}.", {"points": [point]}, thought
    answer = {"boxes": [box], "points": [point], "masks": [mask_to_rle(target.mask)], "labels": [target.label]}
    return "segmentation", f"Segment the {target.label}.", answer, thought


def _counting_scene(seed: int, rng: np.random.Generator, width: int, height: int, objects: tuple[int, int],
                    sizes: tuple[int, int]):
    """A scene and a "how many" question whose answer is drawn uniformly from 1..4 (capped by the
    object range), so that always answering "1" does not pass for counting."""
    by_shape = rng.random() < 0.5
    values = SHAPES if by_shape else tuple(COLORS)
    value = str(rng.choice(values))
    k = int(rng.integers(1, max(1, min(4, objects[1])) + 1))
    others = [v for v in values if v != value]
    n_other = int(rng.integers(max(0, objects[0] - k), max(0, objects[1] - k) + 1))
    specs = random_specs(rng, k + n_other, *sizes)
    picked = [value] * k + [str(rng.choice(others)) for _ in range(n_other)]
    specs = [ObjectSpec(v if by_shape else s.shape, s.color if by_shape else v, s.size)
             for s, v in zip(specs, picked, strict=True)]
    scene = make_scene(seed, width, height, specs=[specs[i] for i in rng.permutation(len(specs))])
    matches = [o for o in scene.objects if (o.shape if by_shape else o.color) == value]
    if not matches:  # every target was dropped for lack of room
        return None
    question = f"How many {value}s are there?" if by_shape else f"How many {value} shapes are there?"
    thought = "; ".join(f"{o.label} at {_box_json(o)}" for o in matches) + f". That is {len(matches)}, so the answer is {len(matches)}."
    return scene, ("counting", question, {"count": len(matches)}, thought)


def _scene_question(kind: str, seed: int, rng: np.random.Generator, width: int, height: int,
                    objects: tuple[int, int], sizes: tuple[int, int]):
    """A scene and its ``(task, question, answer, thought)`` for a non-zoom task, or None if ambiguous."""
    if kind == "counting":
        return _counting_scene(seed, rng, width, height, objects, sizes)
    scene = make_scene(seed, width, height, n_objects=objects, min_size=sizes[0], max_size=sizes[1])
    ask = {"spatial": _spatial_question, "color": _color_question, "detection": _detection_question}.get(kind)
    made = ask(scene, rng) if ask else _object_question(kind, scene, rng)
    return (scene, made) if made is not None else None


def _cell_region(obj: ShapeObject, scene: ShapeScene) -> list[int]:
    """The zoom region of the 3x3 cell (the one :func:`_where` names) that holds ``obj``'s centre: the
    cell grown by a margin so the whole object fits, clamped to the image. Pixels, xyxy."""
    row, col = _cell(obj, scene)
    side = min(max(ZOOM_WINDOW, math.ceil(max(scene.width, scene.height) / 3) + 2 * ZOOM_MARGIN),
               scene.width, scene.height)
    x1 = min(max(0.0, (col + 0.5) * scene.width / 3 - side / 2), scene.width - side)
    y1 = min(max(0.0, (row + 0.5) * scene.height / 3 - side / 2), scene.height - side)
    return [round(x1), round(y1), round(x1) + side, round(y1) + side]


def _zoom_scene(seed: int, rng: np.random.Generator, width: int, height: int):
    """A scene whose first object is tiny (5-7 px up to 112 px wide, about a fortieth of the width above),
    the zoom region of its cell, and no other object inside that region (redrawn until so), so the zoomed
    view answers the question."""
    tiny = ObjectSpec(str(rng.choice(("circle", "square"))), str(rng.choice(("red", "green", "blue", "yellow"))),
                      int(rng.integers(max(5, width // 56), max(7, width // 37) + 1)))
    specs = [tiny, *random_specs(rng, int(rng.integers(2, 5)), max(12, width // 8), max(16, width // 4))]
    for _ in range(MAX_REDRAWS):
        scene = make_scene(seed, width, height, specs=specs)
        target, region = scene.objects[0], _cell_region(scene.objects[0], scene)
        x1, y1, x2, y2 = region
        if not any(o.box[0] < x2 and x1 < o.box[2] and o.box[1] < y2 and y1 < o.box[3] for o in scene.objects[1:]):
            break
        seed = int(rng.integers(2**31))
    return scene, target, region


def _zoom_question(scene: ShapeScene, target: ShapeObject, region: list[int], trajectories: bool):
    """"What color is the small shape at the top left?": the place is named, the colour needs a zoom."""
    where = _where(target, scene)
    question = f"What color is the small shape at the {where}?"
    answer = {"text": target.color}
    meta = {"target_box": target.box, "zoom_region": region}
    if not trajectories:
        return "vqa", question, answer, f"The small shape is at {json.dumps({'bbox_2d': target.box})}.", meta
    cot = zoom_trajectory(region, f"The small shape at the {where} is too small to read.", target.color)
    return "vqa", question, answer, cot, meta


def build_shapes(
    *,
    seed: int = 0,
    limit: int | None = 1000,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
    tasks: str = "grounding,counting,zoom",
    width: int = 224,
    height: int = 224,
    min_objects: int = 2,
    max_objects: int = 6,
    min_size: int | None = None,
    max_size: int | None = None,
    cot: bool = True,
    trajectories: bool = True,
    thought_dropout: float = 0.0,
) -> Iterator[Built]:
    """Synthetic shape scenes with exact answers: grounding, pointing, counting, segmentation, spatial,
    color, detection and zoom questions.

    ``limit`` samples cycle through ``tasks`` (comma-separated, from those). ``cot`` adds grounded thoughts;
    ``trajectories`` makes zoom samples multi-turn ``zoom_in`` trajectories; ``thought_dropout``
    empties that fraction of thoughts (TON-style). ``min_size``/``max_size`` set the object
    size range in pixels (default: a tenth to a quarter of the width; small sizes make
    distractors that need zooming)."""
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    unknown = sorted(set(names) - set(TASKS))
    if unknown or not names:
        raise ValueError(f"unknown shape tasks {unknown or names}; choose from {list(TASKS)}")
    def make(i: int, _) -> tuple[Built, ...]:
        rng = np.random.default_rng([seed, zlib.crc32(split.encode()), i])  # splits never share samples
        scene_seed = int(rng.integers(2**31))
        kind = names[i % len(names)]
        meta = None
        if kind == "zoom":
            scene, target, region = _zoom_scene(scene_seed, rng, width, height)
            task, question, answer, thought, meta = _zoom_question(scene, target, region, trajectories and cot)
        else:
            default_min, default_max = default_object_sizes(width)
            sizes = (min_size or default_min, max_size or default_max)
            for _ in range(MAX_REDRAWS):  # redraw scenes where the question would be ambiguous
                drawn = _scene_question(kind, scene_seed, rng, width, height, (min_objects, max_objects), sizes)
                if drawn is not None:
                    break
                scene_seed = int(rng.integers(2**31))
            if drawn is None:
                return ()  # no unambiguous question after every redraw: this index has no sample
            scene, (task, question, answer, thought) = drawn
        if not cot or (isinstance(thought, str) and rng.random() < thought_dropout):
            thought = "" if cot else None
        name = f"{split}-{i:06d}.png"
        return (Built(_record(f"shapes-{split}-{i:06d}", task, question, name, scene, answer, thought, split, meta),
                      {name: scene.image}),)

    indices = range(limit if limit is not None else 1000)
    yield from shard_records(indices, make, limit=None, shard=shard, num_shards=num_shards)
