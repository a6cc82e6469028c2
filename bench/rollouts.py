"""Rollout wall time: vlmr's per-trajectory tool loop vs trl's ``_tool_call_loop``, same trainer, same prompts.

    .venv/bin/python bench/rollouts.py                       # tools of 50-500 ms, then free tools
    .venv/bin/python bench/rollouts.py --pairs 12 --latency 0,0   # free tools only

Workload: the tiny model (nano), 8 prompts x 2 generations = 16 trajectories with 1 to 3 tool
turns each (the turn counts are :data:`TOOL_TURNS`), greedy decoding. The model's turns are
scripted by a logits processor (:func:`scripted`): every token still costs a real forward pass of
the model, but the text is fixed (a zoom_in call per tool turn, then ``--think`` reasoning tokens
and an answer), so both loops do the same work and the rollouts can be compared token for token.
The tool is vlmr's ``zoom_in`` (it returns an image) behind a delay drawn log-uniformly from
``--latency`` (ms) for each (trajectory, call), the same draw in both loops (a remote segmenter
or judge answers in 50-500 ms).

One ``GRPOTrainer`` is built once; each trial rolls the same batch out with trl's loop and with
vlmr's (:func:`vlmr.trl_compat.patch_async_rollout` swapped in and out), in alternating order (trl
first on even trials), timing ``_generate`` (first turn, tools, later turns). The result is the
median, IQR and distribution-free 95% interval of the paired ratios ``vlmr / trl``, and the number of
trials whose two rollouts gave identical completion ids and tool masks. The target: <= 0.6 with
latency, <= 1.05 with free tools.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from transformers import LogitsProcessor

SIZE = 56  # px: 4 visual tokens per image for the nano preset
TOOL_TURNS = (3, 2, 3, 1, 3, 3, 2, 3)  # tool turns of prompt k's rollouts (the bench's 8 prompts)
CASE = re.compile(r"case (\d+):")


def prompt_rows(n: int, size: int = SIZE, seed: int = 0) -> list[dict]:
    """``n`` GRPO input rows (``prompt``, ``images``, ``coord``, ``case``) on random images of ``size`` px."""
    rng = np.random.default_rng(seed)
    coord = {"convention": "resized", "width": size, "height": size, "input_width": size, "input_height": size}
    return [{"prompt": [{"role": "user", "content": [{"type": "image"},
                                                     {"type": "text", "text": f"case {k}: how many shapes?"}]}],
             "images": [Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))],
             "coord": coord, "case": k} for k in range(n)]


def tool_call_text(turn: int) -> str:
    """The scripted assistant turn that calls zoom_in (a different box each turn)."""
    box = [4 * turn, 4 * turn, 4 * turn + 40, 4 * turn + 40]
    return (f'<think>zoom</think><tool_call>\n{json.dumps({"name": "zoom_in", "arguments": {"bbox_2d": box}})}'
            "\n</tool_call><|im_end|>")


def answer_text(think: int) -> str:
    """The scripted final turn: ``think`` words of reasoning, then an answer."""
    return f"<think>{' look' * think}</think><answer>3</answer><|im_end|>"


class Script(LogitsProcessor):
    """Forces each row of one ``generate`` call to ``plan(case, turn)`` (token ids; ``None``: free greedy).

    The case is read from the row's text (``case K``), the turn is the number of tool results in it.
    """

    def __init__(self, tokenizer, plan: Callable[[int, int], list[int] | None]):
        self.tokenizer, self.plan = tokenizer, plan
        self.start, self.rows = None, []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if self.start is None:
            self.start = input_ids.size(1)
            for row in self.tokenizer.batch_decode(input_ids):
                case = CASE.search(row)
                self.rows.append(self.plan(int(case.group(1)), row.count("<tool_response>")) if case else None)
        step = input_ids.size(1) - self.start
        for r, forced in enumerate(self.rows):
            if forced is not None and step < len(forced):
                scores[r] = -math.inf
                scores[r, forced[step]] = 0.0
        return scores


def scripted(model, tokenizer, plan: Callable[[int, int], list[int] | None]) -> None:
    """Make ``model.generate`` follow ``plan`` (see :class:`Script`); each call gets a fresh script."""
    generate = model.generate

    @functools.wraps(generate)
    def scripted_generate(*args, **kwargs):
        return generate(*args, logits_processor=[Script(tokenizer, plan)], **kwargs)

    model.generate = scripted_generate


def bench_plan(tokenizer, think: int) -> Callable[[int, int], list[int]]:
    """The bench's script: :data:`TOOL_TURNS` zoom_in calls, then ``think`` words and an answer."""
    encode = functools.partial(tokenizer.encode, add_special_tokens=False)
    calls = [encode(tool_call_text(turn)) for turn in range(max(TOOL_TURNS))]
    answer = encode(answer_text(think))
    return lambda case, turn: calls[turn] if turn < TOOL_TURNS[case % len(TOOL_TURNS)] else answer


def delayed_environment(latency: Callable[[int, int], float], tools=("zoom_in",)):
    """vlmr's tool environment whose tools first sleep ``latency(trajectory, call)`` seconds.

    ``trajectory`` is the instance's creation number: trl hands instance i to rollout i of every batch.
    """
    from vlmr.tools import make_environment

    base = make_environment(list(tools), convention="resized")
    created = iter(range(sys.maxsize))

    def delayed(method):
        @functools.wraps(method)  # same name, signature and docstring: the model sees the same schema
        def tool(self, /, **arguments):
            time.sleep(latency(self.trajectory, self.calls))
            self.calls += 1
            return method(self, **arguments)

        return tool

    def __init__(self):
        base.__init__(self)
        self.trajectory, self.calls = next(created), 0

    def reset(self, **row):
        self.calls = 0
        return base.reset(self, **row)

    attrs = {name: delayed(getattr(base, name)) for name in tools}
    return type("DelayedToolEnv", (base,), {**attrs, "__init__": __init__, "reset": reset})


def log_uniform(low_ms: float, high_ms: float, seed: int = 0) -> Callable[[int, int], float]:
    """Seconds for (trajectory, call), drawn log-uniformly in [low_ms, high_ms] (0 for a 0 upper bound)."""
    def latency(trajectory: int, call: int) -> float:
        if high_ms <= 0:
            return 0.0
        u = random.Random(f"{seed}-{trajectory}-{call}").random()
        return math.exp(math.log(low_ms) + u * (math.log(high_ms) - math.log(low_ms))) / 1000
    return latency


def build_trainer(model_dir: str | Path, environment, out: Path, rows: list[dict], max_completion_length: int = 640,
                  num_generations: int = 2, **config):
    """A ``GRPOTrainer`` on the tiny model with ``environment`` as its tool environment (not patched);
    ``config``: more ``GRPOConfig`` fields."""
    from datasets import Dataset
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig, GRPOTrainer

    from vlmr import trl_compat
    from vlmr.models import vision_placeholder_token_ids

    model = AutoModelForImageTextToText.from_pretrained(str(model_dir), dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(str(model_dir))
    batch = len(rows) * num_generations
    args = GRPOConfig(
        output_dir=str(out), per_device_train_batch_size=batch, num_generations=num_generations,
        max_completion_length=max_completion_length, max_tool_calling_iterations=3, report_to=[], use_cpu=True,
        save_strategy="no", logging_steps=1, disable_tqdm=True, temperature=1.0,
        generation_kwargs={"do_sample": False, "suppress_tokens": vision_placeholder_token_ids(processor, model.config)},
        **config,
    )

    def reward_length(completions, **kwargs):
        return [float(len(str(c))) for c in completions]

    trainer = GRPOTrainer(model=model, reward_funcs=reward_length, args=args,
                          train_dataset=Dataset.from_list([{"prompt": r["prompt"], "case": r["case"]} for r in rows]),
                          processing_class=processor, environment_factory=environment)
    trl_compat.patch_split_pixel_values()  # what vlmr's GRPO runs with tools always have
    return trainer, processor


def batch_inputs(rows: list[dict], num_generations: int = 2) -> list[dict]:
    """Each row ``num_generations`` times, copies adjacent (as trl's sampler gives them)."""
    return [dict(row) for row in rows for _ in range(num_generations)]


class Loops:
    """Switches one trainer between trl's tool loop and vlmr's and rolls a batch out with either."""

    def __init__(self, trainer, options=None):
        from vlmr import trl_compat
        from vlmr.train.async_rollout import RolloutOptions

        self.trainer = trainer
        self.trl = trainer._tool_call_loop
        trl_compat.patch_async_rollout(trainer, options or RolloutOptions())
        self.vlmr = trainer._tool_call_loop
        self.seconds: list[tuple[float, float]] = []  # (wall, CPU) of each rollout
        self.calls = 0  # generation calls (model.generate) so far
        generate, single_turn = trainer._generate, trainer._generate_single_turn

        def counted_single_turn(*args, **kwargs):
            self.calls += 1
            return single_turn(*args, **kwargs)

        trainer._generate_single_turn = counted_single_turn

        def timed_generate(prompts):
            start, cpu = time.perf_counter(), time.process_time()
            output = generate(prompts)
            self.seconds.append((time.perf_counter() - start, time.process_time() - cpu))
            return output

        trainer._generate = timed_generate

    def run(self, loop: str, inputs: list[dict], seed: int = 0) -> tuple[dict, tuple[float, float, int]]:
        """``(outputs of _generate_and_score_completions, (wall s, CPU s, generation calls))`` of one rollout
        with ``loop`` (trl or vlmr); CPU time is the process's, all threads."""
        self.trainer._tool_call_loop = getattr(self, loop)
        torch.manual_seed(seed)
        calls = self.calls
        output = self.trainer._generate_and_score_completions([dict(x) for x in inputs])
        return output, (*self.seconds[-1], self.calls - calls)


def same_rollout(a: dict, b: dict) -> bool:
    """Whether two outputs of ``_generate_and_score_completions`` hold the same ids and tool masks."""
    return all(torch.equal(a[key], b[key]) for key in ("prompt_ids", "completion_ids", "completion_mask", "tool_mask"))


def median_interval(values: list[float]) -> tuple[float, float]:
    """Distribution-free 95% interval of the median: order statistics n/2 -+ 0.98 sqrt(n)."""
    ordered, n = sorted(values), len(values)
    half = 0.98 * math.sqrt(n)
    return ordered[max(0, math.floor(n / 2 - half))], ordered[min(n - 1, math.ceil(n / 2 + half))]


def ratio_figures(vlmr_s: list[float], trl_s: list[float]) -> dict:
    """Medians of each side and the median, IQR and 95% interval of the paired ratios vlmr/trl."""
    ratios = [v / t for v, t in zip(vlmr_s, trl_s, strict=True)]
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return {"trl_s": statistics.median(trl_s), "vlmr_s": statistics.median(vlmr_s), "median": median,
            "iqr": (q1, q3), "ci": median_interval(ratios), "pairs": len(ratios)}


def compare(loops: Loops, inputs: list[dict], pairs: int, warmup: int) -> tuple[dict, dict, int, dict]:
    """Paired trials (order alternating): ``(wall figures, CPU figures, pairs with identical rollouts,
    median generation calls per rollout of each loop)``."""
    times = {"trl": [], "vlmr": []}
    same = 0
    for trial in range(warmup + pairs):
        order = ("trl", "vlmr") if trial % 2 == 0 else ("vlmr", "trl")
        outputs, took = {}, {}
        for loop in order:
            outputs[loop], took[loop] = loops.run(loop, inputs)
            if trial >= warmup:
                times[loop].append(took[loop])
        same += trial >= warmup and same_rollout(outputs["trl"], outputs["vlmr"])
        print(f"trial {trial + 1}/{warmup + pairs}{' (warm-up)' if trial < warmup else ''}: "
              + ", ".join(f"{loop} {took[loop][0]:.2f} s" for loop in order), file=sys.stderr, flush=True)
    calls = {loop: statistics.median(s[2] for s in times[loop]) for loop in times}
    return (*(ratio_figures([s[clock] for s in times["vlmr"]], [s[clock] for s in times["trl"]])
              for clock in (0, 1)), same, calls)


def main() -> None:
    from vlmr.train.async_rollout import RolloutOptions

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="nano", help="tiny-model preset (nano, tiny, small)")
    parser.add_argument("--pairs", type=int, default=8, help="timed trials per workload (each: trl and vlmr)")
    parser.add_argument("--warmup", type=int, default=1, help="trials left out of the figures")
    parser.add_argument("--think", type=int, default=16, help="reasoning words in each final turn")
    parser.add_argument("--latency", action="append", default=[],
                        help="tool latency range 'LOW,HIGH' in ms (repeatable; default 50,500 then 0,0)")
    parser.add_argument("--tool-workers", type=int, default=16, help="vlmr's tool pool size")
    parser.add_argument("--patience", type=float, default=RolloutOptions.batch_patience,
                        help="vlmr's batch_patience (see vlmr.train.async_rollout.RolloutOptions)")
    parser.add_argument("--work-dir", type=Path, help="model and trainer outputs (default: a temp dir)")
    args = parser.parse_args()
    if args.pairs < 2:
        parser.error(f"--pairs {args.pairs}: the ratios' quartiles need at least 2 pairs")
    torch.set_num_threads(1)

    from transformers.utils import logging as hf_logging

    from vlmr.tiny_model import build_tiny_model

    hf_logging.set_verbosity_error()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="vlmr-bench-rollouts-"))
    model_dir = build_tiny_model(work / "model", size=args.size, seed=0, overwrite=True,
                                 min_pixels=SIZE * SIZE, max_pixels=SIZE * SIZE)
    rows = prompt_rows(len(TOOL_TURNS))
    print(f"tiny model '{args.size}', {len(rows)} prompts x 2 = {2 * len(rows)} trajectories, tool turns per prompt "
          f"{list(TOOL_TURNS)}, {args.think} reasoning words per answer, greedy; {args.pairs} pairs after "
          f"{args.warmup} warm-up, order alternating; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for spec in args.latency or ["50,500", "0,0"]:
        low, high = (float(x) for x in spec.split(","))
        environment = delayed_environment(log_uniform(low, high))
        trainer, processor = build_trainer(model_dir, environment, work / f"trainer-{spec}", rows)
        scripted(trainer.model, processor.tokenizer, bench_plan(processor.tokenizer, args.think))
        loops = Loops(trainer, RolloutOptions(tool_workers=args.tool_workers, batch_patience=args.patience))
        wall, cpu, same, calls = compare(loops, batch_inputs(rows), args.pairs, args.warmup)
        print(f"tools {low:g}-{high:g} ms: identical rollouts in {same} of {args.pairs} pairs; generation calls "
              f"per rollout trl {calls['trl']:g}, vlmr {calls['vlmr']:g}; load average now {os.getloadavg()[0]:.2f}")
        for clock, r in (("wall", wall), ("cpu", cpu)):
            print(f"  {clock:>4}: rollout median trl {r['trl_s']:.3f} s, vlmr {r['vlmr_s']:.3f} s; paired ratio "
                  f"vlmr/trl median {r['median']:.3f} (IQR {r['iqr'][0]:.3f}-{r['iqr'][1]:.3f}, 95% CI of median "
                  f"{r['ci'][0]:.3f}-{r['ci'][1]:.3f}, {r['pairs']} pairs)")


if __name__ == "__main__":
    main()
