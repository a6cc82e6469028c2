"""The per-sample tool environment (trl's ``environment_factory`` contract).

``make_environment(["zoom_in", "draw_box"])`` builds a class whose public methods are
exactly those tools; trl's ``GRPOTrainer(environment_factory=cls)`` creates instances,
calls ``reset(**row)`` with each dataset row and exposes the public methods as tools
(schema from their type hints and docstrings). vlmr's inference loop uses the very same
class. Every call goes through one guard that enforces the limits, turns bad arguments,
time-outs and failures into a text result, and keeps returned images in the pixel budget.

The row fields the environment reads: ``images`` (PIL images, paths or ``{"bytes"}``
dicts), ``coord`` (``{"convention", "width", "height", "input_width", "input_height"}``,
how the model sees the first image; pixel coordinates if absent), ``video``, ``volume``,
``scene`` (dicts with a ``path``) and ``root`` (directory that relative paths are under).

>>> from PIL import Image
>>> Env = make_environment(["crop"])
>>> env = Env()
>>> env.reset(images=[Image.new("RGB", (64, 48), "red")])
>>> parts = env.crop(bbox_2d=[0, 0, 32, 32])
>>> parts[0]["image"].size, parts[1]["text"][:41]
((32, 32), 'Cropped region [0, 0, 32, 32] (32x32 px).')
>>> env.crop(bbox_2d=[0, 0, 5])[0]["text"]
'Error: bbox_2d must have 4 numbers like [x1, y1, x2, y2], got 3: [0, 0, 5].'
"""

from __future__ import annotations

import concurrent.futures
import functools
import inspect
import io
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from vlmr.formats import CoordinateSpace, smart_resize
from vlmr.media.image import open_rgb
from vlmr.tools.image_ops import fit_pixels
from vlmr.tools.registry import ToolResult, get_tool, resolve_tools
from vlmr.tools.validation import ToolArgumentError, integer

logger = logging.getLogger(__name__)

# convention -> phrase substituted for "{coords}" in tool docstrings
COORDINATE_PHRASES = {
    None: "in the same coordinates you use for answers",
    "pixel": "in pixels of the original image",
    "resized": "in pixels of the image as you see it",
    "norm1000": "relative to the image, from 0 to 1000",
    "norm1": "relative to the image, from 0 to 1",
}


@dataclass(frozen=True)
class ToolLimits:
    """Budgets of one episode; exceeding one gives the model an error message, not an exception."""

    max_calls: int = 8  # tool calls per episode
    max_images: int = 8  # images returned by tools per episode (each costs context)
    time_limit: float = 20.0  # seconds per call
    max_pixels: int = 1280 * 28 * 28  # area of any returned image (the processor's budget)
    zoom_pixels: int = 512 * 28 * 28  # area zoom_in enlarges a region to
    max_zoom: float = 4.0  # largest enlargement factor of zoom_in
    min_side: int = 28  # smallest side of a region to crop/zoom (one vision patch)
    max_aspect: float = 50.0  # most elongated region to crop/zoom
    max_frames: int = 4  # frames returned by one select_frames call
    code_seconds: float = 10.0  # wall clock of one python call (capped at time_limit)
    code_memory_mb: int = 1024  # address space of one python call

    def __post_init__(self):
        for name in ("max_calls", "max_images", "max_pixels", "zoom_pixels", "min_side", "max_frames"):
            if getattr(self, name) < 1:
                raise ValueError(f"ToolLimits.{name} must be >= 1, got {getattr(self, name)}")
        if not (self.time_limit > 0 and self.max_zoom >= 1 and self.max_aspect >= 1):
            raise ValueError(
                f"ToolLimits needs time_limit > 0, max_zoom >= 1 and max_aspect >= 1; got {self.time_limit}, "
                f"{self.max_zoom}, {self.max_aspect}"
            )
        if not (self.code_seconds > 0 and self.code_memory_mb >= 64):
            raise ValueError(f"ToolLimits needs code_seconds > 0 and code_memory_mb >= 64; got {self.code_seconds}, "
                             f"{self.code_memory_mb}")


@dataclass(frozen=True)
class Observation:
    """An image the model has seen (an input or a tool's output) and how the model addresses it.

    ``space`` is the image's own coordinate space in the model's convention; ``region`` is the box of
    input image ``source``, in its original pixels, that the image shows (``None`` when no box can say
    it, e.g. after a rotation).
    """

    image: Image.Image
    space: CoordinateSpace
    source: int = 0
    region: tuple[float, float, float, float] | None = None

    def to_source(self, box: Sequence[float]) -> tuple[float, float, float, float] | None:
        """``box`` in this image's pixels as pixels of its source input (``None`` without a region).

        >>> obs = Observation(Image.new("RGB", (200, 100)), CoordinateSpace(200, 100), 0, (40, 20, 140, 70))
        >>> obs.to_source([0, 0, 100, 50])
        (40.0, 20.0, 90.0, 45.0)
        """
        if self.region is None:
            return None
        x0, y0, x1, y1 = self.region
        sx, sy = (x1 - x0) / self.image.width, (y1 - y0) / self.image.height
        return (x0 + box[0] * sx, y0 + box[1] * sy, x0 + box[2] * sx, y0 + box[3] * sy)


@dataclass
class Episode:
    """State of one sample: its media, the working image edits draw on, and the call log."""

    images: list[Image.Image]
    space: CoordinateSpace | None
    video: dict | None = None
    volume: dict | None = None
    scene: dict | None = None
    canvas: Image.Image | None = None
    calls: int = 0
    n_images: int = 0
    observations: list[Observation] = field(default_factory=list)  # the inputs, then every tool image
    history: list[dict] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # decoded media reused across calls


def _load_image(value: Any, root: Path | None) -> Image.Image:
    if isinstance(value, Image.Image):
        return value.convert("RGB")
    if isinstance(value, dict) and value.get("bytes"):
        return open_rgb(io.BytesIO(value["bytes"]))
    path = value.get("path") if isinstance(value, dict) else value
    if not isinstance(path, str | Path):
        raise ValueError(f"cannot read an image from {type(value).__name__}")
    return open_rgb(Path(path) if root is None or Path(path).is_absolute() else root / path)


def _media(value: Any, root: Path | None) -> dict | None:
    """A media dict with its ``path`` made absolute (``root``-relative paths resolved)."""
    if not (isinstance(value, dict) and value.get("path")):
        return None
    path = Path(value["path"])
    return {**value, "path": str(path if root is None or path.is_absolute() else root / path)}


def _space(coord: dict | None, images: list[Image.Image]) -> CoordinateSpace | None:
    """The row's space; without one, original pixels of its first image."""
    space = CoordinateSpace.from_dict(coord)
    if space is None and images:
        return CoordinateSpace(images[0].width, images[0].height, "pixel")
    return space


class ToolEnvironment:
    """Base class: episode state and the call guard; no tools (see :func:`make_environment`)."""

    tool_names: tuple[str, ...] = ()
    limits: ToolLimits = ToolLimits()

    def __init__(self) -> None:
        self._episode: Episode | None = None

    def reset(self, **row: Any) -> None:
        """Start an episode on a dataset row (extra row fields are ignored); returns ``None``."""
        root = Path(row["root"]) if row.get("root") else None
        images = []
        for i, value in enumerate(row.get("images") or []):
            try:
                images.append(_load_image(value, root))
            except (OSError, ValueError) as e:  # corrupted media: the tools say so when used
                logger.warning("tool environment: image %d of the row is unreadable (%s)", i, e)
        space = _space(row.get("coord"), images)
        self._episode = Episode(
            images=images,
            space=space,
            video=_media(row.get("video"), root),
            volume=_media(row.get("volume"), root),
            scene=_media(row.get("scene"), root),
            canvas=images[0] if images else None,
            observations=[Observation(im, space if i == 0 else self._space_of(im, space), i, (0, 0, *im.size))
                          for i, im in enumerate(images)],
        )

    # ---- read by the inference loop, the demo and reward functions ----
    @property
    def history(self) -> list[dict]:
        """One dict per call: ``name``, ``arguments``, ``ok``, ``text``, ``n_images``, ``seconds``."""
        return self._episode.history if self._episode else []

    # ---- helpers for tool functions (private: trl exposes only public methods) ----
    def _state(self) -> Episode:
        if self._episode is None:
            raise RuntimeError("call reset(**row) before using the tools")
        return self._episode

    def _image(self) -> Image.Image:
        """The sample's (first) image, or an error telling the model there is none."""
        state = self._state()
        if not state.images:
            raise ToolArgumentError("this sample has no image to work on; answer from the text instead.")
        return state.images[0]

    def _media_once(self, field: str, what: str, loader: Callable[[str], Any]) -> Any:
        """The episode's ``field`` media (``"volume"``, ``"scene"``) loaded once with ``loader(path)``;
        a sample without it gives the model an error message naming ``what`` it lacks."""
        state = self._state()
        media = getattr(state, field)
        if not media:
            raise ToolArgumentError(f"this sample has no {what}; use the image tools or answer directly.")
        if field not in state.cache:
            state.cache[field] = loader(media["path"])
        return state.cache[field]

    def _observation(self, index: Any) -> Observation:
        """Image ``index`` of the episode (``None``: the first input), or an error listing the valid indices."""
        observations = self._state().observations
        if not observations:
            raise ToolArgumentError("this sample has no image to work on; answer from the text instead.")
        if index is None:
            return observations[0]
        try:
            return observations[integer(index, "image_index", 0, len(observations) - 1)]
        except ToolArgumentError as e:
            raise ToolArgumentError(f"{e} Image 0 is the input image, then come the images tools returned, "
                                    "in order.") from e

    def _space_of(self, image: Image.Image, like: CoordinateSpace | None) -> CoordinateSpace:
        """The coordinate space of ``image`` in ``like``'s convention (a tool image: as the model sees it, within
        ``limits.max_pixels``, the processor's budget; original pixels without a convention)."""
        convention = like.convention if like is not None else "pixel"
        if convention != "resized":
            return CoordinateSpace(image.width, image.height, convention)
        height, width = smart_resize(image.height, image.width, max_pixels=self.limits.max_pixels)
        return CoordinateSpace(image.width, image.height, convention, width, height)

    def _coords(self) -> CoordinateSpace:
        state = self._state()
        image = self._image()
        return state.space or CoordinateSpace(image.width, image.height, "pixel")

    def _call(self, func: Callable[..., ToolResult], arguments: dict[str, Any]) -> list[dict]:
        """Run one tool call under the limits; always returns content parts."""
        state = self._state()
        state.calls += 1
        start = time.perf_counter()
        result = self._execute(func, arguments, state)
        if not result.text.startswith("Error:"):
            images = [fit_pixels(im.convert("RGB"), self.limits.max_pixels) for im in result.images]
            if state.n_images + len(images) > self.limits.max_images:
                result = ToolResult(
                    f"Error: the image limit of this episode ({self.limits.max_images} tool images) is reached; "
                    "answer with what you have seen."
                )
            else:
                result = ToolResult(result.text, images, result.canvas, result.origins)
                state.n_images += len(images)
                for i, image in enumerate(images):
                    source, region = result.origins[i] if i < len(result.origins) else (0, None)
                    state.observations.append(Observation(image, self._space_of(image, state.space), source, region))
                if result.canvas is not None:
                    state.canvas = result.canvas
        state.history.append(
            {
                "name": func.__name__,
                "arguments": arguments,
                "ok": not result.text.startswith("Error:"),
                "text": result.text,
                "n_images": len(result.images),
                "seconds": round(time.perf_counter() - start, 4),
            }
        )
        return [{"type": "image", "image": im} for im in result.images] + [{"type": "text", "text": result.text}]

    def _execute(self, func: Callable[..., ToolResult], arguments: dict[str, Any], state: Episode) -> ToolResult:
        name = func.__name__
        if state.calls > self.limits.max_calls:
            return ToolResult(
                f"Error: the tool call limit ({self.limits.max_calls} calls) is reached; give your final answer now."
            )
        problem = _signature_problem(func, arguments)
        if problem:
            return ToolResult(f"Error: {problem}")
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"vlmr-tool-{name}")
        try:
            return executor.submit(func, self, **arguments).result(timeout=self.limits.time_limit)
        except ToolArgumentError as e:
            return ToolResult(f"Error: {e}")
        except concurrent.futures.TimeoutError:
            logger.warning("tool %s exceeded its %.1f s time limit", name, self.limits.time_limit)
            return ToolResult(
                f"Error: {name} took longer than its {self.limits.time_limit:g} s time limit and was abandoned; "
                "try a smaller request or answer without it."
            )
        except Exception as e:  # a tool bug or unreadable media must not end the rollout
            logger.warning("tool %s failed on %r: %s: %s", name, arguments, type(e).__name__, e)
            return ToolResult(f"Error: {name} failed ({type(e).__name__}: {e}).")
        finally:
            executor.shutdown(wait=False)


def _signature_problem(func: Callable, arguments: Any) -> str | None:
    """A message if ``arguments`` do not fit ``func``'s parameters (unknown or missing names)."""
    params = list(inspect.signature(func).parameters.values())[1:]  # drop the environment
    described = ", ".join(p.name + ("" if p.default is inspect.Parameter.empty else " (optional)") for p in params)
    if not isinstance(arguments, dict):
        return f"arguments of {func.__name__} must be an object with keys {described}."
    unknown = sorted(set(arguments) - {p.name for p in params})
    missing = [p.name for p in params if p.default is inspect.Parameter.empty and p.name not in arguments]
    if unknown:
        return f"{func.__name__} got unknown argument(s) {unknown}; its arguments are: {described}."
    if missing:
        return f"{func.__name__} is missing required argument(s) {missing}; its arguments are: {described}."
    return None


def _as_method(func: Callable[..., ToolResult], convention: str | None) -> Callable[..., list[dict]]:
    """Wrap a registered tool as a guarded environment method with the model-facing docstring."""

    @functools.wraps(func)
    def method(self: ToolEnvironment, /, **arguments: Any) -> list[dict]:  # a model's "self" argument is a name
        return self._call(func, arguments)

    method.__doc__ = (func.__doc__ or "").replace("{coords}", COORDINATE_PHRASES[convention])
    return method


def make_environment(
    tools: str | Sequence[str] = "image",
    limits: ToolLimits | None = None,
    convention: str | None = None,
) -> type[ToolEnvironment]:
    """A :class:`ToolEnvironment` subclass exposing exactly ``tools`` (names or set names).

    Pass the class itself as trl's ``environment_factory``. ``convention`` (the model's
    coordinate convention, e.g. ``"resized"``) is stated in the tools' docstrings.
    """
    if convention not in COORDINATE_PHRASES:
        raise ValueError(f"unknown convention {convention!r}; choose one of {list(COORDINATE_PHRASES)}")
    names = resolve_tools(tools)
    attrs: dict[str, Any] = {name: _as_method(get_tool(name).func, convention) for name in names}
    attrs.update(tool_names=tuple(names), limits=limits or ToolLimits(), __module__=__name__)
    attrs["__doc__"] = f"Visual tool environment with tools {', '.join(names) or '(none)'}."
    return type("VisualToolEnv", (ToolEnvironment,), attrs)


def make_environments(
    task_tools: dict[str, str | Sequence[str]], limits: ToolLimits | None = None, convention: str | None = None
) -> dict[str, type[ToolEnvironment]]:
    """One environment class per name (e.g. per task), for trl's multi-environment mode.

    The dataset then needs an ``environment`` column holding one of the keys.
    """
    return {name: make_environment(tools, limits, convention) for name, tools in task_tools.items()}
