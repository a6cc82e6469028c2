"""Charades-STA as released (Gao et al., ICCV 2017) and lmms-eval's Hub copy.

The release's ``charades_sta_{train,test}.txt``: lines ``VIDEO START END##sentence`` (3,720 in the
test file), videos in ``Charades_v1_480/``. The Hub copy ``lmms-lab/charades_sta``
(``data/test-*.parquet``, rows ``video, caption, timestamp``) stores its times as float16,
rounded back here to the release's 0.1 s (24.296875 -> 24.3).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.hub import HubCopy

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


def charades_hub_rows(path: str | Path, split: str | None, on_skip: Callable[[str], Any]) -> list[GroundingRow]:
    """Rows of the Hub copy's ``split`` (default ``test``); a row without a video, a sentence and
    ``0 <= start < end`` is left out and its reason passed to ``on_skip``."""
    copy = HubCopy(path)
    rows = []
    for row in copy.rows(copy.choose_split(split, prefer=("test",))):
        try:
            start, end = (round(float(t), 1) for t in row["timestamp"])
            vid, sentence = Path(str(row["video"])).stem, str(row["caption"]).strip()
        except (KeyError, TypeError, ValueError):
            on_skip("row without video, caption or a [start, end] timestamp")
            continue
        if vid and sentence and 0 <= start < end:
            rows.append((vid, start, end, sentence))
        else:
            on_skip("span not 0 <= start < end, or no sentence")
    return rows
