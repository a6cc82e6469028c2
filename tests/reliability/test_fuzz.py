"""Hostile model output: 10,000 generated completions through the tool-call parser, the agent
loop (a scripted backend replaying them) and every registered reward; none may raise."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from vlmr.formats import CoordinateSpace
from vlmr.inference import AgentRequest, Generation, run_batch
from vlmr.masks import mask_to_rle
from vlmr.rewards import get_reward, list_rewards
from vlmr.tools import parse_tool_calls, resolve_tools

N_COMPLETIONS = 10_000
TOOLS = resolve_tools("image")
# argument names a model may write: the tools' own, Python internals, and names that collide with the call
ARG_NAMES = ["bbox_2d", "point_2d", "start_2d", "end_2d", "angle", "divisions", "label", "color", "self", "env",
             "__class__", "kwargs", "", "bbox_2d ", "1"]
VALUES = ["[0, 0, 500, 500]", "[10, 10, 12, 12]", "[1e308, -1e308, 1e308, 1e308]", "[NaN, 0, Infinity, 1]", "[]",
          "[[1, 2], [3, 4]]", '"left half"', "-1", "0", "1e400", "9" * 5000, "true", "null", '{"x": 1}',
          "[0, 0, 0, 0]", "[5, 5, 4, 4]", '"red\\u0000"', "3.7", "[1, 2, 3, 4, 5]", '"' + "\U0001F600" * 50 + '"',
          # masks written by a model: runs that do not add up to the size made pycocotools loop forever
          '{"size": [112, 112], "counts": "zz"}', '{"size": [112, 112], "counts": "0"}',
          '{"size": [100000, 100000], "counts": "0"}', '{"size": [112, 112], "counts": [12544]}',
          '{"polygon": [[0, 0], [1e308, 0], [50, NaN]]}']
TAGS = ["<think>", "</think>", "<answer>", "</answer>", "<tool_call>", "</tool_call>", "<tool_response>"]


def hostile_arguments(rng: random.Random) -> str:
    """A JSON-ish arguments object: some valid, some with bad names, values or syntax."""
    pairs = [f'"{rng.choice(ARG_NAMES)}": {rng.choice(VALUES)}' for _ in range(rng.randint(0, 4))]
    body = "{" + ", ".join(pairs) + rng.choice(["}", ",}", "", "}}"])
    return rng.choice([body, body, json.dumps(body), "[1, 2]", "'single'", "{1: 2}", "{[1]: 2}", "None"])


def hostile_call(rng: random.Random) -> str:
    """One ``<tool_call>`` block, well-formed or not."""
    name = rng.choice([*TOOLS, *TOOLS, "fly", "", "__init__", "reset", "_call", "history", None, 3])
    kind = rng.randrange(10)
    if kind == 0:  # deep nesting (RecursionError in the JSON decoder before the fix)
        body = rng.choice("[{") * rng.choice([100, 1_000, 100_000])
    elif kind == 1:  # python-literal forms, single quotes
        body = f"{{'name': {name!r}, 'arguments': {{'bbox_2d': (1, 2, 3, 4)}}}}"
    elif kind == 2:  # OpenAI-style function wrapper, arguments as a string
        body = json.dumps({"type": "function", "function": {"name": name, "arguments": hostile_arguments(rng)}})
    elif kind == 3:  # random bytes of text
        body = "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randint(0, 60)))
    else:
        body = f'{{"name": {json.dumps(name)}, "arguments": {hostile_arguments(rng)}}}'
    fence = rng.choice(["", "```json\n", "```"])
    return f"<tool_call>{fence}{body}{rng.choice(['</tool_call>', '', '</tool_call></tool_call>'])}"


def hostile_completion(rng: random.Random) -> str:
    """Half are tool turns (a thought, then calls), half thoughts, tags, calls and answers in random order."""
    if rng.random() < 0.5:
        return rng.choice(["<think>zoom</think>", "", "<think>"]) + "".join(
            hostile_call(rng) for _ in range(rng.randint(1, 2)))
    parts = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(6)
        if kind <= 1:
            parts.append(hostile_call(rng))
        elif kind == 2:
            parts.append(rng.choice(TAGS))
        elif kind == 3:
            parts.append(f"<answer>{rng.choice(VALUES)}</answer>")
        elif kind == 4:
            parts.append(f'{{"bbox_2d": {rng.choice(VALUES)}, "point_2d": {rng.choice(VALUES)}}}')
        else:
            parts.append(rng.choice(["<think>look</think>", "3", "B", " ", "\x00", "\ud800", "A. yes"]))
    return "".join(parts)


def completions(seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [hostile_completion(rng) for _ in range(N_COMPLETIONS)]


class ReplayBackend:
    """Answers each generation with the next completion of the list; counts what it replayed."""

    family = "qwen2_5_vl"

    def __init__(self, texts: list[str]):
        self.texts = list(texts)
        self.replayed = 0

    def coordinate_space(self, width, height):
        return CoordinateSpace.for_image(width, height, self.family)

    def generate(self, conversations):
        out = []
        for _ in conversations:
            text = self.texts[self.replayed] if self.replayed < len(self.texts) else "<answer>0</answer>"
            self.replayed += 1
            out.append(Generation(text))
        return out


def image() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8))


class TestHostileCompletions:
    def test_parser_reads_every_completion_without_raising(self):
        texts = completions()
        calls = [call for text in texts for call in parse_tool_calls(text)]
        assert len(texts) == N_COMPLETIONS
        assert sum(call.error is not None for call in calls) > 1000  # the generator does produce bad calls
        assert sum(call.error is None and call.name in TOOLS for call in calls) > 1000  # ... and runnable ones

    def test_agent_loop_turns_every_completion_into_a_trajectory(self):
        backend = ReplayBackend(completions())
        picture = image()
        trajectories = []
        while backend.replayed < N_COMPLETIONS:  # batches of 250 conversations, up to 3 turns each
            requests = [AgentRequest([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "?"}]}],
                                     [picture], tools=list(TOOLS)) for _ in range(250)]
            trajectories += run_batch(backend, requests, max_turns=3)
        assert [t.error for t in trajectories if t.error] == []  # no request failed on its model output
        calls = [call for t in trajectories for call in t.tool_calls]
        results = [m["content"][-1]["text"] for t in trajectories for m in t.messages if m["role"] == "tool"]
        errors = [text for text in results if text.startswith("Error:")]
        print(f"{backend.replayed} completions, {len(trajectories)} conversations, {len(results)} tool results "
              f"({len(errors)} errors to the model), {sum(c['ok'] for c in calls)} tools ran")
        assert backend.replayed >= N_COMPLETIONS
        assert sum(call["ok"] for call in calls) > 100 and len(errors) > 2000  # both paths were exercised
        assert any("unknown argument(s) ['self']" in text for text in errors)

    @pytest.mark.timeout(300, method="thread")  # before the fix a bad RLE hung mask_iou in C code
    def test_every_reward_scores_every_completion(self):
        target = np.zeros((112, 112), bool)
        target[10:60, 10:60] = True
        answer = {"boxes": [[10, 10, 60, 60]], "points": [[30, 30]], "count": 2, "span": [1.0, 2.0], "choice": "B",
                  "text": "3", "number": 3.0, "labels": ["cat"], "masks": [mask_to_rle(target)]}
        space = CoordinateSpace.for_image(112, 112, "qwen2_5_vl").to_dict()
        texts = completions()[:2000]  # rewards are pure functions; a fifth of the cases covers their parsers
        # vlmr's own rewards (other tests register theirs); mask_iou without a segmenter: boxes as rectangles
        rewards = [r for r in map(get_reward, list_rewards()) if type(r).__module__.startswith("vlmr.rewards.")]
        assert len(rewards) >= 17
        for reward in [*rewards, get_reward("format", allow_tools=True)]:
            scores = reward(texts, answer=[answer] * len(texts), coord=[space] * len(texts))
            assert len(scores) == len(texts), reward.__name__
            assert all(s is None or np.isfinite(s) for s in scores), reward.__name__


class TestReportedCrashes:
    """The two outputs that ended an eval before: each is now a message to the model."""

    def run_one(self, text: str) -> str:
        backend = ReplayBackend([text, "<answer>1</answer>"])
        request = AgentRequest([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "?"}]}],
                               [image()], tools=["crop"])
        [trajectory] = run_batch(backend, [request])
        assert trajectory.error is None and trajectory.final_text == "<answer>1</answer>"
        return trajectory.messages[2]["content"][-1]["text"]

    def test_a_self_argument_is_an_unknown_argument(self):
        text = self.run_one('<tool_call>{"name": "crop", "arguments": {"self": 1, "bbox_2d": [0, 0, 64, 64]}}</tool_call>')
        assert text == ("Error: crop got unknown argument(s) ['self']; its arguments are: bbox_2d, image_index (optional).")

    def test_a_hundred_thousand_brackets_are_an_unreadable_call(self):
        text = self.run_one("<tool_call>" + "[" * 100_000)
        assert text.startswith("Error: could not read the tool call as JSON: '[[[[")

    def test_an_rle_whose_runs_miss_its_size_scores_zero_instead_of_hanging(self):
        target = np.zeros((8, 10), bool)
        target[2:5, 2:5] = True
        script = ("from vlmr.rewards import get_reward; print(get_reward('mask_iou').score("
                  "'<answer>{\"size\": [8, 10], \"counts\": \"zz\"}</answer>', "
                  f"{{'masks': [{mask_to_rle(target)!r}]}}))")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.strip() == "0.0", done.stderr[-2000:]

    def test_the_format_reward_reads_deep_nesting_as_an_invalid_call(self):
        completion = "<think>a</think><tool_call>" + "[" * 100_000 + "</tool_call><think>b</think><answer>1</answer>"
        assert get_reward("format", allow_tools=True).score(completion) == 0.0
