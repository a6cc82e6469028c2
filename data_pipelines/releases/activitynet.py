"""ActivityNet Captions as released (Krishna et al., ICCV 2017): ``train.json``, ``val_1.json``, ``val_2.json``,
each ``{video id: {"duration", "timestamps": [[start, end], ...], "sentences": [...]}}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def read_activitynet_captions(data: Any, on_skip: Callable[[str], Any]) -> list[tuple[str, float, float, str]]:
    """``(video, start, end, sentence)`` rows of an ActivityNet-Captions JSON
    (``{vid: {"duration", "timestamps": [[s, e]], "sentences": [...]}}``).

    Sentences lose the leading space the release puts before all but a video's first sentence.
    A video whose timestamps and sentences differ in number, or a span not ``0 <= s < e``, is
    skipped and its reason passed to ``on_skip``.

    >>> read_activitynet_captions({"v_a": {"timestamps": [[0, 2.5]], "sentences": ["  He waves."]}}, print)
    [('v_a', 0.0, 2.5, 'He waves.')]
    """
    rows = []
    for vid, ann in (data.items() if isinstance(data, dict) else ()):
        try:
            pairs = list(zip(ann["timestamps"], ann["sentences"], strict=True))
        except (KeyError, TypeError, ValueError):
            on_skip("video without matching timestamps and sentences")
            continue
        for span, sentence in pairs:
            try:
                start, end = float(span[0]), float(span[1])
            except (TypeError, ValueError, IndexError):
                start, end = -1.0, -1.0
            if 0 <= start < end and isinstance(sentence, str) and sentence.strip():
                rows.append((vid, start, end, sentence.strip()))
            else:
                on_skip("span not 0 <= start < end, or no sentence")
    return rows
