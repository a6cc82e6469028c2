"""InternVL3 and InternVL3.5 as published in the transformers format (``InternVLForConditionalGeneration``,
``OpenGVLab/InternVL3-*-hf``, ``OpenGVLab/InternVL3_5-*-HF``).

- Coordinates: ``<ref>object</ref><box>[[x1, y1, x2, y2]]</box>`` in 0-1000 of the image: InternVL's own RefCOCO
  evaluation divides the predicted box by 1000 and multiplies by the image's width and height
  (``OpenGVLab/InternVL``, ``internvl_chat/eval/refcoco/evaluate_grounding.py``).
- Image size: dynamic tiling. The image is resized to the grid of 448x448 tiles whose aspect ratio is closest to
  its own (between ``min_patches`` and ``max_patches`` tiles, 1 and 12 as published), plus one 448x448 thumbnail
  when there are several tiles; each tile is 256 ``<IMG_CONTEXT>`` tokens between ``<img>`` and ``</img>``. The
  knob behind ``max_pixels`` is ``max_patches`` (max_pixels // 448**2 tiles).
- Tools: the published template (written by transformers' ``convert_internvl_weights_to_hf.py``) renders no tools;
  the language models are Qwen2.5 (InternVL3) and Qwen3 (InternVL3.5), whose tool format is Hermes, so vlmr's
  template renders tools in that format, images as the published template does (``<IMG_CONTEXT>\\n``).
- Video: frames go to ``InternVLVideoProcessor`` as a video part (``<video>\\n``), one 448x448 tile per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vlmr.families.base import HERMES_TOOL_PARSER, ModelFamily, ToolTemplate, register_family

TILE = 448  # px, the published image processor's size {"height": 448, "width": 448}


def tile_grid(height: int, width: int, min_tiles: int, max_tiles: int, tile: int = TILE) -> tuple[int, int]:
    """``(columns, rows)`` of the tile grid an image is cut into: of the grids with ``min_tiles..max_tiles``
    tiles, the one whose aspect ratio is closest to the image's; on a tie the one with more tiles, while
    the image covers more than half of that grid's area (the rule of InternVL's ``dynamic_preprocess``).

    >>> tile_grid(480, 640, 1, 12)
    (4, 3)
    >>> tile_grid(100, 100, 1, 12)
    (1, 1)
    """
    grids = sorted(((c, r) for c in range(1, max_tiles + 1) for r in range(1, max_tiles + 1)
                    if min_tiles <= c * r <= max_tiles), key=lambda g: g[0] * g[1])
    aspect, best, best_diff = width / height, (1, 1), math.inf
    for columns, rows in grids:
        diff = abs(aspect - columns / rows)
        if diff < best_diff:
            best, best_diff = (columns, rows), diff
        elif diff == best_diff and width * height > 0.5 * tile * tile * columns * rows:
            best = (columns, rows)
    return best


@dataclass(frozen=True)
class TiledFamily(ModelFamily):
    """A family whose processor cuts images into square tiles (``patch_factor`` px each); the pixel limits
    are tile counts times the tile area (``min_patches``/``max_patches`` on the image processor)."""

    def input_size(self, height: int, width: int, min_pixels: int | None = None,
                   max_pixels: int | None = None) -> tuple[int, int]:
        """``(height, width)`` of the tile grid (the thumbnail tile aside)."""
        if height <= 0 or width <= 0:
            raise ValueError(f"image size must be positive, got height={height}, width={width}")
        min_tiles, max_tiles = self._tiles(min_pixels or self.min_pixels, max_pixels or self.max_pixels)
        columns, rows = tile_grid(height, width, min_tiles, max_tiles, self.patch_factor)
        return rows * self.patch_factor, columns * self.patch_factor

    def pixel_limits(self, image_processor) -> tuple[int | None, int | None]:
        area = self.patch_factor**2
        low, high = getattr(image_processor, "min_patches", None), getattr(image_processor, "max_patches", None)
        return (low * area if low else None), (high * area if high else None)

    def set_pixel_limits(self, image_processor, min_pixels: int | None, max_pixels: int | None) -> bool:
        if not hasattr(image_processor, "max_patches"):
            return False
        low, high = self._tiles(min_pixels or image_processor.min_patches * self.patch_factor**2,
                                max_pixels or image_processor.max_patches * self.patch_factor**2)
        image_processor.min_patches, image_processor.max_patches = low, high
        return True

    def _tiles(self, min_pixels: int, max_pixels: int) -> tuple[int, int]:
        """``(min_tiles, max_tiles)`` for pixel limits: whole tiles, at least one."""
        high = max(1, max_pixels // self.patch_factor**2)
        return min(high, max(1, min_pixels // self.patch_factor**2)), high


INTERNVL = register_family(TiledFamily(
    "internvl", ("internvl",), "norm1000", TILE, 1 * TILE * TILE, 12 * TILE * TILE,
    placeholder_tokens=("<IMG_CONTEXT>", "<img>", "</img>", "<video>"),
    tool_template=ToolTemplate(default_system=None, image="<IMG_CONTEXT>\n", video="<video>\n"),
    tool_parser=HERMES_TOOL_PARSER,
))
