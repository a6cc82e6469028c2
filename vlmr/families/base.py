"""The model-family spec and its registry: one object says how an architecture sees images and calls tools.

A :class:`ModelFamily` is recognised by ``config.model_type`` and holds what vlmr must know to feed the
model and read its answers: the coordinate convention it was trained with, how its processor sizes an image
(and the processor setting behind ``max_pixels``), the placeholder tokens it must never sample, and its tool
format (vlmr's tool template in that format, where the published template renders no tools, plus the parser
of its tool calls). Families register by name and are looked up by name or ``package.module:Name`` (a family
of one's own, by import path), like rewards and tools:

>>> get_family("qwen2_5_vl").convention, get_family("internvl").convention
('resized', 'norm1000')
>>> family_for_model_type("internvl"), family_for_model_type("llava")
('internvl', 'generic')

Import-light: nothing here imports transformers, trl or torch (``vlmr.formats`` depends on it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vlmr.registry import lookup, register

FAMILIES: dict[str, ModelFamily] = {}  # name -> spec
_BY_MODEL_TYPE: dict[str, str] = {}  # transformers config.model_type -> family name
VIDEO_INPUTS = ("video", "images")  # ModelFamily.video_input

def hermes_tool_parser(start_anchor: str, end_of_turn: str) -> dict[str, Any]:
    """transformers ``response_template`` (parse_response, transformers >= 5.13) for Hermes tool calls in an assistant
    turn that opens with ``start_anchor`` and ends with ``end_of_turn`` (a regex).

    ``<tool_call>{json}</tool_call>`` blocks become ``tool_calls``, everything else (including <think>/<answer> text,
    which rewards read) stays ``content``. trl's own parser for Qwen3 templates moves <think> text to
    ``reasoning_content``, where vlmr's rewards never look.
    """
    return {
        "defaults": {"role": "assistant"},
        "start_anchor": start_anchor,
        "fields": {
            "tool_calls": {
                "open": "<tool_call>",
                "close_pattern": r"</tool_call>\s*",
                "repeats": True,
                "content": "json",
                "transform": {"type": "function", "function": "{content}"},
            },
            "content": {  # text before and after tool calls, joined (a plain field would keep only the last piece)
                "close_pattern": end_of_turn + r"\s*",
                "content": "text",
                "repeats": True,
                "join": "\n",
            },
        },
    }


# Hermes tool calls in ChatML turns (Qwen2/2.5/3 language models).
HERMES_TOOL_PARSER = hermes_tool_parser("<|im_start|>assistant\n", r"<\|im_end\|>")


def smart_resize(
    height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 16384
) -> tuple[int, int]:
    """Qwen-VL input size: sides rounded to multiples of ``factor``, area within the limits.

    Returns ``(height, width)``; the same rule as qwen-vl-utils and transformers.

    >>> smart_resize(480, 640)
    (476, 644)
    >>> smart_resize(3000, 4000, max_pixels=1280 * 28 * 28)
    (840, 1148)
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got height={height}, width={width}")
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio must be under 200, got {max(height, width) / min(height, width):.1f}")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass(frozen=True)
class ToolTemplate:
    """vlmr's tool-capable chat template (``vlmr/templates/<source>``) set up for one family.

    Hermes tools (a ``<tools>`` block before the first user text, ``<tool_call>`` JSON calls, ``<tool_response>``
    results in a user turn): the tool format of the Qwen2.5/Qwen3 language models most families are built on, in
    ChatML turns (``chat_template.jinja``) or in a family's own turns (Gemma 3, SmolVLM). A conversation without
    tools renders as under the family's published template.
    """

    default_system: str | None  # the system prompt the published template adds when a conversation has none
    image: str  # what one image part renders as (the processor expands it into the image's tokens)
    video: str  # what one video part renders as
    source: str = "chat_template.jinja"  # the template in vlmr/templates: ChatML turns, or the family's own turns


@dataclass(frozen=True)
class ModelFamily:
    """How one family of models sees images, writes coordinates and calls tools.

    The base class sizes images as Qwen-VL does (:func:`smart_resize`: sides multiple of
    ``patch_factor``, area within ``min_pixels..max_pixels``, read from and written to the image processor's
    ``size.shortest_edge``/``size.longest_edge``); a family that sizes images otherwise overrides
    :meth:`input_size`, :meth:`pixel_limits` and :meth:`set_pixel_limits`.
    """

    name: str
    model_types: tuple[str, ...]  # transformers config.model_type values of its checkpoints
    convention: str  # coordinate convention as trained (vlmr.formats.CONVENTIONS); source in the family's module
    patch_factor: int  # input sides are multiples of this (patch size x spatial merge)
    min_pixels: int  # the published processor's image-area limits
    max_pixels: int
    placeholder_tokens: tuple[str, ...] = ()  # vision placeholders and delimiters, never to be sampled
    tool_template: ToolTemplate | None = None  # vlmr's template in the family's tool format; None: none known
    tool_parser: dict[str, Any] | None = None  # transformers response_template reading its tool calls
    # How the published processor takes a clip's frames: "video" (one video part, expanded by its video processor)
    # or "images" (each frame an image part). vlmr shows frames as timestamped images either way (vlmr.conversation:
    # trl's trainers take images only); this records what the model was trained on.
    video_input: str = "video"

    def __post_init__(self):  # the convention is checked where a CoordinateSpace is built (vlmr.formats)
        if not 0 < self.min_pixels <= self.max_pixels:
            raise ValueError(f"family {self.name!r}: need 0 < min_pixels <= max_pixels, "
                             f"got {self.min_pixels} and {self.max_pixels}")
        if self.video_input not in VIDEO_INPUTS:
            raise ValueError(f"family {self.name!r}: video_input must be one of {VIDEO_INPUTS}, got {self.video_input!r}")

    def input_size(self, height: int, width: int, min_pixels: int | None = None,
                   max_pixels: int | None = None) -> tuple[int, int]:
        """``(height, width)`` of the model-input image for a ``height x width`` image (limits default to the family's)."""
        return smart_resize(height, width, self.patch_factor, min_pixels or self.min_pixels,
                            max_pixels or self.max_pixels)

    def pixel_limits(self, image_processor) -> tuple[int | None, int | None]:
        """``(min_pixels, max_pixels)`` an image processor of this family resizes to; ``None`` where unset."""
        size = getattr(image_processor, "size", None) or {}
        return size.get("shortest_edge"), size.get("longest_edge")

    def set_pixel_limits(self, image_processor, min_pixels: int | None, max_pixels: int | None) -> bool:
        """Set the image-area limits on ``image_processor`` in place (``None`` keeps one); False if it has no such knob."""
        size = getattr(image_processor, "size", None)
        if size is None or "shortest_edge" not in size or "longest_edge" not in size:
            return False
        size["shortest_edge"] = min_pixels if min_pixels is not None else size["shortest_edge"]
        size["longest_edge"] = max_pixels if max_pixels is not None else size["longest_edge"]
        return True


def register_family(family: ModelFamily) -> ModelFamily:
    """Register ``family`` under its name and its model types; returns it (so a module can write
    ``MY_FAMILY = register_family(ModelFamily(...))``)."""
    if not isinstance(family, ModelFamily):
        raise TypeError(f"a model family is a vlmr.families.ModelFamily, got {type(family).__name__}")
    for model_type in family.model_types:
        owner = _BY_MODEL_TYPE.get(model_type)
        if owner not in (None, family.name):
            raise ValueError(f"model_type {model_type!r} already belongs to family {owner!r}")
    register(FAMILIES, family.name, family, "model family")
    _BY_MODEL_TYPE.update(dict.fromkeys(family.model_types, family.name))
    return family


def get_family(name: str) -> ModelFamily:
    """The family registered as ``name`` (e.g. ``"qwen2_5_vl"``), or the :class:`ModelFamily` at
    ``"package.module:Name"`` (registered on first use, so its model types are recognised from then on)."""
    family = lookup(FAMILIES, name, "model family", check=(lambda f: isinstance(f, ModelFamily), "a ModelFamily"))
    if name not in FAMILIES:
        register_family(family)
    return family


def family_for_model_type(model_type: str | None) -> str:
    """The family name of a transformers ``config.model_type`` (``generic`` when no family claims it)."""
    return _BY_MODEL_TYPE.get(model_type or "", "generic")


def list_families() -> list[str]:
    """Names of the registered families."""
    return sorted(FAMILIES)
