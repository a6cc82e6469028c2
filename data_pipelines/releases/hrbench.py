"""HR-Bench 4K and 8K as released (``DreamMr/HR-Bench``): ``hr_bench_4k.tsv`` / ``hr_bench_8k.tsv``
(VLMEvalKit's TSV: ``index, question, A``-``D``, ``answer, category, image`` base64,
``cycle_category``: 0-3, the option rotation), or the Hub copy with the same columns (splits ``hrbench_4k`` /
``hrbench_8k``; its ``cycle_category`` may be a number). The repository holds them as ``hr_bench_4k.parquet`` /
``hr_bench_8k.parquet`` beside the TSVs: a snapshot folder is read through the file of the size asked for, since
``datasets`` reads a folder of both files as one split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import OnSkip, embedded_rows, mcq_sample, media_root
from vlmr.data_pipelines.releases.rows import each_row
from vlmr.data_pipelines.releases.vlmevalkit_tsv import tsv_options
from vlmr.schema import Sample

HUB_SPLITS = {"hrbench": ("hrbench_4k", "hrbench_8k"), "hrbench4k": ("hrbench_4k",), "hrbench8k": ("hrbench_8k",)}
RELEASE_FILES = {"hrbench": ("hr_bench_4k", "hr_bench_8k"), "hrbench4k": ("hr_bench_4k",),
                 "hrbench8k": ("hr_bench_8k",)}


def release_file(path: Path, name: str) -> Path:
    """``path``, or in a snapshot folder of the repository the file of ``name``'s size (its parquet, else its
    TSV; ``hrbench``: 4K first), when the folder holds one.

    >>> release_file(Path("hr_bench_8k.tsv"), "hrbench4k")
    PosixPath('hr_bench_8k.tsv')
    """
    if path.is_dir():
        for stem in RELEASE_FILES.get(name, RELEASE_FILES["hrbench"]):
            for suffix in (".parquet", ".tsv"):
                if (path / f"{stem}{suffix}").is_file():
                    return path / f"{stem}{suffix}"
    return path


def hrbench_samples(path: str | Path, on_skip: OnSkip, name: str = "hrbench", split: str | None = None
                    ) -> list[Sample]:
    """Every row of the TSV or Hub copy at ``path`` (a Hub copy's ``split``, else the first of
    ``name``'s splits it holds: both for another name), images in the media cache."""
    if split is None:
        path = release_file(Path(path), name)
    root = media_root(path)

    def sample(i: int, row: dict[str, Any]) -> Sample | None:
        cycle = row.get("cycle_category")  # 0 is a cycle (the Hub copy may hold the number 0), not a missing one
        meta = {"category": str(row["category"]), "cycle_category": "" if cycle is None else str(cycle)}
        return mcq_sample(str(row["index"]), name, row["question"], tsv_options(row), row["answer"], row["_images"],
                          root, meta, on_skip)

    rows = embedded_rows(path, on_skip, name, split, HUB_SPLITS.get(name, HUB_SPLITS["hrbench"]))
    return each_row(rows, sample, on_skip)
