"""vlmr's per-trajectory tool loop (vlmr.train.async_rollout + trl_compat.async_tool_call_loop) against trl's.

The equivalence tests run one trl ``GRPOTrainer`` on the nano model with vlmr's ``zoom_in`` (it
returns an image), swapping trl's ``_tool_call_loop`` and vlmr's on the same batch. The model's
tool-call turns are scripted by a logits processor (bench/rollouts.py), every later turn is the
model's own greedy text, so the two loops must agree on text the model wrote after seeing the tool
images. The fault tests drive the loop with plain Python turns (no model).
"""

import asyncio
import importlib.util
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from vlmr.train.async_rollout import (
    RolloutOptions,
    Trajectory,
    rollout_options,
    run_trajectories,
    tool_content,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_rollouts", ROOT / "bench" / "rollouts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TURNS = (1, 2, 3, 2)  # scripted zoom_in turns of the 4 prompts; then the model answers on its own


@pytest.fixture(scope="module")
def loops(bench, nano_model, tmp_path_factory):
    """One trainer (2 old-policy passes, so the batch carries per-token log-probs) with both loops; tools take
    5-80 ms so that vlmr's loop regroups trajectories differently from trl's rounds."""
    torch.set_num_threads(1)
    rows = bench.prompt_rows(len(TURNS))
    environment = bench.delayed_environment(bench.log_uniform(5, 80))
    trainer, processor = bench.build_trainer(nano_model, environment, tmp_path_factory.mktemp("async-rollout"), rows,
                                             max_completion_length=640, num_iterations=2)
    encode = processor.tokenizer.encode
    calls = [encode(bench.tool_call_text(turn), add_special_tokens=False) for turn in range(3)]
    bench.scripted(trainer.model, processor.tokenizer, lambda case, turn: calls[turn] if turn < TURNS[case] else None)
    return bench.Loops(trainer, RolloutOptions(batch_wait_s=0.01)), bench.batch_inputs(rows)


@pytest.fixture(scope="module")
def both(loops):
    """The outputs of ``_generate_and_score_completions`` from trl's loop and from vlmr's."""
    runner, inputs = loops
    return {loop: runner.run(loop, inputs)[0] for loop in ("trl", "vlmr")}


@pytest.mark.slow
class TestSameAsTrlLoop:
    def test_same_ids_and_tool_masks(self, both):
        trl, vlmr = both["trl"], both["vlmr"]
        for key in ("prompt_ids", "prompt_mask", "completion_ids", "completion_mask", "tool_mask"):
            assert torch.equal(trl[key], vlmr[key]), key
        # every rollout called zoom_in at least once: each has tool tokens (0) between model tokens (1)
        masked = (trl["tool_mask"] == 0) & (trl["completion_mask"] == 1)
        assert masked.any(dim=1).all()

    def test_tool_images_reach_the_forward_pass(self, both):
        trl, vlmr = both["trl"], both["vlmr"]
        # 8 prompt images + one zoom per tool turn: 2 * (1 + 2 + 3 + 2) = 16
        assert vlmr["num_images"] == trl["num_images"] and sum(vlmr["num_images"]) == 8 + 16
        assert torch.equal(trl["image_grid_thw"], vlmr["image_grid_thw"])
        assert torch.equal(trl["pixel_values"], vlmr["pixel_values"])

    def test_same_per_token_log_probs(self, both):
        trl, vlmr = both["trl"], both["vlmr"]
        mask = (trl["completion_mask"] * trl["tool_mask"]).bool()
        assert torch.allclose(trl["old_per_token_logps"][mask], vlmr["old_per_token_logps"][mask], atol=1e-5)

    def test_same_loss(self, loops, both):
        runner, _ = loops
        model = runner.trainer.model
        with torch.no_grad():
            losses = [runner.trainer.compute_loss(model, both[loop]).item() for loop in ("trl", "vlmr")]
        assert losses[0] == pytest.approx(losses[1], rel=1e-5, abs=1e-7)

    def test_tool_calls_per_rollout_are_logged(self, loops, both):
        runner, _ = loops
        extra = runner.trainer._logs["extra"]
        assert list(extra["tool_calls"])[-8:] == [n for n in TURNS for _ in range(2)]
        assert list(extra["tool_failures"])[-8:] == [0] * 8
        assert any(metrics["tools/rollout_seconds"] for metrics in runner.trainer._metrics.values())

    def test_trl_rollout_func_path_drops_tool_images(self, loops, both):
        """Upstream behaviour (trl 1.16) that made vlmr replace ``_tool_call_loop`` instead of using trl's
        ``rollout_func``: images a rollout function returns are not images to trl (``_generate`` sets them to
        ``None``; the key lands among the reward columns), so tool images could not reach the loss forward pass.
        The day this fails, ``rollout_func`` can carry tool images."""
        runner, inputs = loops
        trainer, n = runner.trainer, len(inputs)
        eos = trainer.eos_token_ids[0]
        zoom = Image.new("RGB", (56, 56))
        trainer.rollout_func = lambda prompts, trainer: {
            "prompt_ids": [[1, 2]] * n, "completion_ids": [[3, eos]] * n, "logprobs": [[0.0, 0.0]] * n,
            "images": [[zoom]] * n}
        try:
            _, _, _, _, _, extra_fields, images, tool_images = trainer._generate([x["prompt"] for x in inputs])
        finally:
            trainer.rollout_func = None
        assert images is None and not any(tool_images)
        assert extra_fields["images"] == [[zoom]] * n


# ---- faults, no model -------------------------------------------------------------------------------------------


class PlainTurns:
    """Token ids are message counts; each trajectory calls ``tool`` for ``turns`` turns, then answers."""

    max_completion_length = 1000

    def __init__(self, turns: int, max_turns: int = 5, drop: int = 0):
        self.turns, self.max_turns, self.drop = turns, max_turns, drop
        self.batches: list[list[int]] = []

    def suffix_ids(self, tool_messages):
        return [len(tool_messages)] * 2

    def too_long(self, trajectory, ids):
        return False

    def generate(self, batch):
        if self.drop:  # a server that drops the request
            self.drop -= 1
            raise ConnectionResetError("connection reset by peer")
        self.batches.append([trajectory.index for trajectory, _ in batch])
        return [([7, 7, 7], None) for _ in batch]

    def parse(self, trajectory, ids, prefix):
        return {"role": "assistant", "content": "x",
                **({"tool_calls": [call("tool")]} if trajectory.turns + 1 < self.turns else {})}


def call(name, arguments=None):
    return {"type": "function", "function": {"name": name, "arguments": arguments or {}}}


def trajectory(index, tool, first_calls=None):
    first = {"role": "assistant", "content": "", "tool_calls": first_calls or [call("tool")]}
    return Trajectory(index=index, prompt_ids=[1, 2], completion_ids=[3], messages=[], completions=[first],
                      tools={"tool": tool}, async_tools={})


def results(t):
    return [m["content"] for m in t.completions if m["role"] == "tool"]


class TestFaults:
    def test_hanging_tool_ends_only_its_turn(self):
        hanging = trajectory(0, lambda: time.sleep(2))  # 2 s stands for "never": its thread is left to finish
        fine = [trajectory(i, lambda: "ok") for i in (1, 2)]
        turns = PlainTurns(turns=2)
        start = time.perf_counter()
        run_trajectories([hanging, *fine], turns, RolloutOptions(tool_timeout_s=0.3, tool_workers=4))
        assert time.perf_counter() - start < 1.5
        assert results(hanging)[0].startswith("{'error': 'timeout: tool did not finish within 0.3 s")
        assert [results(t) for t in fine] == [["ok", "ok"]] * 2
        assert (hanging.failures, fine[0].failures) == (2, 0)  # the hanging tool timed out on both its turns
        # the other rollouts generated before the hanging call gave up
        assert sorted(turns.batches[0]) == [1, 2]

    def test_raising_and_garbage_tools_give_error_messages(self):
        def boom():
            raise RuntimeError("segmenter crashed")

        raising = trajectory(0, boom)
        garbage = trajectory(1, lambda: [{"type": "image", "image": "not an image"}])
        unknown = trajectory(2, lambda: "ok", first_calls=[call("nope"), call("tool", "not a dict"), "garbled"])
        run_trajectories([raising, garbage, unknown], PlainTurns(turns=1), RolloutOptions())
        assert results(raising) == ["{'error': 'segmenter crashed'}"]
        assert results(garbage) == ["{'error': 'the tool returned a content list with an invalid image part; expected "
                                    "text parts holding a string and image parts holding a PIL image'}"]
        assert results(unknown) == ["{'error': 'Tool nope not found.'}",
                                    "{'error': \"the arguments of tool must be a JSON object, got 'not a dict'\"}",
                                    "{'error': 'Unsupported tool call type: str'}"]
        assert [(t.calls, t.failures) for t in (raising, garbage, unknown)] == [(1, 1), (1, 1), (3, 3)]

    def test_dropped_generation_request_is_retried(self):
        turns = PlainTurns(turns=1, drop=2)
        done = trajectory(0, lambda: "ok")
        run_trajectories([done], turns, RolloutOptions(retries=2))
        assert done.completion_ids == [3, 1, 1, 7, 7, 7] and done.tool_mask == [1, 0, 0, 1, 1, 1]

    def test_generation_fails_after_the_retries(self):
        with pytest.raises(ConnectionResetError):
            run_trajectories([trajectory(0, lambda: "ok")], PlainTurns(turns=1, drop=3), RolloutOptions(retries=1))

    def test_async_tools_run_after_sync_tools_like_trl(self):
        async def late():
            await asyncio.sleep(0.01)
            return "async"

        t = trajectory(0, lambda: "sync", first_calls=[call("later"), call("tool")])
        t.async_tools = {"later": late}
        run_trajectories([t], PlainTurns(turns=1), RolloutOptions())
        assert results(t) == ["sync", "async"]

    def test_one_generation_call_per_round_and_none_when_all_finished(self):
        turns = PlainTurns(turns=2)  # each trajectory: a tool turn, then one more generated tool turn, then done
        run_trajectories([trajectory(i, lambda: "ok") for i in range(3)], turns, RolloutOptions())
        assert [sorted(batch) for batch in turns.batches] == [[0, 1, 2], [0, 1, 2]]

    def test_turn_limit_and_stops_are_per_trajectory(self):
        chatty = trajectory(0, lambda: "ok")
        turns = PlainTurns(turns=10, max_turns=3)
        run_trajectories([chatty], turns, RolloutOptions())
        assert chatty.turns == 3 and chatty.calls == 3
        # each turn: 2 tool tokens (masked) and 3 model tokens
        assert chatty.tool_mask == [1] + [0, 0, 1, 1, 1] * 3


class TestToolContent:
    @pytest.mark.parametrize("value, expected", [
        ("text", "text"),  # text as is
        ({"error": "x"}, "{'error': 'x'}"),  # anything else as its str(), like trl
        ([{"type": "text", "text": "a"}], [{"type": "text", "text": "a"}]),  # content blocks as they are
    ])
    def test_kept(self, value, expected):
        assert tool_content(value) == expected

    @pytest.mark.parametrize("value", [
        [{"type": "image", "image": b"png bytes"}],  # not a PIL image: the processor would fail later
        [{"type": "text", "text": 3}],  # text that is not a string
        ["just a string in a list"],  # not a content block
    ])
    def test_garbage_raises(self, value):
        with pytest.raises(ValueError, match="content list"):
            tool_content(value)

    def test_image_block_kept(self):
        image = Image.new("RGB", (4, 4))
        assert tool_content([{"type": "image", "image": image}])[0]["image"] is image


class TestRolloutConfig:
    @pytest.mark.parametrize("spec, auto, runs", [
        ({}, True, True),  # auto where it is tested equal (the local model, weights not sharded)
        ({}, False, False),  # auto elsewhere: trl's loop
        ({"loop": "async"}, False, True),  # asked for explicitly
        ({"loop": "trl", "tool_workers": 4}, True, False),  # trl's loop; the options are still checked
    ])
    def test_loop_choice(self, spec, auto, runs):
        assert (rollout_options(spec, auto) is not None) == runs

    @pytest.mark.parametrize("args, fsdp, expected", [
        ({"use_vllm": False, "deepspeed_plugin": None}, False, None),  # one process or DDP: nothing collective
        ({"use_vllm": False, "deepspeed_plugin": SimpleNamespace(zero_stage=3)}, False, "DeepSpeed ZeRO-3"),
        ({"use_vllm": False, "deepspeed_plugin": SimpleNamespace(zero_stage=2)}, False, None),  # weights whole
        ({"use_vllm": False, "deepspeed_plugin": None}, True, "FSDP"),
        ({"use_vllm": True, "vllm_mode": "server"}, True, None),  # asked per trajectory over HTTP
        ({"use_vllm": True, "vllm_mode": "colocate", "vllm_tensor_parallel_size": 2}, False,
         "colocated vLLM with vllm_tensor_parallel_size > 1"),
    ])
    def test_collective_generation(self, args, fsdp, expected):
        from vlmr.train.grpo import collective_generation

        trainer = SimpleNamespace(args=SimpleNamespace(**args), is_fsdp_enabled=fsdp)
        assert collective_generation(trainer) == expected

    def test_options_reach_the_loop(self):
        assert rollout_options({"tool_workers": 4, "tool_timeout_s": 5}) == RolloutOptions(4, 5.0)

    @pytest.mark.parametrize("spec, message", [
        ({"loop": "fast"}, r"rollout.loop is 'fast'; choose one of \['auto', 'async', 'trl'\]"),
        ({"tool_worker": 4}, r"unknown rollout key\(s\) \['tool_worker'\]"),
        ({"tool_workers": 0}, "tool_workers=0; use 1 or more"),
    ])
    def test_bad_sections_fail_the_config_check(self, spec, message, tmp_path):
        from vlmr.config import ConfigError, TrainConfig
        from vlmr.train.specs import check_config

        cfg = TrainConfig.from_dict({"model": "m", "output_dir": str(tmp_path), "datasets": [{"path": "d"}],
                                     "rewards": [{"name": "format"}], "rollout": spec})
        with pytest.raises(ConfigError, match=message):
            check_config(cfg, "grpo")


def test_tool_call_json_is_what_the_script_writes(bench):
    text = bench.tool_call_text(1)
    payload = json.loads(text.split("<tool_call>\n")[1].split("\n</tool_call>")[0])
    assert payload == {"name": "zoom_in", "arguments": {"bbox_2d": [4, 4, 44, 44]}}


class TestServer:
    def test_each_trajectory_generates_alone_without_waiting_for_slow_tools(self):
        slow = trajectory(0, lambda: time.sleep(0.4) or "slow")
        fast = [trajectory(i, lambda: "fast") for i in (1, 2)]
        turns = PlainTurns(turns=3)
        start = time.perf_counter()
        run_trajectories([slow, *fast], turns, RolloutOptions(), per_request=True)
        assert all(len(batch) == 1 for batch in turns.batches)  # one request per trajectory turn
        # the fast trajectories finished all their 3 turns while the slow one was still in its first tool call
        assert sorted(turns.batches[:6]) == [[1]] * 3 + [[2]] * 3
        assert time.perf_counter() - start < 0.4 * 3 + 1

    def test_turn_request_carries_images_and_trl_sampling(self):
        from vlmr.trl_compat import _ServerTurns

        class Client:
            def __init__(self):
                self.calls = []

            def image_features(self, images):
                self.calls.append(("features", images))
                return [{"n": len(images[0])}]

            def generate(self, **request):
                self.calls.append(("generate", request))
                return {"completion_ids": [[5, 6]], "logprobs": [[[-0.5, -2.0], [-0.25]]]}

        vllm = SimpleNamespace(repetition_penalty=1.0, temperature=0.7, top_p=0.9, top_k=0, min_p=None,
                               max_completion_length=64, logprobs=0, structured_outputs_regex=None,
                               generation_kwargs={}, _place_features=lambda features, ids: {**features, "at": len(ids)})
        trainer = SimpleNamespace(max_tool_calling_iterations=3, max_completion_length=64, use_vllm=True,
                                  vllm_mode="server", _is_vlm=True, vllm_generation=vllm,
                                  model=SimpleNamespace(config=SimpleNamespace(
                                      text_config=SimpleNamespace(max_position_embeddings=128))))
        client = Client()
        turns = _ServerTurns(trainer, [None], client)
        image = Image.new("RGB", (8, 8))
        t = trajectory(0, lambda: "ok")
        t.images, t.tool_images = [image], [image]
        assert turns.generate([(t, [1, 2, 3])]) == [([5, 6], [-0.5, -0.25])]  # the sampled token's log-prob
        (_, images), (_, request) = client.calls
        assert images == [[image, image]]  # prompt image then tool image
        assert request["prompts"] == [[1, 2, 3]] and request["features"] == [{"n": 2, "at": 3}]
        assert (request["temperature"], request["top_p"], request["min_p"], request["max_tokens"]) == (0.7, 0.9, 0.0, 64)
