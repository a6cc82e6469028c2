"""Run a benchmark: batched generation through the one inference loop, resumable, shardable.

Steps of :func:`run_eval`:

1. load the benchmark's samples (full split; ``limit`` takes the first N in file order);
2. keep this process's shard (``RANK``/``WORLD_SIZE`` as set by ``accelerate launch`` on
   GPUs or ``torchrun --nproc_per_node N`` anywhere: sample ``i`` goes to rank
   ``i % world_size``, each rank on its own ``cuda:LOCAL_RANK``);
3. drop samples whose id is already in ``predictions.jsonl`` (resume);
4. generate in batches with fixed boundaries (batch ``k`` is always samples
   ``k*B .. k*B+B-1`` of the shard, so a resumed run batches exactly like a clean one),
   appending each finished batch atomically (:mod:`vlmr.eval.predictions`);
5. rank 0 waits for the other ranks, scores everything and writes the reports.

A sample whose media cannot be read is recorded with an ``error`` and an empty response
(scored wrong, counted in ``n_errors``) instead of stopping the run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vlmr.eval.predictions import append_predictions, read_predictions, write_atomic
from vlmr.eval.registry import Benchmark, ScoreContext, get_benchmark
from vlmr.eval.scoring import dumps_scores, score_predictions, scores_document
from vlmr.schema import Sample

logger = logging.getLogger(__name__)

PREDICTIONS = "predictions.jsonl"
SCORES = "scores.json"


@dataclass
class EvalConfig:
    """Everything a run needs (the CLI fills it from ``vlmr eval run`` arguments)."""

    benchmark: str = field(metadata={"help": "registered benchmark name or package.module:Class"})
    data: str = field(metadata={"help": "path to the benchmark's files in their official format"})
    out: str = field(metadata={"help": "results directory (predictions.jsonl, scores.json, report.md)"})
    model: str | None = field(default=None, metadata={"help": "local checkpoint dir or hub id"})
    api_base: str | None = field(default=None, metadata={"help": "OpenAI-compatible server URL instead of --model"})
    batch_size: int = field(default=8, metadata={"help": "requests generated together"})
    limit: int | None = field(default=None, metadata={"help": "first N samples only (default: the full split)"})
    tools: list[str] = field(default_factory=list, metadata={"help": "visual tools the model may call"})
    max_turns: int = field(default=4, metadata={"help": "model turns per sample when tools are on"})
    max_new_tokens: int = field(default=512, metadata={"help": "generation limit per turn"})
    family: str | None = field(default=None, metadata={"help": "coordinate family (default: from the model config)"})
    convention: str | None = field(default=None, metadata={"help": "force pixel|resized|norm1000|norm1"})
    min_pixels: int | None = field(default=None, metadata={"help": "image budget lower bound"})
    max_pixels: int | None = field(default=None, metadata={"help": "image budget upper bound"})
    segmenter: str | None = field(default="grabcut", metadata={"help": "box->mask model for segmentation"})
    options: dict[str, Any] = field(default_factory=dict, metadata={"help": "benchmark options"})
    extractor_api_base: str | None = field(default=None, metadata={"help": "OpenAI-compatible URL for LLM answer extraction"})
    extractor_model: str | None = field(default=None, metadata={"help": "model name for LLM answer extraction"})
    judge_api_base: str | None = field(default=None, metadata={"help": "OpenAI-compatible URL of a judge model"})
    judge_model: str | None = field(default=None, metadata={"help": "judge model name (default: the first listed)"})
    command: str = field(default="", metadata={"help": "the command line, recorded in scores.json"})
    report: bool = field(default=True, metadata={"help": "write report.md, plots and the gallery"})
    retry_errors: bool = field(default=False, metadata={"help": "regenerate samples recorded with an error"})
    num_samples: int = field(default=1, metadata={"help": "answers sampled per question: Avg@k over k runs"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0 = greedy)"})
    seed: int = field(default=0, metadata={"help": "seed of sampling; run k of an Avg@k run uses seed + k"})

    def __post_init__(self):
        if self.extractor_api_base and not self.extractor_model:
            raise ValueError("--extractor-api-base needs --extractor-model (the model name on that server)")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1, got {self.limit}")
        if self.num_samples < 1 or self.temperature < 0:
            raise ValueError(f"--num-samples must be >= 1 and --temperature >= 0, got {self.num_samples} and "
                             f"{self.temperature}")
        if self.num_samples > 1 and self.temperature == 0:
            raise ValueError(f"--num-samples {self.num_samples} with --temperature 0 gives {self.num_samples} "
                             "identical greedy answers; sample with --temperature > 0 (e.g. 1.0, as Mini-o3's Avg@32)")


def shard_info() -> tuple[int, int]:
    """``(rank, world_size)`` from the environment ``accelerate launch``/``torchrun`` set (``(0, 1)`` alone)."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def load_samples(bench: Benchmark, data: str | Path, limit: int | None = None) -> list[Sample]:
    """The benchmark's samples (first ``limit``); duplicate ids are an error (predictions are keyed by id)."""
    bench.skipped.clear()  # a second load must not count its skips twice
    samples = bench.load(data)
    if limit:
        samples = samples[:limit]
    seen: set[str] = set()
    for s in samples:
        if s.id in seen:
            raise ValueError(f"{bench.name}: duplicate sample id {s.id!r} in {data}; ids key predictions.jsonl")
        seen.add(s.id)
    return samples


def resolve_coordinates(cfg: EvalConfig) -> tuple[str, int | None, int | None]:
    """``(family, min_pixels, max_pixels)`` the responses' coordinates refer to.

    Flags win; else a local/hub model's ``config.model_type`` and its image processor's
    pixel limits, read through the family's knob (they decide the ``resized`` frame of Qwen2.5-VL);
    else ``generic`` (original pixels) for a served model of unknown architecture.
    """
    if cfg.api_base or not cfg.model:  # a served model: --model is the server's name for it
        return cfg.family or "generic", cfg.min_pixels, cfg.max_pixels
    from transformers import AutoConfig, AutoImageProcessor

    from vlmr.formats import family_for_model_type, get_family

    try:
        family = cfg.family or family_for_model_type(AutoConfig.from_pretrained(cfg.model).model_type)
    except (OSError, ValueError) as e:  # `eval score --model NAME` may only name the model
        logger.warning("cannot read the config of %r (%s); reading coordinates as original pixels", cfg.model, e)
        return cfg.family or "generic", cfg.min_pixels, cfg.max_pixels
    min_pixels, max_pixels = cfg.min_pixels, cfg.max_pixels
    if min_pixels is None or max_pixels is None:
        try:
            low, high = get_family(family).pixel_limits(AutoImageProcessor.from_pretrained(cfg.model))
            min_pixels, max_pixels = min_pixels or low, max_pixels or high
        except (OSError, ValueError) as e:  # no image processor config: family defaults apply
            logger.warning("cannot read the image processor of %s (%s); using %s pixel defaults", cfg.model, e, family)
    return family, min_pixels, max_pixels


def make_context(bench: Benchmark, cfg: EvalConfig) -> ScoreContext:
    """Scoring context of a run: media root, coordinate frame, segmenter, options."""
    family, min_pixels, max_pixels = resolve_coordinates(cfg)
    segmenter = None
    if bench.uses_segmenter and cfg.segmenter and cfg.segmenter != "box":
        from vlmr.tools.segmenters import get_segmenter

        segmenter = get_segmenter(cfg.segmenter)
    extractor = None
    if cfg.extractor_api_base:
        from vlmr.eval.extractor import LLMExtractor

        extractor = LLMExtractor(cfg.extractor_api_base, cfg.extractor_model or "gpt-4o-mini",
                                 cache_path=Path(cfg.out) / "llm_extraction_cache.jsonl")
    judge = None
    if cfg.judge_api_base:
        from vlmr.rewards.judge import JudgeReward

        judge = JudgeReward(api_base=cfg.judge_api_base, model=cfg.judge_model)
    return ScoreContext(root=bench.media_root(cfg.data), family=family, convention=cfg.convention,
                        min_pixels=min_pixels, max_pixels=max_pixels, segmenter=segmenter, extractor=extractor,
                        judge=judge, options=dict(cfg.options))


def _requests(bench: Benchmark, batch: list[Sample], ctx: ScoreContext, tools: list[str]):
    """AgentRequests of a batch (:meth:`Benchmark.conversation`, the builder training uses); samples
    whose media fail come back in ``failed`` with the reason."""
    from vlmr.inference import AgentRequest

    requests, kept, failed = [], [], {}
    for sample in batch:
        try:
            conversation = bench.conversation(sample, ctx.root, ctx.space_for(sample), tools)
        except (OSError, ValueError) as e:  # unreadable/missing media: skip and count
            failed[sample.id] = f"{type(e).__name__}: {e}"
            continue
        requests.append(AgentRequest(messages=conversation.messages, images=conversation.images,
                                     env_row=conversation.env_row, tools=list(tools)))
        kept.append(sample)
    return requests, kept, failed


def make_backend(cfg: EvalConfig, ctx: ScoreContext) -> Any:
    """Backend of the run (greedy unless ``temperature`` > 0): the served model (``concurrency =
    batch_size``) or the local one."""
    from vlmr.inference import load_backend

    common = {"max_new_tokens": cfg.max_new_tokens, "temperature": cfg.temperature, "family": ctx.family}
    if cfg.api_base:
        return load_backend(model=cfg.model, api_base=cfg.api_base, concurrency=cfg.batch_size, **common)
    return load_backend(model=cfg.model, batch_size=cfg.batch_size, min_pixels=cfg.min_pixels,
                        max_pixels=cfg.max_pixels, device=_device(), **common)


def _device() -> str | None:
    """This rank's GPU (``cuda:LOCAL_RANK``) when there is one; ``None`` keeps the model on CPU."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0)) % torch.cuda.device_count()}"
    return None


def generate(bench: Benchmark, samples: list[Sample], cfg: EvalConfig, out: Path, backend: Any = None,
             make: Callable[[], Any] | None = None) -> dict:
    """Generate the missing predictions of this rank's shard; returns throughput figures. The backend is
    ``backend``, else ``make()``, else built from ``cfg``, and only when a sample is left to generate."""
    from tqdm.auto import tqdm

    rank, world = shard_info()
    mine = samples[rank::world]
    done = read_predictions(out / PREDICTIONS)
    todo = [s for s in mine if s.id not in done or (cfg.retry_errors and done[s.id].get("error"))]
    stats = {"rank": rank, "world_size": world, "n_shard": len(mine), "n_resumed": len(mine) - len(todo),
             "n_generated": 0, "seconds": 0.0, "completion_tokens": 0}
    if not todo:
        return stats
    ctx = make_context(bench, cfg)
    if backend is None:
        backend = make() if make else make_backend(cfg, ctx)
    from vlmr.inference import run_batch

    todo_ids = {s.id for s in todo}
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), unit="sample", desc=f"{bench.name}[{rank}]",
               dynamic_ncols=True)
    start = time.perf_counter()
    for first in range(0, len(mine), cfg.batch_size):  # fixed boundaries: resume batches like a clean run
        batch = [s for s in mine[first:first + cfg.batch_size] if s.id in todo_ids]
        if not batch:
            continue
        requests, kept, failed = _requests(bench, batch, ctx, cfg.tools)
        if cfg.temperature > 0:  # a seed per batch: a resumed run samples its batches as a clean one
            from transformers import set_seed

            set_seed(cfg.seed * 1_000_003 + first)
        trajectories = run_batch(backend, requests, max_turns=cfg.max_turns) if requests else []
        rows = []
        for sample, traj in zip(kept, trajectories, strict=True):
            rows.append({"id": sample.id, "response": traj.response or "",
                         **bench.postprocess(sample, traj.response or "", ctx),
                         "n_tool_calls": len(traj.tool_calls or []), "n_prompt_tokens": traj.n_prompt_tokens,
                         "n_completion_tokens": traj.n_completion_tokens, "seconds": round(traj.seconds, 3),
                         "error": traj.error})
            stats["completion_tokens"] += traj.n_completion_tokens or 0
        rows += [{"id": sid, "response": "", "error": reason} for sid, reason in failed.items()]
        append_predictions(out / PREDICTIONS, rows)
        stats["n_generated"] += len(rows)
        bar.update(len(batch))
    bar.close()
    stats["seconds"] = round(time.perf_counter() - start, 3)
    stats["samples_per_second"] = round(stats["n_generated"] / stats["seconds"], 3) if stats["seconds"] else None
    return stats


def score_run(bench: Benchmark, samples: list[Sample], predictions_path: str | Path, out: str | Path,
              ctx: ScoreContext, command: str, model: str | None, data: str, report: bool = True) -> dict:
    """Score ``predictions_path``, write ``scores.json`` (+ ``per_sample.jsonl``, reports); returns the scores."""
    out = Path(out)
    predictions = bench.read_predictions(predictions_path)
    result = score_predictions(bench, samples, predictions, ctx)
    doc = scores_document(result, bench, ctx, command, model, data)
    write_atomic(out / SCORES, dumps_scores(doc))
    write_atomic(out / "per_sample.jsonl",
                 "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in result.rows))
    if report:
        from vlmr.eval.report import write_report

        write_report(out, doc, result.rows, samples, predictions.rows, ctx.root)
    return doc


def run_eval(cfg: EvalConfig, backend: Any = None) -> dict | None:
    """Generate (resuming), then on rank 0 score and report; returns the scores (``None`` off rank 0).

    With ``num_samples`` K > 1 this is K sampled runs under ``OUT/samples/runK`` (seeds ``seed + k``),
    summarised by :mod:`vlmr.eval.avg_at_k` into ``OUT/scores.json``.
    """
    bench = get_benchmark(cfg.benchmark, **cfg.options)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    samples = load_samples(bench, cfg.data, cfg.limit)
    if not (cfg.model or cfg.api_base):
        raise ValueError("give --model (checkpoint dir or hub id) or --api-base (OpenAI-compatible URL)")
    if cfg.tools:
        from vlmr.tools.registry import resolve_tools

        cfg = replace(cfg, tools=resolve_tools(cfg.tools))  # expands tool sets, fails early on unknown names
    runs = [(out, cfg)] if cfg.num_samples == 1 else [
        (out / "samples" / f"run{k:02d}", replace(cfg, seed=cfg.seed + k, report=False))
        for k in range(cfg.num_samples)]
    loaded = {"backend": backend}

    def shared_backend() -> Any:  # loaded once, and only if some run has samples left to generate
        if loaded["backend"] is None:
            loaded["backend"] = make_backend(cfg, make_context(bench, cfg))
        return loaded["backend"]

    rank, world = shard_info()
    for run_out, run_cfg in runs:
        stats = generate(bench, samples, run_cfg, run_out, make=shared_backend)
        write_atomic(run_out / f"run_info.rank{rank}.json", json.dumps(stats, indent=2) + "\n")
    if world > 1:
        from accelerate import PartialState

        PartialState().wait_for_everyone()
    if rank != 0:
        return None
    ctx = make_context(bench, cfg)
    docs = [score_run(bench, samples, run_out / PREDICTIONS, run_out, ctx, cfg.command, cfg.model or cfg.api_base,
                      str(cfg.data), run_cfg.report) for run_out, run_cfg in runs]
    if cfg.num_samples == 1:
        return docs[0]
    from vlmr.eval.avg_at_k import avg_at_k_document

    rows = [[json.loads(line) for line in (run_out / "per_sample.jsonl").read_text(encoding="utf-8").splitlines()]
            for run_out, _ in runs]
    doc = avg_at_k_document(bench, samples, docs, rows, cfg.temperature)
    write_atomic(out / SCORES, dumps_scores(doc))
    return doc


def score_file(cfg: EvalConfig, predictions: str | Path) -> dict:
    """``vlmr eval score``: score a predictions file made anywhere, without a model."""
    bench = get_benchmark(cfg.benchmark, **cfg.options)
    samples = load_samples(bench, cfg.data, cfg.limit)
    if not Path(predictions).exists():
        raise FileNotFoundError(f"predictions file {predictions} not found")
    local = cfg.model if cfg.model and Path(cfg.model).is_dir() else None  # else --model is just a name
    ctx = make_context(bench, replace(cfg, model=local))
    return score_run(bench, samples, predictions, cfg.out, ctx, cfg.command, cfg.model, str(cfg.data), cfg.report)
