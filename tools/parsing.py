"""Forgiving parser of ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks.

Used when no structured parse is available (OpenAI-compatible servers that return the raw
text, tokenizers without a response schema). Never raises: a malformed block becomes a
:class:`ToolCall` with ``error`` set, which the inference loop returns to the model.

>>> parse_tool_calls('<think>look</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4],}}</tool_call>')
[ToolCall(name='zoom_in', arguments={'bbox_2d': [1, 2, 3, 4]}, error=None)]
>>> parse_tool_calls("<answer>3</answer>")
[]
>>> parse_tool_calls("<tool_call>zoom please</tool_call>")[0].error[:32]
'could not read the tool call as '
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
EXPECTED = '<tool_call>{"name": "<tool name>", "arguments": {...}}</tool_call>'


@dataclass
class ToolCall:
    """One parsed call; ``error`` explains why it could not be read (then ``name`` may be None)."""

    name: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _load(text: str) -> Any:
    """JSON, then JSON without trailing commas, then a Python literal; ``None`` if all fail."""
    text = _FENCE.sub("", text.strip())
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the interpreter's stack
            pass
    try:
        return ast.literal_eval(text)  # single quotes, True/None; literals only, never code
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):  # TypeError: {[1]: 2}
        return None


def _from_payload(payload: Any) -> ToolCall:
    if isinstance(payload, dict) and isinstance(payload.get("function"), dict):
        payload = payload["function"]  # OpenAI-style {"type": "function", "function": {...}}
    if not (isinstance(payload, dict) and isinstance(payload.get("name"), str) and payload["name"].strip()):
        return ToolCall(None, error=f"the tool call has no tool name; write {EXPECTED}")
    arguments = payload.get("arguments")
    if arguments is None:
        arguments = payload.get("parameters") or {}
    if isinstance(arguments, str):
        arguments = _load(arguments) if arguments.strip() else {}
    if not isinstance(arguments, dict):
        return ToolCall(payload["name"].strip(), error=f"the arguments must be a JSON object; write {EXPECTED}")
    if not all(isinstance(key, str) for key in arguments):
        return ToolCall(payload["name"].strip(), error=f"argument names must be strings; write {EXPECTED}")
    return ToolCall(payload["name"].strip(), arguments)


def parse_tool_calls(text: str) -> list[ToolCall]:
    """All tool calls in ``text`` (a final unclosed ``<tool_call>`` block counts), in order."""
    if not isinstance(text, str):
        return []
    calls = []
    for match in _BLOCK.finditer(text):
        body = match.group(1)
        payload = _load(body)
        if payload is None:
            calls.append(ToolCall(None, error=f"could not read the tool call as JSON: {body.strip()[:80]!r}; write {EXPECTED}"))
        else:
            calls.append(_from_payload(payload))
    return calls


def tool_call_from_openai(call: Any) -> ToolCall:
    """A :class:`ToolCall` from an OpenAI ``tool_calls`` entry (object or dict); never raises."""
    function = call.get("function") if isinstance(call, dict) else getattr(call, "function", None)
    if function is not None and not isinstance(function, dict):
        function = {"name": getattr(function, "name", None), "arguments": getattr(function, "arguments", None)}
    return _from_payload({"function": function} if function is not None else None)
