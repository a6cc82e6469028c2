"""Promptable segmenters: boxes (and points) in, one COCO RLE mask per box out.

Seg-Zero's decoupled design: the reasoning model answers with boxes and points, a
promptable segmenter turns them into pixel masks for the ``mask_iou`` reward, ReasonSeg
eval and the demo. Every coordinate is in **original-image pixels** (boxes ``[x1, y1, x2,
y2]`` with exclusive ends, points ``[x, y]``); convert model output with
:mod:`vlmr.formats` first. Masks come back as compressed COCO RLE (``{"size": [h, w],
"counts": str}``) at the original image size.

Backends, by name (:func:`get_segmenter`; each lives in its own module, imported on use):

* ``grabcut`` (default, :mod:`vlmr.tools.segment_grabcut`): OpenCV GrabCut; offline, no weights.
* ``sam`` (:mod:`vlmr.tools.segment_sam`): Segment Anything via transformers ``SamModel``.
* ``sam2`` (:mod:`vlmr.tools.segment_sam`): SAM 2 via transformers ``Sam2Model``.

Prompts that cannot be a mask (empty, NaN, outside the image) give an empty mask, never an
exception. Results are cached per (image hash, rounded prompt), so a GRPO group whose
rollouts give the same box costs one backend call; :attr:`PromptableSegmenter.stats`
counts computed masks, cache hits and backend seconds for logging.

>>> import numpy as np
>>> from PIL import Image
>>> pixels = np.full((60, 80, 3), 128, np.uint8); pixels[20:40, 30:50] = (220, 30, 35)
>>> segmenter = get_segmenter("grabcut")
>>> [rle] = segmenter(Image.fromarray(pixels), boxes=[[28, 18, 52, 42]])
>>> rle["size"], int(rle_to_mask(rle).sum())
([60, 80], 400)
>>> [empty] = segmenter(Image.fromarray(pixels), boxes=[[float("nan"), 0, 5, 5]])
>>> int(rle_to_mask(empty).sum())
0
"""

from __future__ import annotations

import hashlib
import math
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

# the segmenter contract and the RLE helpers live in vlmr.masks; named here too, beside the backends
from vlmr.masks import Segmenter as Segmenter
from vlmr.masks import mask_to_rle
from vlmr.masks import rle_to_mask as rle_to_mask
from vlmr.registry import lookup

# --------------------------------------------------------------------------- interface


@dataclass(frozen=True)
class Prompt:
    """One cleaned prompt: a whole-pixel box inside the image and the points that fall in it.

    ``box`` is ``None`` for a points-only prompt (no boxes given, at least one foreground point).
    """

    box: tuple[int, int, int, int] | None
    points: tuple[tuple[int, int], ...] = ()
    labels: tuple[int, ...] = ()  # 1 = foreground, 0 = background, one per point


@dataclass
class SegmenterStats:
    """Running counters, e.g. logged per GRPO step as ``segmenter/seconds``."""

    masks: int = 0  # masks computed by the backend
    cache_hits: int = 0
    empty_prompts: int = 0  # prompts that could not be a mask (NaN, outside the image, ...)
    seconds: float = 0.0  # wall time spent in the backend

    def as_dict(self) -> dict[str, float]:
        """Counters as a plain dict."""
        return asdict(self)

    def reset(self) -> None:
        """Zero every counter."""
        self.masks = self.cache_hits = self.empty_prompts = 0
        self.seconds = 0.0


def _finite_numbers(values: Any, n: int) -> list[float] | None:
    """``values`` as ``n`` finite floats, or ``None`` if it is anything else."""
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if len(out) == n and all(math.isfinite(v) for v in out) else None


def _clean_points(points: Any, point_labels: Any, width: int, height: int) -> list[tuple[int, int, int]]:
    """Valid ``(x, y, label)`` seeds in whole pixels; labels default to 1."""
    raw_points = points if isinstance(points, (list, tuple)) else []
    raw_labels = list(point_labels) if isinstance(point_labels, (list, tuple)) else []
    seeds = []
    for i, point in enumerate(raw_points):
        xy = _finite_numbers(point, 2)
        label = raw_labels[i] if i < len(raw_labels) else 1
        if xy is None or label not in (0, 1) or not (0 <= xy[0] < width and 0 <= xy[1] < height):
            continue
        seeds.append((int(xy[0]), int(xy[1]), int(label)))
    return seeds


def _prompt(box: tuple[int, int, int, int] | None, seeds: list[tuple[int, int, int]]) -> Prompt:
    return Prompt(box, tuple((x, y) for x, y, _ in seeds), tuple(label for *_, label in seeds))


def clean_prompts(boxes: Any, points: Any, point_labels: Any, width: int, height: int) -> list[Prompt | None]:
    """Turn raw prompts into one :class:`Prompt` per box (``None`` = cannot be a mask).

    Boxes are clipped to the image and rounded to whole pixels; a box with no area left is
    ``None``. Each point (labels default to 1) joins every box that contains it; points
    that are not finite, lie outside the image or have a label other than 0/1 are dropped.
    Without any box, points with at least one foreground point make one points-only prompt.

    >>> clean_prompts([[-5, 2.4, 10.6, 8], [0, 0, 0, 9]], [[3, 3], [50, 50]], None, 20, 10)
    [Prompt(box=(0, 2, 11, 8), points=((3, 3),), labels=(1,)), None]
    >>> clean_prompts([], [[3, 3], [5, 5]], [1, 0], 20, 10)
    [Prompt(box=None, points=((3, 3), (5, 5)), labels=(1, 0))]
    """
    seeds = _clean_points(points, point_labels, width, height)
    boxes = boxes if isinstance(boxes, (list, tuple)) else []
    if not boxes:
        return [_prompt(None, seeds)] if any(label == 1 for *_, label in seeds) else []
    prompts: list[Prompt | None] = []
    for box in boxes:
        xyxy = _finite_numbers(box, 4)
        if xyxy is None:
            prompts.append(None)
            continue
        x1, x2 = (min(max(round(v), 0), width) for v in (xyxy[0], xyxy[2]))
        y1, y2 = (min(max(round(v), 0), height) for v in (xyxy[1], xyxy[3]))
        if x2 <= x1 or y2 <= y1:
            prompts.append(None)
            continue
        prompts.append(_prompt((x1, y1, x2, y2), [s for s in seeds if x1 <= s[0] < x2 and y1 <= s[1] < y2]))
    return prompts


def _image_array(image: Image.Image) -> np.ndarray:
    """RGB uint8 pixels (H, W, 3) of a PIL image."""
    if not isinstance(image, Image.Image):
        raise TypeError(
            f"a segmenter takes PIL images, got {type(image).__name__}; wrap arrays with Image.fromarray"
        )
    return np.asarray(image.convert("RGB") if image.mode != "RGB" else image)


def image_key(pixels: np.ndarray) -> str:
    """Content hash of an image's pixels (same pixels, same key), used by the caches."""
    digest = hashlib.blake2b(pixels.tobytes(), digest_size=16)
    digest.update(str(pixels.shape).encode())
    return digest.hexdigest()


class PromptableSegmenter(ABC):
    """Base of every backend: prompt cleaning, batching, caching, RLE encoding, stats.

    A backend implements :meth:`predict` for one image and its distinct, valid prompts.

    Args:
        cache_size: how many masks the LRU cache keeps (0 disables it).
    """

    name: str = "segmenter"

    def __init__(self, cache_size: int = 512):
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        self.cache_size = cache_size
        self.stats = SegmenterStats()
        self._cache: OrderedDict[tuple[str, Prompt], dict] = OrderedDict()

    @abstractmethod
    def predict(self, pixels: np.ndarray, prompts: list[Prompt]) -> list[np.ndarray]:
        """Boolean (H, W) masks, one per prompt, for RGB ``pixels`` (H, W, 3)."""

    def __call__(
        self,
        image: Image.Image,
        boxes: list[list[float]],
        points: list[list[float]] | None = None,
        point_labels: list[int] | None = None,
    ) -> list[dict]:
        """One COCO RLE per box for one image (see :func:`clean_prompts` for how points are used)."""
        prompt = {"boxes": boxes, "points": points, "point_labels": point_labels}
        return self.segment_batch([image], [prompt])[0]

    def segment_batch(self, images: Sequence[Image.Image], prompts: Sequence[dict]) -> list[list[dict]]:
        """Masks for many images at once: ``prompts[i]`` holds ``boxes``, ``points``, ``point_labels``.

        Identical images are processed once and identical prompts are computed once (and
        then served from the cache), so a GRPO group on one image is one backend pass.
        """
        if len(images) != len(prompts):
            raise ValueError(f"segment_batch got {len(images)} images but {len(prompts)} prompts")
        # 1. Clean prompts, key images by content.
        keyed: list[tuple[str, np.ndarray, list[Prompt | None]]] = []
        for image, prompt in zip(images, prompts, strict=True):
            pixels = _image_array(image)
            height, width = pixels.shape[:2]
            prompt = prompt if isinstance(prompt, dict) else {}
            cleaned = clean_prompts(
                prompt.get("boxes"), prompt.get("points"), prompt.get("point_labels"), width, height
            )
            keyed.append((image_key(pixels), pixels, cleaned))
        # 2. Look each distinct prompt up once; collect the misses per distinct image.
        found: dict[tuple[str, Prompt], dict | None] = {}
        todo: dict[str, tuple[np.ndarray, list[Prompt]]] = {}
        for key, pixels, cleaned in keyed:
            for p in cleaned:
                if p is None or (key, p) in found:
                    continue
                found[(key, p)] = self._cache.get((key, p))
                if found[(key, p)] is None:
                    todo.setdefault(key, (pixels, []))[1].append(p)
                else:
                    self._cache.move_to_end((key, p))  # least recently used goes first
        # 3. Run the backend once per image on its misses.
        computed: set[tuple[str, Prompt]] = set()
        for key, (pixels, pending) in todo.items():
            start = time.perf_counter()
            masks = self.predict(pixels, pending)
            self.stats.seconds += time.perf_counter() - start
            self.stats.masks += len(pending)
            for p, mask in zip(pending, masks, strict=True):
                found[(key, p)] = mask_to_rle(mask)
                computed.add((key, p))
                self._remember((key, p), found[(key, p)])
        # 4. Assemble in input order; every use of a mask not computed just now is a cache hit.
        out = []
        for key, pixels, cleaned in keyed:
            row = []
            for p in cleaned:
                if p is None:
                    self.stats.empty_prompts += 1
                    row.append(mask_to_rle(np.zeros(pixels.shape[:2], dtype=bool)))
                    continue
                if (key, p) in computed:
                    computed.discard((key, p))  # the first use is the computation itself
                else:
                    self.stats.cache_hits += 1
                row.append(dict(found[(key, p)]))
            out.append(row)
        return out

    def _remember(self, cache_key: tuple[str, Prompt], rle: dict) -> None:
        if self.cache_size == 0:
            return
        self._cache[cache_key] = rle
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        """Forget every cached mask."""
        self._cache.clear()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, cache_size={self.cache_size})"


# --------------------------------------------------------------------------- registry

# name -> backend class or "module:Class" (imported on first use: SAM pulls in transformers).
_BACKENDS: dict[str, type[PromptableSegmenter] | str] = {
    "grabcut": "vlmr.tools.segment_grabcut:GrabCutSegmenter",
    "sam": "vlmr.tools.segment_sam:SamSegmenter",
    "sam2": "vlmr.tools.segment_sam:Sam2Segmenter",
}


def register_segmenter(name: str, backend: type[PromptableSegmenter] | str) -> None:
    """Add a backend under ``name``: a :class:`PromptableSegmenter` subclass or ``"module:Class"``."""
    if name in _BACKENDS:
        raise ValueError(f"segmenter {name!r} is already registered ({_BACKENDS[name]})")
    _BACKENDS[name] = backend


def list_segmenters() -> list[str]:
    """Names accepted by :func:`get_segmenter`.

    >>> list_segmenters()
    ['grabcut', 'sam', 'sam2']
    """
    return sorted(_BACKENDS)


def get_segmenter(name: str = "grabcut", **kwargs: Any) -> PromptableSegmenter:
    """Build a segmenter backend by name, or by the import path of your own class; ``kwargs`` go to
    its constructor.

    >>> get_segmenter("grabcut", iterations=3).iterations
    3
    >>> get_segmenter("sam3")
    Traceback (most recent call last):
        ...
    vlmr.registry.UnknownNameError: unknown segmenter 'sam3'; choose one of ['grabcut', 'sam', 'sam2'] ...
    """
    return segmenter_class(name)(**kwargs)


def segmenter_class(name: str) -> type:
    """The backend class registered as ``name`` or at the import path ``name``."""
    return lookup(_BACKENDS, name, "segmenter", check=(callable, "a segmenter class"))
