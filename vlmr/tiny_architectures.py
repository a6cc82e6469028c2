"""The architectures ``vlmr model init-tiny --family NAME`` builds: one per model family, tiny and random.

Each takes a size preset (:class:`TinyPreset`; the presets are in :mod:`vlmr.tiny_model`) and the locally trained tokenizer and returns the
transformers model class, its config and its processor: the family's own classes with its published processor
settings (patch and tile sizes, normalisation, placeholder tokens) and only the sizes and pixel limits made small.

- ``qwen2_5_vl``: ``Qwen2_5_VLForConditionalGeneration``, 14 px patches merged 2x2, the preset's area limits;
- ``internvl``: ``InternVLForConditionalGeneration``, 448 px tiles of 256 tokens, as many tiles as the preset's
  ``max_pixels`` holds (at least one);
- ``llava_onevision``: ``LlavaOnevisionForConditionalGeneration``, 384 px SigLIP tiles of 729 tokens, the
  published grid resolutions within the preset's ``max_pixels`` (at least one tile);
- ``glm4v``: ``Glm4vForConditionalGeneration`` (GLM-4.1V), 14 px patches merged 2x2, the preset's area limits
  (which GLM counts twice per image), GLM's turn tokens and vlmr's GLM tool template;
- ``gemma3``: ``Gemma3ForConditionalGeneration``, one 896x896 SigLIP input of 256 tokens per image, Gemma's turns;
- ``smolvlm``: ``SmolVLMForConditionalGeneration``, 512 px tiles of 64 tokens, the longest edge within the preset's
  ``max_pixels`` (at least one tile), SmolVLM's turns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vlmr.chat_templates import chat_template, tool_chat_template
from vlmr.families.smolvlm import SMOLVLM

# Qwen2.5-VL special tokens (control tokens: dropped by decode(skip_special_tokens=True)).
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

MAX_POSITIONS = 4096  # context length (tokens) of every preset


@dataclass(frozen=True)
class TinyPreset:
    """Sizes of one tiny-model preset (text decoder, vision tower, tokenizer, pixel limits)."""

    vocab_size: int  # BPE target before special tokens
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    intermediate_size: int
    vision_depth: int
    vision_hidden: int
    vision_heads: int
    vision_intermediate: int
    min_pixels: int
    max_pixels: int


@dataclass(frozen=True)
class TinyArchitecture:
    """How to build one family's tiny checkpoint."""

    build: Callable[[TinyPreset, Any], tuple[type, Any, Any]]  # (preset, tokenizer) -> (model class, config, processor)
    special_tokens: tuple[str, ...] = ()  # control tokens beyond Qwen's
    named_tokens: dict[str, str] = field(default_factory=dict)  # tokenizer attributes its processor reads
    bos_token: str | None = None  # what the family's template opens with (Gemma's <bos>)
    eos_token: str = "<|im_end|>"  # the end of an assistant turn, where generation stops


def _text_config(preset: TinyPreset, tokenizer) -> dict:
    """The decoder's sizes (a Qwen2 language model, as in Qwen2.5-VL and InternVL3) and the tokenizer's ids."""
    return {
        # one row per token, no padding rows: a random model would sample ids that decode to nothing
        "vocab_size": len(tokenizer),
        "hidden_size": preset.hidden_size,
        "intermediate_size": preset.intermediate_size,
        "num_hidden_layers": preset.num_layers,
        "num_attention_heads": preset.num_heads,
        "num_key_value_heads": preset.num_kv_heads,
        "max_position_embeddings": MAX_POSITIONS,
        "max_window_layers": preset.num_layers,
        "bos_token_id": None,
        "eos_token_id": tokenizer.convert_tokens_to_ids("<|im_end|>"),
        "pad_token_id": tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    }


def _qwen2_5_vl(preset: TinyPreset, tokenizer):
    """A ``Qwen2_5_VLConfig`` with the preset's sizes, and the standard Qwen2.5-VL processor with its pixel limits."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    head_dim = preset.hidden_size // preset.num_heads
    # M-RoPE splits head_dim/2 frequencies over (time, height, width) about 2:3:3, like Qwen2.5-VL's [16, 24, 24].
    spatial = 3 * (head_dim // 2) // 8
    mrope = [head_dim // 2 - 2 * spatial, spatial, spatial]
    text_config = {
        **_text_config(preset, tokenizer),
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope},
    }
    vision_config = {
        "depth": preset.vision_depth,
        "hidden_size": preset.vision_hidden,
        "intermediate_size": preset.vision_intermediate,
        "num_heads": preset.vision_heads,
        "patch_size": 14,
        "spatial_merge_size": 2,  # 14 px patches merged 2x2: the 28 px factor of the family "qwen2_5_vl"
        "temporal_patch_size": 2,
        "window_size": 112,
        "fullatt_block_indexes": [preset.vision_depth - 1],
        "out_hidden_size": preset.hidden_size,
    }
    config = Qwen2_5_VLConfig(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    size = {"shortest_edge": preset.min_pixels, "longest_edge": preset.max_pixels}
    image_processor = Qwen2VLImageProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    # Videos: the same per-frame limits, and (as qwen-vl-utils does) a total budget shared by all frames.
    video_processor = Qwen2VLVideoProcessor(
        size=size,
        patch_size=14,
        merge_size=2,
        temporal_patch_size=2,
        cap_pixels_per_frame=True,
        max_video_tokens=MAX_POSITIONS // 2,
        max_frames=64,
    )
    template = chat_template()
    tokenizer.chat_template = template
    processor = Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                    video_processor=video_processor, chat_template=template)
    return Qwen2_5_VLForConditionalGeneration, config, processor


# InternVL3-*-hf as transformers' convert_internvl_weights_to_hf.py writes it (a transformers copy:
# ModelCloud/OMY, src/transformers/models/internvl/convert_internvl_weights_to_hf.py): 448x448 tiles with ImageNet
# mean/std, a 448 px InternViT with 14 px patches and pixel shuffle 0.5 (256 tokens per tile), <img>/</img>/
# <IMG_CONTEXT>/<video> named on the tokenizer, and <ref>/<box>/<quad> control tokens.
INTERNVL_TOKENS = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
                   "video_token": "<video>"}
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def _vit_sizes(preset: TinyPreset) -> dict[str, int]:
    """The preset's vision sizes under the names ViT-style vision configs (InternViT, SigLIP) use."""
    return {"hidden_size": preset.vision_hidden, "num_hidden_layers": preset.vision_depth,
            "num_attention_heads": preset.vision_heads, "intermediate_size": preset.vision_intermediate}


def _internvl(preset: TinyPreset, tokenizer):
    """An ``InternVLConfig`` (InternViT + Qwen2) with the preset's sizes, and InternVL's processor with the published
    tile size; the preset's pixel limits become whole tiles (at least one: 448x448 px, 256 tokens)."""
    from transformers import (
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
    )

    from vlmr.families import get_family

    family = get_family("internvl")
    tile = family.patch_factor
    vision_config = {
        **_vit_sizes(preset),
        "image_size": [tile, tile],
        "patch_size": [14, 14],
    }
    config = InternVLConfig(
        vision_config=vision_config,
        text_config={"model_type": "qwen2", **_text_config(preset, tokenizer), "tie_word_embeddings": True},
        image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"),
        downsample_ratio=0.5,
        tie_word_embeddings=True,
    )
    size = {"height": tile, "width": tile}
    image_processor = GotOcr2ImageProcessor(size=size, image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD,
                                            do_convert_rgb=True)
    family.set_pixel_limits(image_processor, preset.min_pixels, preset.max_pixels)
    video_processor = InternVLVideoProcessor(size=size, image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD)
    template = tool_chat_template("internvl")  # vlmr's template, images as the published one renders them
    tokenizer.chat_template = template
    processor = InternVLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                  video_processor=video_processor, image_seq_length=(tile // 14 // 2) ** 2,
                                  chat_template=template)
    return InternVLForConditionalGeneration, config, processor


def _llava_onevision(preset: TinyPreset, tokenizer):
    """A ``LlavaOnevisionConfig`` (SigLIP + Qwen2) with the preset's sizes, and LLaVA-OneVision's processor with the
    published tile size and normalisation; the grid resolutions are the published ones within the preset's
    ``max_pixels`` (at least the one 384x384 tile), in the model config and the processor alike."""
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    from vlmr.families import get_family
    from vlmr.families.llava_onevision import PINPOINTS

    family = get_family("llava_onevision")
    tile = family.patch_factor
    grids = [g for g in PINPOINTS if g[0] * g[1] <= preset.max_pixels] or [[tile, tile]]
    vision_config = {
        "model_type": "siglip_vision_model",
        **_vit_sizes(preset),
        "image_size": tile,
        "patch_size": 14,
        "vision_use_head": False,
    }
    config = LlavaOnevisionConfig(
        text_config={"model_type": "qwen2", **_text_config(preset, tokenizer), "tie_word_embeddings": True},
        vision_config=vision_config,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
        image_grid_pinpoints=grids,
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        vision_aspect_ratio="anyres_max_9",
        tie_word_embeddings=True,
    )
    half = [0.5, 0.5, 0.5]  # SigLIP's normalisation
    size = {"height": tile, "width": tile}
    image_processor = LlavaOnevisionImageProcessor(size=size, image_mean=half, image_std=half,
                                                   image_grid_pinpoints=grids)
    video_processor = LlavaOnevisionVideoProcessor(size=size, image_mean=half, image_std=half)
    template = tool_chat_template("llava_onevision")  # vlmr's template, images as the published one renders them
    tokenizer.chat_template = template
    processor = LlavaOnevisionProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                        video_processor=video_processor, num_image_tokens=(tile // 14) ** 2,
                                        vision_feature_select_strategy="full", chat_template=template)
    return LlavaOnevisionForConditionalGeneration, config, processor


# GLM-4.1V-9B-Thinking's control tokens (its tokenizer's additional special tokens, plus the box tokens of its answers)
# and its end-of-turn tokens (generation_config.json eos_token_id: <|endoftext|>, <|user|>, <|observation|>).
GLM_TOKENS = ("[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
              "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>", "<|image|>", "<|video|>",
              "<|begin_of_box|>", "<|end_of_box|>")
GLM_END_OF_TURN = ("<|endoftext|>", "<|user|>", "<|observation|>")


def _glm4v(preset: TinyPreset, tokenizer):
    """A ``Glm4vConfig`` (GLM-4.1V's vision tower + GLM-4 decoder) with the preset's sizes, GLM-4.1V's processor with
    its patch sizes and CLIP normalisation (the preset's limits as ``size``), GLM's end-of-turn tokens, vlmr's GLM tool
    template and parser."""
    from transformers import Glm4vConfig, Glm4vForConditionalGeneration, Glm4vImageProcessor, Glm4vProcessor
    from transformers.models.glm4v import Glm4vVideoProcessor

    from vlmr.families.glm4v import GLM_TOOL_PARSER

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in GLM_TOKENS}
    tokenizer.eos_token = "<|endoftext|>"
    head_dim = preset.hidden_size // preset.num_heads
    rotary = head_dim // 4  # frequencies: GLM rotates half of each head (partial_rotary_factor 0.5)
    spatial = 3 * rotary // 8  # over (time, height, width) about 2:3:3, like GLM-4.1V's [8, 12, 12]
    text_config = {key: value for key, value in _text_config(preset, tokenizer).items() if key != "max_window_layers"}
    text_config.update(eos_token_id=[tokenizer.convert_tokens_to_ids(t) for t in GLM_END_OF_TURN],
                       rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5,
                                        "mrope_section": [rotary - 2 * spatial, spatial, spatial]})
    vision_config = {"depth": preset.vision_depth, "hidden_size": preset.vision_hidden,
                     "intermediate_size": preset.vision_intermediate, "num_heads": preset.vision_heads,
                     "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
                     "out_hidden_size": preset.hidden_size}
    config = Glm4vConfig(text_config=text_config, vision_config=vision_config,
                         image_token_id=ids["<|image|>"], video_token_id=ids["<|video|>"],
                         image_start_token_id=ids["<|begin_of_image|>"], image_end_token_id=ids["<|end_of_image|>"],
                         video_start_token_id=ids["<|begin_of_video|>"], video_end_token_id=ids["<|end_of_video|>"],
                         tie_word_embeddings=True)
    size = {"shortest_edge": preset.min_pixels, "longest_edge": preset.max_pixels}
    image_processor = Glm4vImageProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    video_processor = Glm4vVideoProcessor(size=size, max_image_size={"longest_edge": preset.max_pixels},
                                          patch_size=14, merge_size=2, temporal_patch_size=2)
    template = tool_chat_template("glm4v")
    tokenizer.chat_template = template
    tokenizer.response_template = GLM_TOOL_PARSER
    processor = Glm4vProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
                               chat_template=template)
    return Glm4vForConditionalGeneration, config, processor
def _decoder_sizes(preset: TinyPreset, tokenizer, end_of_turn: str) -> dict:
    """The decoder sizes and token ids of :func:`_text_config` for a language model that is not Qwen2 (no Qwen2-only
    keys), stopping on the family's ``end_of_turn`` token."""
    config = _text_config(preset, tokenizer)
    config.pop("max_window_layers")
    return {**config, "eos_token_id": tokenizer.convert_tokens_to_ids(end_of_turn)}


# google/gemma-3-*-it's processor files (tests/fixtures/published/gemma3): 896x896 images, mean/std 0.5, 256 tokens
# per image between <start_of_image> and <end_of_image>, named on the tokenizer as its processor reads them.
GEMMA3_TOKENS = {"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>"}


def _gemma3(preset: TinyPreset, tokenizer):
    """A ``Gemma3Config`` (SigLIP + Gemma 3 decoder) with the preset's sizes, and Gemma 3's processor with the published
    image size and normalisation (one 896x896 input per image, whatever the preset's pixel limits)."""
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessor,
        Gemma3Processor,
    )

    from vlmr.families import get_family

    family = get_family("gemma3")
    side = family.patch_factor
    head_dim = preset.hidden_size // preset.num_heads
    text_config = {
        **_decoder_sizes(preset, tokenizer, "<end_of_turn>"),
        "bos_token_id": tokenizer.convert_tokens_to_ids("<bos>"),
        "head_dim": head_dim,
        "query_pre_attn_scalar": head_dim,
        "sliding_window": 512,
    }
    vision_config = {
        "model_type": "siglip_vision_model",
        **_vit_sizes(preset),
        "image_size": side,
        "patch_size": 14,
        "vision_use_head": False,
    }
    ids = {name: tokenizer.convert_tokens_to_ids(token) for name, token in GEMMA3_TOKENS.items()}
    config = Gemma3Config(
        text_config=text_config,
        vision_config=vision_config,
        mm_tokens_per_image=256,
        boi_token_index=ids["boi_token"],
        eoi_token_index=ids["eoi_token"],
        image_token_index=ids["image_token"],
        tie_word_embeddings=True,
    )
    half = [0.5, 0.5, 0.5]
    image_processor = Gemma3ImageProcessor(size={"height": side, "width": side}, image_mean=half, image_std=half,
                                           resample=2)
    template = tool_chat_template("gemma3")  # vlmr's template, Gemma's turns and images as the published one has them
    tokenizer.chat_template = template
    processor = Gemma3Processor(image_processor=image_processor, tokenizer=tokenizer, image_seq_length=256,
                                chat_template=template)
    return Gemma3ForConditionalGeneration, config, processor


def _smolvlm(preset: TinyPreset, tokenizer):
    """A ``SmolVLMConfig`` (SigLIP + Llama decoder, as SmolLM2) with the preset's sizes, and SmolVLM's processor with
    the published settings of SmolVLM2-256M/500M (tests/fixtures/published/smolvlm: 512 px tiles of a 16 px-patch
    SigLIP with pixel shuffle 4, 64 tokens a tile, mean/std 0.5); the longest edge from the preset's ``max_pixels``
    (at least one tile)."""
    from transformers import (
        SmolVLMConfig,
        SmolVLMForConditionalGeneration,
        SmolVLMImageProcessor,
        SmolVLMProcessor,
        SmolVLMVideoProcessor,
    )

    from vlmr.families import get_family

    family = get_family("smolvlm")
    tile = family.patch_factor
    vision_config = {
        **_vit_sizes(preset),
        "image_size": tile,
        "patch_size": 16,
    }
    config = SmolVLMConfig(
        text_config={"model_type": "llama", **_decoder_sizes(preset, tokenizer, "<end_of_utterance>"),
                     "tie_word_embeddings": True},
        vision_config=vision_config,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=4,
        tie_word_embeddings=True,
    )
    half = [0.5, 0.5, 0.5]
    image_processor = SmolVLMImageProcessor(size={"longest_edge": 4 * tile}, max_image_size={"longest_edge": tile},
                                            image_mean=half, image_std=half, resample=1, do_image_splitting=True,
                                            do_pad=True)
    family.set_pixel_limits(image_processor, preset.min_pixels, preset.max_pixels)
    video_processor = SmolVLMVideoProcessor(size={"longest_edge": tile}, max_image_size={"longest_edge": tile},
                                            image_mean=half, image_std=half)
    template = tool_chat_template("smolvlm")  # vlmr's template, SmolVLM's turns as the published one has them
    tokenizer.chat_template = template
    processor = SmolVLMProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
                                 image_seq_len=(tile // 16) ** 2 // 4**2, chat_template=template)
    return SmolVLMForConditionalGeneration, config, processor


TINY_ARCHITECTURES: dict[str, TinyArchitecture] = {
    "qwen2_5_vl": TinyArchitecture(_qwen2_5_vl),
    "internvl": TinyArchitecture(
        _internvl,
        special_tokens=("<img>", "</img>", "<IMG_CONTEXT>", "<video>", "<quad>", "</quad>", "<ref>", "</ref>",
                        "<box>", "</box>"),
        named_tokens=INTERNVL_TOKENS,
    ),
    "llava_onevision": TinyArchitecture(_llava_onevision, special_tokens=("<image>", "<video>")),
    "glm4v": TinyArchitecture(_glm4v, special_tokens=GLM_TOKENS),
    "gemma3": TinyArchitecture(
        _gemma3, special_tokens=("<bos>", "<start_of_turn>", "<end_of_turn>", *GEMMA3_TOKENS.values()),
        named_tokens=GEMMA3_TOKENS, bos_token="<bos>", eos_token="<end_of_turn>",
    ),
    "smolvlm": TinyArchitecture(_smolvlm, special_tokens=(*SMOLVLM.placeholder_tokens, "<end_of_utterance>"),
                                eos_token="<end_of_utterance>"),
}


def tiny_architecture(family: str) -> TinyArchitecture:
    """The tiny architecture of ``family``; a clear error for a family vlmr builds no tiny checkpoint of."""
    if family not in TINY_ARCHITECTURES:
        raise ValueError(f"no tiny checkpoint for family {family!r}; choose one of {sorted(TINY_ARCHITECTURES)}")
    return TINY_ARCHITECTURES[family]
