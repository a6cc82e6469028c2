"""Answer-correctness rewards: multiple choice, numbers, yes/no, text, math, ChartQA."""

from __future__ import annotations

import logging
import math
import re
import threading
from typing import Any

from vlmr.rewards.base import Reward
from vlmr.rewards.metrics import relaxed_match
from vlmr.rewards.parse import (
    normalise_text,
    parse_choice,
    parse_count,
    parse_number,
    parse_yes_no,
    split_think_answer,
)
from vlmr.rewards.registry import register_reward

logger = logging.getLogger(__name__)

_PLAIN_NUMBER = re.compile(r"\s*[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*%?\s*")


def numbers_close(pred: float | None, target: float, rel_tol: float, abs_tol: float) -> bool:
    """``|p - t| <= max(abs_tol, rel_tol * |t|)`` with finite numbers only.

    >>> numbers_close(101.0, 100.0, rel_tol=0.02, abs_tol=0.0), numbers_close(None, 1.0, 0.1, 0.1)
    (True, False)
    """
    if pred is None or not (math.isfinite(pred) and math.isfinite(target)):
        return False
    return abs(pred - target) <= max(abs_tol, rel_tol * abs(target))


def math_equal(prediction: str, gold: str) -> bool:
    """Whether two math answers are equivalent according to ``math-verify`` (Hugging Face).

    >>> math_equal("\\\\frac{1}{2}", "0.5"), math_equal("$x^2$", "x^3")
    (True, False)
    """
    from math_verify import parse, verify

    # math-verify times out with signal.alarm, which only works in the main thread.
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    try:
        gold_parsed = parse(gold, parsing_timeout=timeout) or parse(f"${gold}$", parsing_timeout=timeout)
        pred_parsed = parse(prediction, parsing_timeout=timeout) or parse(
            f"${prediction}$", parsing_timeout=timeout
        )
        if not gold_parsed or not pred_parsed:
            return False
        return bool(verify(gold_parsed, pred_parsed, timeout_seconds=timeout))
    except Exception as err:  # math-verify raises many types on odd input; a failed check is "not equal"
        logger.debug("math-verify failed on %r vs %r: %s", prediction, gold, err)
        return False


@register_reward("accuracy")
class AccuracyReward(Reward):
    """1.0 if the answer is correct, else 0.0; ``None`` when the sample has no checkable answer.

    The check follows the answer key: ``choice`` (letter; listing several letters is wrong),
    ``number`` (``|p - t| <= max(abs_tol, rel_tol * |t|)``), ``count`` (exact integer),
    ``text`` (yes/no; ``math-verify`` equivalence for the ``math`` task; numbers with the same
    tolerance; else exact match after SQuAD normalisation: lower case, no punctuation
    or articles). Substring matches never count, so an empty answer scores 0.

    Args:
        rel_tol: relative tolerance for numbers (default 1e-4).
        abs_tol: absolute tolerance for numbers (default 1e-6).
        use_math_verify: check ``math`` answers with math-verify (default True).

    Returns:
        1.0 or 0.0, or ``None`` if ``answer`` has none of the keys above.

    >>> r = AccuracyReward()
    >>> r(["<answer>B</answer>", "<answer>A B C D</answer>", "<answer>3.14159</answer>"],
    ...   answer=[{"choice": "B"}, {"choice": "B"}, {"number": 3.14159}])
    [1.0, 0.0, 1.0]
    >>> r.score("<answer>\\\\frac{1}{2}</answer>", {"text": "0.5"}, task="math")
    1.0
    """

    columns = ("answer", "task", "choices")

    def __init__(self, rel_tol: float = 1e-4, abs_tol: float = 1e-6, use_math_verify: bool = True):
        if rel_tol < 0 or abs_tol < 0:
            raise ValueError(f"tolerances must be >= 0, got rel_tol={rel_tol}, abs_tol={abs_tol}")
        self.rel_tol = float(rel_tol)
        self.abs_tol = float(abs_tol)
        self.use_math_verify = bool(use_math_verify)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        answer = answer or {}
        _, text = split_think_answer(prediction)
        if "choice" in answer:
            choices = context.get("choices") or None
            return float(parse_choice(text, choices=choices) == str(answer["choice"]).strip().upper())
        if "number" in answer:
            target = float(answer["number"])
            return float(numbers_close(parse_number(text), target, self.rel_tol, self.abs_tol))
        if "count" in answer:
            return float(parse_count(text) == int(answer["count"]))
        gold = answer.get("text")
        if not isinstance(gold, str) or not gold.strip():
            return None
        return float(self._text_correct(text or "", gold, context.get("task")))

    def _text_correct(self, text: str, gold: str, task: str | None) -> bool:
        if not text.strip():
            return False
        gold_yes_no = normalise_text(gold)
        if gold_yes_no in ("yes", "no"):
            return parse_yes_no(text) == gold_yes_no
        if task == "math" and self.use_math_verify:
            return math_equal(text, gold)
        if _PLAIN_NUMBER.fullmatch(gold):
            target = parse_number(gold)
            return target is not None and numbers_close(
                parse_number(text), target, self.rel_tol, self.abs_tol
            )
        return normalise_text(text) == normalise_text(gold)


@register_reward("chart_relaxed")
class ChartRelaxedReward(Reward):
    """ChartQA relaxed accuracy (Masry et al., 2022): 1.0 within 5% relative error of a non-zero target.

    ``|p - t| / |t| <= tolerance`` when both are numbers and ``t != 0`` (a trailing ``%``
    divides by 100), else a case-insensitive exact match, as in the official script.
    Unless ``strict``, a prediction with words around its number ("about 45 units") is
    retried with the number alone.

    Args:
        tolerance: maximum relative error (default 0.05).
        strict: only the official whole-string comparison (default False).

    Returns:
        1.0 or 0.0, or ``None`` without an ``answer["text"]`` or ``answer["number"]``.

    >>> r = ChartRelaxedReward()
    >>> r(["<answer>10.4</answer>", "<answer>about 45 units</answer>", "<answer></answer>"],
    ...   answer=[{"number": 10}, {"text": "46"}, {"text": "0"}])
    [1.0, 1.0, 0.0]
    """

    def __init__(self, tolerance: float = 0.05, strict: bool = False):
        if not 0 <= tolerance < 1:
            raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
        self.tolerance = float(tolerance)
        self.strict = bool(strict)

    def score(self, prediction: str, answer: dict[str, Any] | None = None, **context: Any) -> float | None:
        answer = answer or {}
        target = answer.get("text", answer.get("number"))
        if target is None or not str(target).strip():
            return None
        _, text = split_think_answer(prediction)
        if not text:
            return 0.0
        if relaxed_match(text, target, self.tolerance):
            return 1.0
        if self.strict:
            return 0.0
        number = parse_number(text)
        return float(number is not None and relaxed_match(repr(number), target, self.tolerance))
