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

from collections.abc import Callable
from pathlib import Path
from typing import Any

from vlmr.eval.answers import span_scores
from vlmr.eval.benchmarks.video import VideoBenchmark
from vlmr.eval.hub import HubCopy, is_hub_copy
from vlmr.eval.loaders import find_file
from vlmr.eval.registry import MetricRule, ScoreContext, register_benchmark
from vlmr.schema import Sample

GroundingRow = tuple[str, float, float, str]  # (video id, start s, end s, sentence)


def parse_charades_sta(text: str, on_skip: Callable[[str], Any] | None = None) -> list[GroundingRow]:
    """Rows of a Charades-STA file: ``VIDEO START END##sentence`` lines (extra columns after END ignored).

    A malformed line, or one whose span is not ``0 <= START < END``, is left out and its
    reason passed to ``on_skip``; blank lines are ignored.

    >>> parse_charades_sta("3MSZA 24.3 30.4##person turn a light on.\\nX 5 2##reversed.", print)
    span not 0 <= start < end
    [('3MSZA', 24.3, 30.4, 'person turn a light on.')]
    """
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        head, sep, sentence = line.partition("##")
        fields = head.split()
        try:
            vid, start, end = fields[0], float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            reason = "malformed line (expected 'VIDEO START END##sentence')"
        else:
            reason = ("no sentence after '##'" if not (sep and sentence.strip())
                      else None if 0 <= start < end else "span not 0 <= start < end")
        if reason is None:
            rows.append((vid, start, end, sentence.strip()))
        elif on_skip is not None:
            on_skip(reason)
    return rows


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
            rows = self._hub_rows(path)
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

    def _hub_rows(self, path: str | Path) -> list[GroundingRow]:
        copy = HubCopy(path)
        rows = []
        for row in copy.rows(copy.choose_split(self.options.get("split"), prefer=("test",))):
            try:
                start, end = (round(float(t), 1) for t in row["timestamp"])
                vid, sentence = Path(str(row["video"])).stem, str(row["caption"]).strip()
            except (KeyError, TypeError, ValueError):
                self.skip("row without video, caption or a [start, end] timestamp")
                continue
            if vid and sentence and 0 <= start < end:
                rows.append((vid, start, end, sentence))
            else:
                self.skip("span not 0 <= start < end, or no sentence")
        return rows

    def media_root(self, path: str | Path) -> Path:
        """The release folder (``Charades_v1_480/`` inside; a Hub parquet sits in its ``data/``)."""
        path = Path(path)
        if path.is_dir():
            return path
        return path.parent.parent if path.suffix == ".parquet" and path.parent.name == "data" else path.parent

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Temporal IoU of the predicted span (reversed spans swapped) and the recall hits."""
        return span_scores(prediction.get("response") or "", sample.answer["span"])
