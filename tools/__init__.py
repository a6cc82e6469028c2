"""Visual tools and the per-sample tool environment shared by GRPO (trl) and inference.

>>> from vlmr.tools import make_environment
>>> Env = make_environment(["zoom_in", "draw_box"], convention="resized")
>>> sorted(Env.tool_names)
['draw_box', 'zoom_in']
"""

from vlmr.tools import code_tools, image_tools, scene_tools, video_tools, volume_tools  # noqa: F401  (register the tools)
from vlmr.tools.environment import ToolEnvironment, ToolLimits, make_environment, make_environments
from vlmr.tools.parsing import ToolCall, parse_tool_calls
from vlmr.tools.registry import (
    TOOL_SETS,
    ToolResult,
    get_tool,
    list_tools,
    register_tool,
    resolve_tools,
)
from vlmr.tools.validation import ToolArgumentError

__all__ = [
    "TOOL_SETS",
    "ToolArgumentError",
    "ToolCall",
    "ToolEnvironment",
    "ToolLimits",
    "ToolResult",
    "get_tool",
    "list_tools",
    "make_environment",
    "make_environments",
    "parse_tool_calls",
    "register_tool",
    "resolve_tools",
]
