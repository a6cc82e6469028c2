"""vlmr's chat templates: the tiny model's (vlmr/templates/chat_template.jinja) as its processor renders it, the
tool templates of the Qwen2-VL and Qwen2.5-VL families, and the one decision of which template renders tools."""

from __future__ import annotations

import pytest
from PIL import Image
from trl.chat_template_utils import (
    has_generation_markers,
    is_chat_template_prefix_preserving,
    parse_response,
    supports_tool_calling,
)

from vlmr.chat_templates import (
    RESPONSE_TEMPLATE,
    chat_template,
    prepare_for_tools,
    tool_chat_template,
    training_chat_template,
)
from vlmr.tiny_model import create_tiny_model


@pytest.fixture(scope="module")
def processor():
    """The nano model's processor (in memory; the template is the packaged one)."""
    return create_tiny_model("nano", seed=0)[1]


def zoom_in(bbox_2d: list[int]) -> str:
    """Zoom into a region of the image.

    Args:
        bbox_2d: box [x1, y1, x2, y2] in pixels of the input image.
    """
    return ""


IMAGE = Image.new("RGB", (100, 80), "red")  # resized to 112x84 px: 8x6 patches of 14 px -> 12 merged tokens
CROP = Image.new("RGB", (60, 60), "blue")  # resized to 56x56 px -> 4 merged tokens

TOOL_CONVERSATION = [
    {"role": "system", "content": [{"type": "text", "text": "Think first."}]},
    {
        "role": "user",
        "content": [{"type": "image", "image": IMAGE}, {"type": "text", "text": "Find the cat."}],
    },
    {
        "role": "assistant",
        "content": [{"type": "text", "text": "<think>zoom</think>"}],
        "tool_calls": [
            {"type": "function", "function": {"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 30, 40]}}}
        ],
    },
    {
        "role": "tool",
        "name": "zoom_in",
        "content": [{"type": "image", "image": CROP}, {"type": "text", "text": "zoomed"}],
    },
    {
        "role": "assistant",
        "content": [{"type": "text", "text": '<answer>{"bbox_2d": [1, 2, 3, 4]}</answer>'}],
    },
]

TOOLS_BLOCK = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    '{"type": "function", "function": {"name": "zoom_in", "description": "Zoom into a region of the image.", '
    '"parameters": {"type": "object", "properties": {"bbox_2d": {"type": "array", "items": {"type": "integer"}, '
    '"description": "box [x1, y1, x2, y2] in pixels of the input image."}}, "required": ["bbox_2d"]}, '
    '"return": {"type": "string"}}}\n</tools>\n\n'
    "For each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
    "</tool_call>"
)

EXPECTED_TOOL_CONVERSATION = (
    "<|im_start|>system\nThink first.\n\n" + TOOLS_BLOCK + "<|im_end|>\n"
    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Find the cat.<|im_end|>\n"
    "<|im_start|>assistant\n<think>zoom</think>\n"
    '<tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 30, 40]}}\n</tool_call><|im_end|>\n'
    "<|im_start|>user\n<tool_response>\n<|vision_start|><|image_pad|><|vision_end|>zoomed\n</tool_response><|im_end|>\n"
    '<|im_start|>assistant\n<answer>{"bbox_2d": [1, 2, 3, 4]}</answer><|im_end|>\n'
)


def render(processor, messages, **kwargs) -> str:
    return processor.apply_chat_template(messages, tokenize=False, **kwargs)


class TestRendering:
    def test_tool_conversation_with_tool_image_snapshot(self, processor):
        assert render(processor, TOOL_CONVERSATION, tools=[zoom_in]) == EXPECTED_TOOL_CONVERSATION

    def test_image_pads_match_processor_output(self, processor):
        out = processor.apply_chat_template(
            TOOL_CONVERSATION, tools=[zoom_in], tokenize=True, return_dict=True, return_tensors="pt"
        )
        assert out["image_grid_thw"].tolist() == [[1, 6, 8], [1, 4, 4]]  # user image, then the tool's crop
        assert out["input_ids"][0].tolist().count(processor.image_token_id) == 12 + 4
        assert out["pixel_values"].shape == (48 + 16, 3 * 2 * 14 * 14)

    def test_assistant_mask_covers_exactly_the_assistant_turns(self, processor):
        out = processor.apply_chat_template(
            TOOL_CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        ids, mask = out["input_ids"][0], out["assistant_masks"][0]
        assistant_text = processor.tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
        assert assistant_text == (
            '<think>zoom</think>\n<tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 30, 40]}}\n'
            '</tool_call><|im_end|><answer>{"bbox_2d": [1, 2, 3, 4]}</answer><|im_end|>'
        )

    @pytest.mark.parametrize(
        ("messages", "kwargs", "expected"),
        [
            # plain string content, generation prompt, no default system prompt
            ([{"role": "user", "content": "Hi"}], {"add_generation_prompt": True},
             "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"),
            # tools without a system message: the tools block alone is the system turn
            ([{"role": "user", "content": "Hi"}], {"tools": [zoom_in]},
             "<|im_start|>system\n" + TOOLS_BLOCK + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"),
            # video part
            ([{"role": "user", "content": [{"type": "video", "video": "clip.mp4"}, {"type": "text", "text": "When?"}]}],
             {}, "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>When?<|im_end|>\n"),
            # add_vision_id numbers images across the conversation
            ([{"role": "user", "content": [{"type": "image"}, {"type": "image"}]}], {"add_vision_id": True},
             "<|im_start|>user\nPicture 1: <|vision_start|><|image_pad|><|vision_end|>"
             "Picture 2: <|vision_start|><|image_pad|><|vision_end|><|im_end|>\n"),
            # tool call without content (None) and with arguments already serialised as a string
            ([{"role": "assistant", "content": None,
               "tool_calls": [{"function": {"name": "f", "arguments": '{"a": 1}'}}]}], {},
             '<|im_start|>assistant\n<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call><|im_end|>\n'),
            # two calls in one turn are separated by a newline
            ([{"role": "assistant", "content": "",
               "tool_calls": [{"function": {"name": "f", "arguments": {}}}, {"function": {"name": "g", "arguments": {}}}]}],
             {}, '<|im_start|>assistant\n<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>\n'
             '<tool_call>\n{"name": "g", "arguments": {}}\n</tool_call><|im_end|>\n'),
            # consecutive tool results share one user turn (Qwen2.5 convention)
            ([{"role": "tool", "content": "a"}, {"role": "tool", "content": "b"}], {},
             "<|im_start|>user\n<tool_response>\na\n</tool_response>\n<tool_response>\nb\n</tool_response><|im_end|>\n"),
        ],
    )  # fmt: skip
    def test_render_cases(self, processor, messages, kwargs, expected):
        assert render(processor, messages, **kwargs) == expected

    def test_tokenizer_and_processor_share_the_packaged_template(self, processor):
        assert processor.chat_template == processor.tokenizer.chat_template == chat_template()


class TestTrlCompatibility:
    def test_supports_tool_calling(self, processor):
        assert supports_tool_calling(processor)
        assert supports_tool_calling(processor.tokenizer)

    def test_prefix_preserving_for_trl(self, processor):
        assert is_chat_template_prefix_preserving(processor)
        assert is_chat_template_prefix_preserving(processor.tokenizer)

    def test_has_generation_markers(self, processor):
        assert has_generation_markers(processor.chat_template)

    def test_each_turn_extends_the_previous_rendering(self, processor):
        for k in range(1, len(TOOL_CONVERSATION)):
            shorter = render(processor, TOOL_CONVERSATION[:k], tools=[zoom_in])
            assert render(processor, TOOL_CONVERSATION[: k + 1], tools=[zoom_in]).startswith(shorter)

    def test_tool_suffix_tokens_extend_the_call_tokens(self, processor):
        """What trl's tool loop relies on: [.., call] up to <|im_end|> is a token prefix of [.., call, tool(image)]."""
        messages = TOOL_CONVERSATION[1:3]
        kwargs = {"tokenize": True, "return_dict": True}
        prefix = processor.apply_chat_template(messages, **kwargs)["input_ids"][0]
        full = processor.apply_chat_template(TOOL_CONVERSATION[1:4], add_generation_prompt=True, **kwargs)[
            "input_ids"
        ][0]
        eos = processor.tokenizer.eos_token_id
        prefix = prefix[: len(prefix) - prefix[::-1].index(eos)]
        assert full[: len(prefix)] == prefix
        suffix = processor.tokenizer.decode(full[len(prefix) :])
        assert suffix == (
            "\n<|im_start|>user\n<tool_response>\n<|vision_start|>"
            + "<|image_pad|>" * 4
            + "<|vision_end|>zoomed\n"
            "</tool_response><|im_end|>\n<|im_start|>assistant\n"
        )


class TestResponseParsing:
    CALL = {"type": "function", "function": {"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}}

    @pytest.mark.parametrize(
        ("completion", "expected"),
        [
            # a call alone
            ('<tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}\n</tool_call><|im_end|>',
             {"role": "assistant", "content": "", "tool_calls": [CALL]}),
            # thinking, then a call without newlines: the thinking stays in content for the format reward
            ('<think>look closer</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}'
             "</tool_call><|im_end|>",
             {"role": "assistant", "content": "<think>look closer</think>", "tool_calls": [CALL]}),
            # two calls
            ('<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}</tool_call>\n'
             '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}</tool_call><|im_end|>',
             {"role": "assistant", "content": "", "tool_calls": [CALL, CALL]}),
            # a final answer: everything is content
            ('<think>a cat</think><answer>{"bbox_2d": [1, 2, 3, 4]}</answer><|im_end|>',
             {"role": "assistant", "content": '<think>a cat</think><answer>{"bbox_2d": [1, 2, 3, 4]}</answer>'}),
            # text on both sides of a call is kept
            ('before <tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}</tool_call> after',
             {"role": "assistant", "content": "before\nafter", "tool_calls": [CALL]}),
            # malformed JSON: trl falls back to the raw text, no tool call
            ('<tool_call>{"name": "zoom_in", "argu</tool_call><|im_end|>',
             {"role": "assistant", "content": '<tool_call>{"name": "zoom_in", "argu</tool_call>'}),
            # truncated mid-call
            ('<tool_call>{"name": "zoom_in", "argu',
             {"role": "assistant", "content": '<tool_call>{"name": "zoom_in", "argu'}),
        ],
    )  # fmt: skip
    def test_trl_parse_response(self, processor, completion, expected):
        tokenizer = processor.tokenizer
        prefix = tokenizer("<|im_start|>user\nZoom.<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
        parsed = parse_response(tokenizer, tokenizer(completion)["input_ids"], prefix=prefix)
        assert parsed == expected


# ------------------------------------------------------------- the families' published templates
# What a tool-capable Qwen2.5-VL prompt looks like: the Hermes format of Qwen-Agent's NousFnCallPrompt
# (QwenLM/Qwen-Agent, qwen_agent/llm/fncall_prompts/nous_fncall_prompt.py: FN_CALL_TEMPLATE appended to the system
# text after "\n\n"; tool results as "<tool_response>\n...\n</tool_response>" in a user turn), with the system
# prompt Qwen2.5-VL's published template adds to a conversation that has none.
FAMILY_TOOL_CONVERSATION = (
    "<|im_start|>system\nYou are a helpful assistant.\n\n" + TOOLS_BLOCK + "<|im_end|>\n"
    + EXPECTED_TOOL_CONVERSATION[EXPECTED_TOOL_CONVERSATION.index("<|im_start|>user") :]
)
RED, BLUE = Image.new("RGB", (56, 56), "red"), Image.new("RGB", (56, 56), "blue")
# Conversations without tools: vlmr's family template must render each exactly as the published one.
NO_TOOL_CONVERSATIONS = [
    ([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}], {"add_generation_prompt": True}),
    ([{"role": "system", "content": [{"type": "text", "text": "Think first."}]},
      {"role": "user", "content": [{"type": "image", "image": RED}, {"type": "text", "text": "What colour?"}]},
      {"role": "assistant", "content": [{"type": "text", "text": "<answer>red</answer>"}]},
      {"role": "user", "content": [{"type": "image", "image": BLUE}, {"type": "text", "text": "And now?"}]}],
     {"add_generation_prompt": True}),
    ([{"role": "user", "content": [{"type": "video", "video": "clip.mp4"}, {"type": "text", "text": "When?"}]},
      {"role": "assistant", "content": "[1.0, 2.0]"}], {}),
    ([{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Same?"}]}],
     {"add_vision_id": True}),
]  # fmt: skip
# A user's own template that renders tools in a format of its own (not Hermes JSON).
OWN_TOOL_TEMPLATE = (
    "{%- for m in messages -%}[{{ m.role }}]{%- if m.content is string -%}{{ m.content }}{%- else -%}"
    "{%- for p in m.content -%}{{ p.text or '' }}{%- endfor -%}{%- endif -%}"
    "{%- for c in m.tool_calls or [] -%}CALL {{ c.function.name }} {{ c.function.arguments | tojson }}{%- endfor -%}"
    "{%- endfor -%}{%- if tools -%}TOOLS {{ tools | tojson }}{%- endif -%}"
)


@pytest.fixture
def published_processor(published_checkpoint):
    """``published_processor("qwen2_5_vl")``: a fresh processor of the family's hub-like checkpoint."""
    from transformers import AutoProcessor

    return lambda family: AutoProcessor.from_pretrained(published_checkpoint(family))


class TestFamilyToolTemplates:
    def test_published_qwen2_vl_templates_drop_tools_and_qwen3_vl_keeps_them(self, published_processor):
        assert not supports_tool_calling(published_processor("qwen2_5_vl"))
        assert not supports_tool_calling(published_processor("qwen2_vl"))
        assert supports_tool_calling(published_processor("qwen3_vl"))

    @pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
    @pytest.mark.parametrize(("messages", "kwargs"), NO_TOOL_CONVERSATIONS)
    def test_without_tools_renders_as_the_published_template(self, published_processor, family, messages, kwargs):
        processor = published_processor(family)
        published = render(processor, messages, **kwargs)
        assert published.startswith("<|im_start|>system\n")  # the published default system prompt is there
        assert render(processor, messages, chat_template=tool_chat_template(family), **kwargs) == published

    def test_tool_conversation_snapshot(self, published_processor):
        processor = published_processor("qwen2_5_vl")
        prepare_for_tools(processor, "qwen2_5_vl")
        assert render(processor, TOOL_CONVERSATION[1:], tools=[zoom_in]) == FAMILY_TOOL_CONVERSATION
        # a system message of the user's replaces the default one, as in the published template
        assert render(processor, TOOL_CONVERSATION, tools=[zoom_in]) == EXPECTED_TOOL_CONVERSATION

    def test_meets_what_trl_needs(self, published_processor):
        processor = published_processor("qwen2_5_vl")
        prepare_for_tools(processor, "qwen2_5_vl")
        assert supports_tool_calling(processor) and is_chat_template_prefix_preserving(processor)
        assert has_generation_markers(processor.chat_template)

    def test_unknown_family_has_no_tool_template(self):
        with pytest.raises(ValueError, match="no tool template for family 'generic'"):
            tool_chat_template("generic")


class TestPrepareForTools:
    def test_published_qwen2_5_vl_template_is_replaced_once_and_logged(self, published_processor, caplog):
        processor = published_processor("qwen2_5_vl")
        with caplog.at_level("INFO", logger="vlmr.chat_templates"):
            assert prepare_for_tools(processor, "qwen2_5_vl") is True
            assert prepare_for_tools(processor, "qwen2_5_vl") is False  # already renders tools: kept
        assert [r.message for r in caplog.records if "renders no tools" in r.message] == [caplog.records[0].message]
        assert processor.chat_template == processor.tokenizer.chat_template == tool_chat_template("qwen2_5_vl")
        assert processor.tokenizer.response_template == RESPONSE_TEMPLATE

    def test_qwen3_vl_template_is_kept_and_gets_the_parser(self, published_processor):
        from trl.chat_template_utils import qwen3_vl_chat_template

        processor = published_processor("qwen3_vl")
        assert prepare_for_tools(processor, "qwen3_vl") is False
        assert processor.chat_template == qwen3_vl_chat_template
        # trl's Qwen3 parser would move <think> into reasoning_content, where the format reward never looks
        tokenizer = processor.tokenizer
        completion = '<think>look closer</think><tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}\n</tool_call><|im_end|>'
        prefix = tokenizer("<|im_start|>user\nZoom.<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
        assert parse_response(tokenizer, tokenizer(completion)["input_ids"], prefix=prefix) == {
            "role": "assistant", "content": "<think>look closer</think>", "tool_calls": [TestResponseParsing.CALL]}

    def test_tiny_model_keeps_its_template_and_parser(self, processor):
        parser = processor.tokenizer.response_template
        assert prepare_for_tools(processor, "qwen2_5_vl") is False
        assert processor.chat_template == chat_template() and processor.tokenizer.response_template is parser

    def test_own_tool_template_is_kept_without_a_hermes_parser(self, published_processor):
        processor = published_processor("qwen2_5_vl")
        processor.chat_template = processor.tokenizer.chat_template = OWN_TOOL_TEMPLATE
        assert prepare_for_tools(processor, "qwen2_5_vl") is False
        assert processor.chat_template == OWN_TOOL_TEMPLATE
        assert getattr(processor.tokenizer, "response_template", None) is None

    def test_template_without_tools_and_no_replacement_is_an_error(self, published_processor):
        processor = published_processor("qwen2_5_vl")
        with pytest.raises(ValueError, match="cannot render tools .* run without tools"):
            prepare_for_tools(processor, "generic")

    def test_saved_with_the_checkpoint(self, published_processor, tmp_path):
        from transformers import AutoProcessor

        processor = published_processor("qwen2_5_vl")
        prepare_for_tools(processor, "qwen2_5_vl")
        processor.save_pretrained(tmp_path)
        reloaded = AutoProcessor.from_pretrained(tmp_path)
        assert reloaded.chat_template == reloaded.tokenizer.chat_template == tool_chat_template("qwen2_5_vl")
        assert reloaded.tokenizer.response_template == RESPONSE_TEMPLATE
        assert prepare_for_tools(reloaded, "qwen2_5_vl") is False


class TestTrainingChatTemplate:
    def test_published_template_gets_trls_marked_copy(self, published_processor):
        from trl.chat_template_utils import qwen2_5_vl_training_chat_template

        assert training_chat_template(published_processor("qwen2_5_vl")) == qwen2_5_vl_training_chat_template

    def test_marked_template_is_used_as_is(self, processor):
        assert training_chat_template(processor) is None

    def test_unmarked_unknown_template_is_an_error(self, published_processor):
        processor = published_processor("qwen2_5_vl")
        processor.chat_template = processor.tokenizer.chat_template = OWN_TOOL_TEMPLATE
        with pytest.raises(ValueError, match="generation %}"):
            training_chat_template(processor)
