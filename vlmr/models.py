"""Load any vision-language checkpoint (local dir or hub id), describe it by its config, save one atomically.

One loader for every entry point (train, infer, eval, demo)::

    model, processor = load_model_and_processor("Qwen/Qwen2.5-VL-3B-Instruct", max_pixels=1280 * 28 * 28)
    model_family(model)                     # "qwen2_5_vl" -> vlmr.formats picks the coordinate convention
    vision_placeholder_token_ids(processor, model.config)   # ids never to sample (image/video pads, ...)

Nothing here knows about particular checkpoints: behaviour follows ``config.model_type``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from vlmr.families import family_for_model_type, get_family
from vlmr.schema import temporary_sibling

logger = logging.getLogger(__name__)

META_FILE = "vlmr_meta.json"  # beside every checkpoint vlmr writes: family, settings, provenance

# Config attributes that hold the ids of vision placeholder / delimiter tokens across VLM families
# (Qwen2/2.5/3-VL: image/video pads + vision start/end; LLaVA-style: image_token_index).
_CONFIG_PLACEHOLDER_ATTRS = (
    "image_token_id",
    "video_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
    "image_token_index",
    "video_token_index",
)
# Processor/tokenizer attributes naming placeholder tokens (string form, converted with the tokenizer).
_PROCESSOR_PLACEHOLDER_ATTRS = ("image_token", "video_token", "vision_start_token", "vision_end_token")


def load_model_and_processor(
    name_or_path: str,
    dtype: str | Any = "auto",
    device: str | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    attn_implementation: str | None = None,
    trust_remote_code: bool = False,
):
    """Load a vision-language model and its processor with the ``Auto`` classes.

    Args:
        name_or_path: local checkpoint directory or hub id (e.g. ``Qwen/Qwen2.5-VL-3B-Instruct``).
        dtype: torch dtype or its name (``"bfloat16"``); ``"auto"`` keeps the checkpoint's dtype.
        device: move the model there (``"cpu"``, ``"cuda"``, ``"cuda:1"``); ``None`` leaves it on CPU.
        min_pixels: smallest image area after resizing (Qwen-VL processors); ``None`` keeps the checkpoint's.
        max_pixels: largest image area after resizing; lower it to save memory and time.
        attn_implementation: e.g. ``"sdpa"``, ``"flash_attention_2"``; ``None`` lets transformers choose.
        trust_remote_code: allow code shipped with the checkpoint (off by default; vlmr never needs it).

    Returns:
        ``(model, processor)``; the model is in eval mode.
    """
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    if isinstance(dtype, str) and dtype != "auto":
        if not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise ValueError(
                f"unknown dtype {dtype!r}; use 'auto' or a torch dtype name like 'bfloat16' or 'float32'"
            )
        dtype = getattr(torch, dtype)
    if min_pixels is not None and max_pixels is not None and min_pixels > max_pixels:
        raise ValueError(
            f"min_pixels={min_pixels} is larger than max_pixels={max_pixels}; swap or lower them"
        )

    processor = AutoProcessor.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    model_kwargs = {"dtype": dtype, "trust_remote_code": trust_remote_code}
    if attn_implementation is not None:
        model_kwargs["attn_implementation"] = attn_implementation
    model = AutoModelForImageTextToText.from_pretrained(name_or_path, **model_kwargs)
    if device is not None:
        model = model.to(device)
    model.eval()
    family = model_family(model)
    set_pixel_limits(processor, min_pixels=min_pixels, max_pixels=max_pixels, family=family)
    logger.info("loaded %s (%s, family %s)", name_or_path, type(model).__name__, family)
    if family == "generic":
        logger.warning(
            "no vlmr model family claims model_type %r: text-and-image questions only, no tools (vlmr knows no "
            "tool-call format for it), and its boxes are read as original-image pixels, unverified; name or register "
            "its family (--family, docs/extending.md)", getattr(model.config, "model_type", None))
    return model, processor


def set_pixel_limits(processor, min_pixels: int | None = None, max_pixels: int | None = None,
                     family: str = "qwen2_5_vl") -> bool:
    """Set the image-area limits of a processor's image and video processors in place.

    The family decides the knob (:meth:`vlmr.families.ModelFamily.set_pixel_limits`): Qwen-VL's ``size``
    ``shortest_edge``/``longest_edge``, InternVL's ``min_patches``/``max_patches`` tiles, SmolVLM's longest edge. ``None`` keeps the
    current value.

    Returns:
        True if at least one sub-processor took the limits; False (and a warning) if none has the family's knob.
    """
    if min_pixels is None and max_pixels is None:
        return True
    spec = get_family(family)
    subs = (getattr(processor, "image_processor", None), getattr(processor, "video_processor", None))
    applied = [spec.set_pixel_limits(sub, min_pixels, max_pixels) for sub in subs if sub is not None]
    if not any(applied):
        logger.warning("%s does not size images by pixel area (no %s pixel-limit setting); ignoring "
                       "min_pixels/max_pixels", type(processor).__name__, family)
    return any(applied)


def pixel_limits(processor, family: str = "qwen2_5_vl") -> tuple[int | None, int | None]:
    """``(min_pixels, max_pixels)`` the processor resizes images to; ``(None, None)`` without the family's knob."""
    return get_family(family).pixel_limits(getattr(processor, "image_processor", None))


def model_family(model_or_config) -> str:
    """The ``vlmr.formats`` family of a model or config, from ``config.model_type`` (``generic`` if unknown).

    >>> from transformers import Qwen2_5_VLConfig
    >>> model_family(Qwen2_5_VLConfig())
    'qwen2_5_vl'
    """
    config = getattr(model_or_config, "config", model_or_config)
    return family_for_model_type(getattr(config, "model_type", None))


def vision_placeholder_token_ids(processor, config=None) -> list[int]:
    """Token ids a model must never generate: image/video placeholders and vision delimiters.

    Sampling one of them (likely with random or tiny models) makes the next forward pass fail with
    "Image features and image tokens do not match". Pass the result to generation as
    ``suppress_tokens`` (e.g. ``GRPOConfig(generation_kwargs={"suppress_tokens": ids})``).

    Args:
        processor: a processor (or tokenizer) with ``image_token``/``video_token`` attributes where the family has them.
        config: the model config, read for ``image_token_id``, ``vision_start_token_id``, ... and for its family's
            ``placeholder_tokens`` (optional).

    Returns:
        Sorted, unique token ids (never the eos or pad token).
    """
    tokenizer = getattr(processor, "tokenizer", processor)
    ids: set[int] = set()
    tokens = [getattr(processor, attr, None) for attr in _PROCESSOR_PLACEHOLDER_ATTRS]
    if config is not None:
        tokens += get_family(model_family(config)).placeholder_tokens
    for token in tokens:
        if isinstance(token, str):
            token_id = tokenizer.convert_tokens_to_ids(token)
            if token_id is not None and token_id != tokenizer.unk_token_id:
                ids.add(int(token_id))
    if config is not None:
        for attr in _CONFIG_PLACEHOLDER_ATTRS:
            value = getattr(config, attr, None)
            if isinstance(value, int) and value >= 0:
                ids.add(value)
    ids -= {tokenizer.eos_token_id, tokenizer.pad_token_id}
    return sorted(ids)


def save_checkpoint(model, processor, out_dir: str | Path, meta: dict) -> Path:
    """``save_pretrained`` model + processor (with chat template) and ``vlmr_meta.json``, atomically:
    everything goes to a temporary sibling that is renamed into place, so ``out_dir`` is
    either complete or absent (a killed run never leaves a half-written checkpoint)."""
    out_dir = Path(out_dir)
    model = model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(out_dir)
    try:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("saved checkpoint to %s", out_dir)
    return out_dir


def is_complete(checkpoint: str | Path) -> bool:
    """Whether ``checkpoint`` is a finished :func:`save_checkpoint` directory."""
    return (Path(checkpoint) / META_FILE).is_file() and (Path(checkpoint) / "config.json").is_file()
