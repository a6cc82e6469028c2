"""Model side of a training run: load, freeze, wrap with LoRA, size estimate, save."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from pathlib import Path

from vlmr.chat_templates import prepare_for_tools
from vlmr.config import TrainConfig
from vlmr.models import load_model_and_processor, model_family, pixel_limits, save_checkpoint

logger = logging.getLogger(__name__)


def vision_tower(model):
    """The vision encoder module of a VLM (``None`` if the architecture has none we know)."""
    inner = getattr(model, "model", model)
    for name in ("visual", "vision_tower", "vision_model"):
        module = getattr(inner, name, None)
        if module is not None:
            return module
    return None


def load_for_training(cfg: TrainConfig):
    """``(model, processor, family, cfg)`` for ``cfg``; the vision tower frozen if asked, and a chat template
    that renders tools when the config has tools (:func:`vlmr.chat_templates.prepare_for_tools`).

    The returned config carries the pixel limits the processor applies (the checkpoint's own where ``cfg``
    sets none), so the coordinates training writes are those of the images the model sees.
    """
    model, processor = load_model_and_processor(
        cfg.model, dtype=cfg.dtype,
        min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels,
    )
    model.train()
    if cfg.tools:
        prepare_for_tools(processor, model_family(model))
    family = cfg.family or model_family(model)
    if cfg.freeze_vision_tower:
        tower = vision_tower(model)
        if tower is None:
            raise ValueError(f"freeze_vision_tower: no vision tower found on {type(model).__name__}")
        tower.requires_grad_(False)
    min_pixels, max_pixels = pixel_limits(processor, family)
    cfg = replace(cfg, min_pixels=min_pixels or cfg.min_pixels, max_pixels=max_pixels or cfg.max_pixels)
    return model, processor, family, cfg


def peft_config(cfg: TrainConfig):
    """A ``peft.LoraConfig`` from ``cfg.peft`` (``None`` for full training)."""
    if not cfg.peft:
        return None
    try:
        from peft import LoraConfig
    except ImportError as e:
        raise ImportError("LoRA needs peft: pip install 'vlmr[peft]'") from e
    return LoraConfig(**{"task_type": "CAUSAL_LM", **cfg.peft})


def size_report(model, num_sequences: int, seq_len: int, frozen_copies: int = 0,
                checkpointing: bool = False) -> str:
    """One line estimating training memory per device: weights + grads + Adam states + activations.

    ``model`` is the model as trained (after LoRA wrapping, so the trainable count is real);
    ``frozen_copies`` counts extra full copies held in memory (GRPO's reference model when
    ``beta > 0``); ``checkpointing`` keeps ~2 activations per layer instead of ~16. A rough
    upper bound meant to tell what fits before a long run starts, rather than after hours of
    loading and generating end in an out-of-memory error.

    >>> import torch
    >>> size_report(torch.nn.Linear(1000, 1000), num_sequences=1, seq_len=1).split(";")[0]
    '1.00M parameters (1.00M trainable)'
    """
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    bytes_per = params[0].element_size()
    static = total * bytes_per * (1 + frozen_copies) + trainable * (bytes_per + 8)  # + grads, Adam m, v (fp32)
    config = getattr(model, "config", None)
    text_config = config.get_text_config() if config is not None else None
    hidden = getattr(text_config, "hidden_size", 0)
    layers = getattr(text_config, "num_hidden_layers", 0)
    saved = 2 if checkpointing else 16  # tensors kept per layer for the backward pass
    activations = num_sequences * seq_len * hidden * layers * saved * bytes_per
    gib = (static + activations) / 2**30
    return (f"{total / 1e6:.2f}M parameters ({trainable / 1e6:.2f}M trainable); estimated training memory "
            f"~{gib:.2f} GiB per device for {num_sequences} sequences x {seq_len} tokens"
            f"{' + a reference model' if frozen_copies else ''} "
            "(lower max_pixels / num_generations / max_completion_length, or enable "
            "gradient_checkpointing / LoRA, if that does not fit)")


def run_settings(method: str, cfg: TrainConfig) -> dict:
    """What a stage is trained with (the method and every config field), as plain JSON values."""
    return json.loads(json.dumps({"method": method, **asdict(cfg)}, default=str))


def save_final(trainer, processor, cfg: TrainConfig, family: str, method: str) -> Path:
    """Save ``<output_dir>/final`` from the main process (others wait) with the run's metadata, and the
    trainer state (``log_history``: every logged metric) as ``<output_dir>/trainer_state.json``."""
    final = Path(cfg.output_dir) / "final"
    trainer.save_state()
    if trainer.accelerator.is_main_process:
        save_checkpoint(trainer.model, processor, final, {
            "family": family, "trained_with": method, "base_model": cfg.model,
            "global_step": trainer.state.global_step, "world_size": trainer.args.world_size,
            "settings": run_settings(method, cfg),  # a rerun with other settings is refused, not skipped
        })
    trainer.accelerator.wait_for_everyone()  # the next stage (or caller) reads `final` on every rank
    return final
