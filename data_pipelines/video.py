"""Video sources: synthetic clips with exact timing, Charades-STA, ActivityNet-Captions, Video-MME and MVBench.

Records keep the video (``{"path", "native_fps", "start", "end"}``: the file's own frame rate); frames
are decoded at train/eval time by the conversation builder's frame policy, or, with ``--extract_frames
true`` (every source; ``--sample_fps``, ``--max_frames``, then also written into ``video``), written as
images listed in ``images`` with their times in ``meta.frame_times`` (shown as those frames everywhere).

``vlmr data build video_synthetic --out data/vsyn --limit 200``
``vlmr data build charades_sta --out data/charades --annotations charades_sta_test.txt --video_dir Charades_v1``
``vlmr data build activitynet_captions --out data/anet --annotations val_1.json --video_dir videos``
``vlmr data build video_mcq --out data/videomme --annotations Video-MME`` (Hub copy or release folder)
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from vlmr.data_pipelines.build import Built, Skipped, shard_records, split_of_file
from vlmr.data_pipelines.releases.activitynet import read_activitynet_captions
from vlmr.data_pipelines.releases.charades import parse_charades_sta
from vlmr.data_pipelines.releases.video_mcq import VIDEO_MCQ_RELEASES, video_mcq_release
from vlmr.media.video import frames_strip, probe, sample_frames
from vlmr.schema import Sample, native_fps, resolve_media

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (40, 60, 230), "yellow": (230, 220, 30)}
VIDEO_EXTS = (".mp4", ".webm", ".mkv", ".avi", ".mov")


def write_synthetic_video(path: str | Path, rng: np.random.Generator, fps: int = 10, seconds: float = 6.0,
                          width: int = 160, height: int = 120, max_objects: int = 3) -> list[dict]:
    """Write an mp4 of coloured squares that appear, move and vanish; return their ground truth.

    Each object: ``{"colour", "first", "stop"}`` frame indices (visible on frames ``first..stop-1``),
    ``"span"`` ``[first/fps, stop/fps]`` seconds and ``"boxes"`` (one [x1, y1, x2, y2] per visible frame).
    """
    import cv2

    n_frames = int(round(fps * seconds))
    names = rng.choice(list(COLOURS), size=int(rng.integers(1, max_objects + 1)), replace=False)
    objects = []
    for name in names:
        first = int(rng.integers(0, n_frames - fps))
        stop = int(rng.integers(first + fps, n_frames + 1))  # visible at least one second
        start_xy = rng.uniform([0, 0], [width - 24, height - 24])
        end_xy = rng.uniform([0, 0], [width - 24, height - 24])
        objects.append({"colour": str(name), "first": first, "stop": stop, "start_xy": start_xy, "end_xy": end_xy})
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write mp4 to {path}")
    for obj in objects:
        obj["boxes"] = []
    for t in range(n_frames):
        frame = np.full((height, width, 3), 50, np.uint8)
        for obj in objects:
            if obj["first"] <= t < obj["stop"]:
                a = (t - obj["first"]) / max(obj["stop"] - obj["first"] - 1, 1)
                x, y = (1 - a) * obj["start_xy"] + a * obj["end_xy"]
                x, y = int(x), int(y)
                frame[y : y + 24, x : x + 24] = COLOURS[obj["colour"]]
                obj["boxes"].append([x, y, x + 24, y + 24])
        writer.write(frame[:, :, ::-1])  # OpenCV wants BGR
    writer.release()
    for obj in objects:
        obj["visible"] = [obj["first"] <= t < obj["stop"] for t in range(n_frames)]
        obj["span"] = [round(obj["first"] / fps, 3), round(obj["stop"] / fps, 3)]
        del obj["start_xy"], obj["end_xy"]
    return objects


def _video_entry(rel: str, info: dict) -> dict:
    return {"path": rel, "native_fps": round(info["fps"], 3), "start": 0.0, "end": round(info["duration"], 3)}


def _add_frames(built: Built, path: Path, frames: dict | None, clip: dict | None = None) -> Built | Skipped:
    """With ``frames`` (``{"fps", "max_frames"}``), decode the sampled frames (of ``clip``'s
    ``start``/``end``; the native rate of a frame folder) into the record's images."""
    if frames is None:
        return built
    clip = clip or {}
    try:
        images, times = sample_frames(path, fps=frames["fps"], max_frames=frames["max_frames"], start=clip.get("start"),
                                      end=clip.get("end"), sequence_fps=native_fps(clip))
    except (ValueError, FileNotFoundError):
        return Skipped("corrupted video")
    stem = built.record["id"]
    names = [f"{stem}/frame_{k:03d}.png" for k in range(len(images))]
    built.record["images"] = [f"media/{n}" for n in names]
    built.record["meta"]["frame_times"] = times
    if built.record.get("video"):  # the plan the frames followed, for the video tools
        built.record["video"].update(sample_fps=frames["fps"], max_frames=len(images))
    built.media.update(zip(names, images, strict=True))
    return built


def _frame_options(extract_frames: bool, sample_fps: float, max_frames: int | None) -> dict | None:
    return {"fps": sample_fps, "max_frames": max_frames} if extract_frames else None


def build_video_synthetic(*, seed: int = 0, limit: int | None = None, split: str = "train", shard: int = 0,
                          num_shards: int = 1, fps: int = 10, seconds: float = 6.0, extract_frames: bool = False,
                          sample_fps: float = 2.0, max_frames: int | None = None) -> Iterator[Built | Skipped]:
    """Synthetic clips with exact answers: when a coloured square is visible (span), how many appear (count),
    which of four times shows it (mcq), whether it is visible at a time (yes/no).

    ``vlmr data build video_synthetic --out data/vsyn --limit 300 --extract_frames true``
    """
    frames = _frame_options(extract_frames, sample_fps, max_frames)
    with tempfile.TemporaryDirectory() as tmp:

        def clip(i: int, _) -> Built | Skipped:
            return _synthetic_clip(Path(tmp) / f"{i}.mp4", i, seed, split, fps, seconds, frames)

        yield from shard_records(itertools.count(), clip, limit=300 if limit is None else limit, shard=shard,
                                 num_shards=num_shards)


def _synthetic_clip(path: Path, i: int, seed: int, split: str, fps: int, seconds: float,
                    frames: dict | None) -> Built | Skipped:
    """Synthetic clip ``i`` (written to ``path``) and one question about it."""
    rng = np.random.default_rng([seed, i])
    objects = write_synthetic_video(path, rng, fps=fps, seconds=seconds)
    stem = f"vsyn-{split}-{i:06d}"
    record = {"id": stem, "source": "video_synthetic", "video": _video_entry(f"media/{stem}.mp4", probe(path)),
              "meta": {"split": split, "objects": [{k: o[k] for k in ("colour", "first", "stop", "span")}
                                                   for o in objects]}}
    media: dict = {f"{stem}.mp4": path.read_bytes()}
    kind = i % 4
    if kind == 0:
        target = objects[int(rng.integers(len(objects)))]
        record |= {"task": "temporal_grounding", "answer": {"span": target["span"]},
                   "question": f"During which time span (start and end in seconds) is the {target['colour']} "
                               f"square visible?"}
    elif kind == 1:
        record |= {"task": "counting", "answer": {"count": len(objects)},
                   "question": "How many differently coloured squares appear at some point in the video?"}
    elif kind == 3 and (mcq := _which_time_question(objects, rng, fps)):
        record |= {"task": "mcq", "question": mcq[0], "choices": mcq[1], "answer": {"choice": mcq[2]}}
    else:
        target = objects[int(rng.integers(len(objects)))]
        frame = int(rng.integers(len(objects[0]["visible"])))  # any frame: yes or no from the truth
        answer = "yes" if target["visible"][frame] else "no"
        record |= {"task": "vqa", "answer": {"text": answer},
                   "question": f"Is the {target['colour']} square visible at {frame / fps:.1f} seconds? "
                               f"Answer yes or no."}
    return _add_frames(Built(record, media), path, frames)


def _which_time_question(objects: list[dict], rng: np.random.Generator, fps: int):
    """"Which frame shows X": four time points, exactly one on which the target is visible."""
    target = objects[int(rng.integers(len(objects)))]
    shown = np.flatnonzero(target["visible"])
    hidden = np.flatnonzero(~np.asarray(target["visible"]))
    if len(hidden) < 3:
        return None
    frames = [int(rng.choice(shown)), *(int(f) for f in rng.choice(hidden, 3, replace=False))]
    order = rng.permutation(4)
    choices = [f"{'ABCD'[k]}. {frames[j] / fps:.1f} s" for k, j in enumerate(order)]
    letter = "ABCD"[int(np.flatnonzero(order == 0)[0])]
    return f"At which of these times is the {target['colour']} square visible?", choices, letter


def _copy_video(video_dir: Path, vid: str) -> tuple[Path, dict] | Skipped:
    for ext in VIDEO_EXTS:
        path = video_dir / f"{vid}{ext}"
        if path.is_file():
            try:
                return path, probe(path)
            except ValueError:
                return Skipped("corrupted video")
    return Skipped("video file missing")


def _grounding_record(i: int, row: tuple, video_dir: Path, source: str, split: str, frames) -> Built | Skipped:
    """The temporal grounding record of row ``i``; spans are kept as annotated (also past the video's
    end), as lmms-eval scores them and the ``charades_sta`` benchmark reads them."""
    vid, start, end, sentence = row
    found = _copy_video(video_dir, vid)
    if isinstance(found, Skipped):
        return found
    path, info = found
    name = f"{vid}{path.suffix}"
    built = Built({"id": f"{source}-{split}-{i:06d}", "task": "temporal_grounding", "source": source,
                   "question": f"When does this happen in the video: \"{sentence.rstrip('.')}\"? "
                               f"Give the start and end time in seconds.",
                   "video": _video_entry(f"media/{name}", info), "answer": {"span": [start, end]},
                   "meta": {"split": split, "video_id": vid, "sentence": sentence}}, {name: path})
    return _add_frames(built, path, frames)


def build_charades_sta(*, annotations: str, video_dir: str, seed: int = 0, limit: int | None = None,
                       split: str | None = None, shard: int = 0, num_shards: int = 1, extract_frames: bool = False,
                       sample_fps: float = 2.0, max_frames: int | None = 32) -> Iterator[Built | Skipped]:
    """Charades-STA temporal grounding (``charades_sta_{train,test}.txt`` lines ``VID s e##sentence``).

    The split comes from the file name (``..._test.txt`` -> test; default test). A line that is
    not ``VID s e##sentence`` with ``0 <= s < e`` is skipped and counted.

    ``vlmr data build charades_sta --out data/charades --annotations charades_sta_test.txt --video_dir Charades_v1``
    """
    split = split_of_file(annotations, ("train", "test"), split, "test")
    bad: list[str] = []
    rows = parse_charades_sta(Path(annotations).read_text(encoding="utf-8"), bad.append)
    yield from (Skipped(reason) for reason in bad if shard == 0)  # counted once over all shards
    frames = _frame_options(extract_frames, sample_fps, max_frames)
    yield from shard_records(rows, lambda i, row: _grounding_record(i, row, Path(video_dir), "charades_sta", split, frames),
                             limit=limit, shard=shard, num_shards=num_shards)


def build_activitynet_captions(*, annotations: str, video_dir: str, seed: int = 0, limit: int | None = None,
                               split: str | None = None, shard: int = 0, num_shards: int = 1,
                               extract_frames: bool = False, sample_fps: float = 2.0,
                               max_frames: int | None = 32) -> Iterator[Built | Skipped]:
    """ActivityNet-Captions (``{vid: {"duration", "timestamps": [[s, e]], "sentences": [...]}}``) grounding.

    The split comes from the file name (``train.json``, ``val_1.json``, ``val_2.json``; default val).

    ``vlmr data build activitynet_captions --out data/anet --annotations val_1.json --video_dir videos``
    """
    split = split_of_file(annotations, ("train", "val_1", "val_2"), split, "val")
    bad: list[str] = []
    rows = read_activitynet_captions(json.loads(Path(annotations).read_text(encoding="utf-8")), bad.append)
    yield from (Skipped(reason) for reason in bad if shard == 0)  # counted once over all shards
    frames = _frame_options(extract_frames, sample_fps, max_frames)
    yield from shard_records(rows, lambda i, row: _grounding_record(i, row, Path(video_dir), "activitynet_captions", split, frames),
                             limit=limit, shard=shard, num_shards=num_shards)


def _mcq_clip(root: Path, video_dir: str | None, rel: str) -> tuple[Path, dict] | Skipped:
    """The clip of a benchmark sample (by file name under ``video_dir`` when given) and its probe
    (``{}`` for a frame folder, which only ``--extract_frames`` can use)."""
    path = Path(video_dir) / Path(rel).name if video_dir else root / rel
    if path.is_dir():
        return path, {}
    if not path.is_file():
        return Skipped("video file missing")
    try:
        return path, probe(path)
    except ValueError:
        return Skipped("corrupted video")


def build_video_mcq(*, annotations: str, video_dir: str | None = None, benchmark: str | None = None, seed: int = 0,
                    limit: int | None = None, split: str = "test", shard: int = 0, num_shards: int = 1,
                    extract_frames: bool = False, sample_fps: float = 2.0,
                    max_frames: int | None = 32) -> Iterator[Built | Skipped]:
    """Video multiple choice from Video-MME or MVBench as released.

    Read by the readers their benchmarks use too (:mod:`vlmr.data_pipelines.releases.video_mcq`): Video-MME's Hub copy, rows or official JSON
    (videos under ``data/``), MVBench's ``json/`` + ``video/`` layout. ``benchmark`` (``videomme``
    or ``mvbench``) is detected from the layout when not given; ``video_dir`` is a folder of the
    clips by file name instead of the release's own. MVBench's frame-folder clips need
    ``--extract_frames true``; bad rows and missing clips are skipped and counted.

    ``vlmr data build video_mcq --out data/videomme --annotations Video-MME``
    ``vlmr data build video_mcq --out data/mvbench --annotations MVBench --extract_frames true``
    """
    release = benchmark or video_mcq_release(annotations)
    if release not in VIDEO_MCQ_RELEASES:
        raise ValueError(f"unknown video_mcq benchmark {release!r}; choose from {sorted(VIDEO_MCQ_RELEASES)}")
    read, root_of = VIDEO_MCQ_RELEASES[release]
    skipped: list[str] = []
    samples = read(annotations, skipped.append)
    yield from (Skipped(reason) for reason in skipped if shard == 0)  # counted once over all shards
    root = root_of(annotations)
    frames = _frame_options(extract_frames, sample_fps, max_frames)

    def mcq_record(i: int, sample: Sample) -> Built | Skipped:
        found = _mcq_clip(root, video_dir, sample.video["path"])
        if isinstance(found, Skipped) or (not found[1] and frames is None):
            return found if isinstance(found, Skipped) else Skipped("frame-folder clip needs --extract_frames true")
        path, info = found
        clip = {k: sample.video[k] for k in ("start", "end", "fps") if k in sample.video}
        record = {"id": sample.id, "task": "mcq", "source": sample.source, "question": sample.question,
                  "choices": sample.choices, "answer": sample.answer,
                  "meta": {"split": split, **sample.meta}}
        media = {}
        if info:
            name = f"{path.stem}{path.suffix}"
            record["video"] = {**_video_entry(f"media/{name}", info), **clip}
            media[name] = path
        return _add_frames(Built(record, media), path, frames, clip)

    yield from shard_records(samples, mcq_record, limit=limit, shard=shard, num_shards=num_shards)


def preview(sample: Sample, root: str | Path) -> Image.Image:
    """Frames strip (8 frames, time-stamped) of a video record; the answer span is in the caption."""
    video = sample.video
    frames, times = sample_frames(resolve_media(root, video["path"]), fps=2.0, max_frames=8,
                                  start=video.get("start"), end=video.get("end"))
    return frames_strip(frames, times, columns=4)

