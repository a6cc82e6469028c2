"""ScanNet scenes as released, for ScanRefer and ScanQA: points and object boxes.

A scene is read from the ScanNet v2 layout ``scans/<scene>/``:

* ``<scene>_vh_clean_2.ply``: the mesh whose vertices are the points (x, y, z, red, green, blue);
* ``<scene>.txt``: ``axisAlignment = m00 ... m33`` (row-major 4x4), applied to the points
  (identity when absent, as for test scenes);
* ``<scene>.aggregation.json`` (or ``<scene>_vh_clean.aggregation.json``): ``segGroups``
  ``[{"objectId", "label", "segments": [...]}]``; ``objectId`` is ScanRefer's ``object_id``
  and ScanQA's ``object_ids``;
* ``<scene>_vh_clean_2.0.010000.segs.json``: ``segIndices``, the segment of every vertex.

An object's box is the axis-aligned box ``[cx, cy, cz, dx, dy, dz]`` of its vertices in the
aligned frame, as ScanRefer's ``load_scannet_data.py`` computes it; when ScanRefer's
preprocessed ``scannet_data/<scene>_aligned_bbox.npy`` is given (rows ``cx, cy, cz, dx, dy,
dz, nyu40 label, objectId``), its boxes are used. A scene in the flat form
``<scene>.ply|.npy`` (points only, no objects) is read too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from vlmr.media.pointcloud import load_points


@dataclass(frozen=True)
class Scene:
    """Points in the aligned frame and the annotated objects ``{objectId: (label, box)}``."""

    path: Path  # the file the points came from
    xyz: np.ndarray  # (N, 3) float32, aligned frame
    rgb: np.ndarray  # (N, 3) uint8
    objects: dict[int, tuple[str, list[float]]] = field(default_factory=dict)
    aligned: bool = False  # the points differ from the file's (axisAlignment applied)


def axis_alignment(meta_file: Path) -> np.ndarray | None:
    """The 4x4 ``axisAlignment`` matrix of a scene's ``<scene>.txt``, or ``None`` when absent.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "scene.txt")
    >>> _ = open(p, "w").write("axisAlignment = 1 0 0 2 0 1 0 0 0 0 1 0 0 0 0 1\\n")
    >>> axis_alignment(Path(p))[0].tolist()
    [1.0, 0.0, 0.0, 2.0]
    """
    if not meta_file.is_file():
        return None
    for line in meta_file.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "axisAlignment":
            return np.array([float(v) for v in value.split()], dtype=np.float64).reshape(4, 4)
    return None


def box_of(points: np.ndarray) -> list[float]:
    """``[cx, cy, cz, dx, dy, dz]`` of the axis-aligned box around ``points`` (N, 3).

    >>> box_of(np.array([[0, 0, 0], [2, 4, 1]]))
    [1.0, 2.0, 0.5, 2.0, 4.0, 1.0]
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    return [round(float(v), 4) for v in (*((lo + hi) / 2), *(hi - lo))]


def _objects(folder: Path, scene_id: str, xyz: np.ndarray) -> dict[int, tuple[str, list[float]]]:
    agg = next((p for p in (folder / f"{scene_id}.aggregation.json", folder / f"{scene_id}_vh_clean.aggregation.json")
                if p.is_file()), None)
    segs_file = folder / f"{scene_id}_vh_clean_2.0.010000.segs.json"
    if agg is None or not segs_file.is_file():
        return {}
    seg_indices = np.asarray(json.loads(segs_file.read_text(encoding="utf-8"))["segIndices"])
    if len(seg_indices) != len(xyz):
        raise ValueError(f"{segs_file.name} has {len(seg_indices)} vertices, the mesh {len(xyz)}")
    objects = {}
    for group in json.loads(agg.read_text(encoding="utf-8"))["segGroups"]:
        inside = np.isin(seg_indices, group["segments"])
        if inside.any():
            objects[int(group["objectId"])] = (str(group["label"]), box_of(xyz[inside]))
    return objects


@lru_cache(maxsize=2)  # annotations come grouped by scene: read each scene once
def read_scene(scene_dir: Path, scene_id: str, bbox_dir: Path | None = None) -> Scene:
    """The scene ``scene_id`` under ``scene_dir`` (ScanNet layout, else the flat form).

    Raises:
        FileNotFoundError: no mesh or point cloud for the scene.
        ValueError: an unreadable or inconsistent file (message names it).
    """
    folder = scene_dir / scene_id
    mesh = folder / f"{scene_id}_vh_clean_2.ply"
    if not mesh.is_file():
        flat = next((scene_dir / f"{scene_id}{ext}" for ext in (".ply", ".npy") if (scene_dir / f"{scene_id}{ext}").is_file()),
                    None)
        if flat is None:
            raise FileNotFoundError(f"no {mesh} (ScanNet layout) nor {scene_dir / scene_id}.ply|.npy")
        return Scene(flat, *load_points(flat))
    xyz, rgb = load_points(mesh)
    matrix = axis_alignment(folder / f"{scene_id}.txt")
    if matrix is not None:
        xyz = (xyz.astype(np.float64) @ matrix[:3, :3].T + matrix[:3, 3]).astype(np.float32)
    try:
        objects = _objects(folder, scene_id, xyz)
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"bad aggregation/segments file for {scene_id}: {e}") from e
    bbox_file = bbox_dir / f"{scene_id}_aligned_bbox.npy" if bbox_dir else None
    if bbox_file is not None and bbox_file.is_file():
        rows = np.load(bbox_file, allow_pickle=False)  # (K, 8): cx cy cz dx dy dz label objectId
        for row in rows:
            label = objects.get(int(row[7]), ("object", []))[0]
            objects[int(row[7])] = (label, [round(float(v), 4) for v in row[:6]])
    return Scene(mesh, xyz, rgb, objects, aligned=matrix is not None)
