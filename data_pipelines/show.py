"""``vlmr data show``: samples of a dataset with their ground truth drawn, as one PNG grid.

Image records get their boxes (green), points (red) and masks (translucent) drawn in
original pixels; records with a video, volume or scene use the preview of their
modality's module when it provides one (``preview(sample, root) -> PIL.Image``).
"""

from __future__ import annotations

import importlib
import logging
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from vlmr.masks import checked_mask, rle_to_mask
from vlmr.media.image import open_rgb
from vlmr.render import tint
from vlmr.schema import Sample, SchemaError, load_samples, resolve_media

logger = logging.getLogger(__name__)

TILE = 256
CAPTION = 56
_PREVIEWS = {"video": "vlmr.data_pipelines.video", "volume": "vlmr.data_pipelines.medical",
             "scene": "vlmr.data_pipelines.scene3d"}


def draw_answer(image: Image.Image, answer: dict) -> Image.Image:
    """A copy of ``image`` with the answer's masks, boxes and points drawn (original pixels)."""
    image = image.convert("RGB")
    for rle in answer.get("masks") or []:
        try:
            mask = (checked_mask(rle, image.height, image.width) if isinstance(rle, dict) and "counts" in rle
                    else rle_to_mask(rle, image.height, image.width))  # a polygon, rasterised at the image's size
        except (ValueError, TypeError) as e:  # MaskError is a ValueError
            logger.warning("not drawing a mask: %s", e)
            continue
        image = tint(image, mask, (255, 0, 255), 0.5)
    draw = ImageDraw.Draw(image)
    width = max(1, round(max(image.size) / 150))
    for box in answer.get("boxes") or []:
        draw.rectangle([float(v) for v in box], outline=(0, 255, 0), width=width)
    for x, y in answer.get("points") or []:
        r = 2 * width
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 0, 0))
    return image


def sample_preview(sample: Sample, root: Path) -> Image.Image:
    """The picture of one sample (its first image with the answer drawn, or its modality's preview)."""
    for field, module in _PREVIEWS.items():
        if getattr(sample, field):
            try:
                return importlib.import_module(module).preview(sample, root)
            except (ImportError, AttributeError):
                break
    if sample.images:
        return draw_answer(open_rgb(resolve_media(root, sample.images[0])), sample.answer)
    return Image.new("RGB", (TILE, TILE), (40, 40, 40))


def show_dataset(root: str | Path, n: int = 8, out: str | Path | None = None) -> Path:
    """Write a grid of the first ``n`` samples with captions (task, question, answer) to ``out``."""
    root = Path(root)
    samples = load_samples(root)[:n]
    if not samples:
        raise SchemaError(f"{root / 'records.jsonl'} has no records to show")
    cols = min(4, len(samples))
    rows = (len(samples) + cols - 1) // cols
    grid = Image.new("RGB", (cols * TILE, rows * (TILE + CAPTION)), "white")
    draw = ImageDraw.Draw(grid)
    for k, sample in enumerate(samples):
        try:
            tile = sample_preview(sample, root)
        except (OSError, ValueError) as e:  # unreadable media: a grey tile, the reason in the log
            logger.warning("cannot draw sample %s: %s", sample.id, e)
            tile = Image.new("RGB", (TILE, TILE), (40, 40, 40))
            ImageDraw.Draw(tile).multiline_text((8, 8), "\n".join(textwrap.wrap(f"unreadable: {e}", 36)[:8]),
                                                fill="white")
        tile.thumbnail((TILE, TILE))
        x, y = (k % cols) * TILE, (k // cols) * (TILE + CAPTION)
        grid.paste(tile, (x + (TILE - tile.width) // 2, y))
        answer = {k2: v for k2, v in sample.answer.items() if k2 != "masks"}
        caption = f"[{sample.task}] {sample.question} -> {answer}"
        draw.multiline_text((x + 4, y + TILE + 2), "\n".join(textwrap.wrap(caption, 40)[:4]), fill="black")
    out = Path(out or root / "preview.png")
    grid.save(out)
    return out
