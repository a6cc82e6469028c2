"""The reward contract: trl's batched call on top of a per-sample ``score``.

A reward subclasses :class:`Reward`, implements ``score(prediction, answer, **context)``
for one completion and declares the dataset columns it reads in ``columns``;
:meth:`Reward.__call__` is trl's ``f(completions, **columns)``. It accepts plain strings or trl's conversational completions (lists of messages, possibly
with tool calls and tool results), slices every per-sample column, drops ``None`` values
from ``answer`` (an Arrow round trip fills absent keys with ``None``) and returns one
``float | None`` per completion.

>>> class Length(Reward):
...     name = "chars"
...     def score(self, prediction, answer=None, **context):
...         return float(len(prediction))
>>> Length()(["ab", [{"role": "assistant", "content": "abc"}]])
[2.0, 3.0]
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from vlmr.formats import CoordinateSpace

logger = logging.getLogger(__name__)

_TOOL_CALL = re.compile(r"<tool_call>", re.IGNORECASE)
# Keyword arguments trl adds next to the dataset columns; rewards do not use them.
TRAINER_EXTRAS = frozenset({"trainer_state", "log_extra", "log_metric", "environments"})


def _content_text(content: Any) -> str:
    """Text of a message ``content``: a string, or the text parts of a content-block list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def completion_text(completion: Any) -> str:
    """The model's own text of a completion: a string, or its assistant messages joined.

    Structured ``tool_calls`` of a message are rendered back as ``<tool_call>{json}</tool_call>``;
    tool results are not model output and are left out.

    >>> completion_text([{"role": "assistant", "content": "<think>zoom</think>",
    ...                   "tool_calls": [{"type": "function", "function": {"name": "zoom", "arguments": {}}}]},
    ...                  {"role": "tool", "content": "done"},
    ...                  {"role": "assistant", "content": "<answer>2</answer>"}])
    '<think>zoom</think><tool_call>{"name": "zoom", "arguments": {}}</tool_call><answer>2</answer>'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if not isinstance(completion, Sequence):
        return ""
    parts = []
    for message in completion:
        if not isinstance(message, dict) or message.get("role", "assistant") != "assistant":
            continue
        text = _content_text(message.get("content"))
        parts.append(text)
        for call in message.get("tool_calls") or []:
            function = call.get("function", call) if isinstance(call, dict) else {}
            if "<tool_call>" not in text:
                payload = {"name": function.get("name"), "arguments": function.get("arguments", {})}
                parts.append(f"<tool_call>{json.dumps(payload, default=str)}</tool_call>")
    return "".join(parts)


def count_tool_calls(completion: Any) -> int:
    """Number of tool calls in a completion (structured ``tool_calls`` or ``<tool_call>`` tags).

    >>> count_tool_calls('<think>a</think><tool_call>{"name": "crop"}</tool_call>')
    1
    """
    return len(_TOOL_CALL.findall(completion_text(completion)))


def count_tool_results(completion: Any) -> int:
    """Tool calls that ran: the tool messages of a conversational completion. A call the trainer could not
    parse leaves a ``<tool_call>`` tag in the text but no tool message. Plain text has no results to count,
    so its ``<tool_call>`` tags are counted instead.

    >>> count_tool_results([{"role": "assistant", "content": "<tool_call>zoom please</tool_call>"}])
    0
    >>> count_tool_results([{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "crop"}}]},
    ...                     {"role": "tool", "content": "done"}, {"role": "assistant", "content": "<answer>2</answer>"}])
    1
    """
    if isinstance(completion, list | tuple):
        return sum(1 for message in completion if isinstance(message, dict) and message.get("role") == "tool")
    return count_tool_calls(completion)


def clean_answer(answer: Any) -> dict[str, Any]:
    """The answer dict without ``None`` values; a JSON string is decoded; anything else gives ``{}``.

    >>> clean_answer({"boxes": [[0, 0, 1, 1]], "count": None})
    {'boxes': [[0, 0, 1, 1]]}
    """
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            return {}
    if not isinstance(answer, dict):
        return {}
    return {k: v for k, v in answer.items() if v is not None}


def image_size(coord: dict | None = None, meta: dict | None = None, **_: Any) -> tuple[int, int] | None:
    """Original ``(width, height)`` from the ``coord`` or ``meta`` column, if known."""
    for source in (coord, meta):
        if isinstance(source, dict) and source.get("width") and source.get("height"):
            return int(source["width"]), int(source["height"])
    return None


def coordinate_space(coord: dict | None = None, meta: dict | None = None, **_: Any) -> CoordinateSpace | None:
    """The sample's :class:`~vlmr.formats.CoordinateSpace` from the ``coord`` column.

    Without ``coord`` the prediction is taken to be in original pixels (``None`` = identity).
    """
    return CoordinateSpace.from_dict(coord)


def boxes_to_pixels(boxes: list[list[float]] | None, **context: Any) -> list[list[float]] | None:
    """Predicted boxes converted from the model's frame to original pixels (see :mod:`vlmr.formats`).

    >>> coord = {"convention": "norm1000", "width": 640, "height": 480, "input_width": 644, "input_height": 476}
    >>> boxes_to_pixels([[0, 0, 500, 500]], coord=coord)
    [[0.0, 0.0, 320.0, 240.0]]
    """
    space = coordinate_space(**context)
    if boxes is None or space is None:
        return boxes
    return [space.to_pixels(b) for b in boxes]


class Reward:
    """Base class of all rewards: trl's batched ``__call__`` over a per-sample :meth:`score`.

    Subclasses set ``name`` (the registry name, also trl's logging name) and implement
    ``score``. Instances are picklable as long as their parameters are.
    """

    name: str = "reward"
    # Dataset columns ``score`` reads beside the completion (``answer`` is the first argument). Every one
    # must be among the columns vlmr rows carry (vlmr.conversation.REWARD_COLUMNS): checked at config load.
    columns: tuple[str, ...] = ("answer",)

    @property
    def __name__(self) -> str:  # trl logs reward functions by __name__
        return self.name

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        """Reward of one completion text against one answer; ``None`` if not applicable."""
        raise NotImplementedError

    def __call__(self, completions: list[Any], **columns: Any) -> list[float | None]:
        """trl's reward signature: one ``float | None`` per completion (columns: :meth:`sample_columns`)."""
        contexts = self.sample_columns(completions, columns)
        self.begin_batch()
        try:
            return [self._score_one(c, context) for c, context in zip(completions, contexts, strict=True)]
        finally:
            self.end_batch()

    def sample_columns(self, completions: list[Any], columns: dict[str, Any]) -> list[dict[str, Any]]:
        """Each completion's columns: list columns sliced per sample (their length must match), other values
        shared by every sample, trl's own extras (``trainer_state``, ...) left out."""
        n = len(completions)
        per_sample, shared = {}, {}
        for key, value in columns.items():
            if key in TRAINER_EXTRAS:
                continue
            if not isinstance(value, (list, tuple)):
                shared[key] = value
                continue
            if len(value) != n:
                raise ValueError(
                    f"reward {self.name!r}: column {key!r} has {len(value)} values for {n} completions; "
                    "every dataset column must be repeated once per generation"
                )
            per_sample[key] = value
        return [{**shared, **{k: v[i] for k, v in per_sample.items()}} for i in range(n)]

    def _score_one(self, completion: Any, context: dict[str, Any]) -> float | None:
        answer = clean_answer(context.pop("answer", None))
        context["n_tool_calls"] = count_tool_calls(completion)
        return self.score(completion_text(completion), answer, **context)

    def begin_batch(self) -> None:
        """Hook run before a batch (e.g. to open a per-batch cache)."""

    def end_batch(self) -> None:
        """Hook run after a batch (e.g. to drop a per-batch cache)."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
