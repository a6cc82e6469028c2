"""A training config's rewards, tools, segmenters, frame policy and trainer keys, checked once before anything trains.

Every name goes through its registry (a registered name or ``package.module:Name``); every
parameter is matched against the constructor it goes to, so a misspelt key fails at start-up
with a suggestion, for every curriculum stage at once, instead of when a later stage builds
its trainer. Rewards are built once here so their own value checks (ranges, choices) run too,
and the columns each declares it reads are checked against those vlmr rows carry.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from vlmr.config import ConfigError, TrainConfig, unknown_key

# What a bad registry name raises: an unknown name, an import path that does not import, a wrong kind.
_LOOKUP_ERRORS = (LookupError, ValueError, TypeError, ImportError, AttributeError)


def check_config(cfg: TrainConfig, method: str) -> None:
    """Raise :class:`~vlmr.config.ConfigError` for the first bad spec of any stage of ``cfg``."""
    for name, stage in cfg.stage_configs():
        try:
            for i, spec in enumerate(stage.rewards):
                check_reward(spec, f"rewards[{i}]")
            for task, tools in stage.tools.items():
                check_tools(tools, f"tools.{task}")
            check_trainer_keys(stage.trainer, method)
            check_frames(stage.frames)
            check_rollout(stage.rollout)
        except ConfigError as e:
            raise ConfigError(f"stage {name!r}: {e}" if cfg.stages else str(e)) from e


def check_reward(spec: dict[str, Any], where: str) -> None:
    """A reward spec ``{name, weight, **params}``: the name resolves, the parameters are the class's."""
    from vlmr.rewards.registry import reward_class

    cls = _resolve(reward_class, spec["name"], where)
    where = f"{where} ({spec['name']})"
    params = {k: v for k, v in spec.items() if k not in ("name", "weight")}
    _check_keys(cls, params, where, spec_keys=("name", "weight"))
    if not isinstance(spec.get("weight", 1.0), int | float) or isinstance(spec.get("weight"), bool):
        raise ConfigError(f"{where}: weight must be a number, got {spec['weight']!r}")
    segmenter = params.pop("segmenter", None)
    if isinstance(segmenter, str | dict):  # built by the trainer (it may load model weights)
        check_segmenter(segmenter, f"{where}.segmenter")
    try:
        reward = cls(**params)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {e}") from e
    check_reward_columns(reward, where)


def check_frames(frames: dict[str, Any]) -> None:
    """``frames:`` names :class:`~vlmr.conversation.FramePolicy` fields, each a positive number."""
    from vlmr.conversation import FramePolicy

    _check_keys(FramePolicy, frames, "frames", spec_keys=())
    for key, value in frames.items():
        if value is not None and not (isinstance(value, int | float) and not isinstance(value, bool) and value > 0):
            raise ConfigError(f"frames.{key} must be a positive number, got {value!r}")


def check_reward_columns(reward: Any, where: str) -> None:
    """Every column the reward declares (``columns``) is one that vlmr rows carry, so it reaches the
    reward in GRPO, the difficulty filter and the quickstart's roll-outs alike, never as a silent ``None``."""
    from vlmr.conversation import REWARD_COLUMNS

    missing = [c for c in reward.columns if c not in REWARD_COLUMNS]
    if missing:
        raise ConfigError(f"{where}: reads the column(s) {missing}, which vlmr rows do not carry "
                          f"(they carry {list(REWARD_COLUMNS)}); give the reward what it needs in 'answer'")


def check_segmenter(spec: str | dict[str, Any], where: str) -> None:
    """``NAME`` or ``{name: NAME, **constructor arguments}``; required arguments must be there."""
    from vlmr.tools.segmenters import segmenter_class

    if isinstance(spec, str):
        spec = {"name": spec}
    if not spec.get("name"):
        raise ConfigError(f"{where} must name a segmenter, e.g. {{name: sam2, model: facebook/sam2.1-hiera-tiny}}")
    cls = _resolve(segmenter_class, spec["name"], where)
    params = {k: v for k, v in spec.items() if k != "name"}
    _check_keys(cls, params, f"{where} ({spec['name']})", spec_keys=("name",))


def check_tools(tools: str | list[str], where: str) -> None:
    """Every tool or tool-set name resolves (registered names or import paths of registered tools)."""
    from vlmr.tools.registry import resolve_tools

    try:
        resolve_tools(tools)
    except _LOOKUP_ERRORS as e:
        raise ConfigError(f"{where}: {e}") from e


def check_trainer_keys(trainer: dict[str, Any], method: str) -> None:
    """Keys under ``trainer:`` are fields of trl's ``GRPOConfig`` (or ``SFTConfig`` for ``sft``)."""
    import dataclasses

    from trl import GRPOConfig, SFTConfig

    known = [f.name for f in dataclasses.fields(GRPOConfig if method == "grpo" else SFTConfig)]
    for key in trainer:
        if key not in known:
            raise unknown_key(f"trainer ({'GRPOConfig' if method == 'grpo' else 'SFTConfig'})", key, known)


def check_rollout(spec: dict[str, Any]) -> None:
    """The ``rollout:`` section builds (known keys, a known loop, valid values)."""
    from vlmr.train.async_rollout import rollout_options

    try:
        rollout_options(spec)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"rollout: {e}") from e


def _resolve(get: Callable[[str], Any], name: str, where: str) -> Any:
    try:
        return get(name)
    except _LOOKUP_ERRORS as e:
        raise ConfigError(f"{where}: {e}") from e


def _check_keys(target: Callable, params: dict[str, Any], where: str, spec_keys: tuple[str, ...]) -> None:
    """Each key of ``params`` is a keyword of ``target``'s signature; required ones are given."""
    signature = inspect.signature(target)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return  # takes any keyword: the constructor checks them itself
    keywords = [n for n, p in signature.parameters.items()
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    for key in params:
        if key not in keywords:
            raise unknown_key(where, key, [*spec_keys, *keywords])
    missing = [n for n in keywords if signature.parameters[n].default is inspect.Parameter.empty and n not in params]
    if missing:
        raise ConfigError(f"{where} needs {missing}")
