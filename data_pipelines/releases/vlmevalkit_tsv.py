"""VLMEvalKit's benchmark TSV files (``HRBench4K.tsv``, ``POPE.tsv``, ``MME-RealWorld.tsv``, ...), one reader.

Layout, as VLMEvalKit's ``ImageBaseDataset`` reads it: a tab-separated file written by pandas
(``to_csv(sep="\\t")``: a field holding a tab, quote or newline is quoted) with a header row;
``index`` names a row, ``question`` its question, ``A``, ``B``, ... its options (empty when a
question has fewer), ``answer`` the letter (or ``Yes``/``No``), ``category`` and others as the
benchmark needs. ``image`` holds the picture as base64, a Python list of several base64 strings
(``"['iVBOR...', '...']"``), or, at most 64 characters long, the ``index`` of another row whose
image it shares.

Images are never all in memory: rows are read one at a time and each image is handed, as bytes,
to a ``save`` callable at once (a benchmark writes it into its media cache, a builder into its
dataset), which returns the name the row keeps. A row whose image is not base64 or not an image
is kept with ``_image_error`` naming why, so its reader can skip and count it.

>>> import base64, io, os, tempfile
>>> from PIL import Image
>>> png = io.BytesIO(); Image.new("RGB", (4, 3)).save(png, format="PNG")
>>> b64 = base64.b64encode(png.getvalue()).decode()
>>> p = os.path.join(tempfile.mkdtemp(), "x.tsv")
>>> _ = open(p, "w").write(f"index\\timage\\tquestion\\tA\\tB\\tanswer\\n0\\t{b64}\\tWhich?\\tred\\t\\tA\\n1\\t0\\tAnd?\\tx\\ty\\tB\\n")
>>> rows = read_tsv(p, save=lambda data: "img.png")
>>> [(r["index"], r["_images"], tsv_options(r)) for r in rows]
[('0', ['img.png'], ['A. red']), ('1', ['img.png'], ['A. x', 'B. y'])]
"""

from __future__ import annotations

import ast
import base64
import binascii
import csv
import io
import logging
import string
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vlmr.media.image import UnreadableImage, image_size

logger = logging.getLogger(__name__)

REFERENCE_MAX_CHARS = 64  # VLMEvalKit: an ``image`` this short is another row's ``index``


def read_tsv(path: str | Path, save: Callable[[bytes], str]) -> list[dict[str, Any]]:
    """The rows of a VLMEvalKit TSV in file order, every column as text except ``image``.

    Each row gets ``_images``: the names ``save`` returned for its images, and ``_image_error``: ``None``, or why its image cannot be used (not base64, not an
    image, a reference to a row that has no image). A row shorter than the header has ``""`` in
    the missing columns.
    """
    csv.field_size_limit(sys.maxsize)  # one 8K image is ~30 MB of base64, far over csv's 128 KB default
    rows: list[dict[str, Any]] = []
    saved: dict[str, list[str]] = {}  # index -> names of that row's own images, for references
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None) or []
        for cells in reader:
            if not any(cells):
                continue
            row: dict[str, Any] = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
            image = row.pop("image", "")
            row["_images"], row["_image_error"] = [], None
            if len(image) > REFERENCE_MAX_CHARS:
                try:
                    row["_images"] = [save(decode_image(b64)) for b64 in _image_list(image)]
                    saved[row.get("index", "")] = row["_images"]
                except ValueError as e:
                    row["_image_error"] = str(e)
            elif image:
                row["_reference"] = image
            else:
                row["_image_error"] = "no image"
            rows.append(row)
    for row in rows:  # references resolved after the pass: the row referred to may come later
        if "_reference" in row:
            target = row.pop("_reference")
            row["_images"] = saved.get(target, [])
            if not row["_images"]:
                row["_image_error"] = "image refers to a row that has no image"
    return rows


def _image_list(value: str) -> list[str]:
    """VLMEvalKit's ``toliststr``: ``"['a', 'b']"`` is a list, anything else one item."""
    if value.startswith("[") and value.endswith("]"):
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError) as e:
            raise ValueError("image cell is not a Python list of base64 strings") from e
        return [str(item) for item in items]
    return [value]


def decode_image(b64: str) -> bytes:
    """The bytes of a base64 image; ``ValueError`` if it is not base64 or its bytes are not an image."""
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("corrupt base64 image") from e
    try:
        image_size(io.BytesIO(data))  # the header only: pixels are decoded when a sample is prompted
    except UnreadableImage as e:
        raise ValueError("base64 data is not an image") from e
    return data


def tsv_options(row: dict[str, Any]) -> list[str]:
    """``["A. text", ...]`` for the option columns ``A``, ``B``, ... a row fills, in order (an empty
    cell, or pandas' ``nan``, is no option; the letters stop at the first missing one).

    >>> tsv_options({"A": "cat", "B": "dog", "C": "", "D": "nan"})
    ['A. cat', 'B. dog']
    """
    options = []
    for letter in string.ascii_uppercase:
        text = str(row.get(letter) or "").strip()
        if not text or text == "nan":
            break
        options.append(f"{letter}. {text}")
    return options
