"""Chat templates: vlmr's own, and the one decision of which template renders a tool conversation.

Qwen2-VL, Qwen2.5-VL, InternVL, LLaVA-OneVision, Gemma 3, SmolVLM and GLM-4.1V ship a chat template that renders
no tools: the ``tools`` schemas, an assistant's ``tool_calls`` and ``tool`` messages are dropped without a word.
Most of their language models were trained on the Hermes tool format of Qwen2/2.5/3 (a ``<tools>`` schema block in
the system turn, ``<tool_call>`` JSON calls, ``<tool_response>`` results in a user turn; Gemma 3 and SmolVLM have no
trained tool format and are prompted for it), so whenever tools are used vlmr swaps in its own template in that
format, in the family's own turns (the family's :class:`vlmr.families.ToolTemplate`, :func:`prepare_for_tools`),
which renders every non-tool conversation exactly as the published one does. GLM-4.1V's family format is GLM-4.5's
(``<tool_call>name`` with ``<arg_key>``/``<arg_value>`` pairs), which GLM-4.5V's and GLM-4.6V's templates render,
so it gets vlmr's GLM template in that format (``vlmr/templates/glm4v_chat_template.jinja``). A template that
already renders tools is never replaced; one that cannot and has no vlmr replacement is an error, never a silent
drop.

Import-light (stdlib only): trl and transformers are imported inside the functions.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import resources

from vlmr.families import HERMES_TOOL_PARSER, get_family, list_families

logger = logging.getLogger(__name__)

# The parser of Hermes tool calls in ChatML turns (the tiny model's and the Qwen-based families' tool format).
RESPONSE_TEMPLATE = HERMES_TOOL_PARSER

# The tool call rendered to check that a family's parser reads what the template writes.
_PROBE_CALL = {"name": "probe_tool", "arguments": {"probe_key": 1}}


def chat_template(source: str = "chat_template.jinja") -> str:
    """vlmr's chat template (Jinja source shipped in ``vlmr/templates/``; the ChatML one by default, as the tiny
    model uses it)."""
    return resources.files("vlmr").joinpath("templates", source).read_text(encoding="utf-8")


def tool_chat_template(family: str) -> str:
    """vlmr's tool-capable template for ``family`` (a :mod:`vlmr.families` name with a ``tool_template``).

    vlmr's chat template in the family's turn format (``ToolTemplate.source``) with its default system prompt and
    image/video placeholders, so a conversation without tools renders byte for byte as under the published template.
    """
    spec = get_family(family).tool_template
    if spec is None:
        raise ValueError(f"vlmr has no tool template for family {family!r}; it has one for {_with_tool_template()}")
    header = {"default_system": spec.default_system, "image_placeholder": spec.image, "video_placeholder": spec.video}
    return "".join("{%- set " + name + " = " + json.dumps(value) + " -%}\n"
                   for name, value in header.items() if value is not None) + chat_template(spec.source)


def prepare_for_tools(processor, family: str) -> bool:
    """Make ``processor`` render tool conversations and parse tool calls; the one place this is decided.

    1. Its own chat template renders tools (trl's ``supports_tool_calling``): kept, whatever it is.
    2. Otherwise, for a family with a ``tool_template``, vlmr's :func:`tool_chat_template` replaces it
       on the processor and its tokenizer (so ``save_pretrained`` keeps it with the checkpoint), logged.
    3. Otherwise ``ValueError``: tools are never sent through a template that drops them.

    A family without a ``tool_parser`` (``generic``: no family claims the checkpoint) is a ``ValueError`` too:
    vlmr could not read the calls. Then, if the tokenizer has no response parser and the family's ``tool_parser``
    reads back a call the template writes (Hermes ``<tool_call>`` JSON in the family's turns, GLM-4.5's
    ``<arg_key>`` pairs for GLM-4.xV), that parser is set on it: trl's tool loop and vlmr's inference read calls
    with it. A template of one's own that writes another format keeps its own parser.

    Args:
        processor: a processor (or tokenizer) with a ``chat_template``.
        family: the model's :mod:`vlmr.families` name (from ``config.model_type``).

    Returns:
        True if the template was replaced.
    """
    from trl.chat_template_utils import supports_tool_calling

    spec = get_family(family)
    replaced = False
    if not supports_tool_calling(processor):
        if spec.tool_template is None:
            raise ValueError(
                f"the chat template of this {family} checkpoint cannot render tools (trl's supports_tool_calling is "
                "False: it drops the tool schemas, tool calls or tool results), and vlmr has a tool template only "
                f"for {_with_tool_template()}. Give the checkpoint a template that renders `tools`, "
                "assistant `tool_calls` and `tool` messages (processor.chat_template), or run without tools.")
        _set_template(processor, tool_chat_template(family))
        logger.info(
            "the chat template of this %s checkpoint renders no tools; using vlmr's tool template for %s (%s, the "
            "family's tool format; images in tool results; prompts without tools render as before); a checkpoint "
            "trained from here is saved with it.", family, family, spec.tool_template.source)
        replaced = True
    if spec.tool_parser is None:
        raise ValueError(
            f"vlmr knows no tool-call format for the model family {family!r}, so it cannot read this model's tool "
            "calls: a checkpoint of no known family answers text-and-image questions without tools. Run without "
            "tools, name its family (--family, or `family:` in a config) or register one (docs/extending.md).")
    tokenizer = getattr(processor, "tokenizer", processor)
    has_parser = any(getattr(tokenizer, a, None) is not None for a in ("response_template", "response_schema"))
    if not has_parser and _writes_calls_read_by(processor, spec.tool_parser):
        tokenizer.response_template = spec.tool_parser
    return replaced


def training_chat_template(processor, family: str | None = None) -> str | None:
    """The template SFT renders conversations with, or ``None`` to use the processor's own.

    Assistant-only loss needs ``{% generation %}`` markers; published Qwen-VL templates have none, and trl
    ships marked copies of them (``get_training_chat_template``). Where trl has none (InternVL), a ``family`` with a
    vlmr tool template trains with that one: it marks the assistant's turns and renders tool-free conversations
    as the published template does. The checkpoint's own template is what is saved.
    """
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    template = processor.chat_template
    if isinstance(template, dict):  # named variants: the default one renders
        template = template["default"]
    if has_generation_markers(template):
        return None
    try:
        return get_training_chat_template(processor)
    except ValueError as e:
        if family is not None and get_family(family).tool_template is not None:
            return tool_chat_template(family)
        raise ValueError(
            "SFT trains on the assistant's tokens only, which needs {% generation %} ... {% endgeneration %} around "
            "assistant turns in the chat template; this checkpoint's template has none and trl has no marked copy "
            "of it. Add the markers (see vlmr/templates/chat_template.jinja for an example).") from e


def _with_tool_template() -> list[str]:
    """Names of the families vlmr has a tool template for."""
    return [name for name in list_families() if get_family(name).tool_template is not None]


def _set_template(processor, template: str) -> None:
    processor.chat_template = template
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is not None:
        tokenizer.chat_template = template


def _writes_calls_read_by(processor, parser: dict) -> bool:
    """Whether ``parser`` (a transformers ``response_template``) reads back the tool call the template renders."""
    from jinja2 import TemplateError
    from transformers.utils.chat_template_utils import render_jinja_template

    template = processor.chat_template
    if isinstance(template, dict):  # named variants: the default one renders
        template = template.get("default")
    user = {"role": "user", "content": [{"type": "text", "text": "hi"}]}
    call = {"role": "assistant", "content": [{"type": "text", "text": ""}],
            "tool_calls": [{"type": "function", "function": _PROBE_CALL}]}
    try:  # a template that rejects the probe writes no calls vlmr can read
        [prompt], _ = render_jinja_template([[user]], chat_template=template, add_generation_prompt=True)
        [text], _ = render_jinja_template([[user, call]], chat_template=template)
    except (TemplateError, TypeError, ValueError):
        return False
    prefix = os.path.commonprefix([prompt, text])  # a generation prompt may open more than the turn (<think>)
    tokenizer = getattr(processor, "tokenizer", processor)
    try:
        parsed = tokenizer.parse_response(text[len(prefix):], schema=parser, prefix=prefix)
    except Exception:  # any parse failure means: not this format
        return False
    calls = [c.get("function", c) for c in parsed.get("tool_calls") or [] if isinstance(c, dict)]
    return calls == [_PROBE_CALL]
