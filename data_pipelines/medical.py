"""Medical sources: synthetic CT phantoms, real DICOM/NIfTI scans with masks, VQA-RAD/SLAKE JSON.

Scans are written as NIfTI (RAS, Hounsfield units, empty header description), so no DICOM
patient tag reaches a built dataset; with ``--keep_dicom true`` DICOM scans are copied de-identified by
DICOM PS3.15's Basic Application Level Confidentiality Profile (:mod:`vlmr.media.deid`). Records are named
by a keyed hash of the scan, never its file name. Slices are windowed PNGs, and lesion boxes come
from the mask slice shown (pixels of that PNG).

``vlmr data build medical_phantom --out data/phantom --limit 200 --window lung``
``vlmr data build medical_scans --out data/ct --scans scans/ --masks masks/ --window soft_tissue``
``vlmr data build vqa_rad --out data/vqarad --annotations "VQA_RAD Dataset Public.json" --image_dir "VQA_RAD Image Folder"``
"""

from __future__ import annotations

import hashlib
import io
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vlmr.data_pipelines.build import Built, Skipped, image_in, open_image, shard_records
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, is_hub_copy
from vlmr.data_pipelines.releases.medical import answer_type, row_split
from vlmr.data_pipelines.releases.rows import MALFORMED, read_rows
from vlmr.masks import checked_mask, mask_to_rle
from vlmr.media.deid import Deidentifier
from vlmr.media.image import open_rgb
from vlmr.media.volume import Volume, foreground_slices, load_volume, mask_boxes, orient_slice
from vlmr.render import tint
from vlmr.schema import Sample, resolve_media

# Phantom tissue values in HU.
AIR, SOFT_TISSUE, LUNG, BONE, LESION = -1000.0, 40.0, -850.0, 700.0, 30.0


def make_phantom(rng: np.random.Generator, shape: tuple[int, int, int] = (96, 96, 24),
                 max_lesions: int = 3) -> tuple[Volume, np.ndarray]:
    """A chest-like CT phantom (RAS, 1 mm voxels) and its lesion label map (0 background, k lesion k).

    Body ellipse of soft tissue, two lung ellipses, a bone disc (spine), and 0..``max_lesions``
    spherical soft-tissue lesions inside the lungs, all with the HU values above.
    """
    nx, ny, nz = shape
    x, y = np.meshgrid(np.arange(nx) - nx / 2, np.arange(ny) - ny / 2, indexing="ij")  # (X, Y)
    body = (x / (0.45 * nx)) ** 2 + (y / (0.35 * ny)) ** 2 <= 1
    lungs = [((x - s * 0.2 * nx) / (0.15 * nx)) ** 2 + (y / (0.22 * ny)) ** 2 <= 1 for s in (-1, 1)]
    spine = (x**2 + (y + 0.25 * ny) ** 2) <= (0.06 * nx) ** 2
    plane = np.where(body, SOFT_TISSUE, AIR)
    plane[lungs[0] | lungs[1]] = LUNG
    plane[spine] = BONE
    data = np.repeat(plane[:, :, None], nz, axis=2).astype(np.float32)
    data += rng.normal(0, 8, data.shape).astype(np.float32)  # scanner noise
    labels = np.zeros(shape, np.int16)
    zz = np.arange(nz)[None, None, :]
    for k in range(1, int(rng.integers(0, max_lesions + 1)) + 1):
        lung = lungs[k % 2]
        candidates = np.argwhere(lung)
        for _ in range(20):  # a centre whose sphere stays inside the lung and clear of other lesions
            cx, cy = candidates[int(rng.integers(len(candidates)))]
            cz, r = int(rng.integers(4, nz - 4)), float(rng.uniform(2.5, 4.5))
            sphere = ((x - x[cx, cy])[..., None] ** 2 + (y - y[cx, cy])[..., None] ** 2 + (zz - cz) ** 2) <= r**2
            if (lung[..., None] | ~sphere).all() and not labels[_dilate(sphere)].any():
                labels[sphere] = k
                data[sphere] = LESION + rng.normal(0, 8, int(sphere.sum()))
                break
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    return Volume(data=data, affine=affine, modality="CT", path="phantom"), labels


def _dilate(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_dilation(mask, iterations=2)


def _nifti_bytes(volume: Volume) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.nii.gz"
        volume.to_nifti(path)
        return path.read_bytes()


def window_spec(window: str) -> str | tuple[float, float]:
    """A preset name (``lung``) or ``"level,width"`` in HU (``"40,400"``) as accepted by ``Volume.slice``.

    >>> window_spec("-600,1500")
    (-600.0, 1500.0)
    """
    if "," not in window:
        return window
    level, width = (float(v) for v in window.split(","))
    return level, width


def _slice_samples(volume: Volume, labels: np.ndarray, stem: str, source: str, split: str, window: str,
                   axis: str, rng: np.random.Generator) -> Built:
    """One grounding/counting/segmentation question on the slice with most foreground."""
    spec = window_spec(window)
    shown = f"{window} window" if isinstance(spec, str) else f"window level {spec[0]:g} HU, width {spec[1]:g} HU"
    best = foreground_slices(labels, axis, k=1)
    index = best[0] if best else volume.n_slices(axis) // 2
    mask2d = np.ascontiguousarray(orient_slice(labels, axis, index))
    boxes = mask_boxes(mask2d)
    image = volume.slice(axis, index, spec)
    record = {"id": stem, "source": source, "images": [f"media/{stem}.png"],
              "volume": {"path": f"media/{stem}.nii.gz", "axis": axis, "index": index, "window": window},
              "meta": {"split": split, "width": image.width, "height": image.height,
                       "spacing": list(volume.spacing), "modality": volume.modality}}
    kind = int(rng.integers(3)) if boxes else 1
    if kind == 0:
        record |= {"task": "grounding", "answer": {"boxes": boxes, "labels": ["lesion"] * len(boxes)},
                   "question": f"This is an {axis} CT slice ({shown}). Locate every lesion with a bounding box."}
    elif kind == 1:
        record |= {"task": "counting", "answer": {"count": len(boxes)},
                   "question": f"This is an {axis} CT slice ({shown}). How many lesions are visible?"}
    else:
        record |= {"task": "segmentation", "answer": {"masks": [mask_to_rle(mask2d)]},
                   "question": f"This is an {axis} CT slice ({shown}). Segment the lesions."}
    return Built(record, {f"{stem}.png": image, f"{stem}.nii.gz": _nifti_bytes(volume)})


def build_medical_phantom(*, seed: int = 0, limit: int | None = None, split: str = "train", shard: int = 0,
                          num_shards: int = 1, window: str = "lung", axis: str = "axial") -> Iterator[Built | Skipped]:
    """Synthetic CT phantoms with lesions: grounding, lesion counting and segmentation on a windowed slice.

    ``vlmr data build medical_phantom --out data/phantom --limit 200 --window lung``
    """

    def record(i: int, _) -> Built:
        rng = np.random.default_rng([seed, i])
        volume, labels = make_phantom(rng)
        return _slice_samples(volume, labels, f"phantom-{split}-{i:06d}", "medical_phantom", split, window, axis, rng)

    yield from shard_records(itertools.count(), record, limit=200 if limit is None else limit, shard=shard,
                             num_shards=num_shards)


def _scan_name(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".nii").removesuffix(".dcm")


def folder_key(folder: Path) -> bytes:
    """A key only the holder of ``folder``'s files can compute (their names and first 64 KiB, patient
    headers included): it names records and replaces UIDs the same way in every shard and rebuild."""
    digest = hashlib.blake2b(digest_size=32)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            digest.update(f.read(65536))
    return digest.digest()


def build_medical_scans(*, scans: str, masks: str, seed: int = 0, limit: int | None = None, split: str = "train",
                        shard: int = 0, num_shards: int = 1, window: str = "soft_tissue",
                        axis: str = "axial", keep_dicom: bool = False) -> Iterator[Built | Skipped]:
    """Real scans with lesion masks: grounding, counting and segmentation on the slice with most foreground.

    Scans are NIfTI files, DICOM files or DICOM series folders in ``scans``, with same-named NIfTI
    label masks in ``masks``. ``window`` is a preset or ``"level,width"``; ``keep_dicom`` stores DICOM scans as DICOM, de-identified by
    the PS3.15 Basic Profile (:mod:`vlmr.media.deid`), rather than NIfTI. Records and media are named by a
    keyed hash of the scan's name (:func:`folder_key`), never by the name itself.

    ``vlmr data build medical_scans --out data/ct --scans scans/ --masks masks/ --window soft_tissue``
    """
    mask_files = {_scan_name(p): p for p in Path(masks).iterdir() if p.name.endswith((".nii", ".nii.gz"))}
    key = folder_key(Path(scans))

    def record(i: int, scan: Path) -> Built | Skipped:
        name = _scan_name(scan)
        if name not in mask_files:
            return Skipped("no mask for scan")
        try:
            volume = load_volume(scan)
            labels = np.rint(load_volume(mask_files[name]).data).astype(np.int16)
        except (ValueError, OSError):
            return Skipped("corrupted scan or mask")
        if labels.shape != volume.data.shape:
            return Skipped("mask shape differs from scan")
        rng = np.random.default_rng([seed, i])
        hashed = hashlib.blake2b(name.encode(), key=key, digest_size=8).hexdigest()
        built = _slice_samples(volume, labels, f"scan-{split}-{hashed}", "medical_scans", split, window, axis, rng)
        if keep_dicom and not scan.name.endswith((".nii", ".nii.gz")):
            _replace_with_dicom(built, scan, Deidentifier(key))
        return built

    yield from shard_records(sorted(Path(scans).iterdir()), record, limit=limit, shard=shard, num_shards=num_shards)


def _replace_with_dicom(built: Built, scan: Path, deidentify: Deidentifier) -> None:
    """Store the scan as its DICOM files, de-identified, instead of NIfTI."""
    import pydicom

    stem = built.record["id"]
    del built.media[f"{stem}.nii.gz"]
    files = sorted(p for p in scan.iterdir() if p.is_file()) if scan.is_dir() else [scan]
    for k, f in enumerate(files):
        buffer = io.BytesIO()
        deidentify(pydicom.dcmread(str(f))).save_as(buffer)
        built.media[f"{stem}_dicom/{k:04d}.dcm"] = buffer.getvalue()
    built.record["volume"]["path"] = f"media/{stem}_dicom"


SLAKE_SPLITS = {"train": "train", "validate": "val", "validation": "val", "test": "test"}  # file stem -> split
RELEASE_IMAGE_DIRS = {"vqa_rad": "VQA_RAD Image Folder", "slake": "imgs"}  # next to the question file


def _vqa_rows(annotations: Path) -> tuple[str, list[tuple[str, dict]], Path]:
    """``(source, [(split, row)], release image folder)`` of a VQA-RAD/SLAKE question file or Hub
    copy; each row's split comes from the data: VQA-RAD's ``phrase_type``, SLAKE's file name, the Hub split."""
    if is_hub_copy(annotations):
        copy = HubCopy(annotations)
        rows = [(split, row) for split in copy.splits for row in copy.rows(split)]
    else:
        raw = read_rows(annotations)
        slake_split = SLAKE_SPLITS.get(annotations.stem, annotations.stem)
        rows = [(slake_split if "img_name" in r else row_split(r), r) for r in raw]
    source = "slake" if any("q_lang" in r or "img_name" in r for _, r in rows) else "vqa_rad"
    return source, rows, annotations.parent / RELEASE_IMAGE_DIRS[source]


def build_vqa_rad(*, annotations: str, image_dir: str | None = None, seed: int = 0, limit: int | None = None,
                  split: str | None = None, shard: int = 0, num_shards: int = 1) -> Iterator[Built | Skipped]:
    """Medical VQA from VQA-RAD or SLAKE as released, or a Hub copy of either; records say which.

    VQA-RAD: ``VQA_RAD Dataset Public.json`` (the split is in ``phrase_type``, ``test_*`` = the
    451-question test set). SLAKE: ``train.json`` / ``validate.json`` / ``test.json`` (English kept).
    A Hub copy: ``annotations`` = the snapshot. Records say ``vqa_rad`` or ``slake`` and carry their
    own split; ``split`` keeps only that one. Each image is written once.

    ``vlmr data build vqa_rad --out data/vqarad --annotations "VQA_RAD Dataset Public.json" --image_dir "VQA_RAD Image Folder"``
    ``vlmr data build slake --out data/slake --annotations Slake1.0/test.json --image_dir Slake1.0/imgs``
    """
    source, rows, folder = _vqa_rows(Path(annotations))
    rows = [(s, r) for s, r in rows if r.get("q_lang", "en") == "en"]
    wanted = [(s, r) for s, r in rows if split is None or s == split]
    if rows and not wanted:
        raise ValueError(f"{annotations} has no {split!r} rows; its splits: {sorted({s for s, _ in rows})}")
    images = Path(image_dir) if image_dir else folder
    yield from shard_records(wanted, lambda i, item: _vqa_record(source, *item, i, images), limit=limit, shard=shard,
                             num_shards=num_shards)


def _vqa_record(source: str, split: str, row: dict, index: int, images: Path) -> Built | Skipped:
    """One VQA-RAD/SLAKE record with its image (written once, under its own name), or why not."""
    try:
        return _vqa_built(source, split, row, index, images)
    except MALFORMED as e:
        return Skipped.malformed(e)


def _vqa_built(source: str, split: str, row: dict, index: int, images: Path) -> Built | Skipped:
    cell = row.get("image")
    if isinstance(cell, ImageCell):
        name, data = f"{source}/{cell.name}", cell.data
    else:
        rel = str(row.get("image_name") or row.get("img_name") or "")
        data = image_in(images, rel)  # an absolute path, '..' or a symlink out of the folder is skipped
        if isinstance(data, Skipped):
            return data
        name = f"{source}/{rel}"
    image = open_image(data)
    if isinstance(image, Skipped):
        return image
    answer = str(row["answer"]).strip()
    closed = answer_type(row) == "CLOSED"
    question = str(row["question"]).strip()
    if closed and answer.lower() in ("yes", "no"):
        question += " Answer yes or no."
    return Built({"id": f"{source}-{split}-{row.get('qid', index)}", "task": "medical_vqa", "source": source,
                  "question": question, "images": [f"media/{name}"], "answer": {"text": answer},
                  "meta": {"split": split, "answer_type": "closed" if closed else "open",
                           "width": image.width, "height": image.height}}, {name: data})


def preview(sample: Sample, root: str | Path) -> Image.Image:
    """The windowed slice with the lesion mask tinted red and boxes outlined."""
    if sample.images:
        image = open_rgb(resolve_media(root, sample.images[0]))
    else:
        vol = sample.volume
        volume = load_volume(resolve_media(root, vol["path"]))
        image = volume.slice(vol["axis"], vol["index"], window_spec(vol["window"])).convert("RGB")
    for rle in sample.answer.get("masks", []):
        image = tint(image, checked_mask(rle, image.height, image.width), (255, 0, 0), 0.5)
    draw = ImageDraw.Draw(image)
    for box in sample.answer.get("boxes", []):
        draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=(255, 60, 60))
    return image
