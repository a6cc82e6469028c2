"""Gemma 3 as published (``Gemma3ForConditionalGeneration``, ``google/gemma-3-{4b,12b,27b}-it``).

- Coordinates: none trained or documented. The Gemma 3 technical report and model card describe no box output,
  and Google's answer on the model's own discussion page (``google/gemma-3-4b-it`` discussion 38, "Object detection
  capabilities?") is that the documentation does not confirm any, pointing at Gemini's boxes (0-1000 of the image,
  y first). vlmr asks Gemma 3 for ``[x1, y1, x2, y2]`` in 0-1000 of the image (``norm1000``: Gemini's scale, in
  the x-first order vlmr's prompts spell out), and says so in every prompt; nothing here is a trained convention.
- Image size: every image is resized (aspect not kept) to one 896x896 SigLIP input, 256 tokens
  (``<start_of_image>`` + 256 ``<image_soft_token>`` + ``<end_of_image>``). Pan-and-scan, off as published, adds
  up to ``pan_and_scan_max_num_crops`` 896x896 crops of a long image; it is the knob behind ``max_pixels``
  (``max_pixels // 896**2 - 1`` crops, pan-and-scan on from 2 crops).
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
MIN_CROPS = 2  # pan-and-scan cuts a long image into at least this many crops


@dataclass(frozen=True)
class FixedSizeFamily(ModelFamily):
    """A family whose processor resizes every image to one ``patch_factor`` square (aspect not kept), plus
    optional pan-and-scan crops of the same size; the pixel limits count the whole image and its crops."""

    def input_size(self, height: int, width: int, min_pixels: int | None = None,
                   max_pixels: int | None = None) -> tuple[int, int]:
        """``(height, width)`` of the whole-image input: always the square (crops aside)."""
        if height <= 0 or width <= 0:
            raise ValueError(f"image size must be positive, got height={height}, width={width}")
        return self.patch_factor, self.patch_factor

    def pixel_limits(self, image_processor) -> tuple[int | None, int | None]:
        if image_processor is None or not hasattr(image_processor, "do_pan_and_scan"):
            return None, None
        crops = (image_processor.pan_and_scan_max_num_crops or 0) if image_processor.do_pan_and_scan else 0
        return self.patch_factor**2, (1 + crops) * self.patch_factor**2

    def set_pixel_limits(self, image_processor, min_pixels: int | None, max_pixels: int | None) -> bool:
        if not hasattr(image_processor, "do_pan_and_scan"):
            return False
        if max_pixels is not None:
            crops = max_pixels // self.patch_factor**2 - 1
            image_processor.do_pan_and_scan = crops >= MIN_CROPS
            image_processor.pan_and_scan_max_num_crops = crops if crops >= MIN_CROPS else None
        return True


GEMMA3 = register_family(FixedSizeFamily(
    "gemma3", ("gemma3",), "norm1000", SIDE, SIDE * SIDE, SIDE * SIDE,
    placeholder_tokens=("<start_of_image>", "<image_soft_token>", "<end_of_image>"),
    tool_template=ToolTemplate(default_system=None, image="<start_of_image>", video="", source="gemma3_tools.jinja"),
    tool_parser=hermes_tool_parser("<start_of_turn>model\n", "<end_of_turn>"),
))
