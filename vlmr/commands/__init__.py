"""Subcommands of the ``vlmr`` CLI (argument declarations only; work happens in ``run``)."""

from __future__ import annotations

import argparse
from typing import Any

# `--tools` of `vlmr infer` and `vlmr eval run`, which both read it with vlmr.tools.registry.resolve_tools.
TOOLS_HELP = ("visual tools the model may call, comma-separated: names or tool sets (e.g. zoom_in,draw_box or "
              "image), or a tool of your own by its import path (package.module:function)")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--api-base`` and ``--family``: the model a command talks to (``vlmr infer``, ``vlmr demo``)."""
    parser.add_argument("--model", help="checkpoint dir or hub id (the model name on the server with --api-base)")
    parser.add_argument("--api-base", help="URL of an OpenAI-compatible server (vLLM, transformers serve)")
    parser.add_argument("--family", default=None,
                        help="coordinate family of the model (default: from its config; 'generic' for servers)")


def generation_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``vlmr.inference.load_backend`` options of a command with :func:`add_model_options` and
    ``--max-new-tokens``, ``--temperature``, ``--max-pixels`` (which only a local model reads)."""
    generation = {"max_new_tokens": args.max_new_tokens, "temperature": args.temperature}
    if args.family:
        generation["family"] = args.family
    if not args.api_base and args.max_pixels:
        generation["max_pixels"] = args.max_pixels
    return generation
