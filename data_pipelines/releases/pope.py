"""POPE's question files as released (``RUCAIBox/POPE``, ``output/``).

Nine files, one per dataset and negative-sampling setting: ``coco/coco_pope_{random,popular,
adversarial}.json`` and ``seem/{aokvqa,gqa}/{aokvqa,gqa}_pope_seem_{...}.json``, 3,000 questions
each, rows ``{"question_id", "image", "text", "label": "yes"|"no"}``. The COCO files are JSON Lines
despite their ``.json`` suffix and the SEEM ones (A-OKVQA, GQA) JSON lists: the content decides.
A line that is not a JSON object stays in place as ``None`` so its reader can skip and count it.
Images sit under an ``image_root`` as ``<image>``, ``val2014/<image>`` (COCO, A-OKVQA) or
``images/<image>`` (GQA). The Hub copy ``lmms-lab/POPE`` and VLMEvalKit's ``POPE.tsv`` are read too.

>>> import os, tempfile
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "coco_pope_random.json")
>>> _ = open(p, "w").write('{"question_id": 1, "text": "Is there a car?", "label": "no"}\\n{"broken\\n')
>>> pope_rows(p), pope_setting(p)
([{'question_id': 1, 'text': 'Is there a car?', 'label': 'no'}, None], ('coco', 'random'))
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import OnSkip, embedded_rows, is_embedded, media_root, sized
from vlmr.data_pipelines.releases.rows import each_row
from vlmr.schema import Sample, SchemaError

_NAME = re.compile(r"^(?P<dataset>[a-z]+)_pope_(?:seem_)?(?P<setting>random|popular|adversarial)$")
SETTINGS = ("random", "popular", "adversarial")
IMAGE_FOLDERS = ("", "val2014", "images")  # where a release image may sit under image_root


def pope_files(folder: str | Path) -> list[Path]:
    """The POPE question files under ``folder`` (any depth), in name order."""
    return sorted(p for p in Path(folder).rglob("*_pope_*.json") if _NAME.match(p.stem))


def pope_setting(path: str | Path) -> tuple[str, str]:
    """``(dataset, setting)`` a file's name declares (``gqa_pope_seem_popular.json`` -> ``("gqa", "popular")``)."""
    m = _NAME.match(Path(path).stem)
    if not m:
        raise ValueError(f"{path}: not a POPE file name (<dataset>_pope_[seem_]<random|popular|adversarial>.json)")
    return m["dataset"], m["setting"]


def pope_rows(path: str | Path) -> list[dict[str, Any] | None]:
    """The rows of one POPE file, a JSON list or JSON Lines; a line that is not a JSON object is ``None``."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise SchemaError(f"{path}: not UTF-8 text (byte {e.start})") from e
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as e:
            raise SchemaError(f"{path}: not one JSON list ({e})") from e
        return [row if isinstance(row, dict) else None for row in rows]
    out: list[dict[str, Any] | None] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        out.append(row if isinstance(row, dict) else None)
    return out


def pope_samples(path: str | Path, on_skip: OnSkip, image_root: str | Path | None = None,
                 split: str | None = None) -> list[Sample]:
    """Every question of the release's files at ``path`` (one file, or a folder: :func:`pope_files`),
    images under ``image_root``; or of its Hub copy (``split``) or VLMEvalKit's ``POPE.tsv``, whose
    questions shared by settings list them all (``category``: ``adversarial,popular``)."""
    root = media_root(path, image_root)

    def sample(key: str, question: Any, label: Any, images: list[str], dataset: str, settings: list[str]
               ) -> Sample | None:
        label = str(label or "").strip().lower()
        if label not in ("yes", "no") or not str(question or "").strip():
            on_skip("label is not yes or no, or no question")
            return None
        if not settings or any(s not in SETTINGS for s in settings):
            on_skip(f"setting not one of {', '.join(SETTINGS)}")
            return None
        return Sample(id=key, task="vqa", source="pope", question=str(question).strip(), images=images,
                      answer={"text": label}, meta={**sized(root, images), "dataset": dataset, "setting": settings,
                                                    "subset": [f"{dataset}/{s}" for s in settings]})

    def embedded(i: int, row: dict[str, Any]) -> Sample | None:
        settings = [s.strip() for s in str(row.get("category") or "").split(",") if s.strip()]
        key = row["index"] if "index" in row else row["question_id"]
        return sample(str(key), row["question"], row["answer"], row["_images"], str(row.get("dataset") or "coco"),
                      settings)

    def released(row: dict[str, Any] | None, dataset: str, setting: str) -> Sample | None:
        if row is None:
            on_skip("row is not a JSON object")
            return None
        image = next((f"{folder}/{row['image']}".lstrip("/") for folder in IMAGE_FOLDERS
                      if (root / folder / row["image"]).is_file()), None)
        if image is None:
            on_skip("image file not found")
            return None
        return sample(f"{dataset}_{setting}_{row['question_id']}", row["text"], row["label"], [image], dataset,
                      [setting])

    if is_embedded(path):
        return each_row(embedded_rows(path, on_skip, "pope", split), embedded, on_skip)
    files = [Path(path)] if Path(path).is_file() else pope_files(path)
    if not files:
        raise FileNotFoundError(f"no POPE question files (*_pope_*.json) under {path}")
    samples = []
    for file in files:
        dataset, setting = pope_setting(file)
        samples += each_row(pope_rows(file), lambda i, row, d=dataset, s=setting: released(row, d, s), on_skip)
    return samples
