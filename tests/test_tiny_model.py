"""The offline tiny model: determinism, offline loading, tokenizer, and trl training steps on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from vlmr.cli import main as cli_main
from vlmr.formats import get_family
from vlmr.models import load_model_and_processor, vision_placeholder_token_ids
from vlmr.tiny_model import FORMAT_TOKENS, PRESETS, SPECIAL_TOKENS, build_tiny_model, weights_digest


@pytest.fixture(scope="module")
def nano_dir(tmp_path_factory):
    """A nano checkpoint built once for this module (seed 0)."""
    return build_tiny_model(tmp_path_factory.mktemp("ckpt") / "nano", size="nano", seed=0)


@pytest.fixture(scope="module")
def nano(nano_dir):
    """``(model, processor)`` loaded from the nano checkpoint."""
    return load_model_and_processor(str(nano_dir))


def _image_prompt_dataset(n: int = 2):
    from datasets import Dataset

    prompt = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Find the red square."}]}
    ]
    images = [Image.new("RGB", (64, 48), color) for color in ("red", "blue", "green", "white")[:n]]
    return Dataset.from_dict({"prompt": [prompt] * n, "image": images})


class TestBuildTinyModel:
    def test_cli_init_tiny_writes_checkpoint_and_meta(self, tmp_path):
        out = tmp_path / "ckpt"
        assert cli_main(["model", "init-tiny", str(out), "--size", "nano", "--seed", "3"]) == 0
        names = {p.name for p in out.iterdir()}
        assert {
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "chat_template.jinja",
            "vlmr_meta.json",
        } <= names
        meta = json.loads((out / "vlmr_meta.json").read_text())
        assert meta["family"] == "qwen2_5_vl"
        assert (meta["size"], meta["seed"]) == ("nano", 3)
        assert (meta["min_pixels"], meta["max_pixels"]) == (28 * 28 * 4, 28 * 28 * 64)
        assert meta["num_parameters"] == 172_288

    def test_cli_refuses_non_empty_dir_without_overwrite(self, tmp_path, capsys):
        (tmp_path / "keep.txt").write_text("x")
        assert cli_main(["model", "init-tiny", str(tmp_path), "--size", "nano"]) == 2
        assert "not empty" in capsys.readouterr().out
        assert (tmp_path / "keep.txt").exists()

    def test_unknown_size_lists_choices(self, tmp_path):
        with pytest.raises(ValueError, match=r"unknown tiny-model size 'huge'.*nano"):
            build_tiny_model(tmp_path / "x", size="huge")

    def test_pixel_limit_overrides_are_saved(self, tmp_path):
        out = build_tiny_model(tmp_path / "x", size="nano", min_pixels=28 * 28, max_pixels=28 * 28 * 16)
        size = json.loads((out / "processor_config.json").read_text())["image_processor"]["size"]
        assert size == {"shortest_edge": 28 * 28, "longest_edge": 28 * 28 * 16}
        assert json.loads((out / "vlmr_meta.json").read_text())["max_pixels"] == 28 * 28 * 16

    @pytest.mark.parametrize(
        ("min_pixels", "max_pixels"),
        [
            (100, None),  # below one 28x28 token
            (28 * 28 * 8, 28 * 28 * 4),  # min above max
        ],
    )
    def test_bad_pixel_limits_are_explained(self, tmp_path, min_pixels, max_pixels):
        with pytest.raises(ValueError, match=r"784 \(one 28x28 token\) <= min_pixels <= max_pixels"):
            build_tiny_model(tmp_path / "x", size="nano", min_pixels=min_pixels, max_pixels=max_pixels)
        assert not (tmp_path / "x").exists()

    def test_same_seed_gives_identical_weights(self, tmp_path, nano_dir):
        again = build_tiny_model(tmp_path / "again", size="nano", seed=0)
        other = build_tiny_model(tmp_path / "other", size="nano", seed=1)
        digest = weights_digest(load_model_and_processor(str(nano_dir))[0])
        assert weights_digest(load_model_and_processor(str(again))[0]) == digest
        assert weights_digest(load_model_and_processor(str(other))[0]) != digest
        assert (again / "tokenizer.json").read_bytes() == (nano_dir / "tokenizer.json").read_bytes()

    def test_build_leaves_global_rng_alone(self, tmp_path):
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        build_tiny_model(tmp_path / "x", size="nano", seed=7)
        assert torch.equal(torch.rand(3), expected)

    @pytest.mark.parametrize(
        ("size", "low", "high"),
        [
            ("nano", 100_000, 300_000),  # ~0.17M
            ("tiny", 300_000, 1_000_000),  # ~0.5M
            ("small", 1_000_000, 5_000_000),  # ~2.5M
        ],
    )
    def test_preset_parameter_counts(self, tmp_path, size, low, high):
        meta = json.loads((build_tiny_model(tmp_path / size, size=size) / "vlmr_meta.json").read_text())
        assert low <= meta["num_parameters"] <= high

    def test_vision_factor_matches_formats_family(self, nano):
        model, processor = nano
        vision = model.config.vision_config
        assert vision.patch_size * vision.spatial_merge_size == get_family("qwen2_5_vl").patch_factor
        assert processor.image_processor.patch_size * processor.image_processor.merge_size == 28

    def test_loads_offline_with_auto_classes_in_fresh_process(self, nano_dir):
        code = (
            "from transformers import AutoProcessor, AutoModelForImageTextToText as M;"
            f"m = M.from_pretrained({str(nano_dir)!r}); p = AutoProcessor.from_pretrained({str(nano_dir)!r});"
            "print(type(m).__name__, type(p).__name__, type(p.tokenizer).__name__)"
        )
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split() == [
            "Qwen2_5_VLForConditionalGeneration",
            "Qwen2_5_VLProcessor",
            "Qwen2Tokenizer",
        ]


class TestTinyTokenizer:
    def test_eos_pad_and_left_padding(self, nano):
        tokenizer = nano[1].tokenizer
        assert (tokenizer.eos_token, tokenizer.pad_token, tokenizer.padding_side) == (
            "<|im_end|>",
            "<|endoftext|>",
            "left",
        )

    def test_special_tokens_are_single_ids_dropped_by_decode(self, nano):
        tokenizer = nano[1].tokenizer
        for token in SPECIAL_TOKENS:
            ids = tokenizer(token)["input_ids"]
            assert len(ids) == 1, token
            assert tokenizer.decode(ids, skip_special_tokens=True) == ""

    def test_format_tokens_are_single_ids_kept_by_decode(self, nano):
        tokenizer = nano[1].tokenizer
        text = "".join(FORMAT_TOKENS)
        ids = tokenizer(text)["input_ids"]
        assert len(ids) == len(FORMAT_TOKENS)
        assert tokenizer.decode(ids, skip_special_tokens=True) == text

    def test_digits_are_single_tokens(self, nano):
        tokenizer = nano[1].tokenizer
        assert tokenizer.tokenize("2024") == ["2", "0", "2", "4"]

    def test_box_answer_tokenizes_compactly(self, nano):
        tokenizer = nano[1].tokenizer
        tokens = tokenizer.tokenize('{"bbox_2d": [12, 40, 88, 120]}')
        assert (
            " ".join(tokens) == '{" bbox _ 2 d ": Ġ[ 1 2 , Ġ 4 0 , Ġ 8 8 , Ġ 1 2 0 ] }'
        )  # Ġ = a leading space

    def test_tool_schema_block_is_compact(self, nano):
        from vlmr.tools.environment import make_environment

        processor = nano[1]
        zoom_in = make_environment(["zoom_in"])().zoom_in
        text = processor.apply_chat_template([{"role": "user", "content": "Hi"}], tools=[zoom_in], tokenize=False)
        # ~1,200 characters of schema and instructions (zoom_in's optional image_index included); ~455 tokens
        # for 1,000 characters before vlmr's prompts joined the BPE corpus
        assert len(text) > 1000 and len(processor.tokenizer(text)["input_ids"]) < 330

    @given(st.text(max_size=40))
    def test_decode_inverts_encode(self, nano, text):
        tokenizer = nano[1].tokenizer
        ids = tokenizer(text)["input_ids"]
        assert tokenizer.decode(ids) == unicodedata.normalize("NFC", text)

    def test_pixel_limits_are_the_presets(self, nano):
        size = nano[1].image_processor.size
        assert (size["shortest_edge"], size["longest_edge"]) == (
            PRESETS["nano"].min_pixels,
            PRESETS["nano"].max_pixels,
        )


@pytest.mark.slow
class TestTrlStepsOnTinyModel:
    """One optimisation step of trl's trainers on an image prompt, on CPU."""

    def test_grpo_step_with_suppressed_placeholders(self, nano, tmp_path):
        from trl import GRPOConfig, GRPOTrainer

        model, processor = nano
        torch.set_num_threads(1)
        placeholder_ids = vision_placeholder_token_ids(processor, model.config)
        seen = []

        def reward_length(completions, **kwargs):  # code points summed: two random completions differ
            seen.extend(completions)
            return [float(sum(map(ord, c[0]["content"]))) for c in completions]

        config = GRPOConfig(
            output_dir=str(tmp_path),
            use_cpu=True,
            per_device_train_batch_size=2,
            num_generations=2,
            max_completion_length=8,
            max_steps=1,
            report_to=[],
            save_strategy="no",
            activation_checkpointing=False,
            logging_steps=1,
            generation_kwargs={"suppress_tokens": placeholder_ids},
        )
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=reward_length,
            args=config,
            train_dataset=_image_prompt_dataset(),
            processing_class=processor,
        )
        trainer.train()
        log = trainer.state.log_history[0]
        assert trainer.state.global_step == 1
        assert log["completions/max_length"] <= 8
        assert log["grad_norm"] > 0
        assert len(seen) == 2
        # our list replaces trl's default (image pad only): video pad and vision start/end are never sampled either
        assert trainer.generation_config.suppress_tokens == placeholder_ids
        assert len(placeholder_ids) == 4

    def test_sft_step_assistant_only_loss(self, nano, tmp_path):
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        model, processor = nano
        torch.set_num_threads(1)
        messages = [
            {
                "role": "user",
                "content": [{"type": "image"}, {"type": "text", "text": "Find the red square."}],
            },
            {
                "role": "assistant",
                "content": [{"type": "text", "text": '<answer>{"bbox_2d": [1, 2, 30, 40]}</answer>'}],
            },
        ]
        dataset = Dataset.from_dict(
            {"messages": [messages] * 2, "images": [[Image.new("RGB", (64, 48), c)] for c in ("red", "blue")]}
        )
        config = SFTConfig(
            output_dir=str(tmp_path),
            use_cpu=True,
            per_device_train_batch_size=2,
            max_steps=1,
            report_to=[],
            save_strategy="no",
            activation_checkpointing=False,
            logging_steps=1,
            assistant_only_loss=True,
            max_length=None,
        )
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=processor)
        trainer.train()
        log = trainer.state.log_history[0]
        assert trainer.state.global_step == 1
        # random init: the loss is about ln(vocab size) per assistant token
        assert abs(log["loss"] - torch.log(torch.tensor(float(len(processor.tokenizer)))).item()) < 1.0

    def test_grpo_tool_loop_feeds_tool_image_back(self, nano, tmp_path):
        """trl parses our <tool_call> format, runs the tool, and renders its image inside <tool_response>."""
        from trl import GRPOConfig, GRPOTrainer

        model, processor = nano
        torch.set_num_threads(1)
        image = Image.new("RGB", (64, 48), "red")
        calls = []

        def zoom_in(bbox_2d: list[int]) -> list:
            """Zoom into a region of the image.

            Args:
                bbox_2d: box [x1, y1, x2, y2] in pixels of the input image.
            """
            calls.append(bbox_2d)
            return [{"type": "image", "image": image.crop(bbox_2d)}, {"type": "text", "text": "zoomed"}]

        # A random model never writes a valid call on its own: bias generation towards one exact call.
        call = '<tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 32, 32]}}\n</tool_call><|im_end|>'
        target = processor.tokenizer(call)["input_ids"]
        bias = [[target[: i + 1], 100.0 * (i + 1)] for i in range(len(target))]
        config = GRPOConfig(
            output_dir=str(tmp_path),
            use_cpu=True,
            per_device_train_batch_size=2,
            num_generations=2,
            max_completion_length=64,
            max_steps=1,
            max_tool_calling_iterations=1,
            report_to=[],
            save_strategy="no",
            activation_checkpointing=False,
            logging_steps=1,
            generation_kwargs={
                "suppress_tokens": vision_placeholder_token_ids(processor, model.config),
                "sequence_bias": bias,
            },
        )
        rollouts = []

        def reward_turns(completions, **kwargs):
            rollouts.extend(completions)
            return [float(len(c)) for c in completions]

        trainer = GRPOTrainer(
            model=model,
            reward_funcs=reward_turns,
            args=config,
            train_dataset=_image_prompt_dataset(),
            processing_class=processor,
            tools=[zoom_in],
        )
        trainer.train()  # the forward pass fails if the tool image's features and image pads disagree
        log = trainer.state.log_history[0]
        assert calls == [[0, 0, 32, 32], [0, 0, 32, 32]]
        assert (log["tools/call_frequency"], log["tools/failure_frequency"]) == (1.0, 0.0)
        first = rollouts[0]
        assert [m["role"] for m in first] == ["assistant", "tool", "assistant"]
        assert first[0]["tool_calls"] == [
            {"type": "function", "function": {"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 32, 32]}}}
        ]
        assert first[1]["content"][0]["image"].size == (32, 32)
