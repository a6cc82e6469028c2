"""Gemma 3 as published (``Gemma3ForConditionalGeneration``, ``google/gemma-3-{4b,12b,27b}-it``).

- Coordinates: none trained or documented. The Gemma 3 technical report and model card describe no box output,
  and Google's answer on the model's own discussion page (``google/gemma-3-4b-it`` discussion 38, "Object detection
  capabilities?") is that the documentation does not confirm any, pointing at Gemini's boxes (0-1000 of the image,
  y first). vlmr asks Gemma 3 for ``[x1, y1, x2, y2]`` in 0-1000 of the image (``norm1000``: Gemini's scale, in
  the x-first order vlmr's prompts spell out), and says so in every prompt; nothing here is a trained convention.
- Image size: every image is resized (aspect not kept) to one 896x896 SigLIP input, 256 tokens
  (``<start_of_image>`` + 256 ``<image_soft_token>`` + ``<end_of_image>``): the size is the vision tower's position
  grid, so there is no area knob for ``max_pixels`` (vlmr warns and keeps 896x896). Pan-and-scan (extra 896x896
  crops of a long image) is off as published, and ``Gemma3Processor`` passes it per call (its ``images_kwargs``
  default ``do_pan_and_scan=False`` overrides the image processor's own setting), so vlmr leaves it off.
- Tools: the published template renders none, and Gemma 3 has no tool tokens: Google's function-calling guide for
  Gemma says the framework detects a call by the structure the prompt asked for. vlmr's Gemma template lists the
  tools at the head of the first user turn (where Gemma's template puts the system text) and asks for Hermes
  ``<tool_call>`` JSON, as vlmr's prompts do; results come back in a user turn.
- Video: none (Gemma 3 takes frames as separate images).
"""

from __future__ import annotations

from dataclasses import dataclass

from vlmr.families.base import ModelFamily, ToolTemplate, hermes_tool_parser, register_family

SIDE = 896  # px, the published image processor's size {"height": 896, "width": 896}


@dataclass(frozen=True)
class FixedSizeFamily(ModelFamily):
    """A family whose processor resizes every image to one ``patch_factor`` square (aspect not kept): one size,
    no pixel-area knob."""

    def input_size(self, height: int, width: int, min_pixels: int | None = None,
                   max_pixels: int | None = None) -> tuple[int, int]:
        """``(height, width)`` of the model input: always the square."""
        if height <= 0 or width <= 0:
            raise ValueError(f"image size must be positive, got height={height}, width={width}")
        return self.patch_factor, self.patch_factor

    def pixel_limits(self, image_processor) -> tuple[int | None, int | None]:
        size = getattr(image_processor, "size", None) or {}
        area = size.get("height", 0) * size.get("width", 0)
        return (area, area) if area else (None, None)

    def set_pixel_limits(self, image_processor, min_pixels: int | None, max_pixels: int | None) -> bool:
        return False  # the square is the vision tower's position grid: another size breaks the features


GEMMA3 = register_family(FixedSizeFamily(
    "gemma3", ("gemma3",), "norm1000", SIDE, SIDE * SIDE, SIDE * SIDE,
    placeholder_tokens=("<start_of_image>", "<image_soft_token>", "<end_of_image>"),
    tool_template=ToolTemplate(default_system=None, image="<start_of_image>", video="", source="gemma3_tools.jinja"),
    tool_parser=hermes_tool_parser("<start_of_turn>model\n", "<end_of_turn>"),
    video_input="images",
))
