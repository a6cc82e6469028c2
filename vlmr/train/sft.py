"""SFT cold start on trl's ``SFTTrainer``: single-turn answers and multi-turn tool trajectories.

A sample's SFT target is its ``cot``: a string (think + answer, or a thought that the
ground-truth answer is appended to), or a list of assistant turns whose
``<tool_call>`` blocks are *executed* with the same tool environment GRPO uses, so
the tool messages (and their images) the model learns from are exactly what it will
see in RL. Coordinates in ``cot`` are original pixels and converted to the model's
convention here. Loss is on assistant tokens only (tool outputs are not trained on).
"""

from __future__ import annotations

import logging
from pathlib import Path

from vlmr.chat_templates import training_chat_template
from vlmr.config import ConfigError, TrainConfig
from vlmr.conversation import FramePolicy, build_conversation
from vlmr.dataset import prepared_samples, to_hf_dataset
from vlmr.formats import CoordinateSpace
from vlmr.prompts import assistant_text, to_model_coordinates
from vlmr.schema import Sample
from vlmr.train.callbacks import attach_callbacks, default_callbacks
from vlmr.train.collator import ToolConversationCollator
from vlmr.train.data import frame_policy, mix, system_prompt
from vlmr.train.model import load_for_training, peft_config, save_final, size_report
from vlmr.train.resume import train_resuming

logger = logging.getLogger(__name__)


def trajectory_turns(turns: list[dict], space: CoordinateSpace | None, env) -> tuple[list[dict], list]:
    """Assistant turns of a stored trajectory, each tool call executed in ``env``.

    Returns ``(messages, tool_images)``: assistant and tool messages in order, and the
    images the tools returned (their placeholders sit in the tool messages).
    """
    from vlmr.tools.parsing import parse_tool_calls

    messages, images = [], []
    for turn in turns:
        if turn.get("role") != "assistant":
            continue  # tool results are regenerated below, never taken from the record
        text = to_model_coordinates(turn["content"], space)
        messages.append({"role": "assistant", "content": [{"type": "text", "text": text}]})
        for call in parse_tool_calls(text):
            method = getattr(env, call.name, None) if call.error is None else None
            parts = method(**call.arguments) if method else [{"type": "text", "text": f"Error: {call.error}"}]
            content = []
            for part in parts:
                if part["type"] == "image":
                    images.append(part["image"])
                    content.append({"type": "image"})
                else:
                    content.append(part)
            messages.append({"role": "tool", "name": call.name, "content": content})
    return messages, images


def collator_tools(tools: dict[str, list[str]], env_classes: dict[str, type]) -> dict[str, list]:
    """The collator's tool functions (what the chat template renders as schemas) per task, keyed as
    :func:`sft_row` names a row's tools: the task's configured names, comma-joined."""
    return {",".join(names): [getattr(env_classes[task](), name) for name in env_classes[task].tool_names]
            for task, names in tools.items()}


def sft_row(root: str | Path, sample: Sample, space: CoordinateSpace | None, tools: list[str] | None,
            system: str | None, env_cls=None, images: list | None = None, frames: FramePolicy = FramePolicy()) -> dict:
    """One SFT conversation: the sample's conversation (:func:`vlmr.conversation.build_conversation`;
    ``images``: decoded images of a sample made in memory), then its target turns."""
    conversation = build_conversation(sample, root, space, tools, system, frames, images)
    images = list(conversation.images)
    if isinstance(sample.cot, list):
        if env_cls is None:
            raise ConfigError(f"sample {sample.id!r} has a tool trajectory but its task {sample.task!r} has no "
                              "tools in the config; add e.g. tools: {" + sample.task + ": [zoom_in]}")
        env = env_cls()
        env.reset(**conversation.env_row)  # the row GRPO's environment and the inference loop receive
        turns, tool_images = trajectory_turns(sample.cot, space, env)
        images += tool_images
    else:
        turns = [{"role": "assistant", "content": [{"type": "text", "text": assistant_text(sample, space)}]}]
    return {"messages": conversation.messages + turns, "images": images, "tools": ",".join(tools or [])}


def sft_rows(cfg: TrainConfig, family: str, env_classes: dict) -> list[dict]:
    """SFT conversations of the whole mix (weights as in :func:`vlmr.train.data.mix`)."""
    def rows_of(spec):
        return [
            sft_row(spec.path, sample, space, cfg.tools.get(sample.task), system_prompt(cfg),
                    env_classes.get(sample.task), frames=frame_policy(cfg))
            for sample, space in prepared_samples(spec.path, family, cfg.min_pixels, cfg.max_pixels, spec.limit)
        ]

    return mix(cfg, rows_of)


def train_sft(cfg: TrainConfig, resume: bool | str = False) -> Path:
    """Run SFT for ``cfg``; returns the final checkpoint dir (``<output_dir>/final``).

    ``resume``: ``True`` (the last checkpoint in ``output_dir``) or a checkpoint path.
    """
    from trl import SFTConfig, SFTTrainer

    from vlmr.tools.environment import make_environment

    model, processor, family, loaded = load_for_training(cfg)  # `loaded` has the processor's pixel limits
    env_classes = {task: make_environment(names) for task, names in cfg.tools.items()}
    rows = sft_rows(loaded, family, env_classes)
    dataset = to_hf_dataset(rows)
    tool_lists = collator_tools(cfg.tools, env_classes)
    defaults = {"report_to": ["tensorboard"], "logging_steps": 1, "save_strategy": "steps", "save_steps": 50}
    if len({bool(row["images"]) for row in rows}) > 1:  # a text-only batch leaves the vision tower unused (DDP)
        defaults["ddp_find_unused_parameters"] = True
    try:
        args = SFTConfig(output_dir=cfg.output_dir, seed=cfg.seed, remove_unused_columns=False,
                         dataset_kwargs={"skip_prepare_dataset": True}, **{**defaults, **cfg.trainer})
    except TypeError as e:
        raise ConfigError(f"trainer: {e} (keys under 'trainer:' must be trl SFTConfig fields)") from e
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=processor, peft_config=peft_config(cfg),
        data_collator=ToolConversationCollator(processor, tool_lists, args.max_length, training_chat_template(processor, family)),
        callbacks=default_callbacks(cfg),
    )
    attach_callbacks(trainer)
    logger.info("process %d of %d; %d training conversations", args.process_index, args.world_size, len(dataset))
    logger.info(size_report(trainer.model, args.per_device_train_batch_size, args.max_length or 1024,
                            checkpointing=args.gradient_checkpointing))
    train_resuming(trainer, resume)
    return save_final(trainer, processor, cfg, family, "sft")
