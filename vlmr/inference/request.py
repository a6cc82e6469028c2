"""One question about one image or video as an :class:`AgentRequest`: how ``vlmr infer`` and the demo ask.

The prompt is vlmr's (:func:`vlmr.prompts.build_prompt`: the task's answer format, coordinates
in the backend's convention); a video's frames fill its video part, preceded by their times.
"""

from __future__ import annotations

from PIL import Image

from vlmr.formats import CoordinateSpace
from vlmr.inference.loop import AgentRequest, Backend
from vlmr.prompts import build_prompt
from vlmr.schema import Sample


def media_request(
    backend: Backend,
    question: str,
    task: str,
    tools: list[str] | None = None,
    *,
    image: Image.Image | None = None,
    frames: list[Image.Image] | None = None,
    times: list[float] | None = None,
    env: dict | None = None,
) -> tuple[AgentRequest, CoordinateSpace]:
    """The request for ``question`` about ``image``, or about a video's ``frames`` sampled at ``times`` (s).

    ``env`` adds tool-environment fields to the request's row (``{"video": {"path", ...}}`` for a
    video's tools, ``{"volume": ...}`` for a scan's). Returns the request and the coordinate space
    the model answers in (of the image, or of the frames).
    """
    tools = list(tools) if tools else None
    env = dict(env or {})
    if frames:
        if times is None or len(times) != len(frames):
            raise ValueError(f"give one time per video frame, got {len(frames)} frames and times {times}")
        sample = Sample(id="request", task=task, question=question, video=env.get("video") or {"path": ""})
        space = backend.coordinate_space(*frames[0].size)
        messages = build_prompt(sample, space, tools=tools)
        content = messages[-1]["content"]
        for part in content:
            if part["type"] == "video":
                part["video"] = list(frames)
        # the model needs the clip's timing to answer in seconds and to pick frames by time
        content.insert(0, {"type": "text", "text": f"Video frames at {', '.join(f'{t:.1f}s' for t in times)}.\n"})
        return AgentRequest(messages, [], {**env, "coord": space.to_dict()}, tools), space
    if image is None:
        raise ValueError("give an image or a video's frames")
    sample = Sample(id="request", task=task, question=question, images=["image"])
    space = backend.coordinate_space(*image.size)
    row = {**env, "images": [image], "coord": space.to_dict()}
    return AgentRequest(build_prompt(sample, space, tools=tools), [image], row, tools), space
