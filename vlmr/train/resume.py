"""Resuming restores the checkpoint's weights: a narrow patch for transformers' ``Trainer`` (5.x).

The bug (huggingface/transformers#43701, open): ``save_pretrained`` writes ``checkpoint-N`` in
the checkpoint layout of the hub (Qwen2.5-VL: ``model.layers.*``, ``visual.*``) while the model
in memory names its weights ``model.language_model.*``, ``model.visual.*``.
``Trainer._load_from_checkpoint`` reads the file with ``model.load_state_dict(strict=False)``
and never maps the names back: no tensor loads, a warning lists every key as missing and
unexpected, and training goes on from the base model's weights with the checkpoint's step,
optimizer and scheduler.

The fix: for a full-model checkpoint (not LoRA, DeepSpeed or FSDP, which transformers loads
its own way) the weights are read with ``from_pretrained``, which applies the model's key
mapping, and copied into the training model in place (the optimizer keeps its parameters).
:func:`train_resuming` patches the trainer it is given (that instance only) when a run resumes.
``tests/reliability/test_resume.py`` reproduces the unpatched loss of weights, so the day
transformers maps keys on resume that test says the patch can go.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

# weight files ``Trainer._save`` writes for a full (non-adapter) model, single-file or sharded
FULL_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                     "pytorch_model.bin.index.json")


def has_full_weights(checkpoint: str | Path) -> bool:
    """Whether ``checkpoint`` holds the weights of a whole model (as opposed to a LoRA adapter)."""
    return any((Path(checkpoint) / name).is_file() for name in FULL_WEIGHT_FILES)


def restore_weights(model, checkpoint: str | Path) -> None:
    """Copy the weights saved in ``checkpoint`` into ``model`` in place, names mapped as ``from_pretrained`` maps them.

    Every parameter and buffer of ``model`` must be found in the checkpoint (a strict load).
    """
    saved = type(model).from_pretrained(checkpoint, dtype=model.dtype)
    model.load_state_dict(saved.state_dict())
    logger.info("restored model weights from %s", checkpoint)


def _load_weights(trainer, resume_from_checkpoint: str, model=None) -> bool:
    """Restore the weights of a full-model checkpoint with mapped names; False where transformers loads its own way."""
    from transformers import PreTrainedModel

    target = trainer.model if model is None else model
    if (not isinstance(target, PreTrainedModel) or not has_full_weights(resume_from_checkpoint)
            or trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled):
        return False
    restore_weights(target, resume_from_checkpoint)
    return True


def patch_trainer(trainer) -> None:
    """Make ``trainer`` (this instance only) restore a full-model checkpoint's weights with mapped names."""
    original = trainer._load_from_checkpoint

    def _load_from_checkpoint(resume_from_checkpoint, model=None):
        if not _load_weights(trainer, resume_from_checkpoint, model):
            original(resume_from_checkpoint, model)

    trainer._load_from_checkpoint = _load_from_checkpoint


def train_resuming(trainer, resume: bool | str) -> None:
    """``trainer.train()``, resuming from ``resume`` (a checkpoint path, ``True`` for the last one in
    ``output_dir``, ``False`` for a fresh start) with the checkpoint's weights restored."""
    if resume:
        patch_trainer(trainer)
    trainer.train(resume_from_checkpoint=resume or None)
