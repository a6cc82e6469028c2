"""Each trl 1.16 bug that :mod:`vlmr.trl_compat` works around, reproduced on plain trl.

A ``test_bug_*`` test runs one GRPO step on the nano model with trl alone and expects the
upstream failure: when it starts failing, trl has fixed the bug and the patch, default or
check that answers it can go. A scripted first turn forces the tool calls; the rest is real.
"""

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from vlmr import trl_compat
from vlmr.config import ConfigError
from vlmr.tools import make_environment

BAD_CALL = '<tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 1, 1]}}\n</tool_call><|im_end|>'
GOOD_CALL = '<tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 40, 40]}}\n</tool_call><|im_end|>'


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from vlmr.tiny_model import build_tiny_model

    path = tmp_path_factory.getbasetemp() / "tiny-nano-shared"
    return path if (path / "config.json").exists() else build_tiny_model(path, size="nano")


@pytest.fixture
def unpatched_split(monkeypatch):
    """trl's own ``split_pixel_values_by_grid`` for this test, whatever an earlier test patched."""
    from trl.trainer import grpo_trainer, utils

    monkeypatch.setattr(grpo_trainer, "split_pixel_values_by_grid", utils.split_pixel_values_by_grid)


@pytest.fixture
def tool_patch(unpatched_split):
    """Patch 1 for this test only (the tool-loop tests below are about other bugs)."""
    assert trl_compat.patch_split_pixel_values() is True


def image_rows(n: int, text_only: int = 0) -> list[dict]:
    """``n`` prompts with a random 64x64 image, then ``text_only`` prompts without one."""
    rng = np.random.default_rng(0)
    with_image = [{"prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Count."}]}],
                   "images": [Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))]} for _ in range(n)]
    without = [{"prompt": [{"role": "user", "content": [{"type": "text", "text": "Say hi."}]}], "images": []}
               for _ in range(text_only)]
    return with_image + without


def grpo_trainer(model_dir, out_dir, rows, scripts=None, tools=False, seen=None, **config):
    """A plain-trl ``GRPOTrainer`` for one step, two generations per prompt; the image processor runs on the
    PIL (numpy) backend. ``scripts``: the first turn of each rollout, forced (the model writes the rest)."""
    from datasets import Dataset
    from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(1)
    model = AutoModelForImageTextToText.from_pretrained(str(model_dir), dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(str(model_dir))
    processor.image_processor = AutoImageProcessor.from_pretrained(str(model_dir), backend="pil")
    tokenizer = processor.tokenizer
    marker = tokenizer.convert_tokens_to_ids("<tool_response>")
    original = model.generate

    def generate(input_ids=None, **kwargs):
        if scripts is None or (input_ids == marker).any():  # not a first turn
            if seen is not None:
                seen.extend(tokenizer.batch_decode(input_ids))
            return original(input_ids=input_ids, **kwargs)
        encoded = [tokenizer.encode(s, add_special_tokens=False) for s in scripts]
        width = max(map(len, encoded))
        padded = torch.tensor([e + [tokenizer.pad_token_id] * (width - len(e)) for e in encoded])
        return torch.cat([input_ids, padded], dim=1)

    model.generate = generate
    args = GRPOConfig(output_dir=str(out_dir), per_device_train_batch_size=2 * len(rows), num_generations=2,
                      max_steps=1, report_to="none",
                      save_strategy="no", use_cpu=True, bf16=False, logging_steps=1, gradient_checkpointing=False,
                      **{"max_completion_length": 128, **config})
    return GRPOTrainer(model=model, reward_funcs=lambda completions, **kw: [1.0] * len(completions), args=args,
                       train_dataset=Dataset.from_list(rows), processing_class=processor,
                       environment_factory=make_environment(["zoom_in"]) if tools else None)


@pytest.mark.slow
class TestToolRoundWithoutImage:
    """Patch 1: every rollout's tool call fails, so the tool round returns no image."""

    def test_bug_without_patch(self, tiny_model_dir, tmp_path, unpatched_split):
        trainer = grpo_trainer(tiny_model_dir, tmp_path, image_rows(1), scripts=[BAD_CALL] * 2, tools=True)
        with pytest.raises(AttributeError, match="'list' object has no attribute 'prod'"):
            trainer.train()

    def test_patch_lets_text_only_tool_rounds_through(self, tiny_model_dir, tmp_path, unpatched_split):
        assert trl_compat.patch_split_pixel_values() is True
        assert trl_compat.patch_split_pixel_values() is False  # idempotent
        seen = []
        trainer = grpo_trainer(tiny_model_dir, tmp_path, image_rows(1), scripts=[BAD_CALL] * 2, tools=True, seen=seen)
        trainer.train()
        assert trainer.state.global_step == 1
        assert len(seen) == 2 and all("Error: bbox_2d [0, 0, 1, 1] is 1x1 px" in text for text in seen)
        assert [[h["ok"] for h in env.history] for env in trainer.environments] == [[False], [False]]
        assert len(trl_compat.completion_log(trainer)["completion"]) == 2  # what the sample table reads


@pytest.mark.slow
class TestTextOnlyRows:
    """Patch 2: a prompt without an image in a batch with images."""

    def test_bug_without_patch(self, tiny_model_dir, tmp_path):
        trainer = grpo_trainer(tiny_model_dir, tmp_path, image_rows(1, text_only=1))
        with pytest.raises(TypeError, match="only a single or a list of entries is supported.*NoneType"):
            trainer.train()

    def test_patch_on_one_trainer(self, tiny_model_dir, tmp_path):
        from trl import GRPOTrainer

        trainer = grpo_trainer(tiny_model_dir, tmp_path, image_rows(1, text_only=1))
        assert trl_compat.patch_text_only_rows(trainer) is True
        assert trl_compat.patch_text_only_rows(trainer) is False  # idempotent
        assert not hasattr(GRPOTrainer._tokenize_prompts, "__vlmr_patched__")  # other trainers untouched
        trainer.train()
        assert trainer.state.global_step == 1
        assert trainer.state.log_history[0]["num_tokens"] > 0


@pytest.mark.slow
class TestWorkaroundDefaults:
    def test_bug_completion_parquet_with_mixed_tool_results(self, tiny_model_dir, tmp_path, tool_patch):
        """GRPO_DEFAULTS['log_completions']: one rollout's tool returns an image, the other's an error text."""
        assert trl_compat.GRPO_DEFAULTS["log_completions"] is False
        trainer = grpo_trainer(tiny_model_dir, tmp_path, image_rows(1), scripts=[GOOD_CALL, BAD_CALL], tools=True,
                               log_completions=True)
        with pytest.raises(Exception, match="cannot mix list and non-list"):  # pyarrow.lib.ArrowInvalid
            trainer.train()

    def test_bug_mask_truncated_completions_with_tool_images(self, tiny_model_dir, tmp_path, tool_patch):
        """Patch 3: a rollout cut after a tool image, its attention masked by trl's own flag."""
        trainer = grpo_trainer(tiny_model_dir, tmp_path, image_rows(1), scripts=[GOOD_CALL] * 2, tools=True,
                               mask_truncated_completions=True, max_completion_length=200)
        with pytest.raises(RuntimeError, match="shape mismatch"):
            trainer.train()


@pytest.mark.slow
class TestMaskedRollouts:
    def test_patch_masks_cut_tool_image_rollouts_from_the_loss_only(self, tiny_model_dir, tmp_path, tool_patch):
        """The run above, masked by patch 3: the step runs and the cut rollouts carry no loss."""
        trainer = grpo_trainer(tiny_model_dir, tmp_path, image_rows(1), scripts=[GOOD_CALL] * 2, tools=True,
                               max_completion_length=200)
        assert trl_compat.patch_masked_rollouts(trainer, frozenset({"truncated"})) is True
        assert trl_compat.patch_masked_rollouts(trainer, frozenset({"truncated"})) is False  # idempotent
        seen = {}
        generate = trainer._generate_and_score_completions

        def spy(inputs):
            seen.update(generate(inputs))
            return seen

        trainer._generate_and_score_completions = spy
        trainer.train()
        assert trainer.state.global_step == 1
        cut = rollouts_cut(seen, trainer)
        assert cut.any()  # the scripted call's tool image leaves too little room: at least one rollout is cut
        assert seen["tool_mask"][cut].sum() == 0 and seen["completion_mask"][cut].sum() > 0  # loss off, attention on
        assert seen["num_items_in_batch"] == (seen["completion_mask"] * seen["tool_mask"]).sum()
        assert trainer.state.log_history[0]["vlmr/masked_rollouts"] == cut.float().mean().item()


def rollouts_cut(output, trainer):
    """trl's own truncation rule on a generation output: the last real token is not a stop token."""
    ids, mask = output["completion_ids"], output["completion_mask"]
    stops = [*trainer.eos_token_ids, trainer.processing_class.tokenizer.pad_token_id]
    return torch.tensor([row[m.bool()][-1].item() not in stops for row, m in zip(ids, mask, strict=True)])


CALL, RESULT, EOS, PAD = 7, 8, 2, 0


class TestRolloutsToMask:
    """Which rollouts patch 3 leaves out, on hand-written token rows (2 tool rounds allowed)."""

    @pytest.mark.parametrize(("row", "mask", "dropped"), [
        ([5, EOS], {"truncated", "over_turn"}, False),  # answered and stopped
        ([5, 5, 5], {"truncated"}, True),  # cut by the length limit
        ([5, 5, 5], {"over_turn"}, False),  # cut, but only over-turn rollouts are masked
        ([CALL, RESULT, CALL, RESULT, CALL, EOS], {"over_turn"}, True),  # a third call after 2 rounds
        ([CALL, RESULT, CALL, RESULT, CALL, EOS], {"truncated"}, False),  # over-turn but stopped
        ([CALL, RESULT, 5, EOS], {"over_turn"}, False),  # 1 round used, answered
        ([CALL, EOS], {"over_turn"}, False),  # a call trl did not run (unreadable), rounds left: not over-turn
        ([CALL, RESULT, CALL, RESULT, 5, EOS], {"over_turn"}, False),  # every round used, then answered
    ])
    def test_rows(self, row, mask, dropped):
        width = 8
        ids = torch.tensor([row + [PAD] * (width - len(row))])
        attention = torch.tensor([[1] * len(row) + [0] * (width - len(row))])
        out = trl_compat.rollouts_to_mask(ids, attention, [EOS, PAD], CALL, RESULT, 2, frozenset(mask))
        assert out.tolist() == [dropped]

    def test_unknown_mask_is_a_config_error(self):
        with pytest.raises(ConfigError, match=r"unknown rollout mask\(s\) \['cut'\]; choose from \['truncated', "
                                              r"'over_turn'\]"):
            trl_compat.patch_masked_rollouts(FakeTrainer(), frozenset({"cut"}))


class FakeTrainer:
    """Stands in for a GRPOTrainer: trl 1.16's ``_tokenize_prompts`` output for one image and one text prompt."""

    def _tokenize_prompts(self, prompts):
        return [[1], [2]], [["image"], None], {}


class TestPatchTrainer:
    def test_only_the_patches_the_run_needs(self, unpatched_split):
        from trl.trainer import grpo_trainer

        trainer = FakeTrainer()
        assert trl_compat.patch_trainer(trainer, tools=False, mixed_modality=False) == []
        assert not hasattr(grpo_trainer.split_pixel_values_by_grid, "__vlmr_patched__")
        assert trainer._tokenize_prompts(["p", "q"])[1] == [["image"], None]

        assert trl_compat.patch_trainer(trainer, tools=False, mixed_modality=True) == ["text_only_rows"]
        assert trainer._tokenize_prompts(["p", "q"])[1] == [["image"], []]  # None -> no images
        assert not hasattr(grpo_trainer.split_pixel_values_by_grid, "__vlmr_patched__")

        assert trl_compat.patch_trainer(FakeTrainer(), tools=True, mixed_modality=False) == ["tool_round_without_image"]
        assert grpo_trainer.split_pixel_values_by_grid.__vlmr_patched__

    def test_other_trl_release_is_not_patched(self, unpatched_split, monkeypatch, caplog):
        from trl.trainer import grpo_trainer

        monkeypatch.setattr(trl_compat, "version", lambda name: "1.17.0")
        trainer = FakeTrainer()
        with caplog.at_level(logging.WARNING, logger="vlmr.trl_compat"):
            assert trl_compat.patch_trainer(trainer, tools=True, mixed_modality=True) == []
        assert "written for trl 1.16 and are not applied" in caplog.text
        assert trainer._tokenize_prompts(["p", "q"])[1] == [["image"], None]
        assert not hasattr(grpo_trainer.split_pixel_values_by_grid, "__vlmr_patched__")


class TestTensorize:
    def test_numpy_and_row_lists_become_tensors(self):
        batch = {"pixel_values": [np.ones(6), np.zeros(6)], "image_grid_thw": np.array([[1, 1, 2]]), "num_images": [1]}
        out = trl_compat.tensorize_image_fields(batch)
        assert out["pixel_values"].shape == (2, 6) and out["image_grid_thw"].tolist() == [[1, 1, 2]]
        assert out["num_images"] == [1] and isinstance(batch["pixel_values"], list)  # input untouched

    def test_tensors_pass_through(self):
        pixels = torch.ones(4, 3)
        assert trl_compat.tensorize_image_fields({"pixel_values": pixels})["pixel_values"] is pixels
