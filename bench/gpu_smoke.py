r"""A real-size GRPO smoke run: Qwen2.5-VL-3B's shapes with random weights, 3 steps without tools, 3 with (twice).

    python bench/gpu_smoke.py                       # on a GPU: the 3B shapes, bf16 (under 8 minutes on one H200)
    python bench/gpu_smoke.py --size small --cpu    # anywhere: the tiny 'small' preset, float32 (its own test)

The model is built from the values of Qwen2.5-VL-3B-Instruct's published ``config.json``
(:data:`QWEN2_5_VL_3B`) with random weights and vlmr's tiny tokenizer, saved, and trained
through vlmr's own GRPO path (``build_grpo_trainer``) on synthetic grounding scenes: once
without tools, twice with ``zoom_in`` (a random model never writes a tool call, so the first
turn of every rollout is a scripted ``zoom_in`` call; the rest is generated): with vlmr's
per-trajectory rollout (``rollout.loop: async``, :mod:`vlmr.train.async_rollout`) and with
trl's own tool loop (``rollout.loop: trl``), so the two step times compare the loops on a
real-size model with a tool that costs next to nothing (the async loop's overhead). For each run it
prints the time per optimizer step, generated tokens per second (real generation only) and
peak memory (GPU: ``torch.cuda.max_memory_allocated``; CPU: the process's peak RSS) beside the
start-up memory estimate vlmr logs (``vlmr.train.model.size_report``), and with ``--out`` writes
them as JSON.

Not yet run on a GPU: no session so far had one. A session that has one runs it in one call.
The GPU machine has torch and transformers but not trl, datasets or pycocotools, and vlmr is
not installed there, so these travel as wheels (~58 MB with pyarrow, which datasets 5.2 needs
at >= 24; under the 64 MiB a call carries). Here, in the repository root, first::

    echo /.whl/ >> "$(git rev-parse --git-path info/exclude)"
    python3 -m pip wheel --no-deps --no-build-isolation -w .whl . && rm -rf build
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
      trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 pyarrow==26.0.1 pycocotools==2.0.11

then the device tool's ``run`` with ``carry: [".whl"]``, ``timeout_s: 540`` and the command::

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
      && PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 bench/gpu_smoke.py --out $OUT/gpu_smoke.json

The machine's transformers (5.17 when last listed) is older than the tested 5.24; if trl
fails against it, add ``transformers==5.24.0`` to the download (its wheel is ~12 MB: drop
pyarrow if ``python3 -c "import pyarrow; print(pyarrow.__version__)"`` there says >= 24).
Its figures then go into the README's "Speed" section.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch
from transformers import PrinterCallback, TrainerCallback

# Qwen/Qwen2.5-VL-3B-Instruct config.json (https://huggingface.co/Qwen/Qwen2.5-VL-3B-Instruct/blob/main/config.json),
# as copied verbatim in re-uploads of it, e.g. https://huggingface.co/dahwinsingularity/vllm2/blob/main/config.json
# ("_name_or_path": "Qwen/Qwen2.5-VL-3B-Instruct") and https://huggingface.co/zyoNoob/Qwen2.5-VL-3B-Instruct-AWQ:
#   "hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36, "num_attention_heads": 16,
#   "num_key_value_heads": 2, "max_position_embeddings": 128000, "max_window_layers": 70, "rms_norm_eps": 1e-06,
#   "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
#   "tie_word_embeddings": true, "vocab_size": 151936,
#   "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420,
#     "num_heads": 16, "out_hidden_size": 2048, "patch_size": 14, "spatial_merge_size": 2, "window_size": 112,
#     "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2, "temporal_patch_size": 2}
QWEN2_5_VL_3B = {
    "text": {"hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36, "num_attention_heads": 16,
             "num_key_value_heads": 2, "max_position_embeddings": 128000, "max_window_layers": 70,
             "rms_norm_eps": 1e-06, "vocab_size": 151936,
             "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]}},
    "vision": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
               "out_hidden_size": 2048, "patch_size": 14, "spatial_merge_size": 2, "window_size": 112,
               "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2, "temporal_patch_size": 2},
}

# Per size: image side (px), completions per step, generations per prompt, completion length (tokens).
# The length leaves room after the scripted tool call (~35 tokens) for its result: the zoomed image (256 tokens
# on '3b', 4 on 'small') and ~90 tokens of text with the tiny tokenizer.
RUNS = {"3b": {"image": 448, "batch": 8, "generations": 4, "length": 512},
        "small": {"image": 56, "batch": 2, "generations": 2, "length": 160}}
STEPS = 3
TOKENIZER_PRESET = "small"  # vlmr's tiny tokenizer (2048 BPE tokens + specials)


def qwen2_5_vl_3b_config(tiny_config):
    """A ``Qwen2_5_VLConfig`` with Qwen2.5-VL-3B's sizes and ``tiny_config``'s special-token ids."""
    from transformers import Qwen2_5_VLConfig

    config = tiny_config.to_dict()
    config["text_config"].pop("layer_types", None)  # one per layer: derived again for 36 layers
    config["text_config"].update(QWEN2_5_VL_3B["text"])
    config["vision_config"].update(QWEN2_5_VL_3B["vision"])
    return Qwen2_5_VLConfig(**config)


def build_model(out: Path, size: str, device: str) -> Path:
    """Save a random model of ``size`` ('3b': Qwen2.5-VL-3B's shapes; 'small': the tiny preset) with the tiny
    tokenizer and a processor that keeps the bench's images at full size."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    from vlmr.models import set_pixel_limits
    from vlmr.tiny_model import create_tiny_model

    tiny, processor = create_tiny_model(TOKENIZER_PRESET)
    side = RUNS[size]["image"]
    set_pixel_limits(processor, min_pixels=28 * 28 * 4, max_pixels=side * side)
    model = tiny
    if size == "3b":
        with torch.device(device):  # initialised where it trains: no 15 GB float32 copy on the host
            model = Qwen2_5_VLForConditionalGeneration._from_config(qwen2_5_vl_3b_config(tiny.config),
                                                                   dtype=torch.bfloat16)
        model.generation_config = tiny.generation_config
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


class Timings(TrainerCallback):
    """Wall time of each optimizer step, and of each real generation call with its generated tokens."""

    def __init__(self, model, processor, script: str | None):
        self.steps: list[float] = []
        self.generate_seconds = 0.0
        self.generated_tokens = 0
        self._start = 0.0
        self._wrap_generate(model, processor.tokenizer, script)

    def _wrap_generate(self, model, tokenizer, script: str | None) -> None:
        """Time ``model.generate``; with ``script``, every first turn is that text instead of a generation."""
        original = model.generate
        tool_response = tokenizer.convert_tokens_to_ids("<tool_response>")
        scripted = torch.tensor(tokenizer.encode(script, add_special_tokens=False)) if script else None

        def generate(input_ids=None, **kwargs):
            if scripted is not None and not (input_ids == tool_response).any():  # a first turn
                return torch.cat([input_ids, scripted.to(input_ids.device).expand(input_ids.size(0), -1)], dim=1)
            synchronize()
            start = time.perf_counter()
            output = original(input_ids=input_ids, **kwargs)
            synchronize()
            self.generate_seconds += time.perf_counter() - start
            self.generated_tokens += int((output[:, input_ids.size(1):] != tokenizer.pad_token_id).sum())
            return output

        model.generate = generate

    def on_step_begin(self, args, state, control, **kwargs):
        synchronize()
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        synchronize()
        self.steps.append(time.perf_counter() - self._start)


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class EstimateLine(logging.Handler):
    """Keeps the memory estimate vlmr logs when it builds a trainer."""

    def __init__(self):
        super().__init__()
        self.gib: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        found = re.search(r"estimated training memory ~([\d.]+) GiB", record.getMessage())
        if found:
            self.gib = float(found.group(1))


def run(name: str, model_dir: Path, data: Path, out: Path, size: str, device: str, tools: bool,
        loop: str = "async") -> dict:
    """Train ``STEPS`` GRPO steps through vlmr (tool rollouts by ``loop``: async or trl); the run's figures."""
    from transformers import AutoTokenizer

    from vlmr.config import TrainConfig
    from vlmr.train.grpo import build_grpo_trainer

    shape = RUNS[size]
    cuda = device == "cuda"
    vocab = json.loads((model_dir / "config.json").read_text())["text_config"]["vocab_size"]
    tokenizer_size = len(AutoTokenizer.from_pretrained(model_dir))
    trainer_settings = {
        "use_cpu": not cuda, "bf16": cuda, "report_to": [], "save_strategy": "no", "logging_steps": 1,
        "disable_tqdm": True, "max_steps": STEPS, "per_device_train_batch_size": shape["batch"],
        "num_generations": shape["generations"], "max_completion_length": shape["length"], "learning_rate": 1e-6,
        # the published vocabulary is larger than the tiny tokenizer: never sample ids it cannot decode
        "generation_kwargs": {"suppress_tokens": list(range(tokenizer_size, vocab))},
    }
    cfg = TrainConfig.from_dict({
        "model": str(model_dir), "output_dir": str(out / name), "datasets": [{"path": str(data)}],
        "dtype": "bfloat16" if cuda else "float32", "rewards": [{"name": "iou"}, {"name": "format"}],
        "tools": {"grounding": ["zoom_in"]} if tools else {}, "max_tool_calls": 1, "trainer": trainer_settings,
        "rollout": {"loop": loop},
    })
    estimate, logger = EstimateLine(), logging.getLogger("vlmr.train.grpo")
    level = logger.level
    logger.addHandler(estimate)
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        trainer, processor, _ = build_grpo_trainer(cfg)
    finally:
        logger.removeHandler(estimate)
        logger.setLevel(level)
    build_seconds = time.perf_counter() - started
    half = shape["image"] // 2  # the zoom region: the image's top-left quarter, in the model's pixel frame
    script = (f'<tool_call>\n{{"name": "zoom_in", "arguments": {{"bbox_2d": [0, 0, {half}, {half}]}}}}\n'
              "</tool_call><|im_end|>") if tools else None
    timings = Timings(trainer.model, processor, script)
    trainer.add_callback(timings)
    trainer.remove_callback(PrinterCallback)  # the figures are printed at the end
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    tool_rate = [log["tools/call_frequency"] for log in trainer.state.log_history if "tools/call_frequency" in log]
    return {
        "run": name, "rollout_loop": loop if tools else None, "steps": len(timings.steps), "build_seconds": round(build_seconds, 1),
        "step_seconds": [round(s, 3) for s in timings.steps],
        "step_seconds_median": round(statistics.median(timings.steps), 3),
        "generated_tokens": timings.generated_tokens,
        "generated_tokens_per_second": round(timings.generated_tokens / max(timings.generate_seconds, 1e-9), 1),
        "tool_calls_per_rollout": round(statistics.mean(tool_rate), 3) if tool_rate else 0.0,
        "peak_memory_gib": round(peak, 2), "peak_memory_kind": "GPU allocated" if cuda else "process RSS",
        "estimate_gib": estimate.gib,
        "parameters_billion": round(sum(p.numel() for p in trainer.model.parameters()) / 1e9, 3),
    }


def smoke(size: str, work: Path, device: str) -> list[dict]:
    """Build the model and data in ``work``, run without tools and with them on each loop; the runs' figures."""
    from vlmr.data_pipelines.build import build_dataset

    side = RUNS[size]["image"]
    model_dir = build_model(work / "model", size, device)
    data = build_dataset("shapes", work / "data", limit=16, tasks="grounding", width=side, height=side, cot=False,
                         overwrite=True, progress=False)
    return [run(name, model_dir, data, work, size, device, tools, loop) for name, tools, loop in
            (("without tools", False, "async"), ("with zoom_in", True, "async"),
             ("zoom_in, trl loop", True, "trl"))]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(RUNS), default="3b")
    parser.add_argument("--cpu", action="store_true", help="run on the CPU even if a GPU is there")
    parser.add_argument("--work-dir", type=Path, help="model, data and outputs (default: a temp dir)")
    parser.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    if args.size == "3b" and device == "cpu":
        parser.error("--size 3b needs a GPU (vlmr estimates ~45 GiB for it); on a CPU use --size small")
    started = time.perf_counter()
    results = smoke(args.size, args.work_dir or Path(tempfile.mkdtemp(prefix="vlmr-gpu-smoke-")), device)
    gpu = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"{args.size} model, {gpu}, {STEPS} GRPO steps per run, {time.perf_counter() - started:.0f} s in all")
    for r in results:
        print(f"{r['run']:>17}: {r['parameters_billion']:.3f}B parameters; step {r['step_seconds_median']:.2f} s "
              f"(median of {r['step_seconds']}); {r['generated_tokens_per_second']:.0f} generated tokens/s; "
              f"{r['tool_calls_per_rollout']} tool calls per rollout; peak {r['peak_memory_kind']} {r['peak_memory_gib']:.2f} GiB "
              f"vs vlmr's estimate {r['estimate_gib']} GiB")
    if args.out:
        args.out.write_text(json.dumps({"size": args.size, "device": gpu, "runs": results}, indent=2))
    return results


if __name__ == "__main__":
    main()
