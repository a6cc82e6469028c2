"""Video builders: synthetic ground truth against decoded frames, real annotation formats, corrupt clips."""

import json

import numpy as np

from vlmr.data_pipelines.build import build_dataset
from vlmr.data_pipelines.releases.charades import parse_charades_sta
from vlmr.data_pipelines.video import COLOURS, write_synthetic_video
from vlmr.media.video import sample_frames
from vlmr.schema import load_samples


def _colour_visible(frame, colour) -> bool:
    diff = np.abs(np.asarray(frame, int) - COLOURS[colour]).sum(axis=2)
    return int((diff < 60).sum()) > 200  # a 24x24 square is 576 px


class TestSynthetic:
    def test_span_matches_frames_where_object_is_visible(self, tmp_path):
        path = tmp_path / "c.mp4"
        objects = write_synthetic_video(path, np.random.default_rng(3), fps=10, seconds=4.0)
        frames, times = sample_frames(path, indices=list(range(40)))
        for obj in objects:
            seen = [t for f, t in zip(frames, times, strict=True) if _colour_visible(f, obj["colour"])]
            assert min(seen) == obj["span"][0]
            assert round(max(seen) + 0.1, 3) == obj["span"][1]  # last visible frame ends the span

    def test_build_with_extracted_frames(self, tmp_path):
        out = build_dataset("video_synthetic", tmp_path / "ds", limit=4, extract_frames=True, progress=False)
        samples = load_samples(out)
        assert [s.task for s in samples][:3] == ["temporal_grounding", "counting", "vqa"]
        which = samples[3]
        assert which.task == "mcq"
        correct = float(which.choices["ABCD".index(which.answer["choice"])].split(". ")[1].rstrip(" s"))
        span = next(o["span"] for o in which.meta["objects"] if o["colour"] in which.question)
        assert span[0] <= correct < span[1]
        assert samples[0].video["native_fps"] == 10.0 and len(samples[0].images) == len(samples[0].meta["frame_times"])


def _videos(tmp_path, names):
    video_dir = tmp_path / "videos"
    video_dir.mkdir()
    for k, name in enumerate(names):
        write_synthetic_video(video_dir / f"{name}.mp4", np.random.default_rng(k), seconds=3.0)
    return video_dir


class TestRealFormats:
    def test_charades_sta_and_corrupt_clip_skipped(self, tmp_path):
        video_dir = _videos(tmp_path, ["AAA01", "BBB02"])
        (video_dir / "BBB02.mp4").write_bytes((video_dir / "BBB02.mp4").read_bytes()[:200])  # truncated
        ann = tmp_path / "charades_sta_test.txt"
        ann.write_text("AAA01 0.5 2.0##person opens a door.\nBBB02 1.0 2.0##person sits.\nCCC03 0 1##x.\n")
        out = build_dataset("charades_sta", tmp_path / "ds", annotations=str(ann), video_dir=str(video_dir),
                            progress=False)
        samples = load_samples(out)
        assert len(samples) == 1 and samples[0].answer["span"] == [0.5, 2.0]
        assert "person opens a door" in samples[0].question and samples[0].meta["split"] == "test"
        card = (out / "README.md").read_text()
        assert "corrupted video" in card and "video file missing" in card

    def test_parse_charades(self):
        assert parse_charades_sta("X 1 2##a b.\n\n") == [("X", 1.0, 2.0, "a b.")]

    def test_activitynet_captions_keeps_annotated_end(self, tmp_path):
        video_dir = _videos(tmp_path, ["v_abc"])
        ann = tmp_path / "val_1.json"
        ann.write_text(json.dumps({"v_abc": {"duration": 3.0, "timestamps": [[0.2, 1.1], [1.5, 9.0]],
                                             "sentences": ["A man waves.", "He leaves."]}}))
        samples = load_samples(build_dataset("activitynet_captions", tmp_path / "ds", annotations=str(ann),
                                             video_dir=str(video_dir), extract_frames=True, max_frames=4,
                                             progress=False))
        assert [s.answer["span"] for s in samples] == [[0.2, 1.1], [1.5, 9.0]]  # as annotated, as scored
        assert {s.meta["split"] for s in samples} == {"val_1"}
        assert len(samples[0].images) == 4 and samples[0].meta["frame_times"] == [0.0, 1.0, 1.9, 2.9]
