"""Thyme's training sets (Kwai-Keye/Thyme-SFT, Kwai-Keye/Thyme-RL) -> vlmr records.

``vlmr data build thyme_sft --out data/thyme_sft --annotations Thyme-SFT/2round.jsonl --image-dir Thyme-SFT``
``vlmr data build thyme_rl --out data/thyme_rl --annotations Thyme-RL/train.jsonl --image-dir Thyme-RL``

The layouts are those of the authors' README (yfzhang114/Thyme, sections 3.1 and 4.1), read by
:mod:`vlmr.data_pipelines.releases.rows`. SFT rows: ``{"image": [original, processed, ...], "question": "<image>\\n...", "response":
"<think>... <code>```python ...```</code> <sandbox_output>...</sandbox_output> ...</think><answer>...</answer>"}``;
RL rows: ``{"messages": [...], "images": [path], "solution": "black", "question": "..."}``. Image paths are
taken relative to ``image_dir``; an absolute path (the authors' own machines) is looked up by its file name
there, as their README tells users to do.

Thyme's tool is Python code run in a sandbox. A code block whose one image operation is a crop with literal
coordinates (``image[y1:y2, x1:x2]`` or ``.crop((x1, y1, x2, y2))``, numbers written in the code or assigned
to names first), in pixels of the original image (``pixel`` in :mod:`vlmr.formats`), optionally resized, is the
``zoom_in`` call vlmr executes. The code is read with ``ast`` and never run. Code that rotates, filters, draws,
computes without cropping or crops several times has no ``zoom_in`` equivalent: its trajectory is dropped
and counted (see :mod:`vlmr.data_pipelines.trajectories`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from vlmr.data_pipelines.build import (
    Built,
    Skipped,
    annotation_rows,
    image_in,
    image_prompt,
    open_image,
    shard_records,
)
from vlmr.data_pipelines.releases.rows import MALFORMED
from vlmr.data_pipelines.trajectories import StoredCall, convert_trajectory
from vlmr.formats import CoordinateSpace
from vlmr.rewards.parse import split_think_answer

_CODE = re.compile(r"<code>(.*?)</code>", re.DOTALL)
_SANDBOX = re.compile(r"\s*<sandbox_output>.*?</sandbox_output>\s*", re.DOTALL)
_FENCE = re.compile(r"```(?:python)?")
_IMAGE_PATH_LINE = re.compile(r"^\s*User Image Path:.*$", re.MULTILINE)
# image operations with no zoom_in equivalent (the crop alone would show the model another picture)
CHANGES_THE_IMAGE = frozenset({
    "rotate", "transpose", "flip", "warpAffine", "warpPerspective", "cvtColor", "equalizeHist", "threshold",
    "adaptiveThreshold", "GaussianBlur", "medianBlur", "blur", "filter", "filter2D", "Canny", "addWeighted",
    "convertScaleAbs", "enhance", "rectangle", "circle", "line", "putText", "polylines", "paste", "invert",
    "autocontrast", "equalize", "sharpen", "detailEnhance", "createCLAHE",
})


def pixels(width: int, height: int) -> CoordinateSpace:
    """Thyme's boxes: pixels of the original image (its code opens the original file)."""
    return CoordinateSpace(width, height, "pixel")


def _number(node: ast.AST, names: dict[str, float]) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def _literals(tree: ast.AST) -> dict[str, float]:
    """Names assigned plain numbers (``x1 = 10``, ``x1, y1 = 10, 20``)."""
    names: dict[str, float] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        pairs = (zip(target.elts, value.elts, strict=False) if isinstance(target, ast.Tuple | ast.List)
                 and isinstance(value, ast.Tuple | ast.List) and len(target.elts) == len(value.elts)
                 else [(target, value)])
        for name, expr in pairs:
            number = _number(expr, names)
            if isinstance(name, ast.Name) and number is not None:
                names[name.id] = number
    return names


def _crops(tree: ast.AST, names: dict[str, float]) -> list[list[float] | None]:
    """Every crop of the code: ``[x1, y1, x2, y2]`` when its bounds are literal, else ``None``."""
    crops: list[list[float] | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) >= 2 \
                and all(isinstance(s, ast.Slice) for s in node.slice.elts[:2]):
            rows, cols = node.slice.elts[:2]
            bounds = [_number(b, names) if b is not None else None
                      for b in (cols.lower, rows.lower, cols.upper, rows.upper)]
            crops.append(None if None in bounds else bounds)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "crop":
            arg = node.args[0] if node.args else None
            values = [_number(v, names) for v in arg.elts] if isinstance(arg, ast.Tuple | ast.List) else [None]
            crops.append(values if len(values) == 4 and None not in values else None)
    return crops


def code_crop(code: str) -> list[float] | str:
    """The crop box of one Thyme code block (original pixels), or why it has no ``zoom_in`` equivalent.

    >>> code_crop("x1, y1, x2, y2 = 1250, 1030, 1360, 1070\\ncropped = image[y1:y2, x1:x2]\\n"
    ...           "big = cv2.resize(cropped, None, fx=2, fy=2)")
    [1250.0, 1030.0, 1360.0, 1070.0]
    >>> code_crop("img = Image.open(p).rotate(90)"), code_crop("print(3 * 7)")
    ('python code changes the image beyond a crop (rotate)', 'python code without a crop')
    """
    try:
        tree = ast.parse(_FENCE.sub("", code))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "python code does not parse"
    changed = sorted({n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id for n in ast.walk(tree)
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute | ast.Name)
                      and (n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id) in CHANGES_THE_IMAGE})
    if changed:
        return f"python code changes the image beyond a crop ({', '.join(changed)})"
    crops = _crops(tree, _literals(tree))
    if not crops:
        return "python code without a crop"
    if len(crops) > 1:
        return "python code with several crops"
    return crops[0] if crops[0] is not None else "python code crops without literal coordinates"


def assistant_turns(response: str) -> list[str]:
    """A Thyme response cut into assistant turns: each ends after a ``<code>`` block, whose
    ``<sandbox_output>`` (the tool's result, vlmr's to produce) is removed."""
    return [turn for turn in _SANDBOX.split(response) if turn.strip()]


def code_calls(text: str) -> list[StoredCall]:
    """The ``<code>`` blocks of one assistant turn as crop calls on the original image."""
    calls = []
    for m in _CODE.finditer(text):
        crop = code_crop(m.group(1))
        calls.append(StoredCall(m.start(), m.end(), problem=crop) if isinstance(crop, str)
                     else StoredCall(m.start(), m.end(), crop))
    return calls


def _local(name: str) -> str:
    """The path of an image inside the image folder: as given, or an absolute path's file name (module docstring)."""
    return Path(name).name if Path(name).is_absolute() else name


def _question(text: str) -> str:
    return _IMAGE_PATH_LINE.sub("", text.replace("<image>", "")).strip()


def build_thyme_sft(
    *,
    annotations: str,
    image_dir: str,
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One SFT record per Thyme SFT row whose code maps to ``zoom_in`` (or that has no code)."""

    def record(i: int, row: dict) -> Built | Skipped:
        try:
            images, question, response = list(row["image"]), str(row["question"]), str(row["response"])
        except MALFORMED as e:
            return Skipped.malformed(e)
        if not images:
            return Skipped("prompt without an image")
        answer = split_think_answer(response)[1] if "<answer>" in response else None
        if not answer:
            return Skipped("trajectory without a final <answer>")
        local = _local(str(images[0]))
        path = image_in(image_dir, local)
        image = path if isinstance(path, Skipped) else open_image(path)
        if isinstance(image, Skipped):
            return image
        converted = convert_trajectory(assistant_turns(response), code_calls, pixels, image.width, image.height)
        if isinstance(converted, Skipped):
            return converted
        name = f"thyme/{local}"
        return Built({"id": str(row.get("id") or f"thyme-sft-{i:06d}"), "task": "vqa", "source": "thyme_sft",
                      "question": _question(question), "images": [f"media/{name}"],
                      "answer": {"text": answer.strip()}, "cot": converted.cot,
                      "meta": {"width": image.width, "height": image.height, "split": split}},
                     {name: path}, converted.note)

    yield from shard_records(annotation_rows(annotations), record, limit=limit, shard=shard, num_shards=num_shards)


def build_thyme_rl(
    *,
    annotations: str,
    image_dir: str,
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One ``vqa`` prompt per Thyme RL row (``question``, ``images[0]``, ``solution`` as the reference)."""

    def record(i: int, row: dict) -> Built | Skipped:
        try:
            images, question, solution = list(row.get("images") or []), str(row["question"]), row["solution"]
        except MALFORMED as e:
            return Skipped.malformed(e)
        if not images:
            return Skipped("prompt without an image")
        local = _local(str(images[0]))
        return image_prompt(str(row.get("id") or f"thyme-rl-{i:06d}"), "thyme_rl", _question(question), image_dir,
                            local, f"thyme/{local}", solution, split)

    yield from shard_records(annotation_rows(annotations), record, limit=limit, shard=shard, num_shards=num_shards)
