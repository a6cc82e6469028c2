"""Medical VQA scores as LLaVA-Med reports them (Li et al., NeurIPS 2023), strict match beside.

The rules of ``llava/eval/run_eval.py`` and ``eval_metrics/{glossary,evaluate_metrics}.py`` of
microsoft/LLaVA-Med, on the lower-cased prediction and ground truth after its normalisation
(:func:`normalize_answer`):

* ``closed_accuracy``: the ground truth appears in the prediction ("The lesion is on the left
  side" is right for ``left``; closed questions that are not yes/no work too). vlmr matches whole
  words where the script matches substrings (its ``"no" in "nodule"``);
* ``open_recall``: the share of ground-truth words found in the prediction, counted as the
  script counts them (each matched word weighs its count in the prediction);
* ``exact_match``: the normalised prediction equals the normalised ground truth (vlmr's strict
  second number, every question);
* ``closed_accuracy_llava_med_script``: the script's closed rule to the letter, for matching a
  paper's number: a prediction containing "yes" or "no" (substrings) is a hit when the ground
  truth is a substring of it and is otherwise left out of the average; a prediction without them
  is a miss. Leaving wrong yes/no answers out means a model that always says "yes" scores 1.0:
  this is why it is not the headline.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from vlmr.eval.answers import answer_text

# glossary.py: punctuation removed when it touches a space (or the text has a "digit,digit"),
# else replaced by a space; number words up to ten; articles dropped
_PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?",
                "!")
_DIGIT_COMMA = re.compile(r"\d,\d")
_PERIOD = re.compile(r"\.(?!\d)")
_NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = frozenset({"a", "an", "the"})


def normalize_answer(text: Any) -> str:
    """LLaVA-Med's ``normalize_word`` of the lower-cased text (its contraction table left out).

    >>> normalize_answer("Left-sided pleural effusion."), normalize_answer("XR - Plain Film"), normalize_answer("Two")
    ('left sided pleural effusion', 'xr plain film', '2')
    """
    text = str(text).lower()
    out = text
    drop_all = bool(_DIGIT_COMMA.search(text))
    for p in _PUNCTUATION:
        out = out.replace(p, "" if drop_all or f"{p} " in text or f" {p}" in text else " ")
    out = _PERIOD.sub("", out, count=32)  # the script passes re.UNICODE (32) where re.sub takes a count
    words = [_NUMBER_WORDS.get(w, w) for w in out.split()]
    return " ".join(w for w in words if w not in _ARTICLES).replace(",", "")


def words_appear(prediction: str, truth: str) -> bool:
    """Whether the words of ``truth`` appear, in order and adjacent, among those of ``prediction``.

    >>> words_appear("lesion is on left side", "left"), words_appear("yes nodule", "no")
    (True, False)
    """
    pred, gt = prediction.split(), truth.split()
    return bool(gt) and any(pred[i:i + len(gt)] == gt for i in range(len(pred) - len(gt) + 1))


def recall(prediction: str, truth: str) -> float:
    """LLaVA-Med's open-question recall of two normalised answers (``calculate_f1score``).

    >>> recall("left lower lobe", "left lung"), recall("left left", "left lung")
    (0.5, 0.6666666666666666)
    """
    pred, gt = Counter(normalize_answer(prediction).split()), Counter(normalize_answer(truth).split())
    true_pos = sum(n for w, n in pred.items() if w in gt)
    false_neg = sum(n for w, n in gt.items() if w not in pred)
    return true_pos / (true_pos + false_neg) if pred and gt and true_pos else 0.0


def closed_script(prediction: str, truth: str) -> float | None:
    """The script's closed-question verdict: 1, 0, or ``None`` (left out of the average).

    >>> closed_script("no", "yes"), closed_script("yes", "yes"), closed_script("left", "left")
    (None, 1.0, 0.0)
    """
    if "yes" in prediction or "no" in prediction:
        return 1.0 if truth in prediction else None
    return 0.0


def medical_scores(response: str, target: Any, closed: bool) -> dict[str, Any]:
    """Per-question scores of one response (its ``<answer>`` text) to a closed or open question.

    >>> medical_scores("<answer>The lesion is on the left side.</answer>", "Left", closed=True)["closed_accuracy"]
    1.0
    >>> medical_scores("<answer>left lower lobe</answer>", "left lung", closed=False)["open_recall"]
    0.5
    """
    raw = answer_text(response)
    pred, gt = normalize_answer(raw), normalize_answer(target)
    out: dict[str, Any] = {"exact_match": float(bool(pred) and pred == gt), "_pred": raw}
    if closed:
        out["closed_accuracy"] = float(words_appear(pred, gt))
        verdict = closed_script(pred, gt)
        if verdict is not None:
            out["closed_accuracy_llava_med_script"] = verdict
    else:
        out["open_recall"] = recall(pred, gt)
    return out
