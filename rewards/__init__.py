"""vlmr rewards: trl-compatible reward functions on one metric core, registered by name.

>>> from vlmr.rewards import get_reward
>>> r = get_reward("iou", threshold=0.5)
>>> r(["<think>the dog</think><answer>{\\"bbox_2d\\": [10, 20, 110, 220]}</answer>"],
...   answer=[{"boxes": [[10, 20, 110, 220]]}])
[1.0]
"""

from vlmr.rewards import (  # noqa: F401
    accuracy,
    boxes,
    counting,
    curiosity,
    format,
    judge,
    masks,
    penalties,
    points,
    tool_use,
)
from vlmr.rewards.base import Reward, completion_text, count_tool_calls
from vlmr.rewards.masks import Segmenter
from vlmr.rewards.registry import build_rewards, get_reward, list_rewards, register_reward

__all__ = [
    "Reward",
    "Segmenter",
    "build_rewards",
    "completion_text",
    "count_tool_calls",
    "get_reward",
    "list_rewards",
    "register_reward",
]
