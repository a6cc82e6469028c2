"""GLM-4.1V, GLM-4.5V and GLM-4.6V (``Glm4vForConditionalGeneration``, model_type ``glm4v``: GLM-4.1V-9B-Thinking,
GLM-4.6V-Flash; ``Glm4vMoeForConditionalGeneration``, model_type ``glm4v_moe``: GLM-4.5V, GLM-4.6V; and transformers'
``Glm46VForConditionalGeneration``, model_type ``glm46v``, GLM-4.6V's processor around any language model, with
the same image processor).

- Coordinates: ``[x1, y1, x2, y2]`` of the top-left and bottom-right corners, "normalized by the image width (for
  x) or height (for y) and scaled by 1000", between ``<|begin_of_box|>`` and ``<|end_of_box|>`` in the answer,
  brackets of any style ([], [[]], (), <>) (``zai-org/GLM-V``, ``README.md``, "Grounding"; GLM-4.1V, 4.5V and 4.6V
  alike). The same tokens wrap GLM-4.1V-Thinking's final answer of any kind: ``vlmr.rewards.parse.parse_boxes`` reads
  the numbers between them whatever the brackets.
- Image size: ``Glm4vImageProcessor``'s rule (:func:`glm_input_size`): Qwen-VL's ``smart_resize`` with a 28 px factor
  (14 px patches merged 2x2), but an image counts as two frames (temporal patch 2) against the area limits
  ``size.shortest_edge``/``size.longest_edge`` (12544 and 9633792 as published, so at most 4816896 px of image), and
  an image under 28 px a side is first scaled up to 28 px. The knob behind ``max_pixels`` is ``size.longest_edge``,
  as for Qwen-VL: vlmr writes ``max_pixels`` there unchanged, so an image gets at most ``max_pixels / 2`` px.
  Each 28x28 px of input is one ``<|image|>`` token between ``<|begin_of_image|>`` and ``<|end_of_image|>``.
- Tools: GLM-4.5V's and GLM-4.6V's published templates render tools in GLM-4.5's format (a ``# Tools`` system turn,
  ``<tool_call>name`` with ``<arg_key>``/``<arg_value>`` pairs, results in ``<tool_response>`` after
  ``<|observation|>``); GLM-4.1V-9B-Thinking's renders none, so it gets vlmr's template in that format
  (``vlmr/templates/glm4v_chat_template.jinja``), which renders a conversation without tools as GLM-4.1V's does.
  :data:`GLM_TOOL_PARSER` reads the calls (either template).
- Thinking: GLM-4.1V-Thinking writes ``<think>...</think><answer>...</answer>`` natively (GLM-4.5V/4.6V drop the
  ``<answer>`` tags): the parser keeps both in ``content``, where vlmr's rewards read the answer.
- Video: frames go to ``Glm4vVideoProcessor`` as one video part (``<|begin_of_video|><|video|><|end_of_video|>``),
  which the processor expands into one image block per two frames, each followed by its time in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vlmr.families.base import ModelFamily, ToolTemplate, register_family

TEMPORAL_PATCH = 2  # an image is two identical frames to GLM-4.xV's vision tower

# transformers `response_template` for GLM-4.5's tool calls (``<tool_call>name\n<arg_key>k</arg_key>\n<arg_value>v
# </arg_value>\n</tool_call>``). trl's own parser for GLM-4.5 moves <think> text to `reasoning_content`, where vlmr's
# rewards never look, so here everything but the calls stays `content`. Argument values are JSON where they parse
# (numbers, boxes), else text, as GLM's template writes a string argument unquoted.
GLM_TOOL_PARSER = {
    "defaults": {"role": "assistant"},
    "start_anchor": "<|assistant|>",  # GLM-4.1V's prompt ends "<|assistant|>\n", GLM-4.5's "<|assistant|>"
    "fields": {
        "tool_calls": {
            "open_pattern": r"<tool_call>(?P<name>[^\s<]+)\s*",
            "close_pattern": r"</tool_call>\s*",
            "repeats": True,
            "content": "xml-inline",
            "content_args": {
                "tag_pattern": r"<arg_key>(?P<key>[^<]+)</arg_key>\s*<arg_value>(?P<value>.*?)</arg_value>",
                "value_parser": {"name": "json", "args": {"allow_non_json": True}},
            },
            "transform": {"type": "function", "function": {"name": "{name}", "arguments": "{content}"}},
        },
        "content": {  # text before and after tool calls, joined, up to the end-of-turn token
            "close_pattern": r"(?:<\|observation\|>|<\|user\|>|<\|endoftext\|>)\s*",
            "content": "text",
            "repeats": True,
            "join": "\n",
        },
    },
}


def glm_input_size(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """``(height, width)`` ``Glm4vImageProcessor`` resizes an image to: sides multiple of ``factor``, and the area of
    the image counted twice (two frames) within ``min_pixels..max_pixels``; sides under ``factor`` scaled up first.

    >>> glm_input_size(480, 640, 28, 12544, 9633792)
    (476, 644)
    >>> glm_input_size(3000, 4000, 28, 12544, 9633792)
    (1876, 2520)
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got height={height}, width={width}")
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio must be under 200, got {max(height, width) / min(height, width):.1f}")
    h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
    if TEMPORAL_PATCH * h_bar * w_bar > max_pixels:
        beta = math.sqrt(TEMPORAL_PATCH * height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif TEMPORAL_PATCH * h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (TEMPORAL_PATCH * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass(frozen=True)
class GlmFamily(ModelFamily):
    """Qwen-VL's ``size`` knob, GLM-4.xV's size rule (:func:`glm_input_size`)."""

    def input_size(self, height: int, width: int, min_pixels: int | None = None,
                   max_pixels: int | None = None) -> tuple[int, int]:
        return glm_input_size(height, width, self.patch_factor, min_pixels or self.min_pixels,
                              max_pixels or self.max_pixels)


GLM4V = register_family(GlmFamily(
    "glm4v", ("glm4v", "glm4v_moe", "glm46v"), "norm1000", 28, 12544, 9633792,
    placeholder_tokens=("<|image|>", "<|begin_of_image|>", "<|end_of_image|>", "<|video|>", "<|begin_of_video|>",
                        "<|end_of_video|>"),
    tool_template=ToolTemplate(default_system=None, image="<|begin_of_image|><|image|><|end_of_image|>",
                               video="<|begin_of_video|><|video|><|end_of_video|>",
                               source="glm4v_chat_template.jinja"),
    tool_parser=GLM_TOOL_PARSER,
    video_input="video",
))
