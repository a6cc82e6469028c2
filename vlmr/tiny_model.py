"""The offline tiny model: a randomly initialised Qwen2.5-VL (or another family's architecture, see
:mod:`vlmr.tiny_architectures`) built from scratch, no download.

``build_tiny_model(out_dir, size="tiny", seed=0)`` writes a checkpoint directory that loads
like any real one (``AutoModelForImageTextToText.from_pretrained(out_dir)``,
``AutoProcessor.from_pretrained(out_dir)``):

* a byte-level BPE tokenizer trained locally (``tokenizers``) on a built-in corpus of
  English words, task words and the output-format vocabulary (``bbox_2d``, ``point_2d``,
  ``zoom_in``, JSON punctuation); digits are single tokens as in Qwen, so numbers are
  learnable digit by digit;
* every Qwen-VL special token, plus ``<think>``/``<answer>``/``<tool_call>``/``<tool_response>``
  (and their closers) as added, non-special tokens that survive
  ``decode(skip_special_tokens=True)``; eos ``<|im_end|>``, pad ``<|endoftext|>``, left padding;
* the standard ``Qwen2_5_VLProcessor`` (image + video processor) with small pixel limits
  for CPU (see :data:`PRESETS`; override per call or in ``load_model_and_processor``);
* vlmr's chat template (``vlmr/templates/chat_template.jinja``) and a ``response_template``
  that lets ``tokenizer.parse_response`` (and so trl's GRPO tool loop) read ``<tool_call>`` JSON;
* ``vlmr_meta.json`` with family, size, seed and pixel limits.

Nothing else in vlmr knows about this model: it is a Qwen2.5-VL checkpoint with small sizes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import asdict, replace
from pathlib import Path

from vlmr.chat_templates import RESPONSE_TEMPLATE, chat_template
from vlmr.tiny_architectures import MAX_POSITIONS, SPECIAL_TOKENS, TinyPreset, tiny_architecture

logger = logging.getLogger(__name__)

# Output-format tags: single tokens, but ordinary text that decoding keeps (rewards read them).
FORMAT_TOKENS = (
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
)

# Same split as Qwen2's tokenizer: every digit is its own pre-token, so numbers are spelled digit by digit.
PRETOKENIZE_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


# Pixel limits keep images to 4..64 merged visual tokens (28x28 px each) on CPU; 'small' allows up to 144.
# Parameter counts (tied embeddings): nano ~0.17M, tiny ~0.5M, small ~2.5M; the vision tower is 0.07-0.56M of that.
_CPU_PIXELS = {"min_pixels": 28 * 28 * 4, "max_pixels": 28 * 28 * 64}
PRESETS: dict[str, TinyPreset] = {
    "nano": TinyPreset(
        vocab_size=1024, hidden_size=48, num_layers=2, num_heads=2, num_kv_heads=1, intermediate_size=128,
        vision_depth=1, vision_hidden=32, vision_heads=2, vision_intermediate=64, **_CPU_PIXELS,
    ),
    "tiny": TinyPreset(
        vocab_size=1024, hidden_size=96, num_layers=2, num_heads=4, num_kv_heads=2, intermediate_size=256,
        vision_depth=1, vision_hidden=64, vision_heads=4, vision_intermediate=128, **_CPU_PIXELS,
    ),
    "small": TinyPreset(
        vocab_size=2048, hidden_size=192, num_layers=4, num_heads=6, num_kv_heads=2, intermediate_size=512,
        vision_depth=2, vision_hidden=96, vision_heads=4, vision_intermediate=256,
        min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 144,
    ),
}  # fmt: skip

_WORDS = """
the a an of to in on at by for with from and or not is are was be it this that these those there here what which who
how many much where when why find locate show give point box mark count segment detect ground answer question image
picture photo video frame clip scene chart plot table figure graph axis value bar line pie legend title label region
object objects person people man woman child dog cat car bus truck bike bird horse cow sheep chair table cup bottle
tree sky road building sign window door person left right top bottom middle center above below near far next behind
front inside outside small large big tiny red green blue yellow black white gray orange purple brown pink color shape
circle square triangle rectangle star number numbers total sum more less than equal same different first second third
last one two three four five six seven eight nine ten zero yes no true false option choice select correct wrong
think reason step steps because so then therefore let look see zoom crop draw rotate enhance select frames time start
end seconds second minute event action happens during before after while lesion tumor organ scan slice mri ct xray
medical patient normal abnormal finding point cloud room wall floor object distance meters size height width depth
text read word words letter digit math solve compute area length angle degree percent mean median max min ratio
I you we they he she my your our their need should can will would could must may might use call tool result output
check verify again careful final answer is are the image shows contains looks like appears
"""
_FORMAT_WORDS = """
bbox_2d point_2d label zoom_in crop crop_image draw_box select_frames rotate name arguments count span choice boxes
points mask image_index factor grounding detection counting segmentation pointing temporal_grounding chart_qa
medical_vqa scene3d_qa scene3d_grounding vqa mcq math
"""


PROMPT_REPEATS = 20  # weight of vlmr's prompt text in the BPE corpus (its words get merges before random words)


def _prompt_texts() -> list[str]:
    """Text vlmr writes into every prompt: the system prompts, each task's answer instruction, the roles,
    and the system turn of each tool set in every coordinate convention (the same ~1,100 characters
    in every tool conversation: ~470 tokens for ``zoom_in`` with a BPE that never saw them, ~280 with one
    that did; words cannot merge across the pre-tokenizer's word boundaries)."""
    from transformers.utils import get_json_schema
    from transformers.utils.chat_template_utils import render_jinja_template

    from vlmr.formats import CONVENTIONS, CoordinateSpace
    from vlmr.prompts import SYSTEM_PROMPT, TOOLS_SYSTEM_PROMPT, task_instruction
    from vlmr.tasks import BUILTIN_TASKS
    from vlmr.tools.environment import COORDINATE_PHRASES, make_environment
    from vlmr.tools.registry import TOOL_SETS

    prompts = [SYSTEM_PROMPT, TOOLS_SYSTEM_PROMPT, *["system", "user", "assistant", "tool"] * 10]  # 2-4 per conversation
    prompts += [task_instruction(task, CoordinateSpace(112, 112, convention, 112, 112))
                for task in BUILTIN_TASKS for convention in CONVENTIONS]
    for names in TOOL_SETS.values():
        for convention in COORDINATE_PHRASES:
            env = make_environment(list(names), convention=convention)()
            schemas = [get_json_schema(getattr(env, name)) for name in env.tool_names]
            text = render_jinja_template([[{"role": "user", "content": ""}]], tools=schemas,
                                         chat_template=chat_template())[0][0]
            prompts.append(text.removeprefix("<|im_start|>system\n").split("<|im_end|>")[0])
    return prompts


def _corpus(n_lines: int = 4000) -> list[str]:
    """A fixed, built-in training corpus for the BPE (independent of the model seed)."""
    rng = random.Random(1234)
    words, format_words = _WORDS.split(), _FORMAT_WORDS.split()
    lines = [
        " ".join(words),
        " ".join(format_words),
        "0 1 2 3 4 5 6 7 8 9",
        "{ } [ ] ( ) , : \" ' . ? ! - _ / + = * %",
    ]
    lines += [
        " ".join(rng.choice(words) for _ in range(rng.randint(4, 16))).capitalize() + "."
        for _ in range(n_lines)
    ]
    for _ in range(n_lines // 2):
        box = [rng.randint(0, 999) for _ in range(4)]
        pt = [rng.randint(0, 999) for _ in range(2)]
        label = rng.choice(words)
        lines.append(json.dumps({"bbox_2d": box, "label": label}))
        lines.append(json.dumps([{"bbox_2d": box, "label": label}, {"point_2d": pt, "label": label}]))
        lines.append(json.dumps({"name": rng.choice(format_words[3:9]), "arguments": {"bbox_2d": box}}))
        lines.append(
            f"<think>{' '.join(rng.choice(words) for _ in range(8))}</think><answer>{rng.randint(0, 99)}</answer>"
        )
        lines.append(f"[{rng.uniform(0, 60):.1f}, {rng.uniform(0, 60):.1f}]")
    return lines + _prompt_texts() * PROMPT_REPEATS


def _train_tokenizer(vocab_size: int, extra_special: tuple[str, ...] = (), named: dict[str, str] | None = None,
                     bos_token: str | None = None, eos_token: str = "<|im_end|>", response_template=RESPONSE_TEMPLATE):
    """Train the byte-level BPE and wrap it as a transformers ``Qwen2Tokenizer`` with all added tokens.

    ``extra_special`` are a family's control tokens beyond Qwen's; ``named`` gives some of them the names its
    processor reads (InternVL: ``tokenizer.context_image_token``), saved in the tokenizer config. ``bos_token``,
    ``eos_token`` and ``response_template`` (the parser of its tool calls) are the family's.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, trainers
    from tokenizers.models import BPE
    from transformers import AddedToken, Qwen2Tokenizer

    bpe = Tokenizer(BPE(unk_token=None, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_corpus(), trainer=trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(
        vocab=model["vocab"],
        merges=merges,
        unk_token=None,
        bos_token=bos_token,
        eos_token=eos_token,
        pad_token="<|endoftext|>",
        padding_side="left",
        model_max_length=MAX_POSITIONS,
        model_specific_special_tokens=named or {},
    )
    tokenizer.add_tokens(
        [AddedToken(t, special=True, normalized=False) for t in (*SPECIAL_TOKENS, *extra_special)], special_tokens=True
    )
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in FORMAT_TOKENS])
    tokenizer.response_template = response_template
    return tokenizer


def create_tiny_model(
    size: str = "tiny", seed: int = 0, min_pixels: int | None = None, max_pixels: int | None = None,
    family: str = "qwen2_5_vl",
):
    """Create the tiny model and its processor in memory (what ``build_tiny_model`` saves).

    Args:
        size: one of :data:`PRESETS` (``nano``, ``tiny``, ``small``).
        seed: seed for the weight initialisation (the global torch RNG is left untouched).
        min_pixels: smallest image area after resizing; ``None`` keeps the preset's.
        max_pixels: largest image area after resizing; ``None`` keeps the preset's.
        family: the architecture, one of :data:`vlmr.tiny_architectures.TINY_ARCHITECTURES`.

    Returns:
        ``(model, processor)``: e.g. a ``Qwen2_5_VLForConditionalGeneration`` in eval mode and a ``Qwen2_5_VLProcessor``.
    """
    import torch
    from transformers import GenerationConfig

    from vlmr.families import get_family

    architecture = tiny_architecture(family)
    preset = _preset(size, min_pixels, max_pixels)
    tokenizer = _train_tokenizer(preset.vocab_size, architecture.special_tokens, architecture.named_tokens,
                                 architecture.bos_token, architecture.eos_token, get_family(family).tool_parser)
    model_class, config, processor = architecture.build(preset, tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config).eval()
    # Stop at the end of a turn (<|im_end|> for ChatML families, the family's end-of-turn tokens otherwise) or
    # <|endoftext|>, as Qwen2.5-VL does; greedy unless the caller samples.
    text_config = config.get_text_config()
    eos = text_config.eos_token_id if isinstance(text_config.eos_token_id, list) else [text_config.eos_token_id]
    model.generation_config = GenerationConfig(
        eos_token_id=list(dict.fromkeys([*eos, text_config.pad_token_id])),
        pad_token_id=text_config.pad_token_id,
    )
    return model, processor


def _preset(size: str, min_pixels: int | None, max_pixels: int | None) -> TinyPreset:
    """The named preset with optional pixel-limit overrides, validated."""
    if size not in PRESETS:
        raise ValueError(f"unknown tiny-model size {size!r}; choose one of {sorted(PRESETS)}")
    preset = PRESETS[size]
    preset = replace(
        preset,
        min_pixels=preset.min_pixels if min_pixels is None else min_pixels,
        max_pixels=preset.max_pixels if max_pixels is None else max_pixels,
    )
    if not 28 * 28 <= preset.min_pixels <= preset.max_pixels:
        raise ValueError(
            f"pixel limits must satisfy 784 (one 28x28 token) <= min_pixels <= max_pixels, "
            f"got min_pixels={preset.min_pixels}, max_pixels={preset.max_pixels}"
        )
    return preset


def build_tiny_model(
    out_dir: str | Path,
    size: str = "tiny",
    seed: int = 0,
    overwrite: bool = False,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    family: str = "qwen2_5_vl",
) -> Path:
    """Build a random tiny model of ``family`` and save it (model, processor, chat template, ``vlmr_meta.json``).

    Deterministic (same ``size`` and ``seed``, identical weights) and fully offline.

    Args:
        out_dir: checkpoint directory to create.
        size: one of :data:`PRESETS` (``nano``, ``tiny``, ``small``).
        seed: seed for the weight initialisation.
        overwrite: replace an existing non-empty ``out_dir``.
        min_pixels: smallest image area the saved processor resizes to; ``None`` keeps the preset's.
        max_pixels: largest image area the saved processor resizes to; ``None`` keeps the preset's.
        family: the architecture, one of :data:`vlmr.tiny_architectures.TINY_ARCHITECTURES` (Qwen2.5-VL by default).

    Returns:
        The checkpoint directory.
    """
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{out} exists and is not empty; pass overwrite=True (CLI: --overwrite) or pick a new dir"
        )
    model, processor = create_tiny_model(size, seed, min_pixels=min_pixels, max_pixels=max_pixels, family=family)
    save_tiny_model(out, model, processor, size, seed)
    logger.info("built %s tiny %s model in %s", size, family, out)
    return out


def save_tiny_model(
    out_dir: str | Path, model, processor, size: str, seed: int, extra_meta: dict | None = None
) -> Path:
    """Save a tiny model, its processor and ``vlmr_meta.json`` (family, size, seed, parameter count, pixel
    limits, preset, and ``extra_meta``) atomically; returns the checkpoint directory."""
    from vlmr.families import family_for_model_type
    from vlmr.models import pixel_limits, save_checkpoint

    family = family_for_model_type(model.config.model_type)
    preset = _preset(size, *pixel_limits(processor, family))
    meta = {
        "family": family,
        "builder": "vlmr.tiny_model",
        "size": size,
        "seed": seed,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "min_pixels": preset.min_pixels,
        "max_pixels": preset.max_pixels,
        "preset": asdict(preset),
        **(extra_meta or {}),
    }
    return save_checkpoint(model, processor, out_dir, meta)


def weights_digest(model) -> str:
    """SHA-256 over a model's state dict (names, shapes, bytes): equal digests mean identical weights."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
