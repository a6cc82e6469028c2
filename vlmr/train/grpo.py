"""GRPO on trl's ``GRPOTrainer``: vlmr rewards, tool environments, placeholder suppression.

A thin wrapper: vlmr builds the dataset rows, the reward functions (registry), the tool
environment factory and the generation settings; trl does the rest (loss variants,
vLLM, PEFT, DeepSpeed). Everything under ``trainer:`` in the config reaches
``GRPOConfig`` untouched.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vlmr import trl_compat
from vlmr.config import ConfigError, TrainConfig
from vlmr.dataset import to_hf_dataset
from vlmr.models import vision_placeholder_token_ids
from vlmr.train.callbacks import attach_callbacks, default_callbacks
from vlmr.train.data import NO_TOOLS, longest_prompt, mix, prompt_rows
from vlmr.train.filtering import filter_rows
from vlmr.train.model import load_for_training, peft_config, save_final, size_report
from vlmr.train.resume import train_resuming

logger = logging.getLogger(__name__)


def build_reward_funcs(specs: list[dict[str, Any]]):
    """Reward callables and weights from config specs; ``segmenter: NAME`` is resolved to a backend."""
    from vlmr.rewards import build_rewards

    resolved = []
    for spec in specs:
        spec = dict(spec)
        segmenter = spec.get("segmenter")
        if isinstance(segmenter, str | dict):  # `segmenter: grabcut` or `segmenter: {name: sam2, model: ...}`
            from vlmr.tools.segmenters import get_segmenter

            spec["segmenter"] = get_segmenter(segmenter) if isinstance(segmenter, str) else get_segmenter(**segmenter)
        resolved.append(spec)
    return build_rewards(resolved)


def grpo_args(cfg: TrainConfig, weights: list[float], suppress: list[int], resume: bool = False,
              mixed_modality: bool = False):
    """``GRPOConfig`` from the config's ``trainer`` section plus what vlmr decides itself.

    ``mixed_modality`` (some rows have images, some none) makes DDP look for unused parameters:
    a rank whose batch has no image leaves the vision tower without gradients.
    """
    from trl import GRPOConfig

    trainer = dict(cfg.trainer)
    if cfg.tools:  # with tools vlmr masks cut rollouts itself (trl_compat patch 3); trl's flag breaks tool images
        trainer.pop("mask_truncated_completions", None)
    generation_kwargs = dict(trainer.pop("generation_kwargs", None) or {})
    # Random or early models sample vision placeholder tokens; in the loss step those count as image
    # tokens with no image behind them ("Image features and image tokens do not match"), so never sample them.
    generation_kwargs["suppress_tokens"] = sorted(set(generation_kwargs.get("suppress_tokens", [])) | set(suppress))
    defaults = {"report_to": ["tensorboard"], "logging_steps": 1, "num_completions_to_print": 0,
                "save_strategy": "steps", "save_steps": 50, "remove_unused_columns": False,
                **trl_compat.GRPO_DEFAULTS}
    if mixed_modality:
        defaults["ddp_find_unused_parameters"] = True
    try:
        return GRPOConfig(
            output_dir=cfg.output_dir, seed=cfg.seed, reward_weights=weights, generation_kwargs=generation_kwargs,
            max_tool_calling_iterations=cfg.max_tool_calls if cfg.tools else None, **{**defaults, **trainer},
        )
    except TypeError as e:
        raise ConfigError(f"trainer: {e} (keys under 'trainer:' must be trl GRPOConfig fields)") from e


def rollout_masks(cfg: TrainConfig) -> frozenset[str]:
    """Rollouts a run with tools leaves out of the loss (:data:`vlmr.trl_compat.MASKS`)."""
    wanted = (("truncated", cfg.trainer.get("mask_truncated_completions")), ("over_turn", cfg.mask_over_turn))
    return frozenset(name for name, on in wanted if on) if cfg.tools else frozenset()


def tool_environment_factory(cfg: TrainConfig):
    """trl ``environment_factory`` for the config's tools (``None`` when no task has tools).

    One environment per task with tools, plus one without tools for the other tasks, so each
    prompt shows exactly its task's tools (as SFT rendered them); rows select theirs through
    the ``environment`` column (:func:`vlmr.train.data.environment_name`).
    """
    if not cfg.tools:
        return None
    from vlmr.tools.environment import make_environment, make_environments

    return {**make_environments(cfg.tools), NO_TOOLS: make_environment([])}


def collective_generation(trainer) -> str | None:
    """What makes each generation call collective across processes (``None``: nothing does).

    Trajectories advancing on their own make a different number of calls on each process, so such a setup
    would hang: ZeRO-3 and FSDP gather the weights for every local ``generate``, colocated vLLM with tensor
    parallelism gathers the prompts of its group. (A vLLM server is asked per trajectory, without collectives.)
    """
    args = trainer.args
    if args.use_vllm:
        return ("colocated vLLM with vllm_tensor_parallel_size > 1"
                if args.vllm_mode == "colocate" and args.vllm_tensor_parallel_size > 1 else None)
    plugin = args.deepspeed_plugin
    if plugin is not None and plugin.zero_stage == 3:
        return "DeepSpeed ZeRO-3"
    return "FSDP" if trainer.is_fsdp_enabled else None


def use_async_rollout(trainer, cfg: TrainConfig) -> bool:
    """Run ``trainer``'s tool rollouts per trajectory when ``cfg.rollout`` asks for it; True if it does.

    ``loop: auto`` picks it on the local model without sharded weights: the setup it is tested equal to trl's
    loop in (``tests/train/test_async_rollout.py``).
    """
    from vlmr.train.async_rollout import rollout_options

    collective = collective_generation(trainer)
    try:
        options = rollout_options(cfg.rollout, auto=not trainer.args.use_vllm and collective is None)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"rollout: {e}") from e
    if options is None or not cfg.tools:
        return False
    if collective:
        raise ConfigError(f"rollout.loop: async cannot run with {collective}: each generation call is collective "
                          "there and trajectories advancing on their own would leave the processes waiting on each "
                          "other. Use rollout.loop: trl (or auto), or generate on a vLLM server (trainer.vllm_mode: "
                          "server).")
    if trl_compat.installed_minor() != trl_compat.WRITTEN_FOR:
        logger.warning("trl %s is installed; the per-trajectory rollout was written for trl %s: trl's loop runs",
                       trl_compat.installed_minor(), trl_compat.WRITTEN_FOR)
        return False
    trl_compat.patch_async_rollout(trainer, options)
    logger.info("tool rollouts run per trajectory (%d tool workers, %.0f s tool limit)", options.tool_workers,
                options.tool_timeout_s)
    return True


def build_grpo_trainer(cfg: TrainConfig, resume: bool | str = False):
    """``(trainer, processor, family)``: the ``GRPOTrainer`` vlmr runs for ``cfg``, ready to ``train()``.

    Rows are built (and difficulty-filtered if ``cfg.filter``), the start-up size report is logged.
    """
    from trl import GRPOTrainer

    funcs, weights = build_reward_funcs(cfg.rewards)
    if not funcs:
        raise ConfigError("GRPO needs at least one reward: add e.g. rewards: [{name: format}, {name: accuracy}]")
    model, processor, family, cfg = load_for_training(cfg)
    rows = mix(cfg, lambda spec: prompt_rows(cfg, spec.path, family, spec.limit))
    mixed_modality = len({bool(row["images"]) for row in rows}) > 1
    args = grpo_args(cfg, weights, vision_placeholder_token_ids(processor, model.config), mixed_modality=mixed_modality)
    if cfg.filter is not None:  # after the args: they set up the distributed state the filter shares work over
        rows = filter_rows(rows, model, processor, cfg, funcs, weights, resume=bool(resume))
    trainer = GRPOTrainer(
        model=model, reward_funcs=funcs, args=args, train_dataset=to_hf_dataset(rows), processing_class=processor,
        peft_config=peft_config(cfg), environment_factory=tool_environment_factory(cfg),
        callbacks=default_callbacks(cfg),
    )
    attach_callbacks(trainer)
    trl_compat.patch_trainer(trainer, tools=bool(cfg.tools), mixed_modality=mixed_modality, mask=rollout_masks(cfg))
    use_async_rollout(trainer, cfg)
    logger.info("process %d of %d; %d training prompts", args.process_index, args.world_size, len(rows))
    logger.info(size_report(trainer.model, args.per_device_train_batch_size,
                            longest_prompt(processor, rows) + args.max_completion_length,
                            frozen_copies=int(getattr(trainer, "ref_model", None) is not None),
                            checkpointing=args.gradient_checkpointing))
    return trainer, processor, family


def train_grpo(cfg: TrainConfig, resume: bool | str = False) -> Path:
    """Run GRPO for ``cfg``; returns the final checkpoint dir (``<output_dir>/final``).

    ``resume``: ``True`` (the last checkpoint in ``output_dir``) or a checkpoint path.
    """
    trainer, processor, family = build_grpo_trainer(cfg, resume)
    train_resuming(trainer, resume)
    return save_final(trainer, processor, cfg, family, "grpo")
