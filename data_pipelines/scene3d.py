"""3D scene sources: synthetic rooms, ScanRefer grounding and ScanQA QA over ScanNet scans.

Scenes are point clouds (PLY or ``.npy``) with axis-aligned object boxes
``[cx, cy, cz, dx, dy, dz]`` (z up). Each record carries rendered views (chosen by
:func:`select_views`: most visible target pixels, so least occluded) with the target's
3D box projected into the first view as a 2D box.

``vlmr data build scene3d_synthetic --out data/rooms --limit 300 --views 2``
``vlmr data build scanrefer --out data/scanrefer --annotations ScanRefer_filtered_val.json --scene_dir scans``
``vlmr data build scanqa --out data/scanqa --annotations ScanQA_v1.0_val.json --scene_dir scans``
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vlmr.data_pipelines.build import Built, Skipped, annotation_rows, shard_records, split_of_file
from vlmr.data_pipelines.scannet import Scene, box_of, read_scene
from vlmr.media.image import open_rgb
from vlmr.media.pointcloud import (
    load_points,
    orbit_camera,
    points_in_box,
    project_box_3d,
    rasterize,
    render_view,
)
from vlmr.schema import Sample, resolve_media

FURNITURE = {  # label: (size range min, max) in metres, colour
    "table": ((0.8, 0.6, 0.7), (1.6, 1.0, 0.8), (150, 100, 50)),
    "chair": ((0.4, 0.4, 0.8), (0.5, 0.5, 1.0), (200, 40, 40)),
    "bed": ((1.4, 1.9, 0.4), (1.8, 2.1, 0.6), (60, 90, 200)),
    "cabinet": ((0.5, 0.4, 1.2), (1.0, 0.6, 1.8), (90, 160, 90)),
}
VIEW_GRID = [(float(az), 40.0) for az in range(0, 360, 45)]  # candidate orbit views (degrees)
IMAGE_SIZE = 384


def _box_surface(rng: np.random.Generator, box: list[float], n: int) -> np.ndarray:
    """``n`` points on the faces of an axis-aligned box."""
    c, size = np.asarray(box[:3]), np.asarray(box[3:])
    pts = rng.uniform(-0.5, 0.5, (n, 3))
    face_axis = rng.integers(0, 3, n)
    pts[np.arange(n), face_axis] = rng.choice([-0.5, 0.5], n)
    return c + pts * size


def make_room(rng: np.random.Generator, max_objects: int = 6) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """A room floor with non-overlapping furniture boxes; returns (xyz, rgb, objects)."""
    room = rng.uniform([4.0, 4.0], [6.0, 6.0])
    objects: list[dict] = []
    for _ in range(40):
        if len(objects) >= max_objects:
            break
        label = list(FURNITURE)[int(rng.integers(len(FURNITURE)))]
        lo, hi, _ = FURNITURE[label]
        size = rng.uniform(lo, hi)
        centre = np.append(rng.uniform(size[:2] / 2 + 0.1, room - size[:2] / 2 - 0.1), size[2] / 2)
        box = [round(float(v), 3) for v in (*centre, *size)]
        if all(max(abs(box[k] - o["box_3d"][k]) - (box[k + 3] + o["box_3d"][k + 3]) / 2 for k in (0, 1)) > 0.1
               for o in objects):
            objects.append({"object_id": len(objects), "label": label, "box_3d": box})
    parts = [np.column_stack([rng.uniform(0, room[0], 6000), rng.uniform(0, room[1], 6000), np.zeros(6000)])]
    colours = [np.tile([200, 200, 190], (6000, 1))]
    for obj in objects:
        n = int(1500 * np.prod(obj["box_3d"][3:]) ** (1 / 3))
        parts.append(_box_surface(rng, obj["box_3d"], n))
        colours.append(np.tile(FURNITURE[obj["label"]][2], (n, 1)) + rng.integers(-15, 15, (n, 3)))
    return (np.concatenate(parts).astype(np.float32), np.clip(np.concatenate(colours), 0, 255).astype(np.uint8),
            objects)


def view_distance(xyz: np.ndarray) -> float:
    """Camera distance that fits the whole scene in a 60 degree field of view."""
    return float(np.linalg.norm(np.ptp(xyz, axis=0)) * 1.0)


def select_views(xyz: np.ndarray, box_3d, k: int = 2, views=None) -> list[dict]:
    """The ``k`` views (from ``views``, default an azimuth/elevation grid) showing the target box best.

    Score = rendered pixels whose nearest point lies in the target box (visible projected area;
    occluded points lose their pixels to nearer ones). Each result: ``{"azimuth", "elevation",
    "distance", "visible_px", "visible_fraction"}`` (fraction of the projected box that is visible).
    """
    distance, inside = view_distance(xyz), points_in_box(xyz, box_3d)
    target = (xyz.min(axis=0) + xyz.max(axis=0)) / 2
    scored = []
    for az, el in views or VIEW_GRID:
        cam = orbit_camera(target, az, el, distance, IMAGE_SIZE, IMAGE_SIZE)
        index = rasterize(xyz, cam)
        visible = int(inside[index[index >= 0]].sum())
        box2d = project_box_3d(box_3d, cam)
        area = (box2d[2] - box2d[0]) * (box2d[3] - box2d[1]) if box2d else 0.0
        scored.append({"azimuth": az, "elevation": el, "distance": round(distance, 3), "visible_px": visible,
                       "visible_fraction": round(visible / area, 3) if area else 0.0})
    scored.sort(key=lambda v: -v["visible_px"])
    return [v for v in scored[:k] if v["visible_px"] > 0]


def _npy_bytes(xyz: np.ndarray, rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.column_stack([xyz, rgb.astype(np.float32)]).astype(np.float32), allow_pickle=False)
    return buffer.getvalue()


def _views_media(xyz, rgb, box_3d, stem: str, k: int) -> tuple[list[str], dict, list[dict], list[float] | None]:
    views = select_views(xyz, box_3d, k)
    images, media, box2d = [], {}, None
    for j, view in enumerate(views):
        image, cam = render_view(xyz, rgb, view["azimuth"], view["elevation"], view["distance"],
                                 IMAGE_SIZE, IMAGE_SIZE)
        view["camera"] = cam.to_dict()
        media[f"{stem}_view{j}.png"] = image
        images.append(f"media/{stem}_view{j}.png")
        if j == 0:
            box2d = project_box_3d(box_3d, cam)
    return images, media, views, box2d


def _relation_question(objects: list[dict], rng: np.random.Generator) -> tuple[str, str] | None:
    """'Which is closer to A: B or C?' with a clear (>= 0.3 m) margin between the two distances."""
    if len(objects) < 3:
        return None
    a, b, c = (objects[i] for i in rng.permutation(len(objects))[:3])
    if len({a["label"], b["label"], c["label"]}) < 3:
        return None
    dist = {o["label"]: float(np.linalg.norm(np.subtract(o["box_3d"][:3], a["box_3d"][:3]))) for o in (b, c)}
    if abs(dist[b["label"]] - dist[c["label"]]) < 0.3:
        return None
    return f"Which is closer to the {a['label']}: the {b['label']} or the {c['label']}?", min(dist, key=dist.get)


def build_scene3d_synthetic(*, seed: int = 0, limit: int | None = None, split: str = "train", shard: int = 0,
                            num_shards: int = 1, views: int = 2) -> Iterator[Built | Skipped]:
    """Synthetic rooms: 3D grounding of a unique object, counting a class, spatial relations; exact answers.

    ``vlmr data build scene3d_synthetic --out data/rooms --limit 300 --views 2``
    """
    yield from shard_records(itertools.count(), lambda i, _: _room(i, seed, split, views),
                             limit=300 if limit is None else limit, shard=shard, num_shards=num_shards)


def _room(i: int, seed: int, split: str, views: int) -> Built:
    """Synthetic room ``i``: its point cloud, rendered views and one question."""
    rng = np.random.default_rng([seed, i])
    xyz, rgb, objects = make_room(rng)
    stem = f"room-{split}-{i:06d}"
    labels = [o["label"] for o in objects]
    unique = [o for o in objects if labels.count(o["label"]) == 1]
    target = unique[int(rng.integers(len(unique)))] if unique else objects[0]
    images, media, chosen, box2d = _views_media(xyz, rgb, target["box_3d"], stem, views)
    media[f"{stem}.npy"] = _npy_bytes(xyz, rgb)
    record = {"id": stem, "source": "scene3d_synthetic", "images": images,
              "scene": {"path": f"media/{stem}.npy", "views": chosen},
              "meta": {"split": split, "objects": objects, "width": IMAGE_SIZE, "height": IMAGE_SIZE}}
    relation = _relation_question(objects, rng) if i % 3 == 2 else None
    if i % 3 == 0 and unique and box2d:
        record |= {"task": "scene3d_grounding", "question": f"Find the {target['label']} in this room.",
                   "answer": {"boxes_3d": [target["box_3d"]], "boxes": [box2d], "labels": [target["label"]]}}
    elif relation:
        record |= {"task": "scene3d_qa", "question": relation[0], "answer": {"text": relation[1]}}
    else:
        label = labels[int(rng.integers(len(labels)))]
        record |= {"task": "counting", "question": f"How many {label}s are in this room?",
                   "answer": {"count": labels.count(label)}}
    return Built(record, media)


def _scene_of(row: dict, scene_dir: str, bbox_dir: str | None) -> Scene | Skipped:
    """The ScanNet scene a ScanRefer/ScanQA row is about, or why it cannot be read."""
    if not (isinstance(row.get("scene_id"), str) and row["scene_id"]):
        return Skipped("row without scene_id")
    try:
        return read_scene(Path(scene_dir), row["scene_id"], Path(bbox_dir) if bbox_dir else None)
    except FileNotFoundError:
        return Skipped("scene file missing")
    except ValueError:
        return Skipped("corrupted point cloud or annotation files")


def _scene_media(scene: Scene, stem_id: str) -> tuple[str, bytes | Path]:
    """The scene file a record points to: the original file, or the aligned points as ``.npy``."""
    if scene.aligned:
        return f"{stem_id}_aligned.npy", _npy_bytes(scene.xyz, scene.rgb)
    return f"{stem_id}{scene.path.suffix}", scene.path


def build_scanrefer(*, annotations: str, scene_dir: str, bbox_dir: str | None = None, seed: int = 0,
                    limit: int | None = None, split: str | None = None, shard: int = 0, num_shards: int = 1,
                    views: int = 2) -> Iterator[Built | Skipped]:
    """ScanRefer 3D grounding as released, over ScanNet scans, the box also projected into the best view.

    Rows ``scene_id, object_id, object_name, ann_id, description, token``; scans
    ``scene_dir/<scene>/<scene>_vh_clean_2.ply`` + aggregation + segments (see
    :mod:`vlmr.data_pipelines.scannet`); the box comes from the object's points (or from
    ScanRefer's ``<scene>_aligned_bbox.npy`` in ``bbox_dir``).

    The split comes from the file name (``ScanRefer_filtered_val.json`` -> val). A row whose
    scene or object is missing is skipped and counted.

    ``vlmr data build scanrefer --out data/scanrefer --annotations ScanRefer_filtered_val.json --scene_dir scans``
    """
    split = split_of_file(annotations, ("train", "val", "test"), split, "val")

    def record(i: int, item: dict) -> Built | Skipped:
        scene = _scene_of(item, scene_dir, bbox_dir)
        if isinstance(scene, Skipped):
            return scene
        try:
            object_id, name, description = int(item["object_id"]), str(item["object_name"]), str(item["description"])
        except (KeyError, TypeError, ValueError):
            return Skipped("row without object_id, object_name or description")
        box = [float(v) for v in item["box_3d"]] if item.get("box_3d") else scene.objects.get(object_id, ("", None))[1]
        if not box:
            return Skipped("object_id not in the scene's aggregation")
        stem = f"scanrefer-{split}-{i:06d}"
        images, media, chosen, box2d = _views_media(scene.xyz, scene.rgb, box, stem, views)
        if not box2d:
            return Skipped("target not visible in any view")
        scene_name, scene_file = _scene_media(scene, item["scene_id"])
        media[scene_name] = scene_file
        name = name.replace("_", " ")
        return Built({"id": stem, "task": "scene3d_grounding", "source": "scanrefer", "images": images,
                      "question": f"{description.strip()} Find this {name}.",
                      "scene": {"path": f"media/{scene_name}", "views": chosen},
                      "answer": {"boxes_3d": [box], "boxes": [box2d], "labels": [name]},
                      "meta": {"split": split, "scene_id": item["scene_id"], "object_id": object_id,
                               "ann_id": item.get("ann_id"), "width": IMAGE_SIZE, "height": IMAGE_SIZE}}, media)

    yield from shard_records(annotation_rows(annotations), record, limit=limit, shard=shard, num_shards=num_shards)


def build_scanqa(*, annotations: str, scene_dir: str, bbox_dir: str | None = None, seed: int = 0,
                 limit: int | None = None, split: str | None = None, shard: int = 0, num_shards: int = 1,
                 views: int = 2) -> Iterator[Built | Skipped]:
    """ScanQA open 3D question answering as released, over ScanNet scans, in views that show the objects.

    Rows ``scene_id, object_ids, object_names, question_id, question, answers``; the views are chosen
    to show the objects asked about.

    Every reference answer is kept (``meta.answers``; ``answer.text`` is the first) and scored
    by the ``scene3d`` benchmark. The split comes from the file name (``ScanQA_v1.0_val.json``
    -> val, ``..._test_w_obj.json`` -> test_w_obj). The test files carry no answers: their rows
    are skipped and counted (nothing to train on or score against), as is any bad row.

    ``vlmr data build scanqa --out data/scanqa --annotations ScanQA_v1.0_val.json --scene_dir scans``
    """
    split = split_of_file(annotations, ("train", "val", "test_w_obj", "test_wo_obj"), split, "val")

    def record(i: int, item: dict) -> Built | Skipped:
        scene = _scene_of(item, scene_dir, bbox_dir)
        if isinstance(scene, Skipped):
            return scene
        answers = [str(a) for a in item.get("answers") or [] if str(a).strip()]
        if not answers:
            return Skipped("no answers (ScanQA's test files carry none)")
        if not isinstance(item.get("question"), str):
            return Skipped("row without question")
        boxes = [scene.objects[o][1] for o in item.get("object_ids") or [] if isinstance(o, int) and o in scene.objects]
        focus = boxes or item.get("boxes_3d") or [box_of(scene.xyz)]
        stem = f"scanqa-{split}-{i:06d}"
        images, media, chosen, _ = _views_media(scene.xyz, scene.rgb, [float(v) for v in focus[0]], stem, views)
        scene_name, scene_file = _scene_media(scene, item["scene_id"])
        media[scene_name] = scene_file
        return Built({"id": str(item.get("question_id") or stem), "task": "scene3d_qa", "source": "scanqa",
                      "question": item["question"], "images": images,
                      "scene": {"path": f"media/{scene_name}", "views": chosen},
                      "answer": {"text": answers[0]},
                      "meta": {"split": split, "scene_id": item["scene_id"], "answers": answers,
                               "object_ids": item.get("object_ids"), "width": IMAGE_SIZE, "height": IMAGE_SIZE}},
                     media)

    yield from shard_records(annotation_rows(annotations), record, limit=limit, shard=shard, num_shards=num_shards)


def preview(sample: Sample, root: str | Path) -> Image.Image:
    """The first rendered view with the answer's projected 2D boxes (or a fresh render of the scene)."""
    if sample.images:
        image = open_rgb(resolve_media(root, sample.images[0]))
    else:
        xyz, rgb = load_points(resolve_media(root, sample.scene["path"]))
        image, _ = render_view(xyz, rgb, 45.0, 45.0, view_distance(xyz), IMAGE_SIZE, IMAGE_SIZE)
    draw = ImageDraw.Draw(image)
    for box in sample.answer.get("boxes", []):
        draw.rectangle(box, outline=(255, 0, 255), width=2)
    return image
