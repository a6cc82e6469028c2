"""LLaVA-OneVision as published in the transformers format (``LlavaOnevisionForConditionalGeneration``,
``llava-hf/llava-onevision-qwen2-*-ov-hf``).

- Coordinates: ``[x1, y1, x2, y2]`` as floats in 0-1 of the image, as the LLaVA team's own harness asks for and
  scores them (lmms-eval's RefCOCO task: "All values are floating point numbers bounded between 0 and 1",
  ``EvolvingLMMs-Lab/lmms-eval``, ``lmms_eval/tasks/refcoco/utils_rec.py``).
- Image size ("anyres"): the image is resized into the grid resolution that keeps most of its pixels with the
  least padding, among ``image_grid_pinpoints`` (multiples of the 384 px SigLIP tile up to 2304x2304 as published),
  cut into 384 px tiles, plus the whole image as one more tile; a lone image is 729 tokens for the whole plus the
  tiles' features with the padding removed and one newline per row (pooled down to about 9 tiles' worth,
  ``anyres_max_9``), an image among several is 729 + 1 tokens. The grid is part of the model config as well as the
  processor, so ``max_pixels`` cannot change it at load time: vlmr warns and keeps the checkpoint's grid.
- Tools: the published template (transformers' ``convert_llava_onevision_weights_to_hf.py``) renders no tools;
  the language model is Qwen2, whose tool format is Hermes, so vlmr's template renders tools in that format,
  images as ``<image>\\n``. (The published template puts a turn's images before its text; vlmr's keeps the order of
  the parts, the same text whenever images come first, as in vlmr's prompts.)
- Video: frames as a video part (``<video>\\n``), pooled 2x2 per frame by the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from vlmr.families.base import HERMES_TOOL_PARSER, ModelFamily, ToolTemplate, register_family

TILE = 384  # px, SigLIP-so400m-patch14-384's input
PINPOINTS = [[TILE * rows, TILE * columns] for rows in range(1, 7) for columns in range(1, 7)]  # as published


def best_resolution(height: int, width: int, resolutions: list[list[int]]) -> tuple[int, int]:
    """``(height, width)`` of the grid resolution an image is resized into: the one that keeps most of the image's
    pixels after fitting it inside (at most all of them), then the one with the least padding (LLaVA-NeXT's rule).

    >>> best_resolution(480, 640, PINPOINTS)
    (768, 768)
    """
    best, kept_best, padding_best = (TILE, TILE), -1, float("inf")
    for grid_height, grid_width in resolutions:
        scale = min(grid_width / width, grid_height / height)
        kept = min(int(width * scale) * int(height * scale), width * height)
        padding = grid_width * grid_height - kept
        if kept > kept_best or (kept == kept_best and padding < padding_best):
            best, kept_best, padding_best = (grid_height, grid_width), kept, padding
    return best


@dataclass(frozen=True)
class AnyResFamily(ModelFamily):
    """A family whose processor picks a grid resolution among ``image_grid_pinpoints`` (``patch_factor`` px tiles);
    the pixel limits are the smallest and largest grid areas."""

    def input_size(self, height: int, width: int, min_pixels: int | None = None,
                   max_pixels: int | None = None) -> tuple[int, int]:
        """``(height, width)`` of the grid resolution the image is resized into (the whole-image tile aside)."""
        if height <= 0 or width <= 0:
            raise ValueError(f"image size must be positive, got height={height}, width={width}")
        low, high = min_pixels or self.min_pixels, max_pixels or self.max_pixels
        grids = [g for g in PINPOINTS if low <= g[0] * g[1] <= high] or [[self.patch_factor] * 2]
        return best_resolution(height, width, grids)

    def pixel_limits(self, image_processor) -> tuple[int | None, int | None]:
        areas = [h * w for h, w in getattr(image_processor, "image_grid_pinpoints", None) or []]
        return (min(areas), max(areas)) if areas else (None, None)

    def set_pixel_limits(self, image_processor, min_pixels: int | None, max_pixels: int | None) -> bool:
        return False  # the grid is in the model config too: changing the processor's alone breaks the features


LLAVA_ONEVISION = register_family(AnyResFamily(
    "llava_onevision", ("llava_onevision",), "norm1", TILE, TILE * TILE, 6 * TILE * 6 * TILE,
    placeholder_tokens=("<image>", "<video>"),
    tool_template=ToolTemplate(default_system=None, image="<image>\n", video="<video>\n"),
    tool_parser=HERMES_TOOL_PARSER,
))
