"""Pixel-Reasoner's RL prompts (TIGER-Lab/PixelReasoner-RL-Data) -> ``vqa`` prompts for tool RL.

``vlmr data build pixel_reasoner_rl --out data/pixel_reasoner_rl --annotations PixelReasoner-RL-Data/<rows file>
--image-dir PixelReasoner-RL-Data/images``

The release is a table of rows (JSON, JSONL or parquet, read by :mod:`vlmr.data_pipelines.releases.rows`) with
``question``, ``image`` (a list of paths inside the unpacked ``images.zip``; of frame or clip paths inside
``videos.zip`` when ``is_video``), ``answer`` and ``qid``: the fields the authors' RL loader reads
(TIGER-AI-Lab/Pixel-Reasoner ``curiosity_driven_rl/openrlhf/datasets/prompts_dataset.py``) and TIGER-AI-Lab's
verl-tool ``examples/data_preprocess/pixel_reasoner/prepare_train.py`` maps to a verl row. A row becomes one
record: its question, its first image, ``answer`` as the reference. Skipped and counted: video rows (vlmr's
image prompts have no 16-frame clip), a row without an image or an answer, a missing or corrupted image, a
malformed row.
"""

from __future__ import annotations

from collections.abc import Iterator

from vlmr.data_pipelines.build import Built, Skipped, annotation_rows, image_prompt, shard_records
from vlmr.data_pipelines.releases.rows import MALFORMED


def build_pixel_reasoner_rl(
    *,
    annotations: str,
    image_dir: str,
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One ``vqa`` prompt per image row of the Pixel-Reasoner RL ``annotations`` (images under ``image_dir``)."""

    def record(i: int, row: dict) -> Built | Skipped:
        try:
            question, images, answer = str(row["question"]), row["image"], row["answer"]
        except MALFORMED as e:
            return Skipped.malformed(e)
        if row.get("is_video"):
            return Skipped("video row (its frames are a clip, not an image prompt)")
        images = [images] if isinstance(images, str) else list(images or [])
        if not images or not isinstance(images[0], str) or not images[0]:
            return Skipped("prompt without an image")
        return image_prompt(str(row.get("qid") or f"pixel-reasoner-rl-{i:06d}"), "pixel_reasoner_rl",
                            question.strip(), image_dir, images[0], f"pixel_reasoner/{images[0]}", answer, split)

    yield from shard_records(annotation_rows(annotations), record, limit=limit, shard=shard, num_shards=num_shards)
