"""Qwen2-VL, Qwen2.5-VL and Qwen3-VL.

Pixel limits are those of the published checkpoints' preprocessor_config.json (tests/fixtures/published):
min_pixels 3136 / max_pixels 12845056 for Qwen2-VL and Qwen2.5-VL, size.shortest_edge 65536 / longest_edge
16777216 for Qwen3-VL images. Qwen2-VL's and Qwen2.5-VL's published chat template renders no tools, so they
get vlmr's template in the Hermes format of their Qwen2.5 language model; Qwen3-VL's own template renders tools.
"""

from __future__ import annotations

from vlmr.families.base import HERMES_TOOL_PARSER, ModelFamily, ToolTemplate, register_family

QWEN_PLACEHOLDERS = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")
# Qwen2-VL's and Qwen2.5-VL's published template opens with this system prompt when a conversation has none.
QWEN_TOOL_TEMPLATE = ToolTemplate(default_system="You are a helpful assistant.",
                                  image="<|vision_start|><|image_pad|><|vision_end|>",
                                  video="<|vision_start|><|video_pad|><|vision_end|>")

# Qwen2.5-VL grounds in absolute pixels of the resized input (Qwen2.5-VL report, sec. 2.1).
QWEN2_5_VL = register_family(ModelFamily(
    "qwen2_5_vl", ("qwen2_5_vl",), "resized", 28, 56 * 56, 28 * 28 * 16384,
    QWEN_PLACEHOLDERS, QWEN_TOOL_TEMPLATE, HERMES_TOOL_PARSER))
# Qwen2-VL writes boxes as (x, y) in [0, 1000) ("<|box_start|>(x1,y1),(x2,y2)<|box_end|>").
QWEN2_VL = register_family(ModelFamily(
    "qwen2_vl", ("qwen2_vl",), "norm1000", 28, 56 * 56, 28 * 28 * 16384,
    QWEN_PLACEHOLDERS, QWEN_TOOL_TEMPLATE, HERMES_TOOL_PARSER))
# Qwen3-VL returned to relative 0-1000 coordinates, with 16 px patches merged 2x2; its template renders tools
# (Hermes, as Qwen3), so vlmr only reads the calls.
QWEN3_VL = register_family(ModelFamily(
    "qwen3_vl", ("qwen3_vl", "qwen3_vl_moe"), "norm1000", 32, 256 * 256, 32 * 32 * 16384,
    QWEN_PLACEHOLDERS, None, HERMES_TOOL_PARSER))
