"""Subcommands of the ``vlmr`` CLI (argument declarations only; work happens in ``run``)."""

# `--tools` of `vlmr infer` and `vlmr eval run`, which both read it with vlmr.tools.registry.resolve_tools.
TOOLS_HELP = ("visual tools the model may call, comma-separated: names or tool sets (e.g. zoom_in,draw_box or "
              "image), or a tool of your own by its import path (package.module:function)")
