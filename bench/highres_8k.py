"""8K images through ``vlmr eval run``: time per sample and peak memory, with and without zoom_in.

Writes an HR-Bench-8K-shaped TSV (``--n`` JPEG images of 7680x4320, base64, as ``hr_bench_8k.tsv``)
and runs the ``hrbench8k`` benchmark on the offline tiny model (or ``--model``) in a fresh process per
setting, so each peak RSS is that setting's own:

* ``no tools``: one turn per sample;
* ``zoom_in``: the model's first turn is replaced by a zoom on the centre quarter (a random tiny model
  never calls a tool by itself), then it answers: two turns, one crop from the decoded original;
* ``zoom_in, resize per turn``: the same, with the backend's one-time resize
  (``TransformersBackend.model_view``) switched off, so the processor resizes the 8K original at
  every turn (what vlmr did before).

::

    python bench/highres_8k.py                    # tiny model, 4 images, image budget of the model
    python bench/highres_8k.py --n 8 --max-pixels 12845056 --model DIR
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

SETTINGS = {
    "no tools": {"tools": [], "zoom": False, "resize_once": True},
    "zoom_in": {"tools": ["zoom_in"], "zoom": True, "resize_once": True},
    "zoom_in, resize per turn": {"tools": ["zoom_in"], "zoom": True, "resize_once": False},
}


def write_tsv(path: Path, n: int, size: tuple[int, int] = (7680, 4320)) -> Path:
    """``n`` rows of HR-Bench's columns, each with its own 8K JPEG (gradients and small marks)."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // width), (y * 255 // height), ((x + y) * 127 // (width + height))], -1).astype(np.uint8)
    lines = ["index\tquestion\tA\tB\tC\tD\tanswer\tcategory\timage\tcycle_category"]
    for i in range(n):
        image = Image.fromarray(np.roll(base, shift=int(rng.integers(0, width)), axis=1))
        draw = ImageDraw.Draw(image)
        for _ in range(200):  # small details, as the questions ask about
            cx, cy = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
            draw.rectangle([cx, cy, cx + 30, cy + 30], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        b64 = base64.b64encode(buffer.getvalue()).decode()
        lines.append(f"{i}\tWhat colour is the small square near the centre?\tred\tgreen\tblue\twhite\tA\tsingle\t{b64}"
                     f"\tcycle1")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class ZoomFirst:
    """Wraps a backend: its first turn of each conversation is generated, then replaced by a zoom on the
    centre quarter of the image, so every sample makes one tool call and a second turn."""

    def __init__(self, backend):
        self.backend = backend
        self.family = backend.family

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def generate(self, conversations):
        out = self.backend.generate(conversations)
        for i, (messages, _) in enumerate(conversations):
            if not any(m["role"] == "assistant" for m in messages):
                w, h = next(p["image"].size for p in messages[-1]["content"] if p.get("type") == "image")
                call = {"name": "zoom_in", "arguments": {"bbox_2d": [w // 4, h // 4, 3 * w // 4, 3 * h // 4]}}
                out[i] = replace(out[i], text=f"<think>closer</think><tool_call>{json.dumps(call)}</tool_call>",
                                 tool_calls=None)
        return out


def peak_rss_mib() -> float:
    """This process's peak resident memory (``VmHWM``: unlike ``ru_maxrss`` it does not carry over the
    parent's peak through fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: an upper bound


def child(args: argparse.Namespace) -> None:
    """One setting in this process: run the eval, print a JSON line of figures."""
    import torch

    from vlmr.eval.registry import get_benchmark
    from vlmr.eval.runner import EvalConfig, make_backend, make_context, run_eval
    from vlmr.inference.backends import TransformersBackend

    torch.set_num_threads(args.threads)
    setting = SETTINGS[args.child]
    if not setting["resize_once"]:  # the processor then resizes the original at every turn
        TransformersBackend.model_view = lambda self, image: image
    cfg = EvalConfig(benchmark="hrbench8k", data=args.data, out=args.out, model=args.model, batch_size=1,
                     tools=setting["tools"], max_turns=3, max_new_tokens=args.max_new_tokens,
                     max_pixels=args.max_pixels, report=False)
    backend = make_backend(cfg, make_context(get_benchmark("hrbench8k"), cfg))
    if setting["zoom"]:
        backend = ZoomFirst(backend)
    start = time.perf_counter()
    scores = run_eval(cfg, backend=backend)
    wall = time.perf_counter() - start
    info = json.loads((Path(args.out) / "run_info.rank0.json").read_text())
    print(json.dumps({"setting": args.child, "n": scores["n"], "seconds_per_sample": info["seconds"] / scores["n"],
                      "wall_seconds": wall, "peak_rss_mb": peak_rss_mib(),
                      "tool_call_rate": (scores["tool_use"] or {}).get("rate")}))


def main() -> None:
    """Build the data and the model once, run each setting in its own process, print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="checkpoint dir (default: build the tiny model)")
    parser.add_argument("--n", type=int, default=4, help="8K images (one question each)")
    parser.add_argument("--max-pixels", type=int, default=None, help="image budget (default: the model's)")
    parser.add_argument("--max-new-tokens", type=int, default=16, help="generation limit per turn")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--child", choices=tuple(SETTINGS), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.model
        if model is None:
            from vlmr.tiny_model import build_tiny_model

            model = str(build_tiny_model(tmp / "tiny", size="tiny"))
        start = time.perf_counter()
        data = write_tsv(tmp / "hr_bench_8k.tsv", args.n)
        print(f"wrote {args.n} 7680x4320 JPEGs as base64 TSV ({data.stat().st_size / 2**20:.1f} MiB) in "
              f"{time.perf_counter() - start:.1f}s; model {model}; max_pixels {args.max_pixels or 'model default'}; "
              f"{args.threads} torch thread(s)")
        print(f"{'setting':<26} {'s/sample':>9} {'peak RSS MiB':>13} {'tool calls':>11}")
        for name in SETTINGS:
            cmd = [sys.executable, __file__, "--child", name, "--data", str(data), "--out", str(tmp / name),
                   "--model", model, "--max-new-tokens", str(args.max_new_tokens), "--threads", str(args.threads),
                   *(["--max-pixels", str(args.max_pixels)] if args.max_pixels else [])]
            env_cache = {"VLMR_MEDIA_CACHE": str(tmp / "media")}
            result = subprocess.run(cmd, capture_output=True, text=True, env={**_environ(), **env_cache}, check=True)
            row = json.loads(result.stdout.strip().splitlines()[-1])
            print(f"{name:<26} {row['seconds_per_sample']:>9.2f} {row['peak_rss_mb']:>13.0f} "
                  f"{row['tool_call_rate']:>11.2f}")


def _environ() -> dict[str, str]:
    import os

    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


if __name__ == "__main__":
    main()
