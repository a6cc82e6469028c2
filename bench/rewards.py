"""Throughput of every registered reward on a batch of 1024 completions (completions/s).

    python bench/rewards.py [--n 1024] [--repeats 3]

Completions are realistic for each reward's task (boxes on a 640x480 image in Qwen2.5-VL's
resized frame, masks as RLE, MCQ letters, math answers, tool-call trajectories, ...), with
8 generations per prompt as in a GRPO group.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from vlmr.formats import CoordinateSpace
from vlmr.masks import mask_to_rle
from vlmr.rewards import get_reward, list_rewards

W, H = 640, 480
SPACE = CoordinateSpace.for_image(W, H, family="qwen2_5_vl")
COORD = SPACE.to_dict()
GROUP = 8  # generations per prompt


def _box(rng: random.Random) -> list[float]:
    x1, y1 = rng.uniform(0, W - 100), rng.uniform(0, H - 100)
    return [
        round(x1, 1),
        round(y1, 1),
        round(x1 + rng.uniform(20, 100), 1),
        round(y1 + rng.uniform(20, 100), 1),
    ]


def _think(rng: random.Random) -> str:
    return "<think>" + " ".join(
        rng.choice(["the", "dog", "is", "left", "of", "a", "red", "car"]) for _ in range(80)
    )


def _mask(box: list[float]) -> dict:
    m = np.zeros((H, W), np.uint8)
    m[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])] = 1
    return mask_to_rle(m)


def make_batch(name: str, n: int, seed: int = 0) -> tuple[list[str], dict]:
    """``n`` completions and the trl columns for reward ``name``."""
    rng = random.Random(seed)
    completions, answers = [], []
    for _ in range(n // GROUP):
        gt = _box(rng)
        answer = {"boxes": [gt], "masks": [_mask(gt)] if name in ("mask_iou", "point_in_mask") else None,
                  "choice": "B", "count": 7, "span": [2.5, 7.0], "text": "\\frac{1}{2}" if name == "accuracy" else "45",
                  "number": None}  # fmt: skip
        for g in range(GROUP):
            jitter = [v + rng.uniform(-15, 15) for v in gt]
            pred = SPACE.from_pixels(jitter)
            payload = {
                "count": str(rng.choice([6, 7, 8, "seven"])),
                "temporal_iou": f"from {rng.uniform(0, 3):.1f}s to {rng.uniform(6, 9):.1f}s",
                "chart_relaxed": f"{rng.uniform(40, 50):.1f}",
                "accuracy": rng.choice(["$\\frac{1}{2}$", "0.5", "\\frac{2}{3}"]),
                "point_in_box": f'{{"point_2d": [{(pred[0] + pred[2]) / 2:.1f}, {(pred[1] + pred[3]) / 2:.1f}]}}',
                "point_in_mask": f'{{"point_2d": [{(pred[0] + pred[2]) / 2:.1f}, {(pred[1] + pred[3]) / 2:.1f}]}}',
                "box_points": f'{{"bbox_2d": {[round(v, 1) for v in pred]}, "point_2d": [{pred[0] + 5:.1f}, {pred[1] + 5:.1f}]}}',
            }.get(name, f'[{{"bbox_2d": {[round(v, 1) for v in pred]}, "label": "dog"}}]')
            tool = (
                '<tool_call>{"name": "crop", "arguments": {}}</tool_call><think>zoomed</think>'
                if g % 2
                else ""
            )
            completions.append(f"{_think(rng)}</think>{tool}<answer>{payload}</answer>")
            answers.append(answer)
    columns = {
        "answer": answers,
        "task": ["math" if name == "accuracy" else "grounding"] * len(completions),
        "meta": [{"width": W, "height": H}] * len(completions),
        "coord": [COORD] * len(completions),
        "completion_ids": [[0] * (len(c) // 4) for c in completions],
    }
    return completions, columns


PARAMS = {"tool_use": {"correct_reward": "iou", "correct_threshold": 0.5}, "format": {"allow_tools": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="completions per batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per reward (best is reported)")
    args = parser.parse_args()
    print(
        f"{'reward':<15} {'completions/s':>14} {'ms/batch':>10}  (batch of {args.n}, best of {args.repeats})"
    )
    for name in list_rewards():
        reward = get_reward(name, **PARAMS.get(name, {}))
        completions, columns = make_batch(name, args.n)
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            scores = reward(completions, **columns)
            best = min(best, time.perf_counter() - start)
        assert len(scores) == len(completions)
        print(f"{name:<15} {len(completions) / best:>14,.0f} {best * 1000:>10.1f}")


if __name__ == "__main__":
    main()
