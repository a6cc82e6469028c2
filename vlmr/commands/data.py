"""``vlmr data build SOURCE --out DIR [options]`` and ``vlmr data show DIR``."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("data", help="Build datasets from real formats or synthetic generators; look at them.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = actions.add_parser(
        "build", help="Build a vlmr dataset directory.",
        description="Source options are passed as --key value (see the source's builder docstring; "
                    "`vlmr data build list` lists the sources).",
    )
    b.add_argument("source", help="Data source name, e.g. shapes, coco, refcoco, reasonseg, chartqa; "
                                   "`list` lists them.")
    b.add_argument("--out", help="Output dataset directory (written atomically); required to build.")
    b.add_argument("--limit", type=int, default=None, help="At most N samples.")
    b.add_argument("--seed", type=int, default=0, help="Seed for sampling and synthetic generation.")
    b.add_argument("--workers", type=int, default=1, help="Parallel worker processes.")
    b.add_argument("--splits", "--split", nargs="+", default=None, dest="splits",
                   help="Split(s) to build into the one dataset (read, for real formats; recorded in meta.split). "
                        "Default: the source's own (a real format's file decides its split).")
    b.add_argument("--overwrite", action="store_true", help="Replace an existing output directory.")
    b.set_defaults(handler=run_build, overrides=[])
    s = actions.add_parser("show", help="Render samples with their boxes/points/masks to a PNG grid.")
    s.add_argument("dir", help="A vlmr dataset directory.")
    s.add_argument("--n", type=int, default=8, help="How many samples.")
    s.add_argument("--out", default=None, help="PNG path (default: DIR/preview.png).")
    s.set_defaults(handler=run_show)


def source_options(builder, pairs: list[str]) -> dict:
    """``["--key", "value", ...]`` -> keyword arguments typed by the builder's signature."""
    import inspect

    from vlmr.config import load_yaml

    params = inspect.signature(builder).parameters
    if len(pairs) % 2:
        raise SystemExit(f"source options come as --key value pairs, got {pairs}")
    options = {}
    for flag, raw in zip(pairs[::2], pairs[1::2], strict=True):
        key = flag.lstrip("-").replace("-", "_")
        if key not in params:
            known = sorted(k for k in params if k not in ("seed", "limit", "split", "shard", "num_shards"))
            raise SystemExit(f"unknown option --{key} for this source; its options: {['--' + k for k in known]}")
        options[key] = raw if params[key].annotation in (str, "str") else load_yaml(raw)
    return options


def command_line(args) -> str:
    """The full ``vlmr data build`` command that reproduces this build (for the dataset card)."""
    import shlex

    words = ["vlmr", "data", "build", args.source, "--out", str(args.out), "--seed", str(args.seed)]
    words += ["--splits", *args.splits] if args.splits else []
    words += ["--limit", str(args.limit)] if args.limit is not None else []
    words += ["--workers", str(args.workers)] if args.workers != 1 else []
    return shlex.join([*words, *args.overrides])


def summary(doc: str | None) -> str:
    """The first sentence of a docstring as plain text: one line, reST markup dropped, whole (a
    period inside brackets or quotes, or not followed by a space, does not end it).

    >>> summary("Charades-STA (``a.txt`` lines, e.g. ``X 1 2``)\\n    read by :func:`~x.parse`. More.")
    'Charades-STA (a.txt lines, e.g. X 1 2) read by parse.'
    """
    import inspect
    import re

    text = " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())
    text = re.sub(r":\w+:`~?([\w.]+)`", lambda m: m[1].rsplit(".", 1)[-1] if "~" in m[0] else m[1], text)
    text = text.replace("``", "")
    depth, quoted = 0, False
    for i, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        quoted ^= char == '"'
        if char == "." and depth <= 0 and not quoted and text[i + 1:i + 2] in (" ", ""):
            return text[:i + 1]
    return text


def list_sources_text() -> str:
    """One line per source: its name and its builder's summary, whole."""
    from vlmr.data_pipelines.sources import get_builder, list_sources

    lines = []
    for name in list_sources():
        try:
            text = summary(get_builder(name).__doc__)
        except ImportError as e:  # an optional dependency of that source is missing
            text = f"(unavailable: {e})"
        lines.append(f"{name:22s} {text}")
    return "\n".join(lines)


def run_build(args) -> int:
    from vlmr.data_pipelines.build import build_dataset
    from vlmr.data_pipelines.sources import get_builder

    if args.source == "list":
        print(list_sources_text())
        return 0
    if not args.out:
        raise SystemExit("vlmr data build: --out DIR is required (the dataset directory to write)")
    if args.limit is not None and args.limit < 0:
        raise SystemExit(f"vlmr data build: --limit is a number of samples (0 or more), got {args.limit}")
    options = source_options(get_builder(args.source), args.overrides)
    build_dataset(args.source, args.out, seed=args.seed, limit=args.limit, split=args.splits, workers=args.workers,
                  overwrite=args.overwrite, command=command_line(args), **options)
    return 0


def run_show(args) -> int:
    from pathlib import Path

    from vlmr.data_pipelines.show import show_dataset

    out = show_dataset(args.dir, n=args.n, out=args.out or Path(args.dir) / "preview.png")
    print(f"wrote {out}")
    return 0
