"""Everything vlmr does that depends on trl's version, in one place (written for trl 1.16).

- **Patches** for three trl 1.16 bugs with vision-language models, applied by
  :func:`patch_trainer` only when the installed trl is the release they were written for
  (:data:`WRITTEN_FOR`) and only when the run can hit the bug.
- **Defaults** (:data:`GRPO_DEFAULTS`) that keep GRPO runs away from trl 1.16 failures.
- **Read access** to trl's private completion log (:func:`completion_log`).
- **The per-trajectory tool loop** (:func:`patch_async_rollout`): trl's ``_tool_call_loop`` run by
  :mod:`vlmr.train.async_rollout` with trl's own per-step helpers.

``tests/test_trl_compat.py`` reproduces each bug on plain trl: the day one of those tests
fails, trl has fixed that bug and the piece here can go. ``vlmr.versions`` and
``pyproject.toml`` pin trl to the tested minor release, so a newer trl is a clear error at
start-up rather than a patch applied blindly.

>>> import numpy as np
>>> batch = {"pixel_values": np.ones((8, 3)), "image_grid_thw": [np.array([1, 2, 2]), np.array([1, 2, 2])],
...          "num_images": [1, 1]}
>>> [tuple(p.shape) for p in tensorize_image_fields(batch)["pixel_values"].split(4)]
[(4, 3), (4, 3)]
"""

from __future__ import annotations

import functools
import logging
import time
from importlib.metadata import version
from typing import Any

from packaging.version import Version

from vlmr.config import ConfigError

logger = logging.getLogger(__name__)

WRITTEN_FOR = "1.16"  # the trl minor release every piece of this module was written and tested against

# GRPOConfig defaults that avoid trl 1.16 failures (a user's own `trainer:` value still wins):
GRPO_DEFAULTS = {
    # The completion parquet (log_completions=True) fails with "ArrowInvalid: cannot mix list and non-list"
    # when, in one batch, a tool returned an image to one rollout and a text to another. vlmr's sample
    # table (train/callbacks.py) reads the same completions without that writer.
    "log_completions": False,
    # Logged images are gathered only on ranks whose batch has images: a text-only batch on one rank
    # leaves the others waiting forever (multi-process runs). The sample table takes images from the
    # logged prompts instead. Not reproduced by a test: it needs two processes and ends in a hang.
    "log_multimodal": False,
}

_IMAGE_FIELDS = ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw")


def installed_minor() -> str:
    """The installed trl's ``major.minor``."""
    release = Version(version("trl")).release
    return f"{release[0]}.{release[1]}"


def patch_trainer(trainer, *, tools: bool, mixed_modality: bool, mask: frozenset[str] = frozenset()) -> list[str]:
    """Apply the patches ``trainer``'s run needs; returns their names.

    Args:
        trainer: a built ``trl.GRPOTrainer`` (before ``train()``).
        tools: the run has tool environments (the tool-loop patch).
        mixed_modality: some rows have images and some none (the text-only-row patch).
        mask: rollouts to leave out of the loss in a run with tools, any of :data:`MASKS` (patch 3).
    """
    needed = [name for name, wanted in (("tool_round_without_image", tools),
                                        ("text_only_rows", mixed_modality),
                                        ("masked_rollouts", tools and bool(mask))) if wanted]
    if not needed:
        return []
    if installed_minor() != WRITTEN_FOR:
        logger.warning("trl %s is installed; vlmr's patches %s were written for trl %s and are not applied",
                       version("trl"), needed, WRITTEN_FOR)
        return []
    if tools:
        patch_split_pixel_values()
    if mixed_modality:
        patch_text_only_rows(trainer)
    if tools and mask:
        patch_masked_rollouts(trainer, mask)
    logger.debug("trl %s patches in effect: %s", WRITTEN_FOR, needed)
    return needed


# ---- patch 1: a tool round in which no tool returned an image --------------------------------------------------
# ``GRPOTrainer._tool_call_loop`` then rebuilds the multimodal inputs from the processor output of the prompt
# and calls ``split_pixel_values_by_grid`` on it. That helper assumes torch tensors, but processors whose image
# processor runs on the PIL/numpy backend (``backend="pil"``, the default without torchvision) return numpy
# arrays, and with ``environment_factory`` trl has merged them into plain lists. The step then dies with
# ``'list' object has no attribute 'prod'`` (``environment_factory``) or ``'int' object is not callable``
# (``tools=``; numpy's ``.size`` is an int). The fix converts those fields to tensors first; tensors pass through
# unchanged. The helper is a module global of trl's, so the patch holds for the whole process.


def tensorize_image_fields(batch: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``batch`` with numpy arrays / lists of rows in the image fields stacked as tensors."""
    import numpy as np
    import torch

    out = dict(batch)
    for key in _IMAGE_FIELDS:
        value = out.get(key)
        if value is None or isinstance(value, torch.Tensor):
            continue
        if isinstance(value, list) and value and isinstance(value[0], torch.Tensor):
            out[key] = torch.stack(value) if value[0].dim() == 1 else torch.cat(value)  # rows or blocks
        else:
            out[key] = torch.as_tensor(np.asarray(value))
    return out


def patch_split_pixel_values() -> bool:
    """Install patch 1 into ``trl.trainer.grpo_trainer``; True if it was newly applied (idempotent)."""
    from trl.trainer import grpo_trainer

    split = grpo_trainer.split_pixel_values_by_grid
    if getattr(split, "__vlmr_patched__", False):
        return False

    @functools.wraps(split)
    def split_pixel_values_by_grid(batch):
        return split(tensorize_image_fields(batch))

    split_pixel_values_by_grid.__vlmr_patched__ = True
    grpo_trainer.split_pixel_values_by_grid = split_pixel_values_by_grid
    return True


# ---- patch 2: text-only rows in a batch with images -------------------------------------------------------------
# ``GRPOTrainer._tokenize_prompts`` gives ``None`` as the image list of a prompt without images; when other
# prompts of the batch have images, the loss-side processor call then fails with "only a single or a list of
# entries is supported but got type=<class 'NoneType'>". An empty list is what the processor expects for an
# image-less sample. The patch wraps the method of one trainer instance, so other trainers are untouched.


def patch_text_only_rows(trainer) -> bool:
    """Install patch 2 on ``trainer``; True if it was newly applied (idempotent)."""
    tokenize = trainer._tokenize_prompts
    if getattr(tokenize, "__vlmr_patched__", False):
        return False

    @functools.wraps(tokenize)
    def _tokenize_prompts(prompts):
        prompt_ids, images, multimodal_fields = tokenize(prompts)
        if images is not None:
            images = [im if im is not None else [] for im in images]
        return prompt_ids, images, multimodal_fields

    _tokenize_prompts.__vlmr_patched__ = True
    trainer._tokenize_prompts = _tokenize_prompts
    return True


# ---- patch 3: leaving truncated and over-turn rollouts out of the loss in runs with tools ----------------------
# ``mask_truncated_completions`` zeroes a cut rollout's ``completion_mask``, and trl uses that mask for two jobs:
# the loss mask and the attention mask of every forward pass. Qwen-VL's ``get_rope_index`` then finds the tool
# image's tokens in the image grid but not under the attention mask and the step fails ("shape mismatch: value
# tensor of shape [3, 291] cannot be broadcast to indexing result of shape [3, 259]"). The fix gives the job to
# the loss mask alone: trl's flag stays off, and after generation and scoring the rollouts to leave out get a
# zero ``tool_mask`` (the loss mask trl multiplies in for tool results), so attention still covers every token.
# The same holds for over-turn rollouts (Mini-o3's ``ignore_exceed``): those that used every tool round
# (``max_tool_calling_iterations``) and still asked for a tool, so they end without an answer. The rollouts
# still count in their group's advantages, as under trl's own flag. The patch wraps one trainer instance.

MASKS = ("truncated", "over_turn")


def rollouts_to_mask(completion_ids, completion_mask, stop_ids, call_id: int, response_id: int, max_rounds: int,
                     mask: frozenset[str]):
    """A bool tensor (B,): the rollouts to leave out of the loss.

    Truncated: the last token is not a stop token (trl's own rule). Over-turn: at least ``max_rounds`` tool
    results (``response_id`` tokens) and more tool calls (``call_id`` tokens) than results.
    """
    import torch

    lengths = completion_mask.sum(dim=1)  # (B,) right-padded
    last = completion_ids.gather(1, (lengths - 1).clamp(min=0).unsqueeze(1)).squeeze(1)  # (B,)
    truncated = ~torch.isin(last, torch.tensor(list(stop_ids), device=last.device)) & (lengths > 0)
    real = completion_mask.bool()
    calls = ((completion_ids == call_id) & real).sum(dim=1)  # (B,)
    results = ((completion_ids == response_id) & real).sum(dim=1)  # (B,)
    over_turn = (results >= max_rounds) & (calls > results)
    out = torch.zeros_like(truncated)
    if "truncated" in mask:
        out |= truncated
    if "over_turn" in mask:
        out |= over_turn
    return out


def patch_masked_rollouts(trainer, mask: frozenset[str]) -> bool:
    """Install patch 3 on ``trainer``; True if it was newly applied (idempotent).

    Logs the fraction of rollouts left out as ``vlmr/masked_rollouts``.
    """
    import torch

    unknown = set(mask) - set(MASKS)
    if unknown:
        raise ConfigError(f"unknown rollout mask(s) {sorted(unknown)}; choose from {list(MASKS)}")
    generate = trainer._generate_and_score_completions
    if getattr(generate, "__vlmr_patched__", False):
        return False
    tokenizer = getattr(trainer.processing_class, "tokenizer", trainer.processing_class)
    call_id, response_id = tokenizer.convert_tokens_to_ids(["<tool_call>", "<tool_response>"])
    if "over_turn" in mask and ({call_id, response_id} & {None, tokenizer.unk_token_id}):
        raise ConfigError("mask_over_turn needs <tool_call> and <tool_response> tokens in the tokenizer "
                          "(Hermes-style tool templates, as Qwen's); this tokenizer has none")
    stop_ids = [*trainer.eos_token_ids, tokenizer.pad_token_id]

    @functools.wraps(generate)
    def _generate_and_score_completions(inputs):
        output = generate(inputs)
        ids, completion_mask = output["completion_ids"], output["completion_mask"]
        drop = rollouts_to_mask(ids, completion_mask, stop_ids, call_id, response_id,
                                trainer.max_tool_calling_iterations, mask)
        keep = (~drop).int().unsqueeze(1)  # (B, 1)
        output["tool_mask"] = output.get("tool_mask", torch.ones_like(completion_mask)) * keep
        loss_mask = completion_mask * output["tool_mask"]
        output["num_items_in_batch"] = trainer.accelerator.gather(loss_mask.sum()).sum()
        mode = "train" if trainer.model.training else "eval"
        trainer._metrics[mode]["vlmr/masked_rollouts"].append(trainer.accelerator.gather(drop).float().mean().item())
        return output

    _generate_and_score_completions.__vlmr_patched__ = True
    trainer._generate_and_score_completions = _generate_and_score_completions
    return True


# ---- read access ------------------------------------------------------------------------------------------------


def completion_log(trainer) -> dict | None:
    """The latest generation batch as trl 1.16 keeps it in the private ``trainer._logs``:
    ``{"prompt": [...], "completion": [...], "rewards": {name: [...]}, ...}`` (``None`` if absent)."""
    return getattr(trainer, "_logs", None)


# ---- async rollout: trl's tool loop, one trajectory at a time -----------------------------------------------------
# Not a bug fix: ``GRPOTrainer._tool_call_loop`` makes every tool turn a barrier for the whole batch and runs
# synchronous tools one after another. :func:`patch_async_rollout` replaces it on one trainer instance by
# :mod:`vlmr.train.async_rollout`, fed with trl 1.16's own per-step helpers (``_get_tool_suffix_ids``,
# ``_generate_single_turn``, ``parse_response``) and its length rules, and returning what trl's loop returns, so
# the loss, the tool images of the forward pass and the tool metrics are trl's. trl's ``rollout_func`` hook was
# not used: its path sets the images to the dataset's (``_generate``: ``images = None``), so tool images would
# never reach the loss forward pass (``test_trl_rollout_func_path_drops_tool_images``).
# ``tests/train/test_async_rollout.py`` checks trajectories, masks, tool images, log-probs and the loss against
# trl's loop.


class _TrlTurns:
    """trl 1.16's per-trajectory rules of ``_tool_call_loop``, for :func:`vlmr.train.async_rollout.run_trajectories`."""

    def __init__(self, trainer, per_prompt_tools: list):
        from trl.trainer import grpo_trainer

        self.trainer, self.per_prompt_tools = trainer, per_prompt_tools
        self.parse_response = grpo_trainer.parse_response
        self.max_turns = trainer.max_tool_calling_iterations
        self.max_completion_length = trainer.max_completion_length
        if trainer.use_vllm and trainer.vllm_mode == "colocate":
            self.max_model_len = trainer.vllm_generation.llm.llm_engine.model_config.max_model_len
        else:
            config = trainer.model.config.text_config if trainer._is_vlm else trainer.model.config
            self.max_model_len = config.max_position_embeddings

    def suffix_ids(self, tool_messages: list[dict]) -> list[int]:
        return self.trainer._get_tool_suffix_ids(tool_messages)

    def too_long(self, trajectory, ids: list[int]) -> bool:
        return len(ids) - len(trajectory.prompt_ids) > self.max_completion_length or len(ids) >= self.max_model_len

    def generate(self, batch: list) -> list:
        from transformers import Trainer

        trainer = self.trainer
        images = [trajectory.all_images() for trajectory, _ in batch]
        fields, has_images = {}, any(images)
        if has_images and trainer._is_vlm:  # trl's rule for a round with tool images, here for every round with images
            flat = [image for group in images if group for image in group]
            fields = dict(Trainer._prepare_inputs(trainer, trainer.processing_class.image_processor(
                images=flat, return_tensors="pt")))
        ids, logprobs = trainer._generate_single_turn([ids for _, ids in batch], images if has_images else None,
                                                      fields, num_generations=1, has_tool_images=has_images)
        return list(zip(ids, logprobs if logprobs is not None else [None] * len(ids), strict=True))

    def parse(self, trajectory, ids: list[int], prefix: list[int]) -> dict:
        return self.parse_response(self.trainer._tokenizer, ids, prefix=prefix,
                                   tools=self.per_prompt_tools[trajectory.index])


class _ServerTurns(_TrlTurns):
    """trl's rules, but each turn is its own request from this process to trl's vLLM server (``vllm_mode:
    server``), so a trajectory's next turn starts when its tools end. trl's ``VLLMGeneration.generate`` cannot be
    used: it gathers every rank's prompts (a collective call), which ranks advancing on their own would deadlock.
    The same client calls and sampling settings as trl's server mode; weights are synced by trl's first turn."""

    def __init__(self, trainer, per_prompt_tools: list, client):
        super().__init__(trainer, per_prompt_tools)
        self.client, self.vllm = client, trainer.vllm_generation

    def generate(self, batch: list) -> list:
        vllm, outputs = self.vllm, []
        for trajectory, ids in batch:
            images = trajectory.all_images()
            features = None
            if images:  # the server takes images apart from token ids (trl: VLLMClient.image_features)
                features = [vllm._place_features(self.client.image_features([images])[0], ids)]
            output = self.client.generate(
                prompts=[ids], features=features, n=1, repetition_penalty=vllm.repetition_penalty,
                temperature=vllm.temperature, top_p=vllm.top_p, top_k=vllm.top_k,
                min_p=0.0 if vllm.min_p is None else vllm.min_p, max_tokens=vllm.max_completion_length,
                logprobs=vllm.logprobs, structured_outputs_regex=vllm.structured_outputs_regex,
                generation_kwargs=vllm.generation_kwargs)
            outputs.append((output["completion_ids"][0], [top[0] for top in output["logprobs"][0]]))
        return outputs


def vllm_server_client(trainer):
    """This process's client of trl's vLLM server: trl's own on the main process, a new one on the others."""
    vllm = trainer.vllm_generation
    client = getattr(vllm, "vllm_client", None) or getattr(trainer, "_vlmr_vllm_client", None)
    if client is None:
        from trl.generation.vllm_client import VLLMClient

        base_url = vllm.server_base_url or f"http://{vllm.server_host}:{vllm.server_port}"
        client = trainer._vlmr_vllm_client = VLLMClient(base_url=base_url, connection_timeout=vllm.server_timeout)
    return client


def async_tool_call_loop(trainer, options, prompts, prompt_ids, completion_ids, completions, logprobs, images,
                         multimodal_fields):
    """``_tool_call_loop``'s contract (trl 1.16) run by :func:`vlmr.train.async_rollout.run_trajectories`.

    Also logs each rollout's tool calls and failures (completion-table columns ``tool_calls`` and
    ``tool_failures``) and the loop's wall time (``tools/rollout_seconds``).
    """
    from vlmr.train.async_rollout import Trajectory, run_trajectories

    if trainer.environment_factories is not None:
        per_prompt_tools = [trainer._env_tools[name] for name in trainer._batch_environments]
    else:
        per_prompt_tools = [trainer.tools] * len(prompts)
    trajectories = [
        Trajectory(index=i, prompt_ids=prompt_ids[i], completion_ids=list(completion_ids[i]), messages=prompts[i],
                   completions=completions[i], tools=trainer._sync_tool_dicts[i],
                   async_tools=trainer._async_tool_dicts[i], images=images[i] if images else None,
                   logprobs=list(logprobs[i]) if logprobs is not None else None)
        for i in range(len(prompts))
    ]
    server = trainer.use_vllm and trainer.vllm_mode == "server"
    turns = (_ServerTurns(trainer, per_prompt_tools, vllm_server_client(trainer)) if server
             else _TrlTurns(trainer, per_prompt_tools))
    seconds = run_trajectories(trajectories, turns, options, per_request=server,
                               async_loop=getattr(trainer, "async_loop", None),
                               last_call_s=getattr(trainer, "_vlmr_generation_seconds", 0.0))
    trainer._log_completion_extra("tool_calls", [t.calls for t in trajectories])
    trainer._log_completion_extra("tool_failures", [t.failures for t in trajectories])
    trainer._log_metric("tools/rollout_seconds", seconds)
    return ([t.tool_mask for t in trajectories], [t.completions for t in trajectories],
            [t.completion_ids for t in trajectories], None if logprobs is None else [t.logprobs for t in trajectories],
            sum(t.calls for t in trajectories), sum(t.failures for t in trajectories),
            [t.tool_images for t in trajectories])


def patch_async_rollout(trainer, options) -> bool:
    """Replace ``trainer._tool_call_loop`` by :func:`async_tool_call_loop`; True if newly applied (idempotent).

    ``options``: :class:`vlmr.train.async_rollout.RolloutOptions`. Only for trl 1.16 (the caller checks
    :func:`installed_minor`).
    """
    if getattr(trainer._tool_call_loop, "__vlmr_patched__", False):
        return False
    single_turn = trainer._generate_single_turn

    @functools.wraps(single_turn)
    def _generate_single_turn(*args, **kwargs):  # timed: the first turn's time sets how long stragglers are awaited
        start = time.perf_counter()
        output = single_turn(*args, **kwargs)
        trainer._vlmr_generation_seconds = time.perf_counter() - start
        return output

    def _tool_call_loop(*args):
        return async_tool_call_loop(trainer, options, *args)

    _tool_call_loop.__vlmr_patched__ = True
    trainer._generate_single_turn, trainer._tool_call_loop = _generate_single_turn, _tool_call_loop
    return True
