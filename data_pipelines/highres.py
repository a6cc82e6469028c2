"""The high-resolution benchmarks as vlmr datasets: V*, HR-Bench, POPE, MME-RealWorld, TreeBench,
VisualProbe, so a run can train on one and evaluate on another.

Each source reads its release with the reader its benchmark uses (every layout it accepts: the
authors' files, the Hub copy, VLMEvalKit's TSV; :mod:`vlmr.data_pipelines.releases`), so a record
is the sample the benchmark scores; rows the benchmark skips are skipped and counted here too.
Images are copied into the dataset once each (a TSV's base64 images are already files of the media
cache)::

    vlmr data build vstar --out data/vstar --annotations vstar_bench/
    vlmr data build hrbench8k --out data/hr8k --annotations hr_bench_8k.tsv
    vlmr data build pope --out data/pope --annotations POPE/output --image_root coco/
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from vlmr.data_pipelines.build import Built, Skipped, shard_records
from vlmr.data_pipelines.releases.highres import media_root
from vlmr.data_pipelines.releases.hrbench import hrbench_samples
from vlmr.data_pipelines.releases.mme_realworld import mme_realworld_samples
from vlmr.data_pipelines.releases.pope import pope_samples
from vlmr.data_pipelines.releases.treebench import treebench_samples
from vlmr.data_pipelines.releases.visualprobe import visualprobe_samples
from vlmr.data_pipelines.releases.vstar import vstar_samples
from vlmr.schema import Sample, resolve_media

Reader = Callable[..., list[Sample]]  # (annotations, on_skip[, image_root=...]) -> samples


def released_records(benchmark: str, read: Reader, annotations: str, image_root: str | None = None,
                     limit: int | None = None, split: str = "test", shard: int = 0, num_shards: int = 1
                     ) -> Iterator[Built | Skipped]:
    """Records of ``benchmark``'s samples read by ``read`` from ``annotations`` (its release, Hub copy
    or TSV), images under ``image_root`` when ``read`` takes one."""
    skipped: list[str] = []
    samples = read(annotations, skipped.append, **({"image_root": image_root} if image_root else {}))
    yield from (Skipped(reason) for reason in skipped if shard == 0)  # counted once over all shards
    root = media_root(annotations, image_root)

    def record(i: int, sample: Sample) -> Built | Skipped:
        files = {rel.replace("/", "__"): resolve_media(root, rel) for rel in sample.images}
        if not all(path.is_file() for path in files.values()):
            return Skipped("image file not found")
        return Built({"id": sample.id, "task": sample.task, "source": sample.source or benchmark,
                      "question": sample.question, "choices": sample.choices, "images": [f"media/{n}" for n in files],
                      "answer": sample.answer, "meta": {**sample.meta, "split": split}},
                     {name: Path(path) for name, path in files.items()})

    yield from shard_records(samples, record, limit=limit, shard=shard, num_shards=num_shards)


def _source(benchmark: str, read: Reader, takes_image_root: bool = False) -> Callable[..., Iterator[Built | Skipped]]:
    def build(*, annotations: str, image_root: str | None = None, seed: int = 0, limit: int | None = None,
              split: str = "test", shard: int = 0, num_shards: int = 1) -> Iterator[Built | Skipped]:
        return released_records(benchmark, read, annotations, image_root if takes_image_root else None, limit, split,
                                shard, num_shards)

    build.__name__ = build.__qualname__ = f"build_{benchmark}"
    build.__doc__ = (f"{benchmark} as released, read by the reader its benchmark uses (``--benchmark {benchmark}``); "
                     f"``image_root`` where a release's images live when they are not beside it.\n\n"
                     f"``vlmr data build {benchmark} --out data/{benchmark} --annotations PATH``")
    return build


build_vstar = _source("vstar", vstar_samples)
build_hrbench = _source("hrbench", hrbench_samples)
build_hrbench4k = _source("hrbench4k", partial(hrbench_samples, name="hrbench4k"))
build_hrbench8k = _source("hrbench8k", partial(hrbench_samples, name="hrbench8k"))
build_pope = _source("pope", pope_samples, takes_image_root=True)
build_mme_realworld = _source("mme_realworld", mme_realworld_samples, takes_image_root=True)
build_mme_realworld_lite = _source("mme_realworld_lite", partial(mme_realworld_samples, name="mme_realworld_lite"),
                                   takes_image_root=True)
build_treebench = _source("treebench", treebench_samples)
build_visualprobe = _source("visualprobe", visualprobe_samples, takes_image_root=True)
