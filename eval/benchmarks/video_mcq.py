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

from vlmr.eval.answers import answer_text
from vlmr.eval.benchmarks.video import VideoBenchmark
from vlmr.eval.hub import HubCopy, is_hub_copy
from vlmr.eval.loaders import read_rows
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


def _existing(root: Path, candidates: list[str]) -> str:
    """The first candidate path that exists under ``root`` (else the first: the runner reports it missing)."""
    return next((c for c in candidates if (root / c).exists()), candidates[0])


def _youtube_id(url: Any) -> str | None:
    m = re.search(r"(?:[?&]v=|youtu\.be/)([\w-]{11})", str(url or ""))
    return m[1] if m else None


def videomme_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Question rows in the Hub's flat form, from flat rows or the official per-video JSON.

    >>> videomme_rows([{"video_id": "001", "duration_category": "short", "video_category": "Knowledge",
    ...   "video_subcategory": "Law", "url": "https://www.youtube.com/watch?v=fFjv93ACGo8",
    ...   "questions": [{"question_id": "001-1", "task_type": "OCR Problems", "question": "Q?",
    ...                  "choices": ["A. x", "B. y"], "answer": "B"}]}])[0]["videoID"]
    'fFjv93ACGo8'
    """
    flat = []
    for row in rows:
        if not isinstance(row, dict) or "questions" not in row:
            flat.append(row)  # a malformed row is skipped by the loader
            continue
        video = {"video_id": row.get("video_id"), "duration": row.get("duration_category", row.get("duration")),
                 "domain": row.get("video_category", row.get("domain")),
                 "sub_category": row.get("video_sub_category", row.get("video_subcategory", row.get("sub_category"))),
                 "url": row.get("url"), "videoID": row.get("videoID") or _youtube_id(row.get("url"))}
        for q in row.get("questions") or []:
            flat.append({**video, **q, "options": q.get("options", q.get("choices"))})
    return flat


def _videomme_source_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of the question file at ``path``, the Hub copy's parquet in a snapshot folder, or a
    ``save_to_disk`` folder."""
    if path.is_file():
        return read_rows(path)
    for pattern in ("videomme/test-*.parquet", "videomme.json", "videomme.jsonl", "*.parquet"):
        found = sorted(path.glob(pattern))
        if found:
            return [row for file in found for row in read_rows(file)] if found[0].suffix == ".parquet" \
                else read_rows(found[0])
    if is_hub_copy(path):
        copy = HubCopy(path)
        return list(copy.rows(copy.choose_split(prefer=("test",))))
    raise FileNotFoundError(f"no Video-MME questions in {path}: expected the Hub copy (videomme/test-*.parquet), "
                            "videomme.json or the official JSON; pass the file itself")


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
        """Every question of the release; a row without a question, 2+ options or a valid letter is skipped."""
        root = self.media_root(path)
        video_dir = self.options.get("video_dir", "data")
        return self.samples_from(videomme_rows(_videomme_source_rows(Path(path))),
                                 lambda i, row: self._sample(root, video_dir, row))

    def _sample(self, root: Path, video_dir: str, row: dict[str, Any]) -> Sample | None:
        options = [str(o) for o in row.get("options") or []] if isinstance(row.get("options"), list | tuple) else []
        letter = str(row.get("answer") or "").strip()
        video_id = row.get("videoID") or _youtube_id(row.get("url")) or row.get("video_id")
        if not (row.get("question") and row.get("question_id") and video_id and len(options) >= 2):
            self.skip("row without question, question_id, video or options")
            return None
        if letter not in list(string.ascii_uppercase[: len(options)]):
            self.skip("answer is not the letter of an option")
            return None
        return Sample(
            id=str(row["question_id"]), task="mcq", source="videomme", question=str(row["question"]),
            video={"path": _existing(root, [f"{video_dir}/{video_id}{ext}" for ext in (".mp4", ".MP4", ".mkv")])},
            choices=options, answer={"choice": letter},
            meta={k: row.get(k) for k in ("duration", "domain", "sub_category", "task_type", "video_id")},
        )

    def media_root(self, path: str | Path) -> Path:
        """The release folder: videos are under its ``data/`` (the Hub parquet sits in ``videomme/``)."""
        path = Path(path)
        if path.is_dir():
            return path
        return path.parent.parent if path.parent.name == "videomme" else path.parent

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


# Each task's clips folder under video/ in the official data_list (mvbench.ipynb), alternative
# names of the un-zipped `video` branch second, and whether the row's start/end bound the clip.
MVBENCH_TASKS: dict[str, tuple[tuple[str, ...], bool]] = {
    "action_sequence": (("star/Charades_v1_480",), True),
    "action_prediction": (("star/Charades_v1_480",), True),
    "action_antonym": (("ssv2_video", "ssv2_video_mp4"), False),
    "fine_grained_action": (("Moments_in_Time_Raw/videos",), False),
    "unexpected_action": (("FunQA_test/test",), False),
    "object_existence": (("clevrer/video_validation",), False),
    "object_interaction": (("star/Charades_v1_480",), True),
    "object_shuffle": (("perception/videos",), False),
    "moving_direction": (("clevrer/video_validation",), False),
    "action_localization": (("sta/sta_video",), True),
    "scene_transition": (("scene_qa/video",), False),
    "action_count": (("perception/videos",), False),
    "moving_count": (("clevrer/video_validation",), False),
    "moving_attribute": (("clevrer/video_validation",), False),
    "state_change": (("perception/videos",), False),
    "fine_grained_pose": (("nturgbd", "nturgbd_convert"), False),
    "character_order": (("perception/videos",), False),
    "egocentric_navigation": (("vlnqa",), False),
    "episodic_reasoning": (("tvqa/frames_fps3_hq",), True),
    "counterfactual_inference": (("clevrer/video_validation",), False),
}
FRAME_FOLDER_FPS = 3.0  # episodic_reasoning's TVQA frame folders (the official read_frame's fps)


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
        """Every task JSON of the release (official task order), or the one task file given."""
        path = Path(path)
        root = self.media_root(path)
        if path.is_file():
            files = [path]
        else:
            json_dir = path / "json" if (path / "json").is_dir() else path
            files = [json_dir / f"{task}.json" for task in MVBENCH_TASKS if (json_dir / f"{task}.json").is_file()]
            if not files:
                raise FileNotFoundError(f"no MVBench task files (json/action_sequence.json, ...) in {path}")
        video_dir = self.options.get("video_dir", "video")
        samples = []
        for file in files:
            folders, bounded = MVBENCH_TASKS.get(file.stem, (("",), False))
            samples += self.samples_from(read_rows(file), lambda i, row, task=file.stem, folders=folders,
                                         bounded=bounded: self._sample(root, video_dir, task, folders, bounded, i, row))
        return samples

    def _sample(self, root: Path, video_dir: str, task: str, folders: tuple[str, ...], bounded: bool,
                i: int, row: dict[str, Any]) -> Sample | None:
        candidates = [str(c) for c in row["candidates"]] if isinstance(row.get("candidates"), list) else []
        if not (row.get("video") and row.get("question") and candidates):
            self.skip("row without video, question or candidates")
            return None
        if str(row.get("answer")) not in candidates:
            self.skip("answer is not one of the candidates")
            return None
        clip = str(row["video"])
        paths = [f"{base}/{folder}/{clip}".replace("//", "/").lstrip("/") for folder in folders
                 for base in (video_dir, f"{video_dir}/data0613", "")]
        video: dict[str, Any] = {"path": _existing(root, paths)}
        if bounded and row.get("start") is not None and row.get("end") is not None:
            video.update(start=float(row["start"]), end=float(row["end"]))
        if (root / video["path"]).is_dir():
            video["fps"] = FRAME_FOLDER_FPS
        letters = string.ascii_uppercase
        return Sample(
            id=f"{task}-{i:05d}", task="mcq", source="mvbench", question=f"Question: {row['question']}",
            video=video, choices=[f"({letters[j]}) {c}" for j, c in enumerate(candidates)],
            answer={"choice": letters[candidates.index(str(row["answer"]))]}, meta={"mvbench_task": task},
        )

    def media_root(self, path: str | Path) -> Path:
        """The release folder (holding ``json/`` and ``video/``)."""
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        return folder.parent if folder.name == "json" else folder

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
