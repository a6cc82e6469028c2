"""Charades-STA (Gao et al., ICCV 2017): temporal sentence grounding, R@1 at IoU 0.3/0.5/0.7 and mIoU.

Data: the release's ``charades_sta_test.txt`` (lines ``VIDEO START END##sentence``, 3,720 in
the test file) with videos under ``Charades_v1_480/`` (option ``video_dir``); a folder holding
both also works; or the Hub copy ``lmms-lab/charades_sta`` (``data/test-*.parquet``, rows
``video, caption, timestamp``, with ``Charades_v1_480/`` unzipped beside ``data/``), whose
float16 timestamps are rounded to the release's 0.1 s (24.296875 -> 24.3). A row that is not
a video, a sentence and ``0 <= START < END`` is skipped and counted (``skipped_rows``).

Metric: lmms-eval's ``charades_sta`` scoring (``eval_tvg.py``): the first span written in
the answer (``[2.5, 7.0]``, ``2.5s - 7s``, ``0:02-0:07``; seconds) against the annotated
moment, a reversed span (``7.0 - 2.5``) swapped before the IoU; ``r@m`` = share with
temporal IoU ``>= m``, ``miou`` = mean IoU, unanswered counting as IoU 0. Ordinals ("the
2nd half") are not times. Ground-truth spans are used as annotated, also when they run past
the video's end (as lmms-eval and ``vlmr data build charades_sta`` do).

Deviations from lmms-eval's ``extract_time``: vlmr reads the ``<answer>`` part and takes
its first two times (lmms-eval searches the whole output for ``a - b``, then for numbers in
sentences with words like "start"/"end", after replacing every "to" by "-"); spans in
``hh:mm:ss``/``mm:ss`` are read in both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.charades import charades_hub_rows, parse_charades_sta
from vlmr.data_pipelines.releases.files import find_file
from vlmr.data_pipelines.releases.hub import is_hub_copy
from vlmr.eval.answers import span_scores
from vlmr.eval.benchmarks.video import VideoBenchmark
from vlmr.eval.registry import MetricRule, ScoreContext, register_benchmark
from vlmr.schema import Sample


@register_benchmark("charades_sta")
class CharadesSTA(VideoBenchmark):
    """Charades-STA test: R@1 IoU 0.3/0.5/0.7 and mIoU."""

    task = "temporal_grounding"
    primary_metric = "miou"

    headline = tuple(MetricRule(m, "lmms-eval charades_sta (eval_tvg.py): first span of the answer, a reversed span "
                                   "swapped, temporal IoU (r@m: IoU >= m)") for m in ("miou", "r@0.3", "r@0.5", "r@0.7"))

    def load(self, path: str | Path) -> list[Sample]:
        """The test file's lines or the Hub copy's rows; bad rows are skipped and counted."""
        video_dir = self.options.get("video_dir", "Charades_v1_480")
        if is_hub_copy(path):
            rows = charades_hub_rows(path, self.options.get("split"), self.skip)
        else:
            rows = parse_charades_sta(find_file(path, ("charades_sta_test.txt",)).read_text(encoding="utf-8"),
                                      self.skip)
        return [
            Sample(id=f"{vid}-{i:05d}", task="temporal_grounding", source="charades_sta",
                   question=f"When does this happen in the video: {sentence.rstrip('.')}?",
                   video={"path": f"{video_dir}/{vid}.mp4"},
                   answer={"span": [start, end]}, meta={"video_id": vid, "sentence": sentence})
            for i, (vid, start, end, sentence) in enumerate(rows)
        ]

    def media_root(self, path: str | Path) -> Path:
        """The release folder (``Charades_v1_480/`` inside; a Hub parquet sits in its ``data/``)."""
        path = Path(path)
        if path.is_dir():
            return path
        return path.parent.parent if path.suffix == ".parquet" and path.parent.name == "data" else path.parent

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Temporal IoU of the predicted span (reversed spans swapped) and the recall hits."""
        return span_scores(prediction.get("response") or "", sample.answer["span"])
