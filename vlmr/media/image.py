"""Image files: open one as RGB, or read its size, with every way a file can be unreadable raised
as one :class:`UnreadableImage` (an ``OSError``).

PIL refuses images larger than twice ``Image.MAX_IMAGE_PIXELS`` (179 megapixels by default)
with ``DecompressionBombError``, which is not an ``OSError``: code that skips corrupted files
by catching ``OSError`` would let such a file end a dataset build or an eval. Here it is one
more unreadable image, next to missing, truncated and non-image files.

>>> import io
>>> from PIL import Image
>>> png = io.BytesIO(); Image.new("L", (6, 4)).save(png, format="PNG")
>>> open_rgb(png).mode, image_size(png)
('RGB', (6, 4))
>>> open_rgb(io.BytesIO(b"not an image"))
Traceback (most recent call last):
...
vlmr.media.image.UnreadableImage: cannot read image <bytes>: cannot identify image file ...
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from PIL import Image

ImageSource = str | Path | BinaryIO


class UnreadableImage(OSError):
    """An image that cannot be read: missing, corrupted, truncated, not an image, or a decompression bomb."""


def _name(source: ImageSource) -> str:
    return str(source) if isinstance(source, str | Path) else "<bytes>"


def open_rgb(source: ImageSource) -> Image.Image:
    """The image at ``source`` (a path or a binary file object), fully decoded, as RGB."""
    try:
        with Image.open(source) as im:
            return im.convert("RGB")  # decodes the whole image: a truncated file fails here, not later
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise UnreadableImage(f"cannot read image {_name(source)}: {e}") from e


def image_size(source: ImageSource) -> tuple[int, int]:
    """``(width, height)`` of the image at ``source``, from its header."""
    try:
        with Image.open(source) as im:
            return im.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise UnreadableImage(f"cannot read image {_name(source)}: {e}") from e
