"""One question about one image or video as an :class:`AgentRequest`: how ``vlmr infer`` and the demo ask.

The request is the conversation a dataset record of the same image or video would give
(:func:`vlmr.conversation.build_conversation`): vlmr's prompt with the task's answer format, a
video's frames sampled by the same frame policy and shown with their times, the same tool row.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from vlmr.conversation import FramePolicy, build_conversation
from vlmr.formats import CoordinateSpace
from vlmr.inference.loop import AgentRequest, Backend
from vlmr.schema import Sample


def media_request(
    backend: Backend,
    question: str,
    task: str,
    tools: list[str] | None = None,
    *,
    image: Image.Image | None = None,
    video: dict | None = None,
    frames: FramePolicy = FramePolicy(),
    env: dict | None = None,
) -> tuple[AgentRequest, CoordinateSpace]:
    """The request for ``question`` about ``image``, or about ``video`` (a record's video dict with an
    absolute ``path``, and optionally ``sample_fps``, ``max_frames``, ``start``, ``end``) sampled by ``frames``.

    ``env`` adds tool-environment fields to the request's row (``{"volume": {"path": ...}}`` for a
    scan's tools). Returns the request and the coordinate space the model answers in (of the image,
    or of the frames).
    """
    tools = list(tools) if tools else None
    if video is not None:
        path = Path(video["path"])
        sample = Sample(id="request", task=task, question=question, video={**video, "path": path.name})
        conversation = build_conversation(sample, path.parent, None, tools, frames=frames)
        if not conversation.images:
            raise ValueError(f"the video {path} gave no frames")
        space = backend.coordinate_space(*conversation.images[0].size)  # what the loop reads answers in
    elif image is not None:
        sample = Sample(id="request", task=task, question=question, images=["image"])
        space = backend.coordinate_space(*image.size)
        conversation = build_conversation(sample, ".", space, tools, images=[image])
    else:
        raise ValueError("give an image or a video")
    row = {**conversation.env_row, **(env or {})}
    return AgentRequest(conversation.messages, conversation.images, row, tools), space
