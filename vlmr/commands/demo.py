"""``vlmr demo``: a web page to ask a model about an image, a video or a scan, and watch it reason.

    vlmr demo --model ./ckpt                                   # local checkpoint (e.g. `vlmr model init-tiny`)
    vlmr demo --model Qwen/Qwen2.5-VL-7B-Instruct --api-base http://localhost:8000/v1 --family qwen2_5_vl

Serves on http://127.0.0.1:PORT (loopback; ``--host 0.0.0.0`` to expose it, ``--share`` for
a public Gradio link). Uploads live in a fresh temp dir removed on exit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile

from vlmr.commands import add_model_options, generation_options
from vlmr.demo.inputs import DEFAULT_MAX_MEGAPIXELS  # PIL only: cheap at `vlmr --help` time


def register(subparsers) -> None:
    """Declare ``vlmr demo`` and its options."""
    parser = subparsers.add_parser(
        "demo",
        help="web demo: upload an image/video/scan, ask, watch the model think and use tools",
        description="Serve a Gradio page that runs the vlmr agent loop (the one eval and `vlmr infer` use) on "
        "uploads: streamed thinking, each tool call with its output image, the answer drawn on the input.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_model_options(parser)
    parser.add_argument("--port", type=int, default=7860, help="port to serve on")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 exposes the page)")
    parser.add_argument("--share", action="store_true", help="also create a public gradio.live link")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="questions answered at once (default 1 for a local model, 4 for a server)")
    parser.add_argument("--max-turns", type=int, default=4, help="default model turns per question")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="default tokens per turn")
    parser.add_argument("--temperature", type=float, default=0.0, help="default sampling temperature (0 = greedy)")
    parser.add_argument("--max-pixels", type=int, default=None, help="largest image area fed to a local model")
    parser.add_argument("--max-megapixels", type=float, default=DEFAULT_MAX_MEGAPIXELS,
                        help="largest accepted image upload (megapixels)")
    parser.add_argument("--max-frames", type=int, default=8, help="video frames shown to the model")
    parser.add_argument("--segmenter", default="grabcut", help="segmenter drawing masks for segmentation answers")
    parser.set_defaults(handler=run)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the server like Ctrl+C, so the temp dir is removed


def run(args: argparse.Namespace) -> int:
    """Load the backend, build the page and serve it until interrupted; returns 2 on bad options."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    if not (args.model or args.api_base):
        console.print("[red]error:[/red] give --model DIR_OR_ID (a local checkpoint or hub id) or --api-base URL")
        return 2
    if args.concurrency is not None and args.concurrency < 1:
        console.print(f"[red]error:[/red] --concurrency must be >= 1, got {args.concurrency}")
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    work_dir = tempfile.mkdtemp(prefix="vlmr-demo-")
    # Gradio reads these when it is imported: uploads and page files go to the temp dir, no telemetry.
    os.environ["GRADIO_TEMP_DIR"] = os.path.join(work_dir, "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        from vlmr.demo.app import build_app, launch
        from vlmr.demo.session import Settings
        from vlmr.inference import load_backend
        from vlmr.tools.segmenters import get_segmenter

        with console.status(f"loading {escape(args.model or args.api_base)}"):
            backend = load_backend(args.model, args.api_base, **generation_options(args))
        settings = Settings(max_megapixels=args.max_megapixels, max_frames=args.max_frames, max_turns=args.max_turns,
                            max_new_tokens=args.max_new_tokens, temperature=args.temperature)
        app = build_app(backend, settings, work_dir, model_name=args.model or args.api_base,
                        segmenter=get_segmenter(args.segmenter))
        concurrency = args.concurrency or (4 if args.api_base else 1)
        console.print(f"vlmr demo on http://{args.host}:{args.port} ({concurrency} question(s) at once; Ctrl+C stops)")
        launch(app, host=args.host, port=args.port, share=args.share, concurrency=concurrency)
    except (OSError, ValueError) as e:
        console.print(f"[red]error:[/red] {escape(str(e))}")
        return 2
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0
