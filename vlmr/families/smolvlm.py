"""SmolVLM and SmolVLM2 as published (``SmolVLMForConditionalGeneration``, ``HuggingFaceTB/SmolVLM2-*``).

- Coordinates: none documented. SmolVLM's model card (``HuggingFaceTB/SmolVLM-Instruct``: "answer questions about
  images, describe visual content, create stories grounded on multiple images") lists no grounding or box output,
  and vlmr found no box format for it to follow. vlmr asks it for pixels of the original image, as for a model of no
  known family (the prompt names the image's width and height), so nothing is implied about a convention the model
  was not shown to have.
- Image size (Idefics3's splitting): the image is resized so its longest edge is ``size.longest_edge`` (2048 px
  for SmolVLM2-256M/500M, the other edge in proportion, rounded up to even), each side then rounded up to a multiple
  of the ``max_image_size`` tile (512 px) and cut into tiles, plus the whole image as one more tile; an image that
  fits one tile is that tile alone. Each tile is ``image_seq_len`` ``<image>`` tokens (64) after
  ``<fake_token_around_image><row_r_col_c>`` (``<global-img>`` for the whole image). The knob behind
  ``max_pixels`` is ``size.longest_edge`` (the largest multiple of the tile whose square is within it).
- Tools: the published template renders none and SmolVLM was not trained on tool use; its language model's family
  (SmolLM3) calls tools as ``<tool_call>`` JSON. vlmr's SmolVLM template keeps SmolVLM's turns (``User:`` /
  ``Assistant:`` ... ``<end_of_utterance>``), lists the tools in a system turn and asks for Hermes ``<tool_call>``
  JSON, as vlmr's prompts do; results come back in a user turn.
- Video: frames as a video part (``<video>``), each one 512x512 tile. Untested with tools: transformers'
  ``SmolVLMProcessor.apply_chat_template`` renders a conversation holding a video with its own default template
  unless a template is passed to the call, and that one renders no tools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vlmr.families.base import ModelFamily, ToolTemplate, hermes_tool_parser, register_family

TILE = 512  # px, SmolVLM2-256M/500M's max_image_size {"longest_edge": 512}
LONGEST_EDGE = 4 * TILE  # px, their size {"longest_edge": 2048}
# Each tile's position, <row_1_col_1> ... <row_6_col_6> (Idefics3's tokenizer, kept by SmolVLM's)
TILE_POSITIONS = tuple(f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7))


def split_size(height: int, width: int, longest_edge: int, tile: int = TILE) -> tuple[int, int]:
    """``(height, width)`` an image is resized to before it is cut into ``tile`` px tiles: the longest edge to
    ``longest_edge``, the other in proportion (rounded up to even), then both up to multiples of ``tile``.

    >>> split_size(480, 640, 2048)
    (1536, 2048)
    >>> split_size(64, 96, 512)
    (512, 512)
    """
    if width >= height:
        other = int(longest_edge / (width / height))  # transformers' arithmetic, to the pixel
        height, width = other + other % 2, longest_edge
    else:
        other = int(longest_edge * (width / height))
        height, width = longest_edge, other + other % 2
    return math.ceil(height / tile) * tile, math.ceil(width / tile) * tile


@dataclass(frozen=True)
class SplitFamily(ModelFamily):
    """A family whose processor scales an image to a longest edge and cuts it into square tiles
    (``patch_factor`` px); the pixel limits are one tile and the square of the longest edge."""

    def input_size(self, height: int, width: int, min_pixels: int | None = None,
                   max_pixels: int | None = None) -> tuple[int, int]:
        """``(height, width)`` of the tiled image (the whole-image tile aside)."""
        if height <= 0 or width <= 0:
            raise ValueError(f"image size must be positive, got height={height}, width={width}")
        return split_size(height, width, self._longest_edge(max_pixels or self.max_pixels), self.patch_factor)

    def pixel_limits(self, image_processor) -> tuple[int | None, int | None]:
        edge = (getattr(image_processor, "size", None) or {}).get("longest_edge")
        tile = (getattr(image_processor, "max_image_size", None) or {}).get("longest_edge")
        return (tile**2 if tile else None), (edge**2 if edge else None)

    def set_pixel_limits(self, image_processor, min_pixels: int | None, max_pixels: int | None) -> bool:
        size = getattr(image_processor, "size", None)
        if size is None or "longest_edge" not in size or not hasattr(image_processor, "max_image_size"):
            return False
        if max_pixels is not None:
            size["longest_edge"] = self._longest_edge(max_pixels)
        return True

    def _longest_edge(self, max_pixels: int) -> int:
        """The longest edge for an area limit: the largest multiple of the tile whose square fits, at least one tile."""
        return max(1, math.isqrt(max_pixels) // self.patch_factor) * self.patch_factor


SMOLVLM = register_family(SplitFamily(
    "smolvlm", ("smolvlm",), "pixel", TILE, TILE * TILE, LONGEST_EDGE * LONGEST_EDGE,
    placeholder_tokens=("<image>", "<fake_token_around_image>", "<global-img>", "<video>", *TILE_POSITIONS),
    tool_template=ToolTemplate(default_system=None, image="<image>", video="<video>", source="smolvlm_tools.jinja"),
    tool_parser=hermes_tool_parser("Assistant:", "<end_of_utterance>"),
))
