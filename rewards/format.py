"""Format rewards: is the completion ``<think>...</think><answer>...</answer>``?"""

from __future__ import annotations

import json
import re
from typing import Any

from vlmr.rewards.base import Reward
from vlmr.rewards.parse import split_think_answer
from vlmr.rewards.registry import register_reward

_NO_TAG = r"(?:(?!</?(?:think|answer|tool_call|tool_response)>).)"
_THINK = rf"<think>{_NO_TAG}*</think>"
_TOOL_TURN = (
    rf"<tool_call>({_NO_TAG}*)</tool_call>\s*(?:<tool_response>{_NO_TAG}*</tool_response>\s*)?{_THINK}\s*"
)
_TOOL_FORMAT = re.compile(
    rf"\s*{_THINK}\s*(?:{_TOOL_TURN})*<answer>(?P<answer>{_NO_TAG}*)</answer>\s*", re.DOTALL
)
_TOOL_CALL = re.compile(rf"<tool_call>({_NO_TAG}*)</tool_call>", re.DOTALL)


def _valid_tool_call(payload: str) -> bool:
    try:
        call = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: a model's thousands of nested brackets
        return False
    return isinstance(call, dict) and isinstance(call.get("name"), str) and bool(call["name"])


@register_reward("format")
class FormatReward(Reward):
    """1.0 if the completion is exactly one thought then one non-empty answer, else 0.0.

    The R1 format reward (DeepSeek-R1, 2025): ``<think>...</think><answer>...</answer>`` with
    only whitespace around, no nested or misplaced tags and a non-blank answer. With
    ``allow_tools=True`` (DeepEyes-style), ``<tool_call>{json}</tool_call>`` turns may sit
    between thoughts, each followed by a new ``<think>``; every call must be valid JSON
    with a ``name``.

    Args:
        allow_tools: accept tool-call turns between thoughts (default False).

    Returns:
        1.0 or 0.0 for every completion (never ``None``).

    >>> FormatReward()(["<think>a cat</think><answer>B</answer>", "<answer>B</answer>", "<think>x</think><answer> </answer>"])
    [1.0, 0.0, 0.0]
    >>> FormatReward(allow_tools=True).score('<think>zoom</think><tool_call>{"name": "crop", "arguments": {}}</tool_call>'
    ...         '<think>a cat</think><answer>B</answer>')
    1.0
    """

    columns = ()  # the completion only

    def __init__(self, allow_tools: bool = False):
        self.allow_tools = bool(allow_tools)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float:
        if not self.allow_tools:
            _, ans = split_think_answer(prediction, strict=True)
            return 1.0 if ans else 0.0
        m = _TOOL_FORMAT.fullmatch(prediction or "")
        if not m or not m.group("answer").strip():
            return 0.0
        calls = _TOOL_CALL.findall(prediction)
        return 1.0 if all(_valid_tool_call(c) for c in calls) else 0.0
