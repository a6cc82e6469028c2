"""Training configuration: one YAML file, every field overridable from the command line.

vlmr's own fields live in :class:`TrainConfig` (documented in each field's ``help``);
everything under ``trainer:`` goes untouched to trl's ``GRPOConfig`` / ``SFTConfig``
(loss type, beta, num_generations, vLLM, gradient checkpointing, ...). Overrides use
``--key value`` or ``--trainer.learning_rate 1e-5``; values are parsed as YAML.
Unknown keys are an error, never silently ignored.

>>> cfg = TrainConfig.from_dict({"model": "runs/tiny", "datasets": [{"path": "data/shapes"}],
...                              "rewards": [{"name": "format"}], "output_dir": "runs/x"})
>>> cfg.datasets[0].weight, cfg.rewards[0]["name"]
(1.0, 'format')
>>> apply_overrides({"trainer": {"beta": 0.0}}, ["--trainer.beta", "0.04", "--seed", "3"])
{'trainer': {'beta': 0.04}, 'seed': 3}
"""

from __future__ import annotations

import difflib
import re
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-5`` (no dot) as a string; learning rates are written that way, so read it as a float."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+|\.[0-9_]+"
               r"(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Parse YAML safely, with ``1e-5``-style numbers read as floats."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


class ConfigError(ValueError):
    """A configuration value breaks a rule; the message names the key, the rule and the fix."""


def unknown_key(kind: str, key: str, known: list[str]) -> ConfigError:
    """The error for an unknown ``key`` of ``kind``, with the closest known keys as a suggestion."""
    close = difflib.get_close_matches(key, known, n=3)
    hint = f" Did you mean {close}?" if close else ""
    return ConfigError(f"unknown {kind} key {key!r}.{hint} Known keys: {sorted(known)}")


def _build(cls, data: dict[str, Any], kind: str):
    names = [f.name for f in fields(cls)]
    for key in data:
        if key not in names:
            raise unknown_key(kind, key, names)
    missing = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
               and f.name not in data]
    if missing:
        raise ConfigError(f"{kind} is missing required key(s) {missing}")
    return cls(**data)


@dataclass
class DatasetSpec:
    """A vlmr dataset directory in a training mix."""

    path: str = field(metadata={"help": "vlmr dataset directory (built by `vlmr data build`)."})
    weight: float = field(default=1.0, metadata={"help": "Relative sampling weight in the mix."})
    limit: int | None = field(default=None, metadata={"help": "Use at most this many samples."})

    def __post_init__(self):
        if self.weight <= 0:
            raise ConfigError(f"datasets: weight of {self.path!r} is {self.weight}; weights must be > 0")


@dataclass
class TrainConfig:
    """Everything a ``vlmr train`` run needs besides trl's own arguments."""

    model: str = field(metadata={"help": "Local checkpoint dir or hub id (e.g. Qwen/Qwen2.5-VL-3B-Instruct)."})
    output_dir: str = field(metadata={"help": "Where checkpoints, logs and samples go."})
    datasets: list[DatasetSpec] = field(metadata={"help": "Training mix: [{path, weight, limit}]."})
    rewards: list[dict[str, Any]] = field(default_factory=list, metadata={
        "help": "GRPO rewards: [{name, weight, **params}]; name: registered (vlmr.rewards.list_rewards()) or "
                "package.module:Class. Checked with every stage's tools and trainer keys before training starts."})
    eval_datasets: list[DatasetSpec] = field(default_factory=list, metadata={"help": "Held-out data for eval."})
    dtype: str = field(default="float32", metadata={
        "help": "Weights dtype at load (float32 for CPU; bfloat16 on GPUs, with trainer.bf16: true)."})
    family: str | None = field(default=None, metadata={
        "help": "Coordinate/resize family (qwen2_5_vl, qwen2_vl, qwen3_vl, generic); default from config.model_type."})
    min_pixels: int | None = field(default=None, metadata={"help": "Processor min pixels per image (None: model's)."})
    max_pixels: int | None = field(default=None, metadata={"help": "Processor max pixels per image: the memory knob."})
    tools: dict[str, list[str]] = field(default_factory=dict, metadata={
        "help": "Task -> tools the model may call (names, tool sets or package.module:function), e.g. "
                "{counting: [zoom_in]}. Empty: no tools."})
    max_tool_calls: int = field(default=3, metadata={"help": "Tool calls allowed per rollout."})
    frames: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "Video frame policy {fps, max_frames, min_pixels, max_pixels} (default 2 fps, 16 frames, as "
                "`vlmr eval run --benchmark dataset`; evaluate with the same --option fps=... if you change it). "
                "A record's video.sample_fps / max_frames win."})
    mask_over_turn: bool = field(default=False, metadata={
        "help": "GRPO with tools: leave out of the loss rollouts that used all max_tool_calls tool rounds and still "
                "asked for a tool (Mini-o3's ignore_exceed). trainer.mask_truncated_completions does the same for "
                "rollouts cut by max_completion_length."})
    tool_rate_alarm: dict[str, Any] | None = field(default_factory=lambda: {"floor": 0.05, "steps": 20}, metadata={
        "help": "GRPO with tools: warn once when the tool-call rate of the rollouts offered tools stays below "
                "'floor' for 'steps' steps in a row; null: off."})
    rollout: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "How GRPO runs tool rollouts: {loop: auto|async|trl, tool_workers, tool_timeout_s, batch_wait_s, "
                "batch_patience, retries}. async: each trajectory advances on its own, tools overlap generation "
                "(vlmr.train.async_rollout); trl: trl's loop, one barrier per tool turn; auto (default): async "
                "on the local model without ZeRO-3/FSDP (where it is tested equal to trl's loop), else trl."})
    system_prompt: str | None = field(default="default", metadata={
        "help": "'default' (the vlmr output-format prompt), a custom string, or null for none."})
    freeze_vision_tower: bool = field(default=False, metadata={"help": "Train only the language model + merger."})
    peft: dict[str, Any] | None = field(default=None, metadata={
        "help": "LoRA settings passed to peft.LoraConfig (r, lora_alpha, target_modules, ...); null: full training."})
    filter: dict[str, Any] | None = field(default=None, metadata={
        "help": "Difficulty filter from pre-rollouts: {num_rollouts, min_reward, max_reward, reward}."})
    stages: list[dict[str, Any]] = field(default_factory=list, metadata={
        "help": "Curriculum: a list of stages, each overriding datasets/rewards/trainer keys; run in order."})
    sample_every: int = field(default=50, metadata={"help": "Save a table of completions with images every N steps."})
    seed: int = field(default=42, metadata={"help": "Seed for data order, sampling and init."})
    trainer: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "Passed untouched to trl's GRPOConfig/SFTConfig (loss_type, beta, num_generations, ...)."})

    def __post_init__(self):
        self.datasets = [d if isinstance(d, DatasetSpec) else _build(DatasetSpec, d, "datasets entry")
                         for d in self.datasets]
        self.eval_datasets = [d if isinstance(d, DatasetSpec) else _build(DatasetSpec, d, "eval_datasets entry")
                              for d in self.eval_datasets]
        for i, spec in enumerate(self.rewards):
            if not (isinstance(spec, dict) and spec.get("name")):
                raise ConfigError(f"rewards[{i}] must be a mapping with a 'name', e.g. {{name: iou, weight: 1.0}}; got {spec!r}")
        if not self.datasets:
            raise ConfigError("datasets is empty: list at least one vlmr dataset dir, e.g. datasets: [{path: data/x}]")
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ConfigError(f"min_pixels={self.min_pixels} > max_pixels={self.max_pixels}; lower min_pixels")
        if self.max_tool_calls < 0:
            raise ConfigError(f"max_tool_calls={self.max_tool_calls}; use 0 or more")
        if self.mask_over_turn and not self.tools:
            raise ConfigError("mask_over_turn: true needs tools (it masks rollouts that ask for too many tool calls); "
                              "add tools: {task: [zoom_in]} or drop it")
        alarm = self.tool_rate_alarm
        if alarm is not None and not (isinstance(alarm, dict) and set(alarm) <= {"floor", "steps"}
                                      and 0 <= alarm.get("floor", 0.05) <= 1 and alarm.get("steps", 20) >= 1):
            raise ConfigError(f"tool_rate_alarm={alarm!r}; use {{floor: 0.05, steps: 20}} (floor in [0, 1], "
                              "steps >= 1) or null")
        for key in ("output_dir", "seed"):
            if key in self.trainer:
                raise ConfigError(f"trainer.{key} is set by vlmr; set the top-level '{key}' instead")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build and validate a config; unknown keys raise :class:`ConfigError` with suggestions."""
        return _build(cls, dict(data), "config")

    @classmethod
    def load(cls, path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
        """Read a YAML config and apply command-line ``overrides`` (``--key value`` pairs)."""
        try:
            data = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            raise ConfigError(f"{where}: not valid YAML ({getattr(e, 'problem', None) or e})") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
        return cls.from_dict(apply_overrides(data, overrides or []))

    def stage_configs(self) -> list[tuple[str, TrainConfig]]:
        """The curriculum as (name, config) pairs; a config without stages is one stage."""
        if not self.stages:
            return [("main", self)]
        base = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "stages"}
        out = []
        for i, stage in enumerate(self.stages):
            stage = dict(stage)
            name = stage.pop("name", f"stage{i + 1}")
            merged = {**base, **stage, "trainer": {**self.trainer, **stage.pop("trainer", {})}}
            merged["output_dir"] = str(Path(self.output_dir) / name)
            out.append((name, TrainConfig.from_dict(merged)))
        return out


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``["--a.b", "value", ...]`` to a nested dict; values are parsed as YAML scalars."""
    if len(overrides) % 2:
        raise ConfigError(f"overrides come in pairs '--key value', got {overrides}")
    data = dict(data)
    for flag, raw in zip(overrides[::2], overrides[1::2], strict=True):
        if not flag.startswith("--"):
            raise ConfigError(f"override {flag!r} must look like --key or --section.key")
        *parents, leaf = flag[2:].replace("-", "_").split(".")
        node = data
        for part in parents:
            node[part] = dict(node.get(part) or {})
            node = node[part]
        node[leaf] = load_yaml(raw)
    return data
