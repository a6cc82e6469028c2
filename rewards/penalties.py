"""Shaping terms that do not look at the answer: length and repetition penalties."""

from __future__ import annotations

from typing import Any

from vlmr.rewards.base import Reward
from vlmr.rewards.registry import register_reward

CHARS_PER_TOKEN = 4  # length estimate when token ids are not given (eval, plain strings)


@register_reward("length")
class LengthPenalty(Reward):
    """DAPO's overlong soft penalty (Yu et al., 2025): 0 while short, a linear ramp, then -1.

    With ``L`` the completion length in tokens (``completion_ids`` from trl, else
    ``len(text) / 4``): ``0`` if ``L <= max_length - cache``;
    ``(max_length - cache - L) / cache`` up to ``max_length``; ``-1`` beyond.

    Args:
        max_length: hard length budget in tokens (default 1024).
        cache: width of the soft ramp in tokens (default 256).

    Returns:
        A value in [-1, 0] for every completion.

    >>> r = LengthPenalty(max_length=10, cache=4)
    >>> r(["a", "b", "c"], completion_ids=[[1] * 6, [1] * 8, [1] * 11])
    [0.0, -0.5, -1.0]
    """

    columns = ()  # the completion only (and trl's completion_ids)

    def __init__(self, max_length: int = 1024, cache: int = 256):
        if not 0 < cache <= max_length:
            raise ValueError(f"need 0 < cache <= max_length, got cache={cache}, max_length={max_length}")
        self.max_length = int(max_length)
        self.cache = int(cache)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float:
        ids = context.get("completion_ids")
        length = len(ids) if ids is not None else len(prediction or "") / CHARS_PER_TOKEN
        start = self.max_length - self.cache
        if length <= start:
            return 0.0
        if length > self.max_length:
            return -1.0
        return (start - length) / self.cache


@register_reward("repetition")
class RepetitionPenalty(Reward):
    """Penalty for repeated word n-grams (open-r1): ``max_penalty * (1 - unique / total)``.

    Args:
        ngram_size: n-gram length in words (default 3).
        max_penalty: penalty of a fully repeated text, <= 0 (default -1.0).

    Returns:
        A value in [max_penalty, 0] for every completion; 0 for texts shorter than one n-gram.

    >>> r = RepetitionPenalty()
    >>> r(["the cat sat on the mat", "go go go go go go"])
    [0.0, -0.75]
    """

    columns = ()  # the completion only

    def __init__(self, ngram_size: int = 3, max_penalty: float = -1.0):
        if ngram_size < 1:
            raise ValueError(f"ngram_size must be >= 1, got {ngram_size}")
        if max_penalty > 0:
            raise ValueError(f"max_penalty must be <= 0 (it is a penalty), got {max_penalty}")
        self.ngram_size = int(ngram_size)
        self.max_penalty = float(max_penalty)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float:
        words = (prediction or "").lower().split()
        n = self.ngram_size
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        if not grams:
            return 0.0
        return self.max_penalty * (1.0 - len(set(grams)) / len(grams)) + 0.0
