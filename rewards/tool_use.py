"""Tool-use reward: a bonus for using tools only when the answer is right (DeepEyes)."""

from __future__ import annotations

from typing import Any

from vlmr.rewards.base import Reward, count_tool_calls
from vlmr.rewards.registry import get_reward, register_reward


@register_reward("tool_use")
class ToolUseReward(Reward):
    """``bonus`` if the answer is correct and at least one tool was called, minus a cost per call.

    DeepEyes (Zheng et al., 2025) grants the tool bonus only on correct answers, so calling
    tools cannot be farmed on its own. Correctness is another reward (``correct_reward``,
    built with ``correct_params``) reaching ``correct_threshold``. Calls are counted from
    trl's structured ``tool_calls`` or ``<tool_call>`` tags.
    ``score = bonus * [correct and calls >= 1] - cost_per_call * calls``.

    Args:
        bonus: reward for a correct answer reached with tools (default 1.0).
        cost_per_call: subtracted per call, >= 0 (default 0.0).
        correct_reward: registry name of the correctness check (default ``"accuracy"``).
        correct_params: parameters of that reward (default none).
        correct_threshold: inner score counted as correct (default 1.0; e.g. 0.5 with ``iou``).

    Returns:
        A value in [-cost_per_call * calls, bonus], or ``None`` where the inner reward is ``None``.

    >>> r = ToolUseReward(cost_per_call=0.1)
    >>> tool = '<think>zoom</think><tool_call>{"name": "crop", "arguments": {}}</tool_call>'
    >>> r([tool + "<answer>B</answer>", tool + "<answer>C</answer>", "<answer>B</answer>"],
    ...   answer=[{"choice": "B"}] * 3)
    [0.9, -0.1, 0.0]
    """

    def __init__(
        self,
        bonus: float = 1.0,
        cost_per_call: float = 0.0,
        correct_reward: str = "accuracy",
        correct_params: dict[str, Any] | None = None,
        correct_threshold: float = 1.0,
    ):
        if cost_per_call < 0:
            raise ValueError(f"cost_per_call must be >= 0, got {cost_per_call}")
        if correct_reward == "tool_use":
            raise ValueError("correct_reward cannot be 'tool_use' itself")
        self.bonus = float(bonus)
        self.cost_per_call = float(cost_per_call)
        self.correct_threshold = float(correct_threshold)
        self.correct = get_reward(correct_reward, **(correct_params or {}))

    @property
    def columns(self) -> tuple[str, ...]:
        """What the correctness reward reads."""
        return self.correct.columns

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        inner = self.correct.score(prediction, answer, **context)
        if inner is None:
            return None
        calls = context.get("n_tool_calls")
        calls = count_tool_calls(prediction) if calls is None else int(calls)
        gained = self.bonus if inner >= self.correct_threshold and calls >= 1 else 0.0
        return round(gained - self.cost_per_call * calls, 10)
