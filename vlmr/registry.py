"""Things by name, or by import path: the one lookup rule of vlmr's registries.

Rewards, tools, segmenters, data sources, tasks and benchmarks each keep a ``{name: entry}``
dict and go through :func:`register` and :func:`lookup`. An entry is an object or a
``"module:attr"`` string imported on first use (listing stays instant; optional
dependencies load only when used). A name that is not registered but reads
``package.module:Name`` is imported from there, so a user's own reward, tool, segmenter,
data source, task or benchmark works in a config or on the command line without touching vlmr.

>>> functions = {"hsv": "colorsys:rgb_to_hsv"}
>>> lookup(functions, "hsv", "function").__name__, lookup(functions, "colorsys:hls_to_rgb", "function").__name__
('rgb_to_hsv', 'hls_to_rgb')
>>> lookup(functions, "hvs", "function")
Traceback (most recent call last):
    ...
vlmr.registry.UnknownNameError: unknown function 'hvs'; choose one of ['hsv'] (did you mean 'hsv'?); or name your own as 'package.module:Name'
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from typing import Any


class UnknownNameError(KeyError, ValueError):
    """A name no registry entry has (a ``KeyError`` and a ``ValueError``, whichever a caller catches)."""

    def __str__(self) -> str:  # the message itself, not KeyError's quoted repr
        return str(self.args[0])


def import_object(path: str) -> Any:
    """The object at ``"package.module:attr"``; a clear error when the module or the attribute is missing."""
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise ValueError(f"{path!r} is not an import path; write it as 'package.module:Name'")
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(f"cannot import {module!r} for {path!r} ({e}); is it on PYTHONPATH?") from e
    try:
        return getattr(imported, attr)
    except AttributeError:
        raise AttributeError(f"module {module!r} has no {attr!r} (from {path!r})") from None


def definition(obj: Any) -> Any:
    """What identifies an entry across imports: a class's or function's name and file; else the object."""
    if inspect.isclass(obj) or inspect.isfunction(obj):
        try:
            return obj.__qualname__, inspect.getsourcefile(obj)
        except TypeError:  # built-in: no source file
            return obj
    return obj


def _describe(obj: Any) -> str:
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    return obj if isinstance(obj, str) else repr(obj)


def register(
    entries: dict[str, Any], name: str, obj: Any, kind: str, identity: Callable[[Any], Any] = definition
) -> Any:
    """Add ``obj`` (or a ``"module:attr"`` string) to ``entries`` under ``name``; returns ``obj``.

    The same definition (equal ``identity``) may register again, as when a module is imported
    under two names; another may not.
    """
    old = entries.get(name)
    if old is not None and old is not obj and identity(old) != identity(obj):
        raise ValueError(f"{kind} {name!r} is already registered ({_describe(old)})")
    entries[name] = obj
    return obj


def register_class(entries: dict[str, Any], name: str, cls: type, kind: str) -> type:
    """:func:`register` a class and set its ``name`` attribute (the name it reports and logs under)."""
    register(entries, name, cls, kind)
    cls.name = name
    return cls


def lookup(
    entries: dict[str, Any],
    name: str,
    kind: str,
    check: tuple[Callable[[Any], bool], str] | None = None,
    choices: Callable[[list[str]], str] | None = None,
) -> Any:
    """The entry registered as ``name`` (imported if it is a string), or the object at ``name`` =
    ``"package.module:Name"``.

    Args:
        entries: the registry's ``{name: object or "module:attr"}``.
        name: a registered name or an import path.
        kind: what the entries are, for messages (``"reward"``, ``"data source"``).
        check: ``(predicate, what passes)`` the object must pass, else ``TypeError``, e.g.
            ``(is_benchmark_class, "a Benchmark subclass")``.
        choices: the message part listing what exists, from the sorted names
            (default ``choose one of [...]``).

    Raises :class:`UnknownNameError` for an unknown name (with close matches).
    """
    if name in entries:
        obj = entries[name]
        if isinstance(obj, str):
            obj = import_object(obj)
    elif ":" in name:
        obj = import_object(name)
    else:
        names = sorted(entries)
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        listed = choices(names) if choices else f"choose one of {names}"
        raise UnknownNameError(f"unknown {kind} {name!r}; {listed}{hint}; or name your own as 'package.module:Name'")
    if check is not None and not check[0](obj):
        raise TypeError(f"{name!r} is not {check[1]} (it is {_describe(obj)})")
    return obj
