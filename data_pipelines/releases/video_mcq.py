"""Video multiple choice as released: Video-MME (Fu et al., CVPR 2025) and MVBench (Li et al., CVPR 2024).

**Video-MME**: the Hub copy ``lmms-lab/Video-MME`` (``videomme/test-*.parquet``, one row per
question: ``video_id, duration, domain, sub_category, url, videoID, question_id, task_type,
question, options ["A. ...", ...], answer "A"``) or the same rows as JSON/JSONL, or the official
JSON (one object per video: ``video_id, duration_category, video_category, video_sub_category,
url, questions [{question_id, task_type, question, choices|options, answer}]``); videos at
``data/<videoID>.mp4`` (``.MP4``/``.mkv`` too; the YouTube id is read from ``url`` when a row has
no ``videoID``, else ``video_id`` names the file).

**MVBench** (``OpenGVLab/MVBench``): ``json/<task>.json`` for the 20 tasks (rows ``video, question,
candidates, answer`` and ``start``/``end`` seconds for the four bounded tasks) and the clips under
``video/`` in each task's folder of the official ``data_list`` (``video/star/Charades_v1_480/``,
``video/tvqa/frames_fps3_hq/<clip>/`` frame folders at 3 fps, ...; also ``video/data0613/...`` and
the un-zipped ``video`` branch layout). Options are written ``(A) ...`` in candidate order and the
question ``Question: ...`` (the official ``qa_template``).

Each reader gives :class:`~vlmr.schema.Sample` items whose video path is relative to the
release's root (``*_root``); a row that cannot become one is passed to ``on_skip`` with the reason.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vlmr.data_pipelines.releases.hub import HubCopy, is_hub_copy
from vlmr.data_pipelines.releases.rows import each_row, read_rows
from vlmr.schema import Sample

OnSkip = Callable[[str], Any]


def _existing(root: Path, candidates: list[str]) -> str:
    """The first candidate path that exists under ``root`` (else the first: its user reports it missing)."""
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
            flat.append(row)  # a malformed row is skipped by the reader
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


def videomme_root(path: str | Path) -> Path:
    """The release folder: videos are under its ``data/`` (the Hub parquet sits in ``videomme/``)."""
    path = Path(path)
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == "videomme" else path.parent


def videomme_samples(path: str | Path, on_skip: OnSkip, video_dir: str = "data") -> list[Sample]:
    """Every question of the release; a row without a question, 2+ options or a valid letter is skipped."""
    root = videomme_root(path)

    def sample(i: int, row: dict[str, Any]) -> Sample | None:
        options = [str(o) for o in row.get("options") or []] if isinstance(row.get("options"), list | tuple) else []
        letter = str(row.get("answer") or "").strip()
        video_id = row.get("videoID") or _youtube_id(row.get("url")) or row.get("video_id")
        if not (row.get("question") and row.get("question_id") and video_id and len(options) >= 2):
            on_skip("row without question, question_id, video or options")
            return None
        if letter not in list(string.ascii_uppercase[: len(options)]):
            on_skip("answer is not the letter of an option")
            return None
        return Sample(
            id=str(row["question_id"]), task="mcq", source="videomme", question=str(row["question"]),
            video={"path": _existing(root, [f"{video_dir}/{video_id}{ext}" for ext in (".mp4", ".MP4", ".mkv")])},
            choices=options, answer={"choice": letter},
            meta={k: row.get(k) for k in ("duration", "domain", "sub_category", "task_type", "video_id")},
        )

    return each_row(videomme_rows(_videomme_source_rows(Path(path))), sample, on_skip)


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


def mvbench_root(path: str | Path) -> Path:
    """The release folder (holding ``json/`` and ``video/``)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return folder.parent if folder.name == "json" else folder


def _mvbench_sample(root: Path, video_dir: str, task: str, i: int, row: dict[str, Any], on_skip: OnSkip
                    ) -> Sample | None:
    folders, bounded = MVBENCH_TASKS.get(task, (("",), False))
    candidates = [str(c) for c in row["candidates"]] if isinstance(row.get("candidates"), list) else []
    if not (row.get("video") and row.get("question") and candidates):
        on_skip("row without video, question or candidates")
        return None
    if str(row.get("answer")) not in candidates:
        on_skip("answer is not one of the candidates")
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


def mvbench_samples(path: str | Path, on_skip: OnSkip, video_dir: str = "video") -> list[Sample]:
    """Every task JSON of the release (official task order), or the one task file given."""
    path = Path(path)
    root = mvbench_root(path)
    if path.is_file():
        files = [path]
    else:
        json_dir = path / "json" if (path / "json").is_dir() else path
        files = [json_dir / f"{task}.json" for task in MVBENCH_TASKS if (json_dir / f"{task}.json").is_file()]
        if not files:
            raise FileNotFoundError(f"no MVBench task files (json/action_sequence.json, ...) in {path}")
    return [sample for file in files for sample in each_row(
        read_rows(file), lambda i, row, task=file.stem: _mvbench_sample(root, video_dir, task, i, row, on_skip),
        on_skip)]


def video_mcq_release(path: str | Path) -> str:
    """``mvbench`` for MVBench's layout (a ``json/`` folder, or task rows with ``candidates``), else ``videomme``."""
    path = Path(path)
    if path.is_dir():
        return "mvbench" if (path / "json").is_dir() or path.name == "json" else "videomme"
    if path.suffix == ".json":
        rows = read_rows(path)
        return "mvbench" if rows and isinstance(rows[0], dict) and "candidates" in rows[0] else "videomme"
    return "videomme"


# Each release's reader and the folder its video paths are relative to.
VIDEO_MCQ_RELEASES: dict[str, tuple[Callable[[str | Path, OnSkip], list[Sample]], Callable[[str | Path], Path]]] = {
    "videomme": (videomme_samples, videomme_root),
    "mvbench": (mvbench_samples, mvbench_root),
}
