"""Forgiving parsers of model output: they never raise, and return ``None`` when nothing parses.

Every parser takes the answer text (usually the ``<answer>`` part, see
:func:`split_think_answer`) and tolerates extra prose, code fences, single quotes and
trailing commas. Coordinates come back exactly as the model wrote them, in the model's
frame; converting them to original pixels is :mod:`vlmr.formats`' job.

>>> split_think_answer("<think>two red cubes</think><answer>2</answer>")
('two red cubes', '2')
>>> parse_boxes('```json\\n[{"bbox_2d": [10, 20, 110, 220], "label": "man"},]\\n```')
[[10.0, 20.0, 110.0, 220.0]]
>>> parse_count("twelve dogs"), parse_choice("The answer is (B)."), parse_span("from 2.5s to 7s")
(12, 'B', [2.5, 7.0])
"""

from __future__ import annotations

import json
import math
import re
import string
from typing import Any

_NUM = r"[-+\u2212]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_SEP = r"\s*[,;]?\s*"

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL)
_ANSWER_BLOCK = re.compile(r"<answer>((?:(?!<answer>).)*?)</answer>", re.DOTALL)  # innermost
_TAG = re.compile(r"</?(?:think|answer)>")
_STRICT = re.compile(r"\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*", re.DOTALL)

_OBJECT = re.compile(r"\{[^{}]*\}")
_X = rf"({_NUM})"  # one captured number
_FOUR = rf"\[\s*{_X}{_SEP}{_X}{_SEP}{_X}{_SEP}{_X}\s*,?\s*\]"  # [x1, y1, x2, y2]
_TWO = rf"\s*{_X}{_SEP}{_X}\s*,?\s*"  # x, y
_BOX_KEY = re.compile(rf"[\"']?(?:bbox_2d|bbox|box_2d|box)[\"']?\s*:\s*{_FOUR}")
_POINT_KEY = re.compile(rf"[\"']?points?(?:_2d|_\d+)?[\"']?\s*:\s*\[{_TWO}\]")
_LABEL_KEY = re.compile(r"[\"']?label[\"']?\s*:\s*[\"']([^\"']*)[\"']")
_PAREN_BOX = re.compile(rf"\({_TWO}\)\s*[,;]?\s*(?:to|-)?\s*\({_TWO}\)")  # (x1,y1),(x2,y2)
_BARE_BOX = re.compile(_FOUR)
_ROUND_BOX = re.compile(rf"\(\s*{_X}{_SEP}{_X}{_SEP}{_X}{_SEP}{_X}\s*,?\s*\)")  # (x1, y1, x2, y2)
# GLM-4.xV marks its boxes with <|begin_of_box|> ... <|end_of_box|>, brackets of any style ([], [[]], (), <>):
# four numbers in a row inside the marks are a box, whatever stands between them.
_BOX_MARKS = re.compile(r"<\|begin_of_box\|>(.*?)<\|end_of_box\|>", re.DOTALL)
_MARKED_BOX = re.compile(rf"{_X}[\s,;()\[\]<>]+{_X}[\s,;()\[\]<>]+{_X}[\s,;()\[\]<>]+{_X}")
_BARE_POINT = re.compile(rf"[\[(]{_TWO}[\])]")

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_WORD_NUMBER = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:[\s-]+(" + "|".join(k for k in _UNITS if _UNITS[k] < 10) + r"))?"
    r"|(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r"))(?:\s+(hundred|thousand))?\b",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"(?<![\w.])[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_NUMBER = re.compile(
    r"(?<![\w.])([-+\u2212]?)\$?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:\s*[eE]([-+]?\d+)"
    r"|\s*[x\u00d7*]\s*10\s*\^\s*([-+]?\d+))?\s*(%)?"
)


MAX_ANSWER_CHARS = 20_000  # an answer longer than ~5k tokens is not an answer (and would slow every parse)
MAX_MASK_CHARS = 500_000  # RLE strings and polygons of large images are long


def _clean(text: Any, limit: int = MAX_ANSWER_CHARS) -> str:
    """Text or ``""``: non-strings and over-long texts give ``""``, code fences are dropped."""
    if not isinstance(text, str) or len(text) > limit:
        return ""
    return re.sub(r"```[a-zA-Z]*", " ", text)


def _finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _float(token: str) -> float:
    return float(token.replace("\u2212", "-"))


def split_think_answer(text: Any, strict: bool = False) -> tuple[str | None, str | None]:
    """Split a completion into ``(thinking, answer)``.

    Strict: the whole text must be ``<think>...</think><answer>...</answer>`` (whitespace
    around allowed, no nested tags), else ``(None, None)``. Lenient: the answer is the last
    innermost ``<answer>`` block outside ``<think>``; without one, the text after
    ``</think>`` (or the whole text). An ``<answer>`` written inside ``<think>`` never counts.

    >>> split_think_answer("<think>a</think> <answer>B</answer>", strict=True)
    ('a', 'B')
    >>> split_think_answer("<think>maybe <answer>A</answer></think>")
    ('maybe <answer>A</answer>', None)
    >>> split_think_answer("B")
    (None, 'B')
    """
    if not isinstance(text, str):
        return None, None
    if strict:
        m = _STRICT.fullmatch(text)
        if not m or _TAG.search(m.group(1)) or _TAG.search(m.group(2)):
            return None, None
        return m.group(1).strip(), m.group(2).strip()
    think_m = re.search(r"<think>(.*?)</think>", text, re.DOTALL)
    think = think_m.group(1).strip() if think_m else None
    rest = _THINK_BLOCK.sub(" ", text)
    if "</think>" in rest:
        rest = rest.rsplit("</think>", 1)[1]
    rest = rest.split("<think>", 1)[0]  # an unterminated thought holds no answer
    answers = _ANSWER_BLOCK.findall(rest)
    if answers:
        answer = answers[-1]
    elif "<answer>" in rest:
        answer = rest.rsplit("<answer>", 1)[1]
    else:
        answer = rest
    answer = _TAG.sub(" ", answer).strip()
    return think, answer or None


def parse_boxes(text: Any) -> list[list[float]] | None:
    """Boxes ``[[x1, y1, x2, y2], ...]`` in the order written, or ``None``.

    Understands GLM-4.xV's ``<|begin_of_box|>...<|end_of_box|>`` marks (any brackets inside), ``{"bbox_2d": [...]}``
    objects (and lists of them), ``(x1,y1),(x2,y2)`` pairs, bare ``[x1, y1, x2, y2]`` lists and
    ``(x1, y1, x2, y2)`` tuples. Boxes with non-finite numbers are dropped.

    >>> parse_boxes("(10,20),(30,40)")
    [[10.0, 20.0, 30.0, 40.0]]
    >>> parse_boxes("[[1, 2, 3, 4], [5.5, 6, 7, 8]]")
    [[1.0, 2.0, 3.0, 4.0], [5.5, 6.0, 7.0, 8.0]]
    >>> parse_boxes("It is at <|begin_of_box|>(100,120),(500,510)<|end_of_box|>.")
    [[100.0, 120.0, 500.0, 510.0]]
    >>> parse_boxes("no box here") is None
    True
    """
    text = _clean(text)
    marked = " ".join(_BOX_MARKS.findall(text))
    boxes = [[_float(g) for g in m.groups()] for m in _MARKED_BOX.finditer(marked)]
    boxes = [b for b in boxes if _finite(b)]
    if boxes:
        return boxes
    for pattern in (_BOX_KEY, _PAREN_BOX, _BARE_BOX, _ROUND_BOX):
        boxes = [[_float(g) for g in m.groups()] for m in pattern.finditer(text)]
        boxes = [b for b in boxes if _finite(b)]
        if boxes:
            return boxes
    return None


def parse_points(text: Any) -> list[list[float]] | None:
    """Points ``[[x, y], ...]`` from ``{"point_2d": [x, y]}`` objects, or bare ``[x, y]``/``(x, y)``.

    Keys ``point``, ``points``, ``point_2d`` and Seg-Zero's ``points_1``/``points_2`` count.

    >>> parse_points('{"bbox_2d": [0, 0, 9, 9], "point_2d": [4, 5]}')
    [[4.0, 5.0]]
    >>> parse_points("click at (12.5, 30)")
    [[12.5, 30.0]]
    """
    text = _clean(text)
    points = [[_float(g) for g in m.groups()] for m in _POINT_KEY.finditer(text)]
    if not points and not _BOX_KEY.search(text):
        points = [[_float(g) for g in m.groups()] for m in _BARE_POINT.finditer(text)]
    points = [p for p in points if _finite(p)]
    return points or None


def parse_labels(text: Any) -> list[str] | None:
    """Object labels (``"label": "..."``) in the order written, or ``None``.

    >>> parse_labels('[{"bbox_2d": [1, 2, 3, 4], "label": "cat"}, {"bbox_2d": [5, 6, 7, 8], "label": "dog"}]')
    ['cat', 'dog']
    """
    labels = [m.group(1).strip() for m in _LABEL_KEY.finditer(_clean(text))]
    return labels or None


def parse_objects(text: Any) -> list[dict[str, Any]] | None:
    """Objects ``{"bbox_2d": [...], "label": str | None, "point_2d": [...] | None}`` with aligned fields.

    Used where labels must stay with their boxes (detection). Falls back to bare boxes.

    >>> parse_objects('[{"bbox_2d": [1, 2, 3, 4], "label": "cat"}]')
    [{'bbox_2d': [1.0, 2.0, 3.0, 4.0], 'label': 'cat', 'point_2d': None}]
    """
    text = _clean(text)
    objects = []
    for chunk in _OBJECT.findall(text):
        box = _BOX_KEY.search(chunk)
        if not box:
            continue
        coords = [_float(g) for g in box.groups()]
        if not _finite(coords):
            continue
        label = _LABEL_KEY.search(chunk)
        point = _POINT_KEY.search(chunk)
        xy = [_float(g) for g in point.groups()] if point else None
        objects.append(
            {"bbox_2d": coords, "label": label.group(1).strip() if label else None,
             "point_2d": xy if xy and _finite(xy) else None}
        )  # fmt: skip
    if objects:
        return objects
    boxes = parse_boxes(text)
    return [{"bbox_2d": b, "label": None, "point_2d": None} for b in boxes] if boxes else None


def _word_value(m: re.Match) -> int:
    tens, unit, single, scale = m.groups()
    value = _TENS[tens.lower()] + (_UNITS[unit.lower()] if unit else 0) if tens else _UNITS[single.lower()]
    if scale:
        value *= 100 if scale.lower() == "hundred" else 1000
    return value


def parse_count(text: Any) -> int | None:
    """The last count written (digits with thousands commas, or words up to the thousands).

    The last number is the conclusion of a reasoning answer ("2 rows of 3, 6 in total" -> 6), as
    published counting evaluations read free prose. Negative or fractional numbers are not
    counts; a bare "no"/"none" answer counts as 0.

    >>> parse_count("1,000"), parse_count("There are twenty-one birds."), parse_count("3.0")
    (1000, 21, 3)
    >>> parse_count("There are 2 rows with 3 apples each, 6 in total."), parse_count("three cats and 2 dogs: five")
    (6, 5)
    >>> parse_count("None."), parse_count("-2"), parse_count("2.5")
    (0, None, None)
    """
    text = _clean(text)
    candidates = [(m.start(), m.group(0)) for m in _DIGITS.finditer(text)]
    candidates += [(w.start(), w) for w in _WORD_NUMBER.finditer(text)]
    if not candidates:
        return 0 if re.match(r"\s*(?:no|none)\b", text, re.IGNORECASE) else None
    _, last = max(candidates, key=lambda c: c[0])
    if isinstance(last, re.Match):
        return _word_value(last)
    try:
        value = float(last.replace(",", "").replace("\u2212", "-"))
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or value != int(value) or value > 1e12:
        return None
    return int(value)


def parse_number(text: Any, percent_as_fraction: bool = False) -> float | None:
    """The last number written: signs, decimals, thousands commas, ``1.5e3``/``1.5 x 10^3``, ``%``.

    Units and currency around it are ignored. A percentage keeps its written value
    (``"45%"`` -> 45.0) unless ``percent_as_fraction``. Falls back to number words.

    >>> parse_number("-3.5 cm"), parse_number("$1,234.50"), parse_number("2.5e-3")
    (-3.5, 1234.5, 0.0025)
    >>> parse_number("45%"), parse_number("45%", percent_as_fraction=True), parse_number("seven")
    (45.0, 0.45, 7.0)
    """
    text = _clean(text)
    matches = list(_NUMBER.finditer(text))
    if not matches:
        words = list(_WORD_NUMBER.finditer(text))
        return float(_word_value(words[-1])) if words else None
    sign, digits, exp, exp10, pct = matches[-1].groups()
    power = exp if exp is not None else exp10
    value = float(digits.replace(",", "") + (f"e{power}" if power is not None else ""))  # huge -> inf
    if sign in ("-", "\u2212"):
        value = -value
    if pct and percent_as_fraction:
        value /= 100.0
    return value if math.isfinite(value) else None


def parse_choice(text: Any, n_choices: int | None = None, choices: list[str] | None = None) -> str | None:
    """A multiple-choice letter ("(B)", "B.", "Answer: B", "the answer is b"), or ``None``.

    A hedge names no letter: listing several letters ("A B C D"), or two joined by "or" / "/"
    ("A or B", "the answer is B or C"). With ``choices`` (e.g. ``["A. cat", "B. dog"]``) an
    answer equal to one option's text maps to its letter.

    >>> parse_choice("B. a dog"), parse_choice("the answer is b"), parse_choice("A B C D")
    ('B', 'B', None)
    >>> parse_choice("A or B"), parse_choice("The answer is (B) or (A)."), parse_choice("Is it A or B? The answer is B.")
    (None, None, 'B')
    >>> parse_choice("dog", choices=["A. cat", "B. dog"]), parse_choice("E", n_choices=4), parse_choice("A. 27B")
    ('B', None, 'A')
    """
    text = _clean(text).strip()
    if not text:
        return None
    n = n_choices or (len(choices) if choices else None)
    valid = set(string.ascii_uppercase[:n] if n else string.ascii_uppercase)

    def pick(letter: str | None) -> str | None:
        letter = letter.upper() if letter else None
        return letter if letter in valid else None

    m = re.fullmatch(r"[(\[]?([A-Za-z])[)\].:]?", text)
    if m:
        return pick(m.group(1))
    m = _ANSWER_IS_UPPER.search(text) or _ANSWER_IS_LOWER.search(text)
    if m:
        return None if _HEDGE_AFTER.match(text, m.end()) else pick(m.group(1))
    if _HEDGE.search(text):
        return None
    # letters standing alone or with brackets/punctuation, not an article or "I" before a word
    found = {g for g in _LETTER.findall(text) if g in valid}
    if len(found) == 1:
        return found.pop()
    if choices and not found:
        norm = normalise_text(text)
        for i, option in enumerate(choices):
            body = re.sub(r"^\s*[(\[]?[A-Za-z][)\].:]\s*", "", str(option))
            if norm and norm == normalise_text(body):
                return pick(string.ascii_uppercase[i])
    return None


def normalise_text(text: str) -> str:
    """Lower-case, drop punctuation and articles, squeeze spaces (SQuAD's answer normalisation).

    >>> normalise_text("The  Eiffel-Tower!")
    'eiffeltower'
    """
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def parse_yes_no(text: Any) -> str | None:
    """``"yes"`` or ``"no"`` (also from true/false), or ``None`` when absent or both appear.

    >>> parse_yes_no("Yes, it is."), parse_yes_no("false"), parse_yes_no("yes or no")
    ('yes', 'no', None)
    """
    text = _clean(text).lower()
    if re.search(r"\b(?:yes|no|true|false)\s*(?:or|/|and)\s*(?:yes|no|true|false)\b", text):
        return None  # hedging: "yes or no"
    words = re.findall(r"[a-z]+", text)
    mapping = {"yes": "yes", "true": "yes", "no": "no", "false": "no"}
    if words and words[0] in mapping:
        return mapping[words[0]]
    found = {mapping[w] for w in words if w in mapping}
    return found.pop() if len(found) == 1 else None


_PUNCTUATION = frozenset(string.punctuation)
_ANSWER_IS_UPPER = re.compile(r"(?i:answer|option|choice)(?:\s+is)?\s*[:\-]?\s*[(\[]?([A-Z])(?![A-Za-z])")
_ANSWER_IS_LOWER = re.compile(
    r"(?i:answer|option|choice)(?:\s+is)?\s*[:\-]?\s*[(\[]?([a-z])[)\]]?\s*[.!]?\s*$"
)
_OR = r"[)\]]?\.?\s*(?:\bor\b|/)\s*[(\[]?"  # "A or B", "(A)/(B)"
_HEDGE_AFTER = re.compile(_OR + r"[A-Za-z](?![A-Za-z])")
_HEDGE = re.compile(r"(?<![A-Za-z'])[(\[]?[A-Z]" + _OR + r"[A-Z](?![A-Za-z'])")
# a letter inside a token ("27B", "B2", "3D") is part of that token, not an option
_LETTER = re.compile(r"(?<![A-Za-z0-9'])[(\[]?([A-Z])[)\].:]?(?![A-Za-z0-9'])(?!\s+[a-z])")
# A plain number is a time unless an ordinal suffix follows ("the 2nd half", "12th second").
_TIME = re.compile(r"(?<![\w.:])(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)(?![\w:])"
                   r"|(?<![\w.])(\d+(?:\.\d+)?|\.\d+)(?!\d|(?i:st|nd|rd|th)\b)")


def parse_span(text: Any) -> list[float] | None:
    """A time span ``[start, end]`` in seconds from the first two times written, or ``None``.

    Understands "2.5 - 7.0 seconds", "from 2.5s to 7s", "0:02-0:07", "1:02:03" and "[2.5, 7.0]";
    ordinals ("the 2nd half") are not times. The order is kept as written (a reversed span
    stays reversed: the ``temporal_iou`` reward scores it 0, evaluation decides for itself).

    >>> parse_span("2.5 - 7.0 seconds"), parse_span("0:02-0:07"), parse_span("[2.5, 7.0]")
    ([2.5, 7.0], [2.0, 7.0], [2.5, 7.0])
    >>> parse_span("in the 2nd half, from 12 to 20s")
    [12.0, 20.0]
    >>> parse_span("at 3s") is None
    True
    """
    text = _clean(text)
    times = []
    for m in _TIME.finditer(text):
        hours, minutes, seconds, plain = m.groups()
        if plain is not None:
            times.append(float(plain))
        else:
            times.append(float(hours or 0) * 3600 + float(minutes) * 60 + float(seconds))
        if len(times) == 2:
            break
    return times if len(times) == 2 and _finite(times) else None


def parse_masks(text: Any) -> list[dict[str, Any]] | None:
    """Masks as written: COCO RLE dicts (``{"size": [h, w], "counts": ...}``) or ``{"polygon": [...]}``.

    Polygons come as ``{"polygon": [[x, y], ...]}`` / ``{"segmentation": [[x1, y1, ...]]}``;
    they stay in the model's frame (convert with :mod:`vlmr.formats`, rasterise with
    :func:`vlmr.rewards.metrics.to_rle`).

    >>> parse_masks('{"size": [2, 2], "counts": "04"}')
    [{'size': [2, 2], 'counts': '04'}]
    >>> parse_masks('{"polygon": [[0, 0], [4, 0], [4, 4]]}')
    [{'polygon': [[0.0, 0.0, 4.0, 0.0, 4.0, 4.0]]}]
    """
    text = _clean(text, MAX_MASK_CHARS)
    masks = []
    for value in _json_values(text):
        for item in value if isinstance(value, list) else [value]:
            mask = _mask_from_json(item)
            if mask is not None:
                masks.append(mask)
    return masks or None


def _json_values(text: str) -> list[Any]:
    """JSON values found in text: the whole text if it parses, else each ``{...}`` object."""
    fixed = re.sub(r",\s*([\]}])", r"\1", text.strip())
    try:
        return [json.loads(fixed)]
    except (ValueError, RecursionError):
        pass
    values = []
    for chunk in re.findall(r"\{(?:[^{}]|\{[^{}]*\})*\}", fixed):
        try:
            values.append(json.loads(chunk))
        except (ValueError, RecursionError):
            continue
    return values


def _mask_from_json(item: Any) -> dict[str, Any] | None:
    """One mask dict from a parsed JSON value, or ``None`` if it is not a usable mask."""
    if not isinstance(item, dict):
        return None
    size, counts = item.get("size"), item.get("counts")
    if (
        isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and 0 < v < 100_000 for v in size)
        and (isinstance(counts, str) or (isinstance(counts, list) and all(isinstance(c, int) for c in counts)))
    ):  # fmt: skip
        return {"size": size, "counts": counts}
    poly = item.get("polygon", item.get("segmentation"))
    if not isinstance(poly, list) or not poly:
        return None
    if all(isinstance(p, list) and len(p) == 2 for p in poly):
        poly = [[v for pt in poly for v in pt]]
    elif all(isinstance(v, (int, float)) for v in poly):
        poly = [poly]
    try:
        polys = [[float(v) for v in p] for p in poly if isinstance(p, list)]
    except (TypeError, ValueError):
        return None
    polys = [p for p in polys if len(p) >= 6 and len(p) % 2 == 0 and _finite(p)]
    return {"polygon": polys} if polys else None
