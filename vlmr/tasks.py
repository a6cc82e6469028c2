"""Tasks as registered specs: what a record's ``task`` means, in one place.

A task says the answer instruction of its prompt (``{coords}`` becomes the model's coordinate
convention, :mod:`vlmr.prompts`), how its ground truth is written as the model should answer it,
which tools the demo offers for it (configs and ``--tools`` name their own), which scorer
``vlmr eval run --benchmark dataset`` uses, and how an answer is read and drawn (:mod:`vlmr.render`). A record names its task like every
other plug-in: a registered name or ``package.module:Name``, so a task of your own is one file::

    from vlmr.tasks import Task, register_task

    @register_task("ocr")
    class OCR(Task):
        instruction = "Answer with the text exactly as it is written."
        scorer = "my_pkg.ocr:score"       # (sample, prediction, ctx) -> {"exact_match": 1.0, ...}
        label = "Read text (OCR)"         # offered on the demo page

>>> task = get_task("counting")
>>> task.instruction, task.tools, task.format_answer({"count": 3, "boxes": [[0, 0, 1, 1]]})
('Answer with a single integer.', ('zoom_in', 'grid', 'mask_out'), '3')
>>> get_task("caption")
Traceback (most recent call last):
    ...
vlmr.registry.UnknownNameError: unknown task 'caption'; choose one of ['chart_qa', ...]...; or name your own as 'package.module:Name'
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any, ClassVar

from vlmr.formats import CoordinateSpace
from vlmr.registry import lookup, register_class

if TYPE_CHECKING:
    from vlmr.render import Answer

_REGISTRY: dict[str, type[Task]] = {}
SCORERS = "vlmr.eval.benchmarks.dataset_dir"  # the built-in scorers, imported when a dataset is scored


def register_task(name: str):
    """Class decorator registering a :class:`Task` subclass under ``name``."""

    def decorator(cls: type[Task]) -> type[Task]:
        if not (inspect.isclass(cls) and issubclass(cls, Task)):
            raise TypeError(f"@register_task({name!r}) decorates a Task subclass, got {cls!r}")
        return register_class(_REGISTRY, name, cls, "task")

    return decorator


def get_task(name: str) -> Task:
    """The task registered as ``name``, or the :class:`Task` subclass at ``package.module:Name``."""
    cls = lookup(_REGISTRY, name, "task",
                 check=(lambda obj: inspect.isclass(obj) and issubclass(obj, Task), "a Task subclass"))
    return cls()


def list_tasks() -> list[str]:
    """Registered task names, in registration order (the built-ins first)."""
    return list(_REGISTRY)


def to_model(values: list[float], space: CoordinateSpace | None) -> list[float | int]:
    """Pixel coordinates as the model writes them in ``space`` (whole numbers; 3 decimals for 0-1).

    >>> to_model([10, 20.4], CoordinateSpace(100, 100, "norm1000")), to_model([10, 20.4], None)
    ([100, 204], [10, 20])
    """
    converted = space.from_pixels(values) if space is not None else list(values)
    if space is not None and space.convention == "norm1":
        return [round(v, 3) for v in converted]
    return [int(round(v)) for v in converted]


class Task:
    """One task: its prompt's answer instruction, its answer written, read and drawn, its tools and scorer.

    Subclass it, set what differs and register it with :func:`register_task`; the defaults are a
    free-text question.
    """

    name: ClassVar[str] = ""
    instruction: ClassVar[str] = "Answer with a word, a number or a short phrase."
    tools: ClassVar[tuple[str, ...]] = ()  # ticked by default in the demo (configs and --tools name their own)
    scorer: ClassVar[str | None] = f"{SCORERS}:score_qa"  # "module:function"; None: not scored
    label: ClassVar[str | None] = None  # its choice on the demo page (None: not offered there)
    spatial: ClassVar[bool] = False  # answered with boxes or points (a response without them is noted)
    segments: ClassVar[bool] = False  # drawn as a mask: a segmenter turns the boxes and points into one

    def format_answer(self, answer: dict[str, Any], space: CoordinateSpace | None = None) -> str:
        """The ground truth written as the model should answer it (coordinates in ``space``); a
        ``ValueError`` when ``answer`` has nothing this task writes."""
        if answer.get("points") is not None:
            points = [{"point_2d": to_model(p, space)} for p in answer["points"]]
            return json.dumps(points[0] if len(points) == 1 else points)
        for key, write in (
            ("count", str),
            ("choice", str),
            ("span", lambda s: json.dumps([round(float(v), 1) for v in s])),
            ("number", lambda n: f"{n:g}"),
            ("text", str),
            ("boxes_3d", lambda b: json.dumps([round(float(v), 2) for v in b[0]])),
        ):
            if answer.get(key) is not None:
                return write(answer[key])
        raise ValueError(f"answer {answer} has nothing to format for task {self.name!r}")

    def read(self, text: str) -> dict[str, Any]:
        """What this task reads from the answer text beyond boxes, points and labels (read for every
        task, as a free question may still be answered with a box): :class:`~vlmr.render.Answer` fields."""
        return {}

    def note(self, answer: Answer) -> str | None:
        """A line written under the drawn answer, or ``None``."""
        if self.spatial and not (answer.boxes or answer.points):
            return "no box or point could be read from the answer"
        return None


class _BoxTask(Task):
    """Answers as ``{"bbox_2d": [...], "label": ...}``: one object, or a list of them (``many``)."""

    many: ClassVar[bool] = False
    spatial = True

    def format_answer(self, answer: dict[str, Any], space: CoordinateSpace | None = None) -> str:
        """The boxes (with a point inside each for segmentation) in ``space``, labels kept."""
        if answer.get("boxes") is None:
            return super().format_answer(answer, space)
        labels, points = answer.get("labels") or [], answer.get("points") or []
        items = []
        for i, box in enumerate(answer["boxes"]):
            item: dict[str, Any] = {"bbox_2d": to_model(box, space)}
            if self.segments and points:
                item["point_2d"] = to_model(points[min(i, len(points) - 1)], space)
            if i < len(labels):
                item["label"] = labels[i]
            items.append(item)
        return json.dumps(items if self.many else items[0])


@register_task("grounding")
class Grounding(_BoxTask):
    instruction = 'Answer with the box as {{"bbox_2d": [x1, y1, x2, y2], "label": "..."}}. {coords}'
    tools = ("zoom_in", "draw_box")
    scorer = f"{SCORERS}:score_grounding"
    label = "Grounding (box)"


@register_task("detection")
class Detection(_BoxTask):
    instruction = 'Answer with a list of boxes [{{"bbox_2d": [x1, y1, x2, y2], "label": "..."}}, ...]. {coords}'
    tools = ("zoom_in", "draw_box", "grid")
    scorer = f"{SCORERS}:score_detection"
    many = True


@register_task("pointing")
class Pointing(Task):
    instruction = 'Answer with the point as {{"point_2d": [x, y]}}. {coords}'
    tools = ("zoom_in", "draw_point", "grid")
    scorer = f"{SCORERS}:score_pointing"
    label = "Pointing"
    spatial = True


@register_task("segmentation")
class Segmentation(_BoxTask):
    instruction = ('Answer with the box and one point inside the object as '
                   '{{"bbox_2d": [x1, y1, x2, y2], "point_2d": [x, y]}}. {coords}')
    tools = ("zoom_in", "draw_box")
    scorer = f"{SCORERS}:score_segmentation"
    label = "Segmentation (mask)"
    segments = True


@register_task("counting")
class Counting(Task):
    instruction = "Answer with a single integer."
    tools = ("zoom_in", "grid", "mask_out")
    scorer = f"{SCORERS}:score_counting"
    label = "Counting"

    def read(self, text: str) -> dict[str, Any]:
        """The count (a bare number means that here)."""
        from vlmr.rewards.parse import parse_count

        return {"count": parse_count(text)}

    def note(self, answer: Answer) -> str | None:
        """The count read, or that there was none."""
        return f"count: {answer.count}" if answer.count is not None else "no count in the answer"


@register_task("mcq")
class MultipleChoice(Task):
    instruction = "Answer with the letter of the correct option."
    tools = ("zoom_in", "crop", "rotate")
    scorer = f"{SCORERS}:score_mcq"


@register_task("temporal_grounding")
class TemporalGrounding(Task):
    instruction = "Answer with the time span in seconds as [start, end]."
    tools = ("select_frames", "zoom_in_frame")
    scorer = f"{SCORERS}:score_temporal"
    label = "Temporal grounding (video)"

    def read(self, text: str) -> dict[str, Any]:
        """The time span in seconds (two bare numbers mean that here)."""
        from vlmr.rewards.parse import parse_span

        return {"span": parse_span(text)}


@register_task("vqa")
class VQA(Task):
    tools = ("zoom_in", "crop", "rotate")
    label = "Free question"


@register_task("chart_qa")
class ChartQA(Task):
    tools = ("zoom_in", "highlight", "mask_out", "draw_line")
    scorer = f"{SCORERS}:score_chart"


@register_task("medical_vqa")
class MedicalVQA(Task):
    instruction = "Answer with a word or a short phrase (yes or no for closed questions)."
    tools = ("zoom_in", "get_slice")
    scorer = f"{SCORERS}:score_medical"


@register_task("math")
class Math(Task):
    instruction = "Answer with the final number, expression or option letter only."
    tools = ("zoom_in", "draw_line")


@register_task("scene3d_qa")
class Scene3DQA(Task):
    tools = ("render_view",)
    scorer = f"{SCORERS}:score_scene_qa"


@register_task("scene3d_grounding")
class Scene3DGrounding(Task):
    instruction = "Answer with the 3D box as [cx, cy, cz, dx, dy, dz] in metres."
    tools = ("render_view",)
    scorer = None  # no 3D box metric in vlmr eval yet


BUILTIN_TASKS = tuple(_REGISTRY)  # the tasks vlmr ships, in this order (the tiny tokenizer reads their prompts)
