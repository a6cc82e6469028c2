"""HR-Bench 4K and 8K as released (``DreamMr/HR-Bench``): ``hr_bench_4k.tsv`` / ``hr_bench_8k.tsv``
(VLMEvalKit's TSV: ``index, question, A``-``D``, ``answer, category, image`` base64,
``cycle_category``: 0-3, the option rotation), or the Hub copy with the same columns (splits ``hrbench_4k`` /
``hrbench_8k``; its ``cycle_category`` may be a number).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.highres import OnSkip, embedded_rows, mcq_sample, media_root
from vlmr.data_pipelines.releases.rows import each_row
from vlmr.data_pipelines.releases.vlmevalkit_tsv import tsv_options
from vlmr.schema import Sample

HUB_SPLITS = {"hrbench": ("hrbench_4k", "hrbench_8k"), "hrbench4k": ("hrbench_4k",), "hrbench8k": ("hrbench_8k",)}


def hrbench_samples(path: str | Path, on_skip: OnSkip, name: str = "hrbench", split: str | None = None
                    ) -> list[Sample]:
    """Every row of the TSV or Hub copy at ``path`` (a Hub copy's ``split``, else the first of
    ``name``'s splits it holds: both for another name), images in the media cache."""
    root = media_root(path)

    def sample(i: int, row: dict[str, Any]) -> Sample | None:
        cycle = row.get("cycle_category")  # 0 is a cycle (the Hub copy may hold the number 0), not a missing one
        meta = {"category": str(row["category"]), "cycle_category": "" if cycle is None else str(cycle)}
        return mcq_sample(str(row["index"]), name, row["question"], tsv_options(row), row["answer"], row["_images"],
                          root, meta, on_skip)

    rows = embedded_rows(path, on_skip, name, split, HUB_SPLITS.get(name, HUB_SPLITS["hrbench"]))
    return each_row(rows, sample, on_skip)
