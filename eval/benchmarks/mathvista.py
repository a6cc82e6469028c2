"""MathVista (Lu et al., ICLR 2024): math reasoning in visual contexts, accuracy.

Data, detected from ``--data``:

* the release's ``testmini.json`` (a dict ``{pid: problem}`` or a list; a folder holding it),
  each problem with ``pid, question, image, choices, unit, precision, answer, question_type,
  answer_type, metadata{split, source, context, category, task, grade, language, skills,
  img_width, img_height}`` and sometimes ``query``; images relative to the file (``images/1.jpg``);
* its Hub copy ``AI4Math/MathVista`` (parquet snapshot or ``save_to_disk`` folder): the same
  fields plus ``decoded_image`` and ``query``; option ``split`` (default ``testmini``).

Metric, as the official ``evaluation/calculate_score.py``:

* multiple choice: ``(B)`` or ``B`` maps to the B-th choice, anything else to the choice
  with the smallest Levenshtein distance; compared to the gold choice text;
* integer: ``str(int(float(x)))`` (so ``-3.9`` truncates to ``-3``; ``1,000`` fails);
* float: ``str(round(float(x), precision))`` (Python rounding: ``1.15`` -> ``1.1``);
* list: ``str(x)``; everything compared as strings. Accuracy overall and per
  ``question_type, answer_type, language, source, category, task, context, grade, skills``.

A prediction carrying ``extraction`` (the official stage-2 output, as in the official result
files ``{pid: {..., "response", "extraction"}}``, which ``vlmr eval score --predictions`` reads
directly) is normalised and compared exactly as above, never re-extracted. Otherwise vlmr
extracts from the ``<answer>`` text (:func:`extract_answer`): the official quick rules of
``extract_answer.py``, then vlmr's rules (choice letter; last number, thousands commas and
trailing punctuation dropped, number words read; last ``[...]`` list), then the optional LLM
extractor (the official few-shot prompt), and a candidate that does not normalise falls through
to the next; ``scores.json`` counts the answers of each path (``extracted_by_<path>``).

Deviations: where the official pipeline always calls GPT, vlmr's rules come first and the LLM
only when they find nothing, so a rule-only score is a lower bound of the GPT-extracted one;
an empty answer of vlmr's own extraction is unanswered (the official ``--ignore_empty_extractions``)
instead of earning the shortest choice, so silence and missing predictions score 0.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.files import find_file
from vlmr.data_pipelines.releases.hub import HubCopy, is_hub_copy
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.eval.predictions import PredictionsFile
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.rewards.parse import parse_choice, parse_number, split_think_answer
from vlmr.schema import Sample

EXTRACTION_PATHS = ("given", "official_rule", "vlmr_rule", "llm", "none")
BREAKDOWN_KEYS = (
    "question_type", "answer_type", "language", "source", "category", "task", "context", "grade", "skills",
)  # fmt: skip

# evaluation/prompts/ext_ans.py of the MathVista repository (the few-shot extraction prompt).
DEMO_PROMPT = """
Please read the following example. Then extract the answer from the model response and type it at the end of the prompt.

Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.
Question: Which number is missing?

Model response: The number missing in the sequence is 14.

Extracted answer: 14

Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.
Question: What is the fraction of females facing the camera?

Model response: The fraction of females facing the camera is 0.6, which means that six out of ten females in the group are facing the camera.

Extracted answer: 0.6

Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.
Question: How much money does Luca need to buy a sour apple candy and a butterscotch candy? (Unit: $)

Model response: Luca needs $1.45 to buy a sour apple candy and a butterscotch candy.

Extracted answer: 1.45

Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.
Question: Between which two years does the line  graph saw its maximum peak?

Model response: The line graph saw its maximum peak between 2007 and 2008.

Extracted answer: [2007, 2008]

Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.
Question: What fraction of the shape is blue?
Choices:
(A) 3/11
(B) 8/11
(C) 6/11
(D) 3/5

Model response: The correct answer is (B) 8/11.

Extracted answer: B
"""


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions), as ``Levenshtein.distance``.

    >>> levenshtein("kitten", "sitting"), levenshtein("", "abc"), levenshtein("same", "same")
    (3, 3, 0)
    """
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def hint_text(question_type: str, answer_type: str, precision: float | None) -> str:
    """The official ``build_query.py`` hint for a problem (``shot_type='solution'``)."""
    if question_type == "multi_choice":
        return "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end."
    if answer_type == "integer":
        return ("Hint: Please answer the question requiring an integer answer and provide the final value, "
                "e.g., 1, 2, 3, at the end.")
    if answer_type == "float" and precision == 1:
        return ("Hint: Please answer the question requiring a floating-point number with one decimal place and "
                "provide the final value, e.g., 1.2, 1.3, 1.4, at the end.")
    if answer_type == "float" and precision == 2:
        return ("Hint: Please answer the question requiring a floating-point number with two decimal places and "
                "provide the final value, e.g., 1.23, 1.34, 1.45, at the end.")
    if answer_type == "float":
        return (f"Hint: Please answer the question requiring a floating-point number with {int(precision or 0)} "
                "decimal places and provide the final value at the end.")
    return ("Hint: Please answer the question requiring a Python list as an answer and provide the final list, "
            "e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.")


def build_query(problem: dict[str, Any]) -> str:
    """Hint, question (with unit) and lettered choices, as ``build_query.py`` writes them."""
    question = f"Question: {problem['question']}"
    if problem.get("unit"):
        question += f" (Unit: {problem['unit']})"
    parts = [hint_text(problem["question_type"], problem["answer_type"], problem.get("precision")), question]
    if problem.get("choices"):
        parts.append("\n".join(["Choices:"] + [f"({string.ascii_uppercase[i]}) {c}"
                                               for i, c in enumerate(problem["choices"])]))
    return "\n".join(parts)


def normalize_extracted_answer(
    extraction: Any, choices: list[str] | None, question_type: str, answer_type: str, precision: float | None,
    ignore_empty: bool = False,
) -> str | None:
    """The official normalisation (``calculate_score.normalize_extracted_answer``); ``ignore_empty``
    is its ``--ignore_empty_extractions``: an empty multiple-choice extraction stays unanswered
    instead of becoming the shortest choice.

    >>> normalize_extracted_answer("-3.9", None, "free_form", "integer", None)
    '-3'
    >>> normalize_extracted_answer("1,000", None, "free_form", "integer", None) is None
    True
    >>> normalize_extracted_answer("1.15", None, "free_form", "float", 1)
    '1.1'
    >>> normalize_extracted_answer("(B) 8/11", ["3/11", "8/11"], "multi_choice", "text", None)
    '8/11'
    >>> normalize_extracted_answer("6/12", ["3/11", "8/11", "6/11"], "multi_choice", "text", None)
    '6/11'
    """
    if question_type == "multi_choice":
        text = extraction.strip() if isinstance(extraction, str) else str(extraction)
        if ignore_empty and not text:
            return None
        letter = re.findall(r"\(([a-zA-Z])\)", text)
        if letter:
            text = letter[0].upper()
        options = [string.ascii_uppercase[i] for i in range(len(choices or []))]
        if text in options:
            return choices[options.index(text)]
        if not choices:
            return None
        distances = [levenshtein(text, choice) for choice in choices]
        return choices[distances.index(min(distances))]
    try:
        if answer_type == "integer":
            return str(int(float(extraction)))
        if answer_type == "float":
            return str(round(float(extraction), int(precision)))
        if answer_type == "list":
            return str(extraction)
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def _official_quick(response: str, problem: dict[str, Any]) -> str | None:
    """``extract_answer.py``'s rules before GPT: empty, an exact choice, ``int()``, ``float()``,
    ``The answer is "..."``; ``None`` when none applies."""
    if response == "":
        return ""
    if problem["question_type"] == "multi_choice" and response in (problem.get("choices") or []):
        return response
    for answer_type, convert in (("integer", int), ("float", float)):
        if problem["answer_type"] == answer_type:
            try:
                return str(convert(response))
            except ValueError:
                pass
    quoted = re.search(r'The answer is "(.*)"\.', response)
    return quoted.group(1) if quoted else None


def _vlmr_rule(response: str, problem: dict[str, Any]) -> str | None:
    """vlmr's rules: the choice letter, the last number (thousands commas and trailing
    punctuation dropped, number words read), or the last ``[...]`` list."""
    if problem["question_type"] == "multi_choice":
        choices = problem.get("choices") or []
        return parse_choice(response, choices=[f"{string.ascii_uppercase[i]}. {c}" for i, c in enumerate(choices)])
    if problem["answer_type"] in ("integer", "float"):
        value = parse_number(response)
        if value is None:
            return None
        return str(int(value)) if value.is_integer() else str(value)
    lists = re.findall(r"\[[^\[\]]*\]", response)
    return lists[-1] if lists else None


def _normalizes(candidate: str | None, problem: dict[str, Any]) -> bool:
    return candidate is not None and normalize_extracted_answer(
        candidate, problem.get("choices"), problem["question_type"], problem["answer_type"], problem.get("precision")
    ) is not None


def extract_answer(response: str, problem: dict[str, Any], extractor=None) -> tuple[str, str]:
    """``(extraction, path)`` of a response's ``<answer>`` text; ``path`` names the rule that found it.

    Paths, tried in order: ``official_rule`` (the official quick rules; an empty answer stops
    here, as in the official script), ``vlmr_rule``, ``llm`` (the official few-shot prompt to
    ``extractor``), ``none`` (the text itself). A rule whose candidate does not normalise for
    the answer type (``"14,"`` for an integer) falls through to the next.

    >>> extract_answer("<answer>The answer is 14, obviously</answer>", {"question_type": "free_form",
    ...                "answer_type": "integer"})
    ('14', 'vlmr_rule')
    """
    _, answer = split_think_answer(response)
    answer = (answer or "").strip()
    quick = _official_quick(answer, problem)
    if quick == "" or _normalizes(quick, problem):
        return quick, "official_rule"
    candidate = _vlmr_rule(answer, problem)
    if _normalizes(candidate, problem):
        return candidate, "vlmr_rule"
    if extractor is not None:
        query = problem.get("query") or build_query(problem)
        return extractor(f"{DEMO_PROMPT.strip()}\n\n{query}\n\n{response}\n\nExtracted answer: ").strip(), "llm"
    return answer, "none"


def problem_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The fields scoring needs, from a release or Hub row (``metadata`` flattened)."""
    meta = dict(row.get("metadata") or {})
    fields = {k: row.get(k) for k in ("choices", "unit", "precision", "question_type", "answer_type")}
    return {**meta, **fields, "question_raw": row["question"], "width": meta.get("img_width"),
            "height": meta.get("img_height")}


@register_benchmark("mathvista")
class MathVista(Benchmark):
    """MathVista testmini/test: official normalisation, accuracy per metadata field."""

    task = "math"
    primary_metric = "accuracy"
    headline = (MetricRule("accuracy", "official calculate_score.py: normalize_extracted_answer + safe_equal on "
                                       "the official extraction when given, else vlmr's extraction paths"),)
    breakdown_keys = BREAKDOWN_KEYS

    def load(self, path: str | Path) -> list[Sample]:
        """Read ``testmini.json`` (a file or a folder holding it) or a Hub copy (split option,
        default ``testmini``)."""
        if is_hub_copy(path):
            copy = HubCopy(path)
            rows = copy.rows(copy.choose_split(self.options.get("split"), prefer=("testmini",)))
        else:
            rows = read_rows(find_file(path, ("testmini.json", "test.json")))
        return self.samples_from(rows, self._sample)

    def _sample(self, index: int, row: dict[str, Any]) -> Sample | None:
        if "decoded_image" in row:  # a Hub row: the picture is embedded
            if row["decoded_image"] is None:
                self.skip("Hub row without decoded_image")
                return None
            images = [row["decoded_image"].save()]
        else:
            images = [row["image"]] if row.get("image") else []
        return Sample(
            id=str(row.get("pid") or row["_key"]), task="math", source="mathvista",
            question=row.get("query") or build_query(row), images=images,
            answer={"text": str(row.get("answer", ""))}, meta=problem_fields(row),
        )

    def read_predictions(self, path: str | Path) -> PredictionsFile:
        """``predictions.jsonl``, or an official result file (``{pid: {..., "response", "extraction"}}``)."""
        if Path(path).suffix != ".json":
            return super().read_predictions(path)
        rows = read_rows(path)
        return PredictionsFile(Path(path), rows={
            str(r.get("pid") or r["_key"]): {"id": str(r.get("pid") or r["_key"]), "response": r.get("response") or "",
                                             **({"extraction": r["extraction"]} if "extraction" in r else {})}
            for r in rows})

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Normalise the given official extraction, or extract; compare with the gold answer string."""
        problem = {**sample.meta, "question": sample.meta.get("question_raw", ""), "query": sample.question}
        if "extraction" in prediction:  # the official stage-2 output: scored as is, never re-extracted
            extraction, path = prediction["extraction"], "given"
        else:
            extraction, path = extract_answer(prediction.get("response") or "", problem, ctx.extractor)
        normalized = normalize_extracted_answer(
            extraction, problem.get("choices"), problem["question_type"], problem["answer_type"],
            problem.get("precision"), ignore_empty=path != "given",  # silence never earns the shortest choice
        )
        correct = normalized is not None and normalized == sample.answer["text"]
        return {"accuracy": float(correct), "_extracted": extraction, "_normalized": normalized, "_path": path}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """Accuracy, and how many answers each extraction path produced (``extracted_by_<path>``)."""
        out = super().aggregate(rows)
        for path in EXTRACTION_PATHS:
            out[f"extracted_by_{path}"] = float(sum(row.get("_path") == path for row in rows))
        return out
