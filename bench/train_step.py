"""vlmr's GRPO step vs a bare trl ``GRPOTrainer`` step: same tiny model, data, reward, settings.

    .venv/bin/python bench/train_step.py [--size nano] [--steps 60] [--batch 8]
    .venv/bin/python bench/train_step.py --profile prof/   # + cProfile of each side (slower)

Both trainers are built once (not timed), then trained *in turns*, one optimizer step at a
time (order trl, vlmr, vlmr, trl, trl, ...): each runs ``train()`` in its own thread and
hands the turn over at the end of every step, so a change in machine load hits both sides
of a pair alike. A step is timed from the end of the previous one (data loading, generation,
rewards, loss, logging and callbacks included). Each trainer keeps its own RNG stream
across turns and completions have a fixed length, so the two sides do the same work step
for step. The result is the median and the interquartile range of the paired ratios
``vlmr step i / trl step i`` (wall and CPU time), with a distribution-free 95% interval of
the median; the target is a median <= 1.05. CPU time is the figure to read on a shared
machine; on a quiet one wall and CPU time agree. trl's own log lines go to
``train_step.log`` in the work dir, not the terminal.

The process runs with one torch thread and one malloc heap that keeps freed memory
(:data:`ENVIRONMENT`; the script re-executes itself with these set). Without them each
trainer thread gets its own glibc arena whose state drifts apart: page faults per step
differed by 70% between the two sides and moved the CPU-time ratio by +-5% from run to run.

The bare trainer gets vlmr's rows in vlmr's order, trl's defaults and only what the data
needs to run at all (extra reward columns kept, vision placeholders never sampled), so
anything vlmr adds, including its choice of defaults, counts as vlmr's overhead. The data
(image rows only, no tools) needs none of :mod:`vlmr.trl_compat`'s patches, so neither side
runs one (the tool-loop patch is process-wide and would reach the bare trainer too).

Figures for the README: on a quiet machine, ``for i in 1 2 3; do .venv/bin/python bench/train_step.py; done``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import math
import os
import pstats
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from transformers import TrainerCallback

SEED = 42
REPO = Path(__file__).resolve().parents[1]
VLMR_CODE = tuple(str(REPO / folder) for folder in ("vlmr", "rewards", "tools", "data_pipelines", "eval"))
# One torch thread; one malloc arena for both trainer threads, which keeps freed memory (no page faults
# from returning and re-touching it every step). glibc reads these at start-up, hence the re-exec in main().
ENVIRONMENT = {"OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": str(32 * 2**20),
               "MALLOC_TRIM_THRESHOLD_": str(2**30)}


class Turns:
    """Lets named threads run one at a time, in a fixed repeating order, until each is done."""

    def __init__(self, order: list[str]):
        self.order = order
        self.position = -1
        self.turn: str | None = None  # nobody runs until start()
        self.done: set[str] = set()
        self.condition = threading.Condition()

    def wait(self, name: str) -> None:
        with self.condition:
            self.condition.wait_for(lambda: self.turn == name)

    def pass_on(self, finished: str | None = None) -> None:
        """Give the turn to the next thread in the order that is not done."""
        with self.condition:
            if finished:
                self.done.add(finished)
            self.turn = None
            if len(self.done) < len(set(self.order)):
                while self.turn is None or self.turn in self.done:
                    self.position += 1
                    self.turn = self.order[self.position % len(self.order)]
            self.condition.notify_all()


class TurnTimer(TrainerCallback):
    """Waits for its turn before training and after every step; records each step's wall and CPU time.

    Keeps the trainer's own RNG state across turns; with ``profile`` it profiles only its own steps.
    """

    def __init__(self, name: str, turns: Turns, ready: threading.Barrier, profile: bool = False):
        self.name, self.turns, self.ready = name, turns, ready
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.profiler = cProfile.Profile(time.process_time) if profile else None  # CPU time: steadier when shared
        self._rng = None
        self._start = (0.0, 0.0)

    def _resume(self) -> None:
        self.turns.wait(self.name)
        if self._rng is None:  # first turn: the same seed on both sides
            torch.manual_seed(SEED), random.seed(SEED), np.random.seed(SEED)
        else:
            torch.set_rng_state(self._rng[0]), random.setstate(self._rng[1]), np.random.set_state(self._rng[2])
        if self.profiler:
            self.profiler.enable()
        self._start = (time.perf_counter(), time.process_time())

    def _pause(self) -> None:
        if self.profiler:
            self.profiler.disable()
        self._rng = (torch.get_rng_state(), random.getstate(), np.random.get_state())

    def on_train_begin(self, args, state, control, **kwargs):
        self.ready.wait()  # both trainers set up, nobody has stepped yet
        self._resume()

    def on_step_end(self, args, state, control, **kwargs):
        wall, cpu = time.perf_counter() - self._start[0], time.process_time() - self._start[1]
        self._pause()
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.turns.pass_on()
        self._resume()

    def on_train_end(self, args, state, control, **kwargs):
        self._pause()


def make_data(out: Path, n: int) -> Path:
    """A grounding dataset of ``n`` synthetic 112x112 shape scenes."""
    from vlmr.data_pipelines.shapes import make_scene
    from vlmr.schema import DatasetWriter, Sample

    with DatasetWriter(out, overwrite=True) as w:
        for i in range(n):
            scene = make_scene(i, width=112, height=112, n_objects=3)
            path, rel = w.media_path(f"{i}.png")
            scene.image.save(path)
            obj = scene.objects[0]
            w.add(Sample(id=str(i), task="grounding", question=f"Find the {obj.label}.", images=[rel],
                         answer={"boxes": [obj.box]}, meta={"width": 112, "height": 112}))
    return out


def trainer_settings(steps: int, batch: int, length: int) -> dict:
    """Settings both trainers get; every completion is exactly ``length`` tokens (same work per step)."""
    return {"use_cpu": True, "report_to": [], "gradient_checkpointing": False, "max_steps": steps,
            "per_device_train_batch_size": batch, "num_generations": 4, "max_completion_length": length,
            "generation_kwargs": {"min_new_tokens": length}, "learning_rate": 1e-5, "save_strategy": "no",
            "logging_steps": 1, "disable_tqdm": True, "dataloader_num_workers": 0}


def vlmr_trainer(model_dir: Path, data: Path, out: Path, settings: dict):
    from vlmr.config import TrainConfig
    from vlmr.train.grpo import build_grpo_trainer

    cfg = TrainConfig.from_dict({"model": str(model_dir), "output_dir": str(out), "datasets": [{"path": str(data)}],
                                 "rewards": [{"name": "iou"}], "trainer": settings, "seed": SEED})
    trainer, _, _ = build_grpo_trainer(cfg)
    return trainer


def bare_trl_trainer(model_dir: Path, data: Path, out: Path, settings: dict):
    """Plain trl: the rows vlmr trains on (built before timing), the same reward function and settings."""
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig, GRPOTrainer

    from vlmr.config import TrainConfig
    from vlmr.dataset import to_hf_dataset
    from vlmr.models import vision_placeholder_token_ids
    from vlmr.rewards import get_reward
    from vlmr.train.data import mix, prompt_rows

    cfg = TrainConfig.from_dict({"model": str(model_dir), "output_dir": str(out), "datasets": [{"path": str(data)}],
                                 "seed": SEED})
    dataset = to_hf_dataset(mix(cfg, lambda spec: prompt_rows(cfg, spec.path, "qwen2_5_vl")))  # vlmr's rows, order
    model = AutoModelForImageTextToText.from_pretrained(str(model_dir), dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(str(model_dir))
    suppress = vision_placeholder_token_ids(processor, model.config)  # a random model samples them otherwise
    generation = {**settings["generation_kwargs"], "suppress_tokens": suppress}
    args = GRPOConfig(output_dir=str(out), seed=SEED, remove_unused_columns=False,  # reward columns
                      **{**settings, "generation_kwargs": generation})
    return GRPOTrainer(model=model, reward_funcs=[get_reward("iou")], args=args, train_dataset=dataset,
                       processing_class=processor)


@contextlib.contextmanager
def output_to(path: Path):
    """Send everything written to stdout/stderr (Python and C level, e.g. trl's log lines) to ``path``."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "a") as log:
        os.dup2(log.fileno(), 1), os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])


def train_in_turns(trainers: dict, profile: bool) -> dict[str, TurnTimer]:
    """Train each trainer in its own thread, one step at a time in turns; their timers."""
    names = list(trainers)
    turns = Turns([names[0], names[1], names[1], names[0]])  # ABBA: neither side always goes first
    ready = threading.Barrier(len(names) + 1)
    timers = {name: TurnTimer(name, turns, ready, profile) for name in names}
    errors: list[BaseException] = []

    def run(name):
        try:
            trainers[name].train()
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            errors.append(e)
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.abort()
        finally:
            turns.pass_on(finished=name)

    for name, trainer in trainers.items():
        trainer.add_callback(timers[name])
    threads = [threading.Thread(target=run, args=(name,), name=name) for name in names]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    turns.pass_on()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return timers


def median_interval(values: list[float]) -> tuple[float, float]:
    """Distribution-free 95% interval of the median: order statistics n/2 -+ 0.98 sqrt(n)."""
    ordered, n = sorted(values), len(values)
    half = 0.98 * math.sqrt(n)
    return ordered[max(0, math.floor(n / 2 - half))], ordered[min(n - 1, math.ceil(n / 2 + half))]


def summary(timers: dict[str, TurnTimer], warmup: int) -> list[str]:
    """Lines reporting per-step medians and the paired ratios vlmr / trl, wall and CPU time."""
    lines = []
    for clock in ("wall", "cpu"):
        trl_s, vlmr_s = (getattr(timers[k], clock)[warmup:] for k in ("trl", "vlmr"))
        ratios = [v / t for v, t in zip(vlmr_s, trl_s, strict=False)]
        q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
        low, high = median_interval(ratios)
        lines.append(f"{clock:>4}: step median bare trl {statistics.median(trl_s) * 1000:7.1f} ms, vlmr "
                     f"{statistics.median(vlmr_s) * 1000:7.1f} ms; paired ratio vlmr/trl median {median:.3f} "
                     f"(IQR {q1:.3f}-{q3:.3f}, 95% CI of median {low:.3f}-{high:.3f}, {len(ratios)} pairs)")
    return lines


def same_rollouts(trainers: dict) -> tuple[int, int]:
    """``(equal, total)``: steps whose logged completion entropy and reward agree between the trainers."""
    logs = [[(log["entropy"], log["reward"]) for log in t.state.log_history if "entropy" in log]
            for t in trainers.values()]
    return sum(a == b for a, b in zip(*logs, strict=True)), len(logs[0])


def top_entries(profiler: cProfile.Profile, n: int) -> str:
    """The ``n`` functions with the most own time in a profile."""
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(n)
    return text.getvalue()


def share_in(profiler: cProfile.Profile, folders: tuple[str, ...]) -> tuple[float, float]:
    """``(seconds, fraction)`` of a profile's own time spent in functions of files under ``folders``."""
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values())
    inside = sum(entry[2] for (filename, *_), entry in stats.items() if filename.startswith(folders))
    return inside, inside / total


def main() -> None:
    if any(key not in os.environ for key in ENVIRONMENT):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**ENVIRONMENT, **os.environ})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="nano", help="tiny-model preset (nano, tiny, small)")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per trainer")
    parser.add_argument("--warmup", type=int, default=2, help="first steps left out of the figures")
    parser.add_argument("--batch", type=int, default=8, help="completions per step")
    parser.add_argument("--length", type=int, default=32, help="tokens per completion")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of each side here (slows both)")
    parser.add_argument("--work-dir", type=Path, help="model, data, outputs and train_step.log (default: a temp dir)")
    args = parser.parse_args()
    if args.steps <= args.warmup + 3:
        parser.error(f"--steps {args.steps} leaves too few timed steps after --warmup {args.warmup}")

    from vlmr.tiny_model import build_tiny_model

    tmp = args.work_dir or Path(tempfile.mkdtemp(prefix="vlmr-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "train_step.log"
    settings = trainer_settings(args.steps, args.batch, args.length)
    with output_to(log):
        model_dir = build_tiny_model(tmp / "model", size=args.size, seed=0, overwrite=True)
        data = make_data(tmp / "data", 16)
        trainers = {"trl": bare_trl_trainer(model_dir, data, tmp / "trl", settings),
                    "vlmr": vlmr_trainer(model_dir, data, tmp / "vlmr", settings)}
        timers = train_in_turns(trainers, profile=args.profile is not None)
    print(f"tiny model '{args.size}', {args.batch} completions x {args.length} tokens per step, "
          f"{args.steps} steps each in turns ({args.warmup} warm-up); "
          f"load average {os.getloadavg()[0]:.2f}; "
          f"trl log: {log}")
    for line in summary(timers, args.warmup):
        print(line)
    print("steps with the same rollouts on both sides (entropy and reward): {} of {}".format(*same_rollouts(trainers)))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        for name, timer in timers.items():
            timer.profiler.dump_stats(args.profile / f"{name}.prof")
            seconds, fraction = share_in(timer.profiler, VLMR_CODE)
            print(f"--- {name}: top entries by own CPU time ({args.profile / f'{name}.prof'}); in vlmr's code "
                  f"(rewards included, both sides use them): {1000 * seconds / len(timer.cpu):.1f} ms per step, "
                  f"{100 * fraction:.2f}%")
            print(top_entries(timer.profiler, 15))


if __name__ == "__main__":
    main()
