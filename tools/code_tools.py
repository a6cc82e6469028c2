"""The ``python`` tool (Thyme, DeepEyesV2): model-written code on the episode's images, in a sandbox.

The code runs in a separate, locked-down process (:mod:`vlmr.tools.sandbox`): it sees only a fresh
working folder holding the episode's images, has no network, and is stopped at the limits of
:class:`~vlmr.tools.environment.ToolLimits` (``code_seconds``, ``code_memory_mb``). Failures of any
kind come back to the model as one ``Error:`` line.
"""

from __future__ import annotations

import io

from vlmr.media.image import open_rgb
from vlmr.tools.registry import ToolResult, register_tool
from vlmr.tools.sandbox import SandboxLimits, run_sandboxed
from vlmr.tools.validation import ToolArgumentError

MAX_CODE_CHARS = 20_000  # a program longer than this is not a tool call but a runaway generation


def observation_files(images) -> dict[str, bytes]:
    """The episode's images as ``observation_N.png`` files (N = index: inputs first, then tool images)."""
    files = {}
    for i, image in enumerate(images):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        files[f"observation_{i}.png"] = buffer.getvalue()
    return files


@register_tool("image")
def python(self, code: str) -> ToolResult:
    """Run a Python program to inspect the images, e.g. crop, enlarge, sharpen, measure colours or count.

    The working folder holds this conversation's images as observation_0.png (the first input image),
    observation_1.png and so on (further inputs, then the images earlier tool calls returned), each at its
    full resolution (print Image.open(name).size to see it). PIL and numpy are available. Images the program
    saves (.png, .jpg) are shown to you; what it prints comes back as text. Each call starts afresh in a
    sandbox: no network, no files outside the working folder, a few seconds and about 1 GB of memory.

    Args:
        code: The whole program, e.g. "from PIL import Image\\nim = Image.open('observation_0.png')\\nim.crop((0, 0, 100, 100)).resize((400, 400)).save('zoom.png')".
    """
    if not isinstance(code, str) or not code.strip():
        raise ToolArgumentError(f"code must be a non-empty Python program as a string, got {type(code).__name__}.")
    if len(code) > MAX_CODE_CHARS:
        raise ToolArgumentError(f"code is {len(code)} characters long; the limit is {MAX_CODE_CHARS}.")
    seconds = min(self.limits.code_seconds, self.limits.time_limit)  # the sandbox stops the code, not the guard
    limits = SandboxLimits(seconds=seconds, memory_mb=self.limits.code_memory_mb)
    result = run_sandboxed(code, limits, observation_files([o.image for o in self._state().observations]))
    if result.error is not None:
        return ToolResult(f"Error: {result.error}")
    images, notes = [], []
    for name, data in result.files.items():
        try:
            images.append(open_rgb(io.BytesIO(data)))
            notes.append(f"{name} ({images[-1].width}x{images[-1].height} px, shown above)")
        except (OSError, ValueError):  # UnreadableImage is an OSError
            notes.append(f"{name} (not a readable image)")
    parts = [f"The program ran in {result.seconds:.2f} s."]
    if result.stdout:
        parts.append(f"stdout:\n{result.stdout.rstrip()}")
    if result.stderr:
        parts.append(f"stderr:\n{result.stderr.rstrip()}")
    if notes:
        parts.append("Saved images: " + ", ".join(notes) + ".")
    return ToolResult("\n".join(parts), images)
