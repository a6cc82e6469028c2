"""CT/MRI volumes: DICOM or NIfTI in, RAS voxel order and Hounsfield units out, windowed slices.

A :class:`Volume` holds ``data`` as ``(X, Y, Z)`` in nibabel's RAS+ voxel order (``X``
towards the patient's Right, ``Y`` Anterior, ``Z`` Superior) whatever the file's own
orientation, plus the voxel-to-RAS ``affine``. CT values are Hounsfield units
(``stored * RescaleSlope + RescaleIntercept``). Slices come out in the radiological display
convention: axial and coronal with the patient's right on the image's left, anterior /
superior at the top; sagittal with anterior on the left. One slice pixel is one voxel
(no resampling), so boxes from a mask slice and pixels of the image slice line up exactly.

>>> window(np.array([-1000.0, 40.0, 1000.0]), level=40, width=400).tolist()
[0, 128, 255]
>>> WINDOWS["lung"]
(-600, 1500)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

# (level, width) in HU; standard radiology presets.
WINDOWS: dict[str, tuple[int, int]] = {
    "lung": (-600, 1500),
    "soft_tissue": (40, 400),
    "mediastinum": (50, 350),
    "bone": (400, 1800),
    "brain": (40, 80),
}
AXES = ("axial", "coronal", "sagittal")

def window(values: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map values (HU) to uint8 with a linear window centred on ``level``, ``width`` wide."""
    if width <= 0:
        raise ValueError(f"window width must be > 0, got {width}")
    scaled = (np.asarray(values, dtype=np.float32) - (level - width / 2)) / width
    return np.round(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)


def resolve_window(spec: str | tuple[float, float] | None, values: np.ndarray) -> tuple[float, float]:
    """(level, width) from a preset name, an explicit pair, or None (1st-99th percentile of ``values``)."""
    if spec is None:
        lo, hi = np.percentile(values, [1, 99])
        return float(lo + hi) / 2, float(max(hi - lo, 1e-3))
    if isinstance(spec, str):
        if spec not in WINDOWS:
            raise ValueError(f"unknown window {spec!r}; choose one of {sorted(WINDOWS)} or give (level, width)")
        return WINDOWS[spec]
    level, width = spec
    return float(level), float(width)


def orient_slice(array: np.ndarray, axis: str, index: int) -> np.ndarray:
    """2D slice of a RAS ``(X, Y, Z)`` array in display orientation (rows top->bottom, cols left->right)."""
    if axis not in AXES:
        raise ValueError(f"unknown axis {axis!r}; choose one of {list(AXES)}")
    size = array.shape[{"sagittal": 0, "coronal": 1, "axial": 2}[axis]]
    if not 0 <= index < size:
        raise ValueError(f"{axis} slice index {index} out of range; valid 0..{size - 1}")
    if axis == "axial":  # rows: anterior->posterior, cols: patient right->left
        return array[::-1, ::-1, index].T
    if axis == "coronal":  # rows: superior->inferior, cols: patient right->left
        return array[::-1, index, ::-1].T
    return array[index, ::-1, ::-1].T  # sagittal; rows: superior->inferior, cols: anterior->posterior


@dataclass
class Volume:
    """A 3D scan in RAS+ voxel order; ``data`` is Hounsfield units for CT."""

    data: np.ndarray  # (X, Y, Z) float32
    affine: np.ndarray  # (4, 4) voxel index -> RAS millimetres
    modality: str = ""
    path: str = ""

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along X, Y, Z."""
        return tuple(float(v) for v in np.linalg.norm(self.affine[:3, :3], axis=0))

    def n_slices(self, axis: str) -> int:
        """Number of slices along ``axis`` (axial, coronal or sagittal)."""
        if axis not in AXES:
            raise ValueError(f"unknown axis {axis!r}; choose one of {list(AXES)}")
        return self.data.shape[{"sagittal": 0, "coronal": 1, "axial": 2}[axis]]

    def slice_array(self, axis: str, index: int) -> np.ndarray:
        """Raw values of one slice in display orientation, shape (rows, cols)."""
        return orient_slice(self.data, axis, index)

    def pixel_size(self, axis: str) -> tuple[float, float]:
        """(row height, column width) in mm of the pixels of a slice along ``axis``."""
        if axis not in AXES:
            raise ValueError(f"unknown axis {axis!r}; choose one of {list(AXES)}")
        sx, sy, sz = self.spacing
        return {"axial": (sy, sx), "coronal": (sz, sx), "sagittal": (sz, sy)}[axis]

    def slice(self, axis: str, index: int, window: str | tuple[float, float] | None = "soft_tissue",
              square_pixels: bool = False) -> Image.Image:
        """Windowed greyscale slice; ``window`` is a preset name, ``(level, width)``, or None (auto).

        With ``square_pixels`` the image is resampled so both pixel sides equal the finer voxel
        spacing (e.g. a coronal slice of 0.7 x 0.7 x 5 mm voxels is stretched 7x vertically); the
        default keeps one pixel per voxel so masks and boxes from :func:`orient_slice` line up.
        """
        values = self.slice_array(axis, index)
        level, width = resolve_window(window, values)
        image = Image.fromarray(_window(values, level, width), mode="L")
        if square_pixels:
            row_mm, col_mm = self.pixel_size(axis)
            finest = min(row_mm, col_mm)
            size = (max(1, round(image.width * col_mm / finest)), max(1, round(image.height * row_mm / finest)))
            image = image.resize(size, Image.Resampling.BILINEAR)
        return image

    def to_nifti(self, path: str | Path) -> None:
        """Write the volume as NIfTI (RAS affine, float32 data, no patient information in the header)."""
        import nibabel as nib

        image = nib.Nifti1Image(self.data.astype(np.float32), self.affine)
        image.header["descrip"] = b""
        nib.save(image, str(path))


_window = window  # Volume.slice's parameter shadows the module function


def load_volume(path: str | Path) -> Volume:
    """Load a DICOM file, a DICOM series directory or a NIfTI file (``.nii``/``.nii.gz``) as a RAS volume.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a readable scan (message names the file and the reason).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"scan {path} not found")
    if path.is_dir():
        return _load_dicom_series(sorted(p for p in path.iterdir() if p.is_file()), path)
    if path.name.endswith((".nii", ".nii.gz")):
        return _load_nifti(path)
    return _load_dicom_series([path], path)


def _load_nifti(path: Path) -> Volume:
    import nibabel as nib

    try:
        image = nib.as_closest_canonical(nib.load(str(path)))
        data = np.asarray(image.get_fdata(dtype=np.float32))
    except Exception as e:  # nibabel raises ImageFileError, EOFError, zlib/gzip errors...
        raise ValueError(f"cannot read NIfTI {path}: {e}") from e
    if data.ndim == 4:
        logger.info("%s is 4D %s; using the first volume", path, data.shape)
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError(f"cannot read NIfTI {path}: expected a 3D volume, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError(f"cannot read NIfTI {path}: contains NaN or infinite values")
    return Volume(data=data, affine=np.asarray(image.affine, dtype=np.float64), modality="", path=str(path))


def dicom_hu(ds) -> np.ndarray:
    """Stored pixels of a DICOM dataset converted to modality units (HU for CT), float32."""
    from pydicom.pixels import apply_modality_lut

    if "PixelData" not in ds and "FloatPixelData" not in ds:
        raise ValueError("has no pixel data")
    pixels = ds.pixel_array
    if "ModalityLUTSequence" in ds:  # a lookup table instead of a linear rescale
        return np.asarray(apply_modality_lut(pixels, ds), dtype=np.float32)
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    return pixels.astype(np.float32) * slope + intercept


def _read_dicoms(files: list[Path], where: Path) -> list:
    import pydicom
    from pydicom.errors import InvalidDicomError

    datasets = []
    for f in files:
        try:
            datasets.append(pydicom.dcmread(str(f)))
        except InvalidDicomError:
            if len(files) == 1:
                raise ValueError(f"cannot read DICOM {f}: not a DICOM file") from None
            logger.debug("skipping non-DICOM file %s", f)
        except Exception as e:  # truncated files raise EOFError, struct.error, ...
            raise ValueError(f"cannot read DICOM {f}: {e}") from e
    if not datasets:
        raise ValueError(f"no DICOM files in {where}")
    series = {}
    for ds in datasets:
        series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append(ds)
    if len(series) > 1:
        logger.warning("%s holds %d series; using the largest", where, len(series))
    return max(series.values(), key=len)


def _load_dicom_series(files: list[Path], where: Path) -> Volume:
    """Stack DICOM slices along their normal, build the LPS->RAS affine, reorient to RAS."""
    import nibabel as nib

    datasets = _read_dicoms(files, where)
    orientation = np.array([float(v) for v in datasets[0].get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0])])
    row_dir, col_dir = orientation[:3], orientation[3:]  # along a row (x), down a column (y)
    normal = np.cross(row_dir, col_dir)
    positions = [np.array([float(v) for v in ds.get("ImagePositionPatient", [0, 0, 0])]) for ds in datasets]
    order = np.argsort([p @ normal for p in positions]) if len(datasets) > 1 else [0]
    slices = []
    for k in order:
        try:
            hu = dicom_hu(datasets[k])
        except Exception as e:
            raise ValueError(f"cannot read DICOM {datasets[k].filename}: {e}") from e
        slices += list(hu) if hu.ndim == 3 else [hu]  # multi-frame files hold (frames, rows, cols)
    shapes = {s.shape for s in slices}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"cannot read DICOM {where}: slices are not 2D greyscale of one size ({sorted(shapes)})")
    data = np.stack(slices, axis=-1).transpose(1, 0, 2)  # (rows, cols, Z) -> (cols, rows, Z) = (i, j, k)
    row_spacing, col_spacing = (float(v) for v in datasets[0].get("PixelSpacing", [1, 1]))
    if len(datasets) > 1:
        step = (positions[order[-1]] - positions[order[0]]) / (len(datasets) - 1)
    else:
        thickness = float(datasets[0].get("SpacingBetweenSlices", datasets[0].get("SliceThickness", 1)) or 1)
        step = normal * thickness
    affine = np.eye(4)
    affine[:3, 0] = row_dir * col_spacing
    affine[:3, 1] = col_dir * row_spacing
    affine[:3, 2] = step
    affine[:3, 3] = positions[order[0]]
    affine[:2] *= -1  # DICOM patient space is LPS; RAS flips x and y
    image = nib.as_closest_canonical(nib.Nifti1Image(data, affine))
    return Volume(
        data=np.asarray(image.dataobj, dtype=np.float32),
        affine=np.asarray(image.affine, dtype=np.float64),
        modality=str(datasets[0].get("Modality", "")),
        path=str(where),
    )


def foreground_slices(mask: np.ndarray, axis: str, k: int = 1) -> list[int]:
    """Indices of the ``k`` slices along ``axis`` with the most foreground voxels (non-empty only)."""
    reduce_axes = {"sagittal": (1, 2), "coronal": (0, 2), "axial": (0, 1)}
    if axis not in reduce_axes:
        raise ValueError(f"unknown axis {axis!r}; choose one of {list(AXES)}")
    area = (mask > 0).sum(axis=reduce_axes[axis])
    ranked = np.argsort(-area, kind="stable")
    return [int(i) for i in ranked[:k] if area[i] > 0]


def mask_boxes(mask2d: np.ndarray, min_pixels: int = 1) -> list[list[int]]:
    """One ``[x1, y1, x2, y2]`` box (x2/y2 exclusive pixel edges) per 8-connected component of a 2D mask.

    >>> m = np.zeros((6, 8), bool); m[1:3, 1:4] = True; m[4:6, 6:8] = True
    >>> mask_boxes(m)
    [[1, 1, 4, 3], [6, 4, 8, 6]]
    """
    from scipy import ndimage

    labels, n = ndimage.label(mask2d > 0, structure=np.ones((3, 3)))
    boxes = []
    for k, found in enumerate(ndimage.find_objects(labels), 1):
        if found is not None and (labels[found] == k).sum() >= min_pixels:
            rows, cols = found
            boxes.append([cols.start, rows.start, cols.stop, rows.stop])
    return boxes
