"""One conversation builder: a record reaches the model the same way in training, eval, infer and the demo.

:func:`build_conversation` turns a record (+ its dataset root, coordinate space, tools, system
prompt and :class:`FramePolicy`) into a :class:`Conversation`: the chat messages, the images and
video frames in placeholder order, the frames' times, the tool environment's row and the columns
rewards read. SFT and GRPO rows (:mod:`vlmr.dataset`, :mod:`vlmr.train.sft`), roll-outs
(:mod:`vlmr.train.rollouts`), every benchmark (``Benchmark.conversation``), ``vlmr infer`` and the
demo (:mod:`vlmr.inference.request`) call it; a benchmark changes only its question text and its
frame policy.

A video reaches the model as frames shown as images (trl's trainers take images only), each
preceded by its time as a text part, ``<1.5s>``. The frames are the record's own images when
``meta.frame_times`` gives one time per image (``vlmr data build ... --extract_frames true``),
else they are sampled from ``video`` by the frame policy (:func:`vlmr.schema.sampling` reads the
record's keys).

>>> from vlmr.schema import Sample
>>> s = Sample(id="v1", task="temporal_grounding", question="When?", images=["media/a.png", "media/b.png"],
...            meta={"frame_times": [0.0, 1.5]})
>>> c = build_conversation(s, "/data", None, system=None)
>>> [p.get("text", p["type"]) for p in c.messages[0]["content"]][:4], c.frame_times
(['<0.0s>', 'image', '<1.5s>', 'image'], [0.0, 1.5])
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vlmr.formats import CoordinateSpace, coord_column
from vlmr.prompts import SYSTEM_PROMPT, build_prompt
from vlmr.schema import Sample, native_fps, resolve_media, sampling

# Columns every row carries for the rewards (trl passes a GRPO row's columns to each reward; roll-outs
# and the SFT difficulty filter pass these): a reward declaring another column fails at config load.
# ``question`` is the record's own question, without the choices and answer instruction the prompt adds
# (what a judge compares answers against, as DeepEyes' judge reads its row's ``extra_info.question``).
REWARD_COLUMNS = ("id", "task", "question", "answer", "choices", "coord", "images")
# What the tool environment's ``reset(**row)`` reads (media paths absolute).
ENV_COLUMNS = ("images", "coord", "video", "volume", "scene")


@dataclass(frozen=True)
class FramePolicy:
    """How a video becomes frames: ``fps`` frames per second of clip, at most ``max_frames``, spread
    evenly over the clip with its ends included (:func:`vlmr.media.video.plan_indices`, qwen-vl-utils'
    rule), each frame resized to a Qwen-VL size between ``min_pixels`` and ``max_pixels`` (left as
    decoded without ``max_pixels``). A record's ``video.sample_fps`` / ``video.max_frames`` win.

    >>> FramePolicy().for_video({"path": "a.mp4", "fps": 30.0, "sample_fps": 1.0})
    FramePolicy(fps=1.0, max_frames=16, min_pixels=None, max_pixels=None)
    """

    fps: float = 2.0
    max_frames: int = 16
    min_pixels: int | None = None
    max_pixels: int | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any], **defaults: Any) -> FramePolicy:
        """The policy named by ``fps``/``max_frames``/``min_pixels``/``max_pixels`` in ``options``
        (a benchmark's ``--option``), else ``defaults``, else the class defaults."""
        known = {k: options[k] for k in cls.__dataclass_fields__ if options.get(k) is not None}
        return cls(**{**defaults, **known})

    def for_video(self, video: dict[str, Any]) -> FramePolicy:
        """This policy with the record's own sampling rate and frame cap where it states them."""
        fps, max_frames = sampling(video)
        return replace(self, fps=float(fps or self.fps), max_frames=int(max_frames or self.max_frames))

    def sample(self, root: str | Path, video: dict[str, Any]) -> tuple[list, list[float]]:
        """Frames (PIL) of the record's ``video`` under ``root`` and their times in seconds."""
        from vlmr.media.video import sample_frames

        policy = self.for_video(video)
        return sample_frames(resolve_media(root, video["path"]), fps=policy.fps, max_frames=policy.max_frames,
                             start=video.get("start"), end=video.get("end"), min_pixels=policy.min_pixels,
                             max_pixels=policy.max_pixels, sequence_fps=native_fps(video))


@dataclass
class Conversation:
    """A record as the model receives it.

    Attributes:
        messages: system prompt (optional) and one user turn; ``{"type": "image"}`` placeholders.
        images: what fills the placeholders, in order: the record's images (paths, or the PIL images
            given), then a sampled video's frames (PIL).
        frame_times: the time (s) of each video frame, as the prompt states it.
        env_row: the tool environment's ``reset(**row)``: ``images``, ``coord``, and the record's
            ``video`` (with the frame plan the model saw, so the video tools count the same frames),
            ``volume`` and ``scene`` where it has them, with absolute paths.
        columns: what rewards and scorers read beside the completion (:data:`REWARD_COLUMNS` but
            ``images``, which is in ``env_row``).
    """

    messages: list[dict]
    images: list = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    env_row: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The GRPO/roll-out row: ``prompt`` + the environment's row + the reward columns (every key in
        every row: a ``datasets`` table takes its columns from the first row)."""
        return {"prompt": self.messages, **dict.fromkeys(ENV_COLUMNS), **self.env_row, **self.columns}


def frames_in_images(sample: Sample) -> list[float] | None:
    """The times of the record's images when they are its video's frames (``meta.frame_times``, one per
    image, as ``--extract_frames`` writes them), else ``None``."""
    times = sample.meta.get("frame_times")
    if isinstance(times, list) and sample.images and len(times) == len(sample.images):
        return [float(t) for t in times]
    return None


def _frames_in_prompt(messages: list[dict], times: list[float]) -> list[dict]:
    """Replace the ``{"type": "video"}`` placeholder by one timestamped image placeholder per frame."""
    frames = [part for t in times for part in ({"type": "text", "text": f"<{t:.1f}s>"}, {"type": "image"})]
    return [
        {**m, "content": [p for part in m["content"] for p in (frames if part.get("type") == "video" else [part])]}
        if isinstance(m.get("content"), list) else m
        for m in messages
    ]


def _absolute(root: str | Path, media: dict[str, Any] | None, **extra: Any) -> dict[str, Any] | None:
    return {**media, **extra, "path": str(resolve_media(root, media["path"]))} if media else None


def arrow_safe(answer: dict) -> dict:
    """Coordinates as floats, so rows with int and float boxes share one Arrow type."""
    out = dict(answer)
    for key in ("boxes", "points", "boxes_3d"):
        if out.get(key) is not None:
            out[key] = [[float(v) for v in item] for item in out[key]]
    for key in ("span", "number"):
        if out.get(key) is not None:
            out[key] = [float(v) for v in out[key]] if key == "span" else float(out[key])
    return out


def build_conversation(
    sample: Sample,
    root: str | Path,
    space: CoordinateSpace | None,
    tools: list[str] | None = None,
    system: str | None = SYSTEM_PROMPT,
    frames: FramePolicy = FramePolicy(),
    images: list | None = None,
    question: str | None = None,
) -> Conversation:
    """The :class:`Conversation` of ``sample`` (its media relative to ``root``).

    Args:
        sample: the record.
        root: dataset root its media paths are relative to.
        space: how the model sees the record's first image (answers' coordinates, tool arguments).
        tools: tool or tool-set names shown to the model (changes the default system prompt).
        system: system prompt (``None``: none).
        frames: how a video becomes frames (a record's own ``sample_fps``/``max_frames`` win).
        images: decoded images instead of the record's image paths (a sample made in memory).
        question: the text asked instead of ``sample.question`` (a benchmark's official prompt).
    """
    shown = sample if question is None else replace(sample, question=question)
    given = list(images) if images is not None else [str(resolve_media(root, p)) for p in sample.images]
    times = frames_in_images(sample)
    video = None
    if sample.video:
        video = _absolute(root, sample.video, **_plan(frames, sample.video))
    if times is not None:  # the images are the video's frames: shown as frames, never sampled twice
        shown = replace(shown, images=[], video=sample.video or {"path": "frames"})
        still, frame_images = [], given
    elif sample.video:
        frame_images, times = frames.sample(root, sample.video)
        still = given
    else:
        still, frame_images, times = given, [], []
    messages = _frames_in_prompt(build_prompt(shown, space, tools=tools, system=system), times)
    all_images = still + frame_images
    media = {"video": video, "volume": _absolute(root, sample.volume), "scene": _absolute(root, sample.scene)}
    env_row = {"images": all_images, "coord": coord_column(space), **{k: v for k, v in media.items() if v}}
    columns = {"id": sample.id, "task": sample.task, "question": sample.question,
               "answer": arrow_safe(sample.answer), "choices": sample.choices, "coord": env_row["coord"]}
    return Conversation(messages, all_images, times, env_row, columns)


def _plan(frames: FramePolicy, video: dict[str, Any]) -> dict[str, Any]:
    """The sampling a video's frames followed, as record keys (what the video tools re-plan with)."""
    policy = frames.for_video(video)
    return {"sample_fps": policy.fps, "max_frames": policy.max_frames}
