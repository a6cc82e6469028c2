"""The ``vlmr`` command line: one entry point, one module per subcommand.

Subcommand modules (``vlmr.commands.*``) define ``register(subparsers)`` and ``run(args)``;
heavy libraries are imported inside ``run`` so ``vlmr --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# modules defining register(subparsers) and run(args), in the order `vlmr --help` lists them
COMMANDS = (
    "vlmr.commands.model",
    "vlmr.commands.data",
    "vlmr.commands.train",
    "vlmr.commands.quickstart",
    "vlmr.commands.infer",
    "vlmr.commands.eval",
    "vlmr.commands.demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (subcommand modules only declare arguments at import)."""
    parser = argparse.ArgumentParser(
        prog="vlmr", description="Train and evaluate vision-language models that reason with images."
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of errors in the input too (a bug always shows one)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that report a mistake in the user's input (a file, a config, a path), not a bug in vlmr:
    their message names the file (and line) and says what to fix, so a traceback adds nothing."""
    from vlmr.config import ConfigError
    from vlmr.media.image import UnreadableImage
    from vlmr.schema import SchemaError

    return (ConfigError, SchemaError, UnreadableImage, FileNotFoundError, FileExistsError, NotADirectoryError,
            IsADirectoryError, PermissionError)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit code.

    A user error ends the command with one line on stderr and exit code 2; anything else (a bug)
    keeps its traceback. ``--debug`` shows the traceback of user errors too.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere on the line, also after the subcommand's arguments
    parser = build_parser()
    args, extra = parser.parse_known_args([a for a in argv if a != "--debug"])
    if extra and not hasattr(args, "overrides"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.overrides = extra  # config overrides (--key value) of commands that take them
    from vlmr.versions import check_versions

    check_versions()  # fail early and clearly on known-bad library versions
    try:
        return int(args.handler(args) or 0)
    except Exception as e:
        if debug or not isinstance(e, user_errors()):
            raise
        print(f"vlmr: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
