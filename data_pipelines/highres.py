"""The high-resolution benchmarks as vlmr datasets: V*, HR-Bench, POPE, MME-RealWorld, TreeBench,
VisualProbe, so a run can train on one and evaluate on another.

Each source reads its release exactly as its benchmark does (every layout it accepts: the authors'
files, the Hub copy, VLMEvalKit's TSV; :mod:`vlmr.eval.benchmarks`), so a record is the sample the
benchmark scores; rows the benchmark skips are skipped and counted here too. Images are copied
into the dataset once each (a TSV's base64 images are already files of the media cache)::

    vlmr data build vstar --out data/vstar --annotations vstar_bench/
    vlmr data build hrbench8k --out data/hr8k --annotations hr_bench_8k.tsv
    vlmr data build pope --out data/pope --annotations POPE/output --image_root coco/
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from vlmr.data_pipelines.build import Built, Skipped, shard_records
from vlmr.schema import Sample, resolve_media


def released_records(benchmark: str, annotations: str, image_root: str | None = None, seed: int = 0,
                     limit: int | None = None, split: str = "test", shard: int = 0, num_shards: int = 1
                     ) -> Iterator[Built | Skipped]:
    """Records of ``benchmark``'s samples read from ``annotations`` (its release, Hub copy or TSV)."""
    from vlmr.eval import get_benchmark

    bench = get_benchmark(benchmark, **({"image_root": image_root} if image_root else {}))
    samples = bench.load(annotations)
    yield from (Skipped(reason) for reason, n in bench.skipped.items() for _ in range(n) if shard == 0)
    root = bench.media_root(annotations)

    def record(i: int, sample: Sample) -> Built | Skipped:
        files = {rel.replace("/", "__"): resolve_media(root, rel) for rel in sample.images}
        if not all(path.is_file() for path in files.values()):
            return Skipped("image file not found")
        return Built({"id": sample.id, "task": sample.task, "source": sample.source or benchmark,
                      "question": sample.question, "choices": sample.choices, "images": [f"media/{n}" for n in files],
                      "answer": sample.answer, "meta": {**sample.meta, "split": split}},
                     {name: Path(path) for name, path in files.items()})

    yield from shard_records(samples, record, limit=limit, shard=shard, num_shards=num_shards)


def _source(benchmark: str) -> Callable[..., Iterator[Built | Skipped]]:
    def build(*, annotations: str, image_root: str | None = None, seed: int = 0, limit: int | None = None,
              split: str = "test", shard: int = 0, num_shards: int = 1) -> Iterator[Built | Skipped]:
        return released_records(benchmark, annotations, image_root, seed, limit, split, shard, num_shards)

    build.__name__ = build.__qualname__ = f"build_{benchmark}"
    build.__doc__ = (f"{benchmark} as released, read by its benchmark (``vlmr eval run --benchmark {benchmark}``); "
                     f"``image_root`` where a release's images live when they are not beside it.\n\n"
                     f"``vlmr data build {benchmark} --out data/{benchmark} --annotations PATH``")
    return build


build_vstar = _source("vstar")
build_hrbench = _source("hrbench")
build_hrbench4k = _source("hrbench4k")
build_hrbench8k = _source("hrbench8k")
build_pope = _source("pope")
build_mme_realworld = _source("mme_realworld")
build_mme_realworld_lite = _source("mme_realworld_lite")
build_treebench = _source("treebench")
build_visualprobe = _source("visualprobe")
