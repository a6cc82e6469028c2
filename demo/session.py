"""One visitor question, from upload to rendered answer, independent of the web framework.

:func:`ask` checks the inputs (:mod:`vlmr.demo.inputs`), builds the same prompt and
:class:`~vlmr.inference.AgentRequest` as ``vlmr infer``, streams the episode
(:mod:`vlmr.demo.stream`) and yields :class:`View` snapshots of what the page should show:
a status line, the transcript so far, the tool gallery, the answer and the answer drawn on
the input. Bad input ends the stream with one view whose status says what is wrong.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from vlmr.demo.inputs import DEFAULT_MAX_MEGAPIXELS, InputError, Media, check_question, load_media, media_kind
from vlmr.demo.stream import stream_episode
from vlmr.render import read_answer, render_answer
from vlmr.tasks import get_task, list_tasks

logger = logging.getLogger(__name__)



def task_choices() -> list[tuple[str, str]]:
    """``(label on the page, task name)`` of every registered task that has a label (:attr:`vlmr.tasks.Task.label`).

    >>> task_choices()[:2]
    [('Grounding (box)', 'grounding'), ('Pointing', 'pointing')]
    """
    tasks = [get_task(name) for name in list_tasks()]
    return [(task.label, task.name) for task in tasks if task.label]


# tools ticked for every task when the upload is a video or a scan
MEDIA_TOOLS = {"video": ("select_frames", "zoom_in_frame"), "volume": ("get_slice",)}


@dataclass
class Settings:
    """Limits and defaults of the page (``vlmr demo`` options)."""

    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    max_frames: int = 8
    fps: float = 2.0
    max_turns: int = 4
    max_new_tokens: int = 256
    temperature: float = 0.0


@dataclass
class View:
    """What the page shows at one moment; ``ok`` is False when the status is an error."""

    status: str
    transcript: str = ""
    gallery: list[tuple[Image.Image, str]] = field(default_factory=list)
    answer: str = ""
    overlay: Image.Image | None = None
    ok: bool = True


def page_tools() -> list[str]:
    """Tools a visitor can toggle (scene tools need a 3D scene, which the page cannot upload)."""
    from vlmr.tools import get_tool, list_tools

    return [name for name in list_tools() if get_tool(name).needs != "scene"]


def default_tools(task: str, kind: str = "image") -> list[str]:
    """Tools ticked for ``task`` on an upload of ``kind``: the task's tools that can read it, plus
    the video or scan tools.

    >>> default_tools("grounding"), default_tools("temporal_grounding", "video"), default_tools("vqa", "volume")
    (['zoom_in', 'draw_box'], ['select_frames', 'zoom_in_frame'], ['zoom_in', 'crop', 'rotate', 'get_slice'])
    """
    from vlmr.tools import get_tool

    readable = {"image": ("image",), "video": ("video",), "volume": ("volume", "image")}[kind]
    tools = [t for t in get_task(task).tools if get_tool(t).needs in readable]
    return tools + [t for t in MEDIA_TOOLS.get(kind, ()) if t not in tools]


def kind_of(path: str | None) -> str:
    """The media kind of an upload path (``image`` when there is none)."""
    return media_kind(path) if path else "image"


def with_sampling(backend, max_new_tokens: int, temperature: float):
    """A shallow copy of ``backend`` generating with these settings (model and client are shared).

    Works with the loop's two backends: a local model's ``generation`` kwargs or a
    server's ``sampling`` kwargs; other backends are returned unchanged.
    """
    clone = copy.copy(backend)
    if isinstance(getattr(backend, "generation", None), dict):
        generation = {k: v for k, v in backend.generation.items() if k not in ("temperature", "top_p", "streamer")}
        generation.update(max_new_tokens=int(max_new_tokens), do_sample=temperature > 0)
        if temperature > 0:
            generation.update(temperature=float(temperature), top_p=backend.generation.get("top_p", 1.0))
        clone.generation = generation
    elif isinstance(getattr(backend, "sampling", None), dict):
        clone.sampling = {**backend.sampling, "max_tokens": int(max_new_tokens), "temperature": float(temperature)}
    return clone


def build_request(backend, media: Media, question: str, task: str, tools: list[str] | None):
    """The :class:`~vlmr.inference.AgentRequest` for ``media`` (as ``vlmr infer`` builds it) and its space."""
    from vlmr.conversation import FramePolicy
    from vlmr.demo.inputs import FRAME_MAX_PIXELS
    from vlmr.inference.request import media_request

    if media.kind == "video":  # sampled as the upload's preview was: the same frames and times
        return media_request(backend, question, task, tools, video=media.env["video"],
                             frames=FramePolicy(max_pixels=FRAME_MAX_PIXELS))
    if media.kind == "volume":
        question = f"{question} (The image is the middle axial slice of a 3D scan.)"
    return media_request(backend, question, task, tools, image=media.image, env=media.env)


def escape_markdown(text: str) -> str:
    """``text`` with Markdown/HTML punctuation escaped, so file names and errors show literally.

    >>> escape_markdown("big_photo.png is *huge*")
    'big\\\\_photo\\\\.png is \\\\*huge\\\\*'
    """
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", text)


def _call_line(name: str, arguments: dict[str, Any]) -> str:
    return f"{name}({json.dumps(arguments, ensure_ascii=False)})"


def ask(
    backend,
    path: str | None,
    question: str | None,
    task: str,
    tools: list[str] | None,
    settings: Settings,
    segmenter=None,
    max_new_tokens: int | None = None,
    temperature: float | None = None,
    max_turns: int | None = None,
) -> Iterator[View]:
    """Answer ``question`` about the upload at ``path``, yielding a :class:`View` after every event."""
    try:
        question = check_question(question)
        media = load_media(path, settings.max_megapixels, settings.max_frames, settings.fps)
        if task not in dict((v, k) for k, v in task_choices()):
            raise InputError(f"Unknown task {task!r}; choose one of {[v for _, v in task_choices()]}.")
        if task == "temporal_grounding" and media.kind != "video":
            raise InputError("Temporal grounding needs a video; upload one or pick another task.")
        unknown = sorted(set(tools or []) - set(page_tools()))
        if unknown:
            raise InputError(f"Unknown tools {unknown}; choose from {page_tools()}.")
        backend = with_sampling(backend, max_new_tokens or settings.max_new_tokens,
                                settings.temperature if temperature is None else temperature)
        request, space = build_request(backend, media, question, task, tools)
    except InputError as e:
        yield View(f"**Cannot answer:** {escape_markdown(str(e))}", ok=False)
        return
    turns: list[str] = []  # finished turns and tool results, in order
    current, gallery, n_turns = "", [], 0
    view = View(f"Thinking about the {media.kind}… ({escape_markdown(media.description)})", overlay=None)
    yield view
    for event in stream_episode(backend, request, max_turns=max_turns or settings.max_turns):
        if event.kind == "text":
            current += event.text
        elif event.kind == "turn":
            turns.append(event.text)
            current, n_turns = "", n_turns + 1
        elif event.kind == "tool":
            turns.append(f"  → {_call_line(event.name, event.arguments)}\n  ← {event.text}")
            gallery += [(im, f"{len(gallery) + k + 1} · turn {n_turns} · {_call_line(event.name, event.arguments)}")
                        for k, im in enumerate(event.images)]
        elif event.kind == "done":
            yield _final(event.trajectory, media, task, space, turns, gallery, segmenter)
            return
        view = View(view.status, "\n".join(turns + [current]).strip(), list(gallery))
        yield view


def _final(trajectory, media: Media, task: str, space, turns: list[str], gallery: list, segmenter) -> View:
    """The last view: the answer read from the final turn and drawn on the input."""
    transcript = "\n".join(turns).strip()
    if trajectory.error:
        return View(f"**Generation failed:** {escape_markdown(trajectory.error)}", transcript, gallery, ok=False)
    answer = read_answer(trajectory.final_text, task, space)
    try:
        overlay = render_answer(media.image, answer, task, segmenter, media.duration if media.kind == "video" else None)
    except Exception as e:  # a drawing problem must not hide the answer
        logger.exception("could not draw the answer")
        overlay = media.image
        answer.text += f"\n(could not draw the answer: {e})"
    shown = answer.text or "(the model gave no answer text)"
    summary = answer.summary()
    status = (
        f"Done in {trajectory.seconds:.1f} s · {trajectory.turns} turn(s) · {len(trajectory.tool_calls)} tool call(s) · "
        f"{trajectory.n_completion_tokens} tokens generated"
    )
    return View(status, transcript, gallery, f"{shown}\n\n{summary}".strip(), overlay)


def preview(path: str | None, settings: Settings) -> tuple[Image.Image | None, str]:
    """The picture and description of an upload, or no picture and the reason it cannot be used."""
    if not path:
        return None, "Upload an image, a video or a scan, or click an example below."
    try:
        media = load_media(path, settings.max_megapixels, settings.max_frames, settings.fps)
    except InputError as e:
        return None, f"**Cannot use this upload:** {escape_markdown(str(e))}"
    return media.image, f"Loaded {escape_markdown(media.description)}."
