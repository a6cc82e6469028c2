"""Prompts: a schema record becomes chat messages in the vlmr output format.

The output format is ``<think>…</think><answer>…</answer>``, with tool calls as
``<tool_call>{"name": …, "arguments": {…}}</tool_call>`` between thoughts. Each task adds
one instruction naming its answer payload and, for spatial answers, the coordinate
convention of the model (from :mod:`vlmr.formats`), so prompts and rewards agree. What each
task asks for and how its answer is written are its spec in :mod:`vlmr.tasks`.

>>> from vlmr.schema import Sample
>>> s = Sample(id="1", task="counting", question="How many red circles?", images=["media/1.png"])
>>> msgs = build_prompt(s, CoordinateSpace(64, 64), system=None)
>>> [part["type"] for part in msgs[0]["content"]]
['image', 'text']
>>> msgs[0]["content"][1]["text"]
'How many red circles? Answer with a single integer.'
"""

from __future__ import annotations

import re

from vlmr.formats import CoordinateSpace
from vlmr.schema import Sample
from vlmr.tasks import get_task, to_model

SYSTEM_PROMPT = (
    "You are a careful visual reasoner. Think inside <think> </think>, "
    "then give the final answer inside <answer> </answer>."
)
TOOLS_SYSTEM_PROMPT = SYSTEM_PROMPT + (
    " Between thoughts you may call a tool with <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>"
    " and look at its result before answering."
)

_COORDS = {
    "pixel": "Coordinates are pixels of the original {width}x{height} image.",
    "resized": "Coordinates are pixels of the image as you see it ({input_width}x{input_height}).",
    "norm1000": "Coordinates are relative, from 0 to 1000.",
    "norm1": "Coordinates are relative, from 0 to 1.",
}

def task_instruction(task: str, space: CoordinateSpace | None = None) -> str:
    """The answer-format sentence of ``task`` (:mod:`vlmr.tasks`), coordinates described in ``space``'s
    convention."""
    coords = _COORDS[space.convention].format(**space.to_dict()) if space else _COORDS["pixel"].format(
        width="W", height="H"
    )
    return get_task(task).instruction.format(coords=coords).strip()


def question_text(sample: Sample, space: CoordinateSpace | None = None) -> str:
    """Question, lettered choices (for multiple choice) and the answer instruction."""
    parts = [sample.question.strip()]
    if sample.choices:
        parts.append("\n".join(sample.choices))
    parts.append(task_instruction(sample.task, space))
    return (" " if not sample.choices else "\n").join(parts)


def build_prompt(
    sample: Sample,
    space: CoordinateSpace | None = None,
    tools: list[str] | None = None,
    system: str | None = SYSTEM_PROMPT,
) -> list[dict]:
    """Chat messages for ``sample``: optional system prompt, then one user turn with an
    ``{"type": "image"}`` placeholder per image (in order), a video placeholder if the
    sample has a video, and the question text. Images themselves travel separately
    (trl's ``images`` column / the inference loop's request)."""
    if tools and system == SYSTEM_PROMPT:
        system = TOOLS_SYSTEM_PROMPT
    content: list[dict] = [{"type": "image"} for _ in sample.images]
    if sample.video:
        content.append({"type": "video"})
    content.append({"type": "text", "text": question_text(sample, space)})
    messages = [{"role": "user", "content": content}]
    if system:
        messages.insert(0, {"role": "system", "content": [{"type": "text", "text": system}]})
    return messages


def coordinate_space(
    sample: Sample,
    family: str = "qwen2_5_vl",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    image_size: tuple[int, int] | None = None,
    convention: str | None = None,
) -> CoordinateSpace | None:
    """How the model sees the sample's first image (``None`` for samples without one).

    The size comes from ``image_size`` (width, height) or the record's ``meta``;
    ``convention`` overrides the family's.
    """
    width, height = image_size or (sample.meta.get("width"), sample.meta.get("height"))
    if not (width and height):
        return None
    return CoordinateSpace.for_image(int(width), int(height), family, min_pixels, max_pixels, convention)


def format_answer(sample: Sample, space: CoordinateSpace | None = None) -> str:
    """The ground truth written as the model should answer it (coordinates in ``space``), as its task
    writes it (:meth:`vlmr.tasks.Task.format_answer`).

    >>> s = Sample(id="1", task="grounding", question="Where?", answer={"boxes": [[10, 20, 30, 40]], "labels": ["cat"]})
    >>> format_answer(s, CoordinateSpace(100, 100, "norm1000"))
    '{"bbox_2d": [100, 200, 300, 400], "label": "cat"}'
    """
    try:
        return get_task(sample.task).format_answer(sample.answer, space)
    except ValueError as e:
        raise ValueError(f"record {sample.id!r}: {e}") from e


_COORD_PAYLOAD = re.compile(r'("(?:bbox_2d|point_2d)"\s*:\s*)\[([^\[\]]*)\]')


def to_model_coordinates(text: str, space: CoordinateSpace | None) -> str:
    """Rewrite every ``"bbox_2d": [...]`` / ``"point_2d": [...]`` in ``text`` from original pixels
    to ``space``'s convention (for chain-of-thought written from pixel ground truth).

    >>> to_model_coordinates('<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 50, 50]}}</tool_call>',
    ...                      CoordinateSpace(100, 100, "norm1000"))
    '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}</tool_call>'
    """
    if space is None or space.convention == "pixel":
        return text

    def convert(match: re.Match) -> str:
        try:
            values = [float(v) for v in match.group(2).split(",")]
        except ValueError:
            return match.group(0)
        return f"{match.group(1)}[{', '.join(str(v) for v in to_model(values, space))}]"

    return _COORD_PAYLOAD.sub(convert, text)


def assistant_text(sample: Sample, space: CoordinateSpace | None = None) -> str:
    """The SFT target of a single-turn sample: its chain of thought (if any) and answer."""
    if isinstance(sample.cot, str) and "<answer>" in sample.cot:
        return to_model_coordinates(sample.cot, space)
    thought = to_model_coordinates(sample.cot, space) if isinstance(sample.cot, str) else ""
    return f"<think>{thought}</think><answer>{format_answer(sample, space)}</answer>"
