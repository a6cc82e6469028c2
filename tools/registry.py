"""What a tool is, the registry of tools by name, and named tool sets per task.

A tool is a function ``tool(env, **arguments) -> ToolResult`` whose type hints and
Google-style docstring are the schema the model sees (``{coords}`` in the docstring is
replaced by the model's coordinate convention when an environment class is built).
Tools are registered with :func:`register_tool`; :func:`resolve_tools` expands set names
and turns import paths of registered tool functions (``my_pkg.tools:measure``) into their names.

>>> resolve_tools(["zoom", "draw_box", "zoom_in"])
['zoom_in', 'draw_box']
>>> resolve_tools("video")
['select_frames', 'zoom_in_frame']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PIL import Image

from vlmr.registry import definition, lookup, register

MEDIA = ("image", "video", "volume", "scene")


@dataclass
class ToolResult:
    """What a tool produced: images for the model, a text note, and optionally a new working image.

    ``canvas`` replaces the environment's working image (the one visual edits draw on) when the
    call succeeds within its limits; tools never mutate environment state themselves. Every
    returned image becomes an observation the model can address by index (``origins`` maps it
    back to the input image's pixels).
    """

    text: str
    images: list[Image.Image] = field(default_factory=list)
    canvas: Image.Image | None = None
    # per returned image: (index of the input image, box of it in original pixels the image shows); a box
    # of None (or no entry) when no box can say it, e.g. after a rotation or an edit
    origins: list[tuple[int, tuple[float, float, float, float] | None]] = field(default_factory=list)


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: its name, function and the media kind it reads."""

    name: str
    func: Callable[..., ToolResult]
    needs: str


_REGISTRY: dict[str, ToolSpec] = {}

# set name -> tool names; a task config may list sets and single tools together
TOOL_SETS: dict[str, tuple[str, ...]] = {
    "image": ("zoom_in", "crop", "rotate", "draw_box", "draw_line", "draw_point", "highlight", "mask_out", "grid"),
    "zoom": ("zoom_in",),
    "refocus": ("draw_box", "draw_line", "highlight", "mask_out"),
    "video": ("select_frames", "zoom_in_frame"),
    "volume": ("get_slice",),
    "scene": ("render_view",),
}

def register_tool(needs: str) -> Callable[[Callable[..., ToolResult]], Callable[..., ToolResult]]:
    """Decorator registering a tool function under its ``__name__``; ``needs`` is one of ``MEDIA``."""
    if needs not in MEDIA:
        raise ValueError(f"unknown media kind {needs!r}; choose one of {MEDIA}")

    def decorator(func: Callable[..., ToolResult]) -> Callable[..., ToolResult]:
        if func.__name__ in TOOL_SETS:
            raise ValueError(f"tool name {func.__name__!r} clashes with a tool set name")
        register(_REGISTRY, func.__name__, ToolSpec(func.__name__, func, needs), "tool",
                 identity=lambda spec: (definition(spec.func), spec.needs))
        return func

    return decorator


def get_tool(name: str) -> ToolSpec:
    """The tool registered as ``name``, or the registered tool function at the import path ``name``;
    the error lists every tool and set."""
    found = lookup(_REGISTRY, name, "tool", check=(_is_tool, "a tool function decorated with @register_tool(needs)"),
                   choices=lambda names: f"tools: {names}; tool sets: {sorted(TOOL_SETS)}")
    return found if isinstance(found, ToolSpec) else _REGISTRY[found.__name__]


def _is_tool(obj: object) -> bool:
    spec = _REGISTRY.get(getattr(obj, "__name__", ""))
    return isinstance(obj, ToolSpec) or (spec is not None and spec.func is obj)


def list_tools() -> list[str]:
    """Names of all registered tools, sorted."""
    return sorted(_REGISTRY)


def resolve_tools(names: str | Sequence[str]) -> list[str]:
    """Expand tool-set names, keep order, drop duplicates, check every name is registered.

    ``names`` may be a list or a comma-separated string (``"zoom_in,draw_box"``).
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: list[str] = []
    for name in names:
        for tool in TOOL_SETS.get(name, (name,)):
            tool = get_tool(tool).name
            if tool not in out:
                out.append(tool)
    return out
