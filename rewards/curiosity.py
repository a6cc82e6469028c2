"""Curiosity reward: a bonus for tool use while the group rarely uses tools (Pixel-Reasoner)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from vlmr.rewards.base import Reward, count_tool_calls, count_tool_results
from vlmr.rewards.registry import register_reward


@register_reward("curiosity")
class CuriosityReward(Reward):
    """Pixel-Reasoner's curiosity bonus and extra-call penalty, on each prompt's group of rollouts.

    RaPR is the fraction of a prompt's rollouts that call a tool at least once. A rollout with
    ``n >= 1`` calls scores ``scale * max(target_rate - RaPR, 0) / RaPR - extra_call_cost * (n - 1)``;
    one without calls scores 0. The bonus is largest when few rollouts of the group use a tool and
    vanishes once ``target_rate`` of them do, so it counters the policy dropping the tool without
    paying for tool use it already has. Calls are those that ran (trl's tool messages; a malformed
    ``<tool_call>`` the trainer could not parse earns nothing, else writing tags would farm the bonus);
    in plain-text completions the ``<tool_call>`` tags. Rollouts are grouped by the ``id`` column (the
    whole batch is one group without it); a group split across processes is counted per process.

    Pixel-Reasoner (Su et al., 2025; ``curiosity_driven_rl/.../experience_maker.py`` of
    TIGER-AI-Lab/Pixel-Reasoner) uses ``target_rate`` 0.3, ``extra_call_cost`` 0.05 and, for images,
    ``max(0.3 - RaPR, 0) / 2 / RaPR * 0.25``: ``scale`` 0.125 (0.1667 for videos, divided by 1.5).
    (The config's ``weight`` multiplies the whole score, the extra-call cost included.)

    Args:
        target_rate: the group tool-call rate from which on no bonus is paid, in (0, 1] (default 0.3).
        scale: scale of the bonus, >= 0 (default 0.125).
        extra_call_cost: subtracted per call after the first, >= 0 (default 0.05).
        tasks: tasks whose rows offer tools (default ``None``: every row); other rows score ``None``.

    Returns:
        A float per completion, ``None`` for rows of other tasks.

    >>> r = CuriosityReward()
    >>> call = '<tool_call>{"name": "zoom_in", "arguments": {}}</tool_call><answer>B</answer>'
    >>> r([call, "<answer>A</answer>", "<answer>A</answer>", "<answer>A</answer>"], id=["q1"] * 4)
    [0.025, 0.0, 0.0, 0.0]
    >>> r([call + call, call], id=["q2", "q2"])  # RaPR = 1: no bonus, one extra call
    [-0.05, 0.0]
    """

    name = "curiosity"
    columns = ("id", "task")  # rollouts of one prompt share its id; tasks pick where the bonus applies

    def __init__(self, target_rate: float = 0.3, scale: float = 0.125, extra_call_cost: float = 0.05,
                 tasks: Sequence[str] | None = None):
        if not 0 < target_rate <= 1:
            raise ValueError(f"target_rate must be in (0, 1], got {target_rate}")
        if scale < 0 or extra_call_cost < 0:
            raise ValueError(f"scale and extra_call_cost must be >= 0, got {scale} and {extra_call_cost}")
        self.target_rate = float(target_rate)
        self.scale = float(scale)
        self.extra_call_cost = float(extra_call_cost)
        self.tasks = None if tasks is None else list(tasks)

    def bonus(self, calls: int, rate: float) -> float:
        """The score of a rollout with ``calls`` tool calls in a group whose tool-call rate is ``rate``."""
        if calls < 1:
            return 0.0
        curiosity = self.scale * max(self.target_rate - rate, 0.0) / rate
        return round(curiosity - self.extra_call_cost * (calls - 1), 10)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        """One rollout alone is a group of one: its rate is 1 if it calls a tool, so only the extra-call cost applies."""
        calls = count_tool_calls(prediction)
        return self.bonus(calls, 1.0 if calls else 0.0)

    def __call__(self, completions: list[Any], **columns: Any) -> list[float | None]:
        n = len(completions)
        contexts = self.sample_columns(completions, columns)
        ids = [c.get("id") for c in contexts]
        tasks = [c.get("task") for c in contexts]
        applies = [self.tasks is None or tasks[i] in self.tasks for i in range(n)]
        calls = [count_tool_results(c) for c in completions]  # a malformed call ran nothing: no bonus for it
        rate: dict[Any, float] = {}
        for key in set(ids):
            group = [calls[i] >= 1 for i in range(n) if ids[i] == key and applies[i]]
            rate[key] = statistics.fmean(group) if group else 0.0
        return [self.bonus(calls[i], rate[ids[i]]) if applies[i] else None for i in range(n)]
