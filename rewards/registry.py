"""Rewards by name: the decorator that registers them and the factory a config calls.

>>> sorted(list_rewards())[:3]
['accuracy', 'box_l1', 'box_points']
>>> get_reward("iou", threshold=0.5).__name__
'iou'
>>> get_reward("ioo")
Traceback (most recent call last):
    ...
vlmr.registry.UnknownNameError: unknown reward 'ioo'; known rewards: accuracy, box_l1, box_points, ...

A reward of your own is named by import path (``my_pkg.rewards:MyReward``) in a config.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from vlmr.registry import lookup, register_class
from vlmr.rewards.base import Reward

_REGISTRY: dict[str, type[Reward]] = {}


def register_reward(name: str) -> Callable[[type[Reward]], type[Reward]]:
    """Class decorator: register a :class:`Reward` subclass under a snake_case ``name``."""
    return lambda cls: register_class(_REGISTRY, name, cls, "reward")


def reward_class(name: str) -> type[Reward]:
    """The :class:`Reward` subclass registered as ``name`` or at the import path ``name``."""
    return lookup(_REGISTRY, name, "reward", check=(_is_reward_class, "a Reward subclass"),
                  choices=lambda names: f"known rewards: {', '.join(names)}")


def _is_reward_class(obj: Any) -> bool:
    return inspect.isclass(obj) and issubclass(obj, Reward)


def list_rewards() -> list[str]:
    """Names of all registered rewards, sorted."""
    return sorted(_REGISTRY)


def get_reward(name: str, **params: Any) -> Reward:
    """Build the reward registered as ``name`` (or at the import path ``name``) with its parameters
    (validated by the class).

    Raises ``KeyError`` listing the known names, ``TypeError`` for an unknown parameter.
    """
    cls = reward_class(name)
    try:
        return cls(**params)
    except TypeError as err:
        raise TypeError(f"reward {name!r}: {err}; see help({cls.__module__}.{cls.__qualname__})") from err


def build_rewards(specs: list[dict[str, Any]]) -> tuple[list[Reward], list[float]]:
    """Rewards and weights from a config list like ``[{"name": "iou", "weight": 1.0, "threshold": 0.5}]``.

    >>> funcs, weights = build_rewards([{"name": "iou", "threshold": 0.5}, {"name": "format", "weight": 0.5}])
    >>> [f.__name__ for f in funcs], weights
    (['iou', 'format'], [1.0, 0.5])
    """
    funcs, weights = [], []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or "name" not in spec:
            raise ValueError(f"rewards[{i}] must be a mapping with a 'name' key, got {spec!r}")
        params = {k: v for k, v in spec.items() if k not in ("name", "weight")}
        funcs.append(get_reward(spec["name"], **params))
        weights.append(float(spec.get("weight", 1.0)))
    return funcs, weights
