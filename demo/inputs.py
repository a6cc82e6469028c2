"""Check and open what a visitor uploads: an image, a video or a CT/MRI scan.

:func:`load_media` decides the kind from the file (extension, then content), enforces the
demo's limits and returns a :class:`Media` with the image(s) the model will see; anything
it cannot use raises :class:`InputError` whose message is shown on the page as is (what
was received, what is accepted, what to do).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
>>> _ = path.write_text("hello")
>>> try:
...     load_media(path)
... except InputError as e:
...     print(str(e).split(";")[0])
Cannot read notes.txt as an image, a video or a scan
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

VIDEO_SUFFIXES = (".mp4", ".webm", ".avi", ".mov", ".mkv", ".m4v")
VOLUME_SUFFIXES = (".nii", ".nii.gz", ".dcm", ".dicom")
ACCEPTED = "a PNG/JPEG/WebP image, an MP4/WebM/AVI/MOV video, or a DICOM (.dcm) / NIfTI (.nii, .nii.gz) scan"
FRAME_MAX_PIXELS = 448 * 448  # per video frame: what the preview shows is what the model sees
DEFAULT_MAX_MEGAPIXELS = 36.0  # a 36 MP photo still decodes in ~0.1 GB; larger uploads are refused, not resized


class InputError(ValueError):
    """An upload or a question the demo cannot use; the message is meant for the visitor."""


@dataclass
class Media:
    """An opened upload: its kind, the image(s) the model sees and how to describe it.

    ``image`` is the picture answers are drawn on (the image, the shown slice of a scan, or
    the first video frame); ``frames``/``times`` are the sampled video frames and their
    seconds; ``env`` holds what the tool environment needs besides images (``video`` or
    ``volume`` dicts with a ``path``); ``duration`` is the video length in seconds.
    """

    kind: str  # image | video | volume
    path: str
    image: Image.Image
    description: str
    frames: list[Image.Image] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    duration: float = 0.0
    env: dict = field(default_factory=dict)


def media_kind(path: str | Path) -> str:
    """``image``, ``video`` or ``volume`` from the file name, or from a DICOM preamble; else ``image``.

    >>> media_kind("clip.MP4"), media_kind("ct.nii.gz"), media_kind("photo.jpg")
    ('video', 'volume', 'image')
    """
    name = Path(path).name.lower()
    if name.endswith(VIDEO_SUFFIXES):
        return "video"
    if name.endswith(VOLUME_SUFFIXES):
        return "volume"
    try:
        with open(path, "rb") as f:
            if f.read(132)[128:] == b"DICM":  # DICOM part 10 files start with a 128-byte preamble and "DICM"
                return "volume"
    except OSError:
        pass
    return "image"


def check_question(question: str | None) -> str:
    """The stripped question, or :class:`InputError` if there is none.

    >>> check_question("  Where is the red circle? ")
    'Where is the red circle?'
    """
    text = (question or "").strip()
    if not text:
        raise InputError("The question is empty: type a question about the upload, e.g. 'Where is the red circle?'.")
    return text


def open_image(path: str | Path, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> Image.Image:
    """Decode an image as RGB after checking its size from the header (nothing large is decoded)."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            width, height = im.size
            megapixels = width * height / 1e6
            if megapixels > max_megapixels:
                raise InputError(
                    f"{path.name} is {width}x{height} = {megapixels:.1f} megapixels; the demo accepts images up to "
                    f"{max_megapixels:g} megapixels. Downscale it (e.g. to 2000 px on the long side) and upload again."
                )
            im.load()
            return im.convert("RGB")
    except Image.DecompressionBombError as e:
        raise InputError(
            f"{path.name} is far too large ({e}); the demo accepts images up to {max_megapixels:g} megapixels."
        ) from None
    except UnidentifiedImageError:
        raise InputError(f"Cannot read {path.name} as an image, a video or a scan; upload {ACCEPTED}.") from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt image data
        if isinstance(e, InputError):
            raise
        raise InputError(f"{path.name} looks like an image but is corrupted ({e}); upload another file.") from None


def _reason(error: Exception, path: Path) -> str:
    """The error message with the server-side upload path shortened to the file name."""
    return str(error).replace(str(path), path.name)


def _open_video(path: Path, max_frames: int, fps: float, max_megapixels: float) -> Media:
    from vlmr.media.video import frames_strip, probe, sample_frames

    try:
        info = probe(path)
        frames, times = sample_frames(path, fps=fps, max_frames=max_frames, max_pixels=FRAME_MAX_PIXELS)
    except (ValueError, RuntimeError) as e:
        raise InputError(
            f"Cannot decode the video {path.name}: it is corrupted or in an unsupported codec ({_reason(e, path)})."
        ) from None
    if not frames:
        raise InputError(f"The video {path.name} has no frames to show the model.")
    if info["width"] * info["height"] / 1e6 > max_megapixels:
        raise InputError(f"The video frames of {path.name} are larger than {max_megapixels:g} megapixels.")
    description = (
        f"video {path.name}: {info['width']}x{info['height']}, {info['duration']:.1f} s at {info['fps']:.0f} fps; "
        f"the model sees {len(frames)} frames"
    )
    return Media("video", str(path), frames_strip(frames, times, height=96), description, frames, times,
                 float(info["duration"]), {"video": {"path": str(path), "sample_fps": fps, "max_frames": max_frames}})


def _open_volume(path: Path) -> Media:
    from vlmr.media.volume import load_volume

    try:
        volume = load_volume(path)
    except (ValueError, ImportError) as e:
        raise InputError(
            f"Cannot read the scan {path.name} ({_reason(e, path)}); upload a DICOM file or a NIfTI volume."
        ) from None
    n = volume.n_slices("axial")
    index = n // 2
    window = "soft_tissue" if volume.modality == "CT" else None  # HU window for CT, percentiles otherwise
    image = volume.slice("axial", index, window).convert("RGB")
    description = (
        f"{volume.modality or 'scan'} {path.name}: {volume.data.shape[0]}x{volume.data.shape[1]}x{volume.data.shape[2]} "
        f"voxels; the model sees axial slice {index} of 0..{n - 1} and can ask for others with get_slice"
    )
    return Media("volume", str(path), image, description, env={"volume": {"path": str(path)}})


def load_media(
    path: str | Path | None,
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS,
    max_frames: int = 8,
    fps: float = 2.0,
) -> Media:
    """Open an upload for the model, or raise :class:`InputError` saying why it cannot be used.

    Args:
        path: the uploaded file (``None`` when nothing was uploaded).
        max_megapixels: largest accepted image (or video frame) area in megapixels.
        max_frames: video frames shown to the model at most.
        fps: video frames sampled per second.
    """
    if path is None or not str(path):
        raise InputError(f"Nothing uploaded yet: upload {ACCEPTED}, or click one of the examples.")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The upload {path.name} is gone from the server; upload it again.")
    if not (max_megapixels > 0 and math.isfinite(max_megapixels)):
        raise ValueError(f"max_megapixels must be a positive number, got {max_megapixels}")
    kind = media_kind(path)
    if kind == "video":
        return _open_video(path, max_frames, fps, max_megapixels)
    if kind == "volume":
        return _open_volume(path)
    image = open_image(path, max_megapixels)
    return Media("image", str(path), image, f"image {path.name}: {image.width}x{image.height} px")
