"""Video multiple choice: Video-MME (Fu et al., CVPR 2025) and MVBench (Li et al., CVPR 2024).

**Video-MME** data, as released: the Hub copy ``lmms-lab/Video-MME`` (``videomme/test-*.parquet``,
one row per question: ``video_id, duration, domain, sub_category, url, videoID, question_id,
task_type, question, options ["A. ...", ...], answer "A"``) or the same rows as JSON/JSONL,
or the official JSON (one object per video: ``video_id, duration_category, video_category,
video_sub_category, url, questions [{question_id, task_type, question, choices|options,
answer}]``); videos at ``data/<videoID>.mp4`` (``.MP4``/``.mkv`` too; the YouTube id is read
from ``url`` when a row has no ``videoID``, else ``video_id`` names the file). Metric: the official ``eval_your_results.py``:
``extract_characters_regex`` (drop "The best answer is"-style prefixes; a response of more than
10 words with no capital A-D is unanswered; else the first capital A-D anywhere, so "Based
on..." answers B), compared with the letter. ``accuracy`` (headline) divides by the questions
whose letter could be extracted, as the official script; ``accuracy_all`` divides by all
questions, as lmms-eval; ``n_unextractable`` counts the others. Broken down by duration,
domain, sub-category and task type.

**MVBench** data, as released (``OpenGVLab/MVBench``): ``json/<task>.json`` for the 20 tasks
(rows ``video, question, candidates, answer`` and ``start``/``end`` seconds for the four
bounded tasks) and the clips under ``video/`` in each task's folder of the official
``data_list`` (``video/star/Charades_v1_480/``, ``video/tvqa/frames_fps3_hq/<clip>/`` frame
folders at 3 fps, ...; also ``video/data0613/...`` and the un-zipped ``video`` branch layout).
``--data`` is the release folder, its ``json/`` folder or one task file; option ``video_dir``
(default ``video``) names the clips folder. Options are written ``(A) ...`` in candidate order
(the official ``qa_template``). Metric: the official ``check_ans`` of ``mvbench.ipynb``: the
first word of the answer's first line, lower-cased, names the option (``b``, ``(b)``, ``b.``
all name B; "walk" names none, whatever option B says). Deviation: an answer whose first
word has no letter (empty, ``(``) is wrong; the official script, which prefixes every output
with ``(``, counts it right. ``accuracy`` pools the questions (the leaderboard's Avg); per task
under ``breakdown.mvbench_task``; ``accuracy_lmms_eval`` is lmms-eval's ``mcq_acc`` (the first
standalone letter A-E of the answer), divided by the non-empty answers.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.video_mcq import (
    mvbench_root,
    mvbench_samples,
    videomme_root,
    videomme_samples,
)
from vlmr.eval.answers import answer_text
from vlmr.eval.benchmarks.video import VideoBenchmark
from vlmr.eval.registry import MetricRule, ScoreContext, aggregate_rows, register_benchmark
from vlmr.schema import Sample

_PREFIXES = (
    "The best answer is", "The correct answer is", "The answer is", "The answer",
    "The best option isThe correct option is", "Best answer:Best option:",
)  # fmt: skip  (the official list concatenates the last pairs by a missing comma; kept)


def videomme_extract(text: str) -> str:
    """Video-MME's ``extract_characters_regex``: the first capital A-D, or ``""``.

    >>> videomme_extract("The best answer is C."), videomme_extract("I think the man is running fast now ok")
    ('C', '')
    """
    s = text.strip()
    for prefix in _PREFIXES:
        s = s.replace(prefix, "")
    if len(s.split()) > 10 and not re.search("[ABCD]", s):
        return ""
    m = re.search(r"[ABCD]", s)
    return m[0] if m else ""


@register_benchmark("videomme")
class VideoMME(VideoBenchmark):
    """Video-MME (w/o subtitles): accuracy per duration, domain and task type."""

    task = "mcq"
    primary_metric = "accuracy"
    breakdown_keys = ("duration", "domain", "sub_category", "task_type")
    headline = (MetricRule("accuracy", "official eval_your_results.py: first capital A-D after dropping 'The best "
                                       "answer is'-style prefixes; correct / questions whose letter was extracted"),)
    alternatives = (MetricRule("accuracy_all", "lmms-eval videomme: the same extraction; correct / all questions"),)

    def load(self, path: str | Path) -> list[Sample]:
        """Every question of the release (:func:`~vlmr.data_pipelines.releases.video_mcq.videomme_samples`)."""
        return videomme_samples(path, self.skip, self.options.get("video_dir", "data"))

    def media_root(self, path: str | Path) -> Path:
        """The release folder: videos are under its ``data/``."""
        return videomme_root(path)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Official letter extraction; ``extracted`` marks the answers the official accuracy counts."""
        letter = videomme_extract(answer_text(prediction.get("response") or ""))
        return {"accuracy_all": float(letter == sample.answer["choice"]), "extracted": float(bool(letter)),
                "_pred_choice": letter}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """``accuracy`` over extracted answers (official), ``accuracy_all`` over all (lmms-eval)."""
        out = aggregate_rows(rows)
        extracted = sum(r["extracted"] for r in rows)
        out.pop("extracted", None)
        out["accuracy"] = sum(r["accuracy_all"] for r in rows) / extracted if extracted else 0.0
        out["n_unextractable"] = float(len(rows) - extracted)
        return out


def mvbench_check(text: str, letter: str) -> bool:
    """The official ``check_ans``: the first word of the first line names option ``letter``.

    >>> mvbench_check("(B) Tidied up the blanket.", "B"), mvbench_check("b.", "B"), mvbench_check("walk", "B")
    (True, True, False)
    """
    words = text.strip().split("\n")[0].lower().split()
    first = words[0] if words else ""
    if not re.search("[a-z]", first):  # names no option (the official "(" prefix would make this right)
        return False
    option = f"({letter.lower()})"
    return first.replace(".", "") in option or option in first


_LMMS_PUNCT = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!")


def lmms_eval_letter(text: str) -> str:
    """lmms-eval's MVBench ``mcq_acc`` reading: ``X. text`` gives X; else, after its punctuation
    handling, the first standalone letter a-e (any case), else the processed text itself.

    >>> lmms_eval_letter("B. walk"), lmms_eval_letter("I think it is a cat"), lmms_eval_letter("(C)")
    ('B', 'A', 'C')
    """
    m = re.match(r"^([A-E])\.\s*(.+)$", text.strip(), re.IGNORECASE)
    if m:
        return m[1].upper()
    raw = text.replace("\n", " ").replace("\t", " ").strip()
    out = raw
    has_number_comma = re.search(r"(\d)(,)(\d)", raw) is not None
    for p in _LMMS_PUNCT:  # removed when spaced or beside a number comma, else a space (VQA's rule)
        out = out.replace(p, "" if (p + " " in raw or " " + p in raw or has_number_comma) else " ")
    out = re.sub(r"\.(?!\d)", "", out)  # its period pattern drops every '.' not followed by a digit
    out = out.strip("'").strip('"').strip(")").strip("(").strip().lower()
    m = re.search(r"\b([a-e])\b", out)
    return m[1].upper() if m else out


@register_benchmark("mvbench")
class MVBench(VideoBenchmark):
    """MVBench: 20 temporal tasks, accuracy per task."""

    task = "mcq"
    primary_metric = "accuracy"
    breakdown_keys = ("mvbench_task",)
    headline = (MetricRule("accuracy", "official check_ans (mvbench.ipynb): the answer's first word names the "
                                       "option; pooled over all questions"),)
    alternatives = (MetricRule("accuracy_lmms_eval", "lmms-eval mvbench mcq_acc: first standalone letter A-E; "
                                                     "correct / non-empty answers"),)

    def load(self, path: str | Path) -> list[Sample]:
        """Every task of the release (:func:`~vlmr.data_pipelines.releases.video_mcq.mvbench_samples`)."""
        return mvbench_samples(path, self.skip, self.options.get("video_dir", "video"))

    def media_root(self, path: str | Path) -> Path:
        """The release folder (holding ``json/`` and ``video/``)."""
        return mvbench_root(path)

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Official ``check_ans`` (headline) and lmms-eval's ``mcq_acc`` on the answer text."""
        text = answer_text(prediction.get("response") or "")
        letter = sample.answer["choice"]
        named = next((c for c in string.ascii_uppercase[: len(sample.choices or [])] if mvbench_check(text, c)), None)
        return {"accuracy": float(mvbench_check(text, letter)), "_pred_choice": named,
                "_lmms_correct": float(lmms_eval_letter(text) == letter), "_answered": float(bool(text))}

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """Pooled ``accuracy`` and lmms-eval's ``accuracy_lmms_eval`` (over non-empty answers)."""
        out = aggregate_rows(rows)
        answered = sum(r.get("_answered", 0.0) for r in rows)
        out["accuracy_lmms_eval"] = sum(r.get("_lmms_correct", 0.0) for r in rows) / answered if answered else 0.0
        return out
