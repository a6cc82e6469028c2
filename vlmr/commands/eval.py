"""``vlmr eval``: run a benchmark, re-score predictions, compare runs.

::

    vlmr eval run --benchmark mathvista --data MathVista/ --model Qwen/Qwen2.5-VL-3B-Instruct --out runs/mv
    vlmr eval run --benchmark refcoco --data refcoco_val.json --api-base http://localhost:8000/v1 \\
        --model qwen2.5-vl --family qwen2_5_vl --out runs/rc
    vlmr eval run --benchmark vstar --data vstar_bench/ --model DIR --num-samples 32 --temperature 1.0 --out runs/v32
    accelerate launch -m vlmr.cli eval run ...        # one shard per GPU (torchrun --nproc_per_node N on CPU)
    vlmr eval score --benchmark reasonseg --data ReasonSeg/val --predictions preds.jsonl --out runs/rs
    vlmr eval compare runs/a runs/b
    vlmr eval list
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from vlmr.commands import TOOLS_HELP


def _option(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as JSON when it parses (numbers, booleans), else a string."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option takes key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _common(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``run`` and ``score``."""
    p.add_argument("--benchmark", required=True, help="benchmark name (see `vlmr eval list`) or package.module:Class")
    p.add_argument("--data", required=True, help="the benchmark's files in their official release format")
    p.add_argument("--out", required=True, help="results directory")
    p.add_argument("--limit", type=int, default=None, help="first N samples only (default: the full split)")
    p.add_argument("--family", default=None, help="coordinate family of the responses (default: from the model)")
    p.add_argument("--convention", choices=("pixel", "resized", "norm1000", "norm1"), default=None,
                   help="force the coordinate convention of the responses")
    p.add_argument("--min-pixels", type=int, default=None, help="image budget lower bound")
    p.add_argument("--max-pixels", type=int, default=None, help="image budget upper bound")
    p.add_argument("--segmenter", default="grabcut", help="box->mask model for segmentation: grabcut (default), sam, sam2, or box (the box itself)")
    p.add_argument("--iou-comparison", choices=(">=", ">"), default=None,
                   help="Acc@0.5 comparison: '>=' (refer/lmms-eval, default) or '>' (strict); "
                        "refcoco also reports VLM-R1's full rule as acc@0.5_vlm_r1")
    p.add_argument("--option", type=_option, action="append", default=[], metavar="KEY=VALUE",
                   help="benchmark option, e.g. --option max_frames=8 (repeatable)")
    p.add_argument("--extractor-api-base", default=None, help="OpenAI-compatible URL for LLM answer extraction")
    p.add_argument("--extractor-model", default=None, help="model name for LLM answer extraction")
    p.add_argument("--judge-api-base", default=None,
                   help="OpenAI-compatible URL of a judge model: free-form answers also get judge_accuracy "
                        "(the `judge` reward; its model is named in scores.json)")
    p.add_argument("--judge-model", default=None, help="judge model name on that server (default: the first listed)")
    p.add_argument("--no-report", action="store_true", help="skip report.md, plots and the gallery")
    p.add_argument("--max-error-rate", type=float, default=0.0, metavar="RATE",
                   help="exit 0 while at most this fraction of the samples errored (default 0: any error fails)")


def register(subparsers) -> None:
    """Declare ``vlmr eval run|score|compare|list``."""
    parser = subparsers.add_parser("eval", help="evaluate on benchmarks with their official metrics")
    actions = parser.add_subparsers(dest="eval_action", required=True, metavar="ACTION")
    run_p = actions.add_parser("run", help="generate (resumable) and score")
    _common(run_p)
    run_p.add_argument("--model", default=None, help="checkpoint dir or hub id (with --api-base: the served name)")
    run_p.add_argument("--api-base", default=None, help="OpenAI-compatible server URL")
    run_p.add_argument("--batch-size", type=int, default=8, help="requests generated together (default 8)")
    run_p.add_argument("--tools", default="", help=TOOLS_HELP)
    run_p.add_argument("--max-turns", type=int, default=4, help="model turns per sample with tools (default 4)")
    run_p.add_argument("--max-new-tokens", type=int, default=512, help="generation limit per turn (default 512)")
    run_p.add_argument("--retry-errors", action="store_true",
                       help="regenerate samples whose prediction was recorded with an error (server timeout, ...)")
    run_p.add_argument("--num-samples", type=int, default=1,
                       help="K answers sampled per question: Avg@K with std, 95%% interval and Pass@K (default 1)")
    run_p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0: greedy)")
    run_p.add_argument("--seed", type=int, default=0, help="sampling seed; run k of an Avg@K run uses seed + k")

    score_p = actions.add_parser("score", help="score an existing predictions.jsonl (no model)")
    _common(score_p)
    score_p.add_argument("--predictions", required=True, help='JSONL of {"id", "response"} (+ "mask_rle")')
    score_p.add_argument("--model", default=None, help="name recorded in scores.json")

    cmp_p = actions.add_parser("compare", help="side-by-side table of two runs")
    cmp_p.add_argument("run_a", metavar="RUN_A", help="results directory (or scores.json)")
    cmp_p.add_argument("run_b", metavar="RUN_B", help="results directory (or scores.json)")

    actions.add_parser("list", help="list the registered benchmarks")
    parser.set_defaults(handler=run)


def _config(args: argparse.Namespace):
    from vlmr.eval.runner import EvalConfig

    options = dict(args.option)
    if args.iou_comparison:
        options["iou_comparison"] = args.iou_comparison
    return EvalConfig(
        benchmark=args.benchmark, data=args.data, out=args.out, model=args.model,
        api_base=getattr(args, "api_base", None), batch_size=getattr(args, "batch_size", 8), limit=args.limit,
        tools=[t for t in getattr(args, "tools", "").split(",") if t], max_turns=getattr(args, "max_turns", 4),
        max_new_tokens=getattr(args, "max_new_tokens", 512), family=args.family, convention=args.convention,
        min_pixels=args.min_pixels, max_pixels=args.max_pixels, segmenter=args.segmenter, options=options,
        extractor_api_base=args.extractor_api_base, extractor_model=args.extractor_model,
        judge_api_base=args.judge_api_base, judge_model=args.judge_model,
        command=shlex.join(["vlmr", *sys.argv[1:]]), report=not args.no_report,
        retry_errors=getattr(args, "retry_errors", False), num_samples=getattr(args, "num_samples", 1),
        temperature=getattr(args, "temperature", 0.0), seed=getattr(args, "seed", 0),
    )  # fmt: skip


def written_files(out: str, report: bool) -> list[str]:
    """The result files this command wrote into ``out`` (the report's only when it wrote them)."""
    from pathlib import Path

    names = ["scores.json", "per_sample.jsonl"]
    if report:
        names += [n for n in ("report.md", "gallery.html") if (Path(out) / n).exists()]
    return names


def summary_line(scores: dict) -> str:
    """The first line of a run's summary: samples, errors and missing predictions.

    >>> summary_line({"benchmark": "dataset", "n": 8, "n_errors": 8, "n_missing": 0})
    'dataset: 8 samples, 8 errors (100.0%), 0 missing'
    """
    n, errors = scores["n"], scores["n_errors"]
    return (f"{scores['benchmark']}: {n} samples, {errors} errors ({100 * errors / n if n else 0.0:.1f}%), "
            f"{scores['n_missing']} missing")


def error_rate_exceeded(scores: dict, max_error_rate: float) -> bool:
    """Whether more samples errored than ``max_error_rate`` (a fraction of ``n``) allows.

    >>> error_rate_exceeded({"n": 8, "n_errors": 1}, 0.0), error_rate_exceeded({"n": 8, "n_errors": 1}, 0.125)
    (True, False)
    """
    return scores["n_errors"] > max_error_rate * scores["n"]


def _print_scores(console, scores: dict, out: str, report: bool) -> None:
    from rich.table import Table

    style = "red" if scores["n_errors"] else "green"
    console.print(f"[{style}]{summary_line(scores)}[/{style}]", highlight=False)
    avg = scores.get("avg_at_k")
    table = Table(title=f"{scores['benchmark']}, n={scores['n']}" + (f", Avg@{avg['k']}" if avg else ""))
    table.add_column("metric")
    table.add_column("mean" if avg else "value", justify="right")
    if avg:
        table.add_column("std", justify="right")
        table.add_column("95% CI", justify="right")
    for metric, value in sorted(scores["overall"].items()):
        if avg:
            spread = avg["overall"][metric]
            table.add_row(metric, f"{value:.4f}", f"{spread['std']:.4f}",
                          f"[{spread['ci95'][0]:.4f}, {spread['ci95'][1]:.4f}]")
        else:
            table.add_row(metric, f"{value:.4f}")
    console.print(table)
    if avg and avg.get("pass_at_k"):
        console.print(f"Pass@{avg['k']} ({avg['pass_at_k']['metric']}): {avg['pass_at_k']['overall']:.4f}")
    console.print(f"coordinates read as: {scores['coordinate_convention']}")
    for warning in scores.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    console.print(f"results in {out} ({', '.join(written_files(out, report))})")


def run(args: argparse.Namespace) -> int:
    """Run the chosen ``vlmr eval`` action; returns the exit code: 0, 1 when more samples errored than
    ``--max-error-rate`` allows, 2 on bad input."""
    from rich.console import Console

    console = Console()
    if args.eval_action == "list":
        from vlmr.eval import list_benchmarks

        console.print("\n".join(list_benchmarks()))
        return 0
    if args.eval_action == "compare":
        from vlmr.eval.compare import format_comparison

        try:
            console.print(format_comparison(args.run_a, args.run_b), highlight=False)
        except FileNotFoundError as e:
            console.print(f"[red]error:[/red] {e}")
            return 2
        return 0
    try:
        if not 0.0 <= args.max_error_rate <= 1.0:
            raise ValueError(f"--max-error-rate is a fraction of the samples, 0 to 1; got {args.max_error_rate}")
        cfg = _config(args)
        if args.eval_action == "run":
            from vlmr.eval.runner import run_eval

            scores = run_eval(cfg)
        else:
            from vlmr.eval.runner import score_file

            scores = score_file(cfg, args.predictions)
    except (ValueError, FileNotFoundError) as e:
        console.print(f"[red]error:[/red] {e}")
        return 2
    if scores is None:  # not rank 0: rank 0 reports and decides the exit code
        return 0
    _print_scores(console, scores, args.out, report=not args.no_report)
    if error_rate_exceeded(scores, args.max_error_rate):
        console.print(f"[red]error:[/red] {scores['n_errors']} of {scores['n']} samples errored (see the 'error' "
                      f"field in predictions.jsonl); --max-error-rate {args.max_error_rate:g} allows "
                      f"{int(args.max_error_rate * scores['n'])}", highlight=False)
        return 1
    return 0
