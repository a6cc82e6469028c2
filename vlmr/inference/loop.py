"""The one agent loop: generate, run tool calls in the request's environment, continue.

Used by ``vlmr eval``, ``vlmr infer`` and the demo with any :class:`Backend`. Each turn
the backend generates for every unfinished request at once (a batch); a turn that ends
in a tool call (and no ``<answer>``) runs the call(s) in the request's tool environment
(:mod:`vlmr.tools`, the same classes GRPO uses), appends the assistant message and the
tool messages (with their images) and goes on, until an answer, a turn without a tool
call, or ``max_turns`` generations.

Messages use content parts, images inline: ``{"type": "image", "image": PIL}``; the
``{"type": "image"}`` placeholders of a request are filled from ``request.images``
in order.
"""

from __future__ import annotations

import copy
import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from vlmr.formats import CoordinateSpace
from vlmr.media.image import open_rgb
from vlmr.tools import ToolCall, make_environment, parse_tool_calls
from vlmr.tools.environment import ToolEnvironment

logger = logging.getLogger(__name__)


@dataclass
class AgentRequest:
    """One conversation to run: prompt messages, their images, the tool environment row and tools.

    ``env_row`` is what the environment's ``reset(**row)`` receives (``images``, ``coord``,
    ``video``, ...); when ``None`` it is ``{"images": images}``. ``tools`` are tool or tool-set
    names (``None`` or empty: no tools).
    """

    messages: list[dict]
    images: list[Image.Image] = field(default_factory=list)
    env_row: dict | None = None
    tools: list[str] | None = None


@dataclass
class Trajectory:
    """Everything one request produced.

    ``response`` is all text the model wrote, turn after turn (tool calls included);
    ``tool_calls`` has one dict per executed call (``name``, ``arguments``, ``ok``, ``text``,
    ``n_images``, ``seconds``); ``tool_images`` are the images the tools returned, in order;
    ``n_prompt_tokens`` counts the first turn's prompt, ``n_completion_tokens`` every token the
    model generated; ``error`` is set when the backend failed for this request.
    """

    messages: list[dict]
    response: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    tool_images: list[Image.Image] = field(default_factory=list)
    n_prompt_tokens: int = 0
    n_completion_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None
    turns: int = 0

    @property
    def final_text(self) -> str:
        """The last assistant turn (where the answer is)."""
        for message in reversed(self.messages):
            if message["role"] == "assistant":
                return message_text(message)
        return ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (images replaced by their sizes)."""
        return {
            "response": self.response,
            "tool_calls": self.tool_calls,
            "tool_images": [list(im.size) for im in self.tool_images],
            "n_prompt_tokens": self.n_prompt_tokens,
            "n_completion_tokens": self.n_completion_tokens,
            "seconds": round(self.seconds, 3),
            "turns": self.turns,
            "error": self.error,
        }


@dataclass
class Generation:
    """One backend output: the raw text, structured tool calls if the backend parsed them, token counts."""

    text: str
    tool_calls: list[ToolCall] | None = None
    n_prompt_tokens: int = 0
    n_completion_tokens: int = 0
    error: str | None = None


class Backend(Protocol):
    """What the loop needs from a model: a coordinate family and batched chat generation."""

    family: str

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """How this model sees a ``width x height`` image."""

    def generate(self, conversations: list[tuple[list[dict], list[dict]]]) -> list[Generation]:
        """One assistant turn for each ``(messages, tool_schemas)``."""


def message_text(message: dict) -> str:
    """The text of a message (string content or its text parts joined)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


def _pil(image: Image.Image | str | Path) -> Image.Image:
    """A PIL image as is; a path opened with PIL (never handed to a processor's own decoder)."""
    if isinstance(image, str | Path):
        return open_rgb(image)
    return image


def _without_none(entry: dict) -> dict:
    """A copy of a message or content part without the ``None`` values an Arrow round trip adds."""
    return {k: v for k, v in entry.items() if v is not None}


def fill_images(messages: list[dict], images: list[Image.Image | str | Path] | None) -> list[dict]:
    """A copy of ``messages`` with each ``{"type": "image"}`` placeholder, in any turn, holding the next image.

    ``images`` are PIL images or paths; ``None``-valued keys of messages and parts are dropped.
    """
    queue = [_pil(im) for im in images or []]
    filled = []
    for message in messages:
        message = _without_none(message)
        if isinstance(message.get("content"), list):
            message["content"] = [_without_none(part) for part in message["content"]]
            for part in message["content"]:
                if part.get("type") == "image" and "image" not in part:
                    if not queue:
                        raise ValueError("the request has more {'type': 'image'} placeholders than images")
                    part["image"] = queue.pop(0)
        filled.append(message)
    if queue:
        raise ValueError(f"the request has {len(queue)} more image(s) than {{'type': 'image'}} placeholders")
    return filled


_ENV_CLASSES: dict[tuple, type[ToolEnvironment]] = {}


def _environment(tools: list[str], convention: str) -> ToolEnvironment:
    key = (tuple(tools), convention)
    if key not in _ENV_CLASSES:
        _ENV_CLASSES[key] = make_environment(tools, convention=convention)
    return _ENV_CLASSES[key]()


@functools.cache
def _schemas(env_class: type[ToolEnvironment]) -> list[dict]:
    """The tool schemas of an environment class (read from type hints and docstrings once, not per request)."""
    from transformers.utils import get_json_schema

    env = env_class()
    return [get_json_schema(getattr(env, name)) for name in env.tool_names]


class _Episode:
    """Loop state of one request."""

    def __init__(self, request: AgentRequest, backend: Backend):
        from vlmr.formats import get_family

        self.messages = fill_images(request.messages, request.images)
        self.trajectory = Trajectory(messages=self.messages)
        self.start = time.perf_counter()
        self.done = False
        self.env: ToolEnvironment | None = None
        self.schemas: list[dict] = []
        if request.tools:
            self.env = _environment(list(request.tools), get_family(backend.family).convention)
            row = dict(request.env_row) if request.env_row is not None else {"images": list(request.images)}
            images = row.get("images") or []
            if CoordinateSpace.from_dict(row.get("coord")) is None and images and isinstance(images[0], Image.Image):
                row["coord"] = backend.coordinate_space(*images[0].size).to_dict()
            self.env.reset(**row)
            self.schemas = copy.deepcopy(_schemas(type(self.env)))

    def finish(self, error: str | None = None) -> None:
        self.done = True
        self.trajectory.error = error
        self.trajectory.seconds = time.perf_counter() - self.start
        if self.env is not None:
            self.trajectory.tool_calls = list(self.env.history)

    def step(self, generation: Generation, last_turn: bool) -> None:
        """Record one generation; run its tool calls unless the episode ends here."""
        traj = self.trajectory
        traj.turns += 1
        traj.n_prompt_tokens = traj.n_prompt_tokens or generation.n_prompt_tokens
        traj.n_completion_tokens += generation.n_completion_tokens
        if generation.error is not None:
            self.finish(generation.error)
            return
        text = generation.text
        traj.response = f"{traj.response}\n{text}" if traj.response else text
        calls = generation.tool_calls if generation.tool_calls is not None else parse_tool_calls(text)
        if not calls or self.env is None or "<answer>" in text or last_turn:
            self.messages.append({"role": "assistant", "content": text})
            self.finish()
            return
        before = text.split("<tool_call>", 1)[0].rstrip()
        self.messages.append(
            {
                "role": "assistant",
                "content": before,
                "tool_calls": [
                    {"type": "function", "function": {"name": c.name or "unknown", "arguments": c.arguments}}
                    for c in calls
                ],
            }
        )
        for call in calls:
            self.messages.append({"role": "tool", "name": call.name or "unknown", "content": self._run(call)})

    def _run(self, call: ToolCall) -> list[dict]:
        """Content parts of one call's result; unreadable calls and unknown tools get an error text."""
        if call.error:
            return [{"type": "text", "text": f"Error: {call.error}"}]
        if call.name not in self.env.tool_names:
            return [{"type": "text", "text": f"Error: unknown tool {call.name!r}; available tools: {list(self.env.tool_names)}."}]
        parts = getattr(self.env, call.name)(**call.arguments)
        self.trajectory.tool_images += [p["image"] for p in parts if p["type"] == "image"]
        return parts


def run_batch(backend: Backend, requests: list[AgentRequest], max_turns: int = 4) -> list[Trajectory]:
    """Run every request to its end (answer, no tool call, or ``max_turns`` generations), batched per turn."""
    if max_turns < 1:
        raise ValueError(f"max_turns must be >= 1, got {max_turns}")
    episodes = [_Episode(request, backend) for request in requests]
    for turn in range(max_turns):
        active = [e for e in episodes if not e.done]
        if not active:
            break
        try:
            generations = backend.generate([(e.messages, e.schemas) for e in active])
        except Exception as e:  # one failed batch must not lose the others' results
            logger.exception("generation failed for a batch of %d requests", len(active))
            generations = [Generation("", error=f"{type(e).__name__}: {e}")] * len(active)
        for episode, generation in zip(active, generations, strict=True):
            try:
                episode.step(generation, last_turn=turn == max_turns - 1)
            except Exception as e:  # model output never ends a batch: the sample records the error
                logger.exception("request failed on the model's output %r", generation.text[:200])
                episode.finish(f"{type(e).__name__}: {e}")
    return [e.trajectory for e in episodes]
