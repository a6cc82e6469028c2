"""VisualProbe as Mini-o3's training recipe reads it: ``VisualProbe_Easy/val.json``,
``VisualProbe_Medium/val.json``, ``VisualProbe_Hard/val.json`` and the training split
``VisualProbe_train/train.json`` (JSON lists of rows ``problem``, ``images`` [paths], ``solution``;
``question`` / ``image`` / ``answer`` are read too; the recipe's ``data.image_key=images``,
``data.answer_key=solution``), images under an ``image_root`` (Mini-o3's ``BASE_IMAGE_DIR``): the release
names them from there (``VisualProbe_Hard/data/visual_probe_hard_60.jpg``), so a ``val.json`` given alone
finds them without that first folder, beside it (``data/...``, as each level's Hub repository holds them); or
a Hub copy with those columns, images embedded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.files import file_under
from vlmr.data_pipelines.releases.highres import OnSkip, embedded_rows, is_embedded, is_tsv, media_root, sized
from vlmr.data_pipelines.releases.rows import each_row, read_rows
from vlmr.rewards.parse import split_think_answer
from vlmr.schema import Sample


def difficulty_of(path: Path) -> str | None:
    """The difficulty a path names (``VisualProbe_Hard/val.json`` -> ``hard``), else ``None``.

    >>> difficulty_of(Path("data/VisualProbe_Medium/val.json")), difficulty_of(Path("val.json"))
    ('medium', None)
    """
    for part in reversed(path.parts):
        m = re.search(r"(easy|medium|hard)", part.lower())
        if m:
            return m[1]
    return None


def found_image(root: Path, image: str) -> str | None:
    """``image`` as it lies under ``root``: as named, else without its first folder; ``None`` when neither is."""
    return file_under(root, (p.as_posix() for p in (Path(image), Path(*Path(image).parts[1:])) if p.parts))


def sample_id(i: int, row: dict[str, Any], level: str | None) -> str:
    """A row's id: its ``doc_id`` (else ``id``, else its position) after the level, which keeps the three
    files' ids apart (each numbers its own), so a Hub copy's rows keep the release's ids.

    >>> sample_id(0, {"doc_id": "visual_probe_hard_60"}, "hard"), sample_id(3, {}, None)
    ('hard-visual_probe_hard_60', '3')
    """
    key = row.get("doc_id", row.get("id", i))
    return f"{level}-{key}" if level else str(key)


def visualprobe_samples(path: str | Path, on_skip: OnSkip, image_root: str | Path | None = None,
                        difficulty: str | None = None, split: str | None = None) -> list[Sample]:
    """Every question of one ``val.json`` or ``train.json``, of the folder holding the three levels (difficulty
    from the folder names) or the training file, or of a Hub copy (``split``; ``difficulty`` or the one its
    path names). Training rows have no difficulty (``unknown``)."""
    path, root = Path(path), media_root(path, image_root)

    def sample(key: str, row: dict[str, Any], images: list[str], level: str | None) -> Sample | None:
        question = str(row.get("problem", row.get("question")) or "").replace("<image>", "").strip()
        solution = str(row.get("solution", row.get("answer")) or "")
        truth = (split_think_answer(solution)[1] or "").strip()  # a solution may carry <answer> tags
        if not question or not truth:
            on_skip("row without question or solution")
            return None
        return Sample(id=key, task="vqa", source="visualprobe", question=question, images=images,
                      answer={"text": truth}, meta={**sized(root, images), "difficulty": level or "unknown"})

    def released(i: int, row: dict[str, Any], level: str | None) -> Sample | None:
        images = row.get("images", row.get("image"))
        named = images if isinstance(images, list) else [images] if images else []
        images = [found_image(root, str(image)) for image in named]
        if not images or not all(images):
            on_skip("image file not found")
            return None
        return sample(sample_id(i, row, level), row, images, level)

    if is_embedded(path):
        level = difficulty or difficulty_of(path)
        rows = embedded_rows(path, on_skip, "visualprobe", split, image_column="image" if is_tsv(path) else "images")
        return each_row(rows, lambda i, row: sample(sample_id(i, row, level), row, row["_images"], level), on_skip)
    files = [path] if path.is_file() else next(
        (found for pattern in ("*/val.json", "val.json", "train.json") if (found := sorted(path.glob(pattern)))), [])
    if not files:
        raise FileNotFoundError(f"no VisualProbe val.json or train.json under {path} (expected "
                                "VisualProbe_<Level>/val.json or VisualProbe_train/train.json)")
    samples: list[Sample] = []
    for file in files:
        level = difficulty_of(file.relative_to(path) if path.is_dir() else file) or difficulty_of(file)
        samples += each_row(read_rows(file), lambda i, row, lv=level: released(i, row, lv), on_skip)
    return samples
