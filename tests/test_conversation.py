"""One conversation: the same records through the SFT, GRPO, roll-out, eval, infer and demo paths give
the same text, images and frame times (issue 24); the frame policy is qwen-vl-utils' own."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vlmr.conversation import REWARD_COLUMNS, FramePolicy
from vlmr.data_pipelines.video import write_synthetic_video
from vlmr.formats import CoordinateSpace
from vlmr.inference import Generation, fill_images
from vlmr.media.image import open_rgb
from vlmr.prompts import SYSTEM_PROMPT
from vlmr.schema import DatasetWriter, Sample

FAMILY = "qwen2_5_vl"
TOOLS = {"grounding": ["zoom_in"], "medical_vqa": ["get_slice"]}


class Recorder:
    """A backend that answers every turn at once and keeps each conversation it was asked to continue."""

    family = FAMILY

    def __init__(self, reply: str = "<think>x</think><answer>1</answer>"):
        self.reply = reply
        self.seen: list[list[dict]] = []

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        return CoordinateSpace.for_image(width, height, FAMILY)

    def generate(self, conversations):
        self.seen += [list(messages) for messages, _ in conversations]  # before the loop appends the reply
        return [Generation(self.reply) for _ in conversations]


def _png(path, seed: int, size=(64, 48)):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Six records: image QA with choices, grounding with a tool, a video clip, a frame folder, frames
    extracted by a builder (``meta.frame_times``) and a medical volume with its slice."""
    from vlmr.demo.examples import write_scan

    root = tmp_path_factory.mktemp("conv") / "data"
    with DatasetWriter(root) as w:
        path, mcq = w.media_path("mcq.png")
        _png(path, 0)
        w.add(Sample(id="mcq", task="mcq", question="Which animal is it?", images=[mcq], choices=["A. cat", "B. dog"],
                     answer={"choice": "B"}))
        path, ground = w.media_path("ground.png")
        _png(path, 1, (80, 60))
        w.add(Sample(id="ground", task="grounding", question="Find the square.", images=[ground],
                     answer={"boxes": [[10, 10, 40, 30]], "labels": ["square"]}))
        path, clip = w.media_path("clip.mp4")
        write_synthetic_video(path, np.random.default_rng(0), fps=10, seconds=2.0)
        w.add(Sample(id="clip", task="temporal_grounding", question="When is the red square visible?",
                     video={"path": clip, "fps": 10.0}, answer={"span": [0.5, 1.0]}))  # `fps`: an old record
        for k in range(6):
            path, _ = w.media_path(f"folder/{k:05d}.jpg")
            _png(path, 10 + k)
        w.add(Sample(id="folder", task="counting", question="How many squares?",
                     video={"path": "media/folder", "native_fps": 3.0}, answer={"count": 2}))
        frames = []
        for k in range(2):
            path, rel = w.media_path(f"extracted/{k}.png")
            _png(path, 20 + k)
            frames.append(rel)
        w.add(Sample(id="extracted", task="vqa", question="Is it moving?", images=frames, video={"path": clip},
                     answer={"text": "yes"}, meta={"frame_times": [0.0, 1.5]}))
        path, slice_png = w.media_path("slice.png")
        _png(path, 30)
        path, scan = w.media_path("ct.nii.gz")
        write_scan(path, size=16)
        w.add(Sample(id="scan", task="medical_vqa", question="Is there a lesion?", images=[slice_png],
                     volume={"path": scan}, answer={"text": "yes"}))
    return root


def _view(messages: list[dict]) -> list[tuple]:
    """What the model reads: each turn's role and its parts (text, or an image's size and pixels)."""
    out = []
    for message in messages:
        content = message["content"]
        parts = [("text", content)] if isinstance(content, str) else [
            ("text", p["text"]) if p["type"] == "text" else ("image", p["image"].size, np.asarray(p["image"]).tobytes())
            for p in content]
        out.append((message["role"], parts))
    return out


def _cfg(data):
    from vlmr.config import TrainConfig

    return TrainConfig.from_dict({"model": "unused", "output_dir": "unused", "datasets": [{"path": str(data)}],
                                  "tools": TOOLS})


@pytest.fixture(scope="module")
def grpo(data):
    from vlmr.train.data import prompt_rows

    return {row["id"]: row for row in prompt_rows(_cfg(data), str(data), FAMILY)}


@pytest.fixture(scope="module")
def expected(grpo):
    """The GRPO rows as the model reads them (placeholders filled)."""
    return {sid: _view(fill_images(row["prompt"], row["images"])) for sid, row in grpo.items()}


def test_grpo_rows_show_frames_with_their_times(grpo, expected):
    stamps = {sid: [p[1] for _, parts in view for p in parts if p[0] == "text" and p[1].startswith("<")]
              for sid, view in expected.items()}
    # 2 s at 10 fps sampled at 2 fps: 4 frames, indices linspace(0, 19, 4) = 0, 6, 13, 19
    assert stamps["clip"] == ["<0.0s>", "<0.6s>", "<1.3s>", "<1.9s>"]
    # a 6-frame folder at its native 3 fps (2 s) sampled at 2 fps: 4 frames, indices 0, 2, 3, 5
    assert stamps["folder"] == ["<0.0s>", "<0.7s>", "<1.0s>", "<1.7s>"]
    assert stamps["extracted"] == ["<0.0s>", "<1.5s>"]  # meta.frame_times: the images are the frames
    assert len(grpo["extracted"]["images"]) == 2 and stamps["mcq"] == stamps["scan"] == []
    assert grpo["clip"]["video"]["sample_fps"] == 2.0 and grpo["clip"]["video"]["max_frames"] == 16
    assert grpo["scan"]["volume"]["path"].endswith("media/ct.nii.gz") and grpo["scan"]["volume"]["path"][0] == "/"
    assert grpo["mcq"]["choices"] == ["A. cat", "B. dog"]
    assert set(REWARD_COLUMNS) <= set(grpo["mcq"])


def test_sft_rows_start_with_the_grpo_prompt(data, expected):
    from vlmr.dataset import prepared_samples
    from vlmr.tools.environment import make_environment
    from vlmr.train.sft import sft_row

    for sample, space in prepared_samples(data, FAMILY):
        tools = TOOLS.get(sample.task)
        row = sft_row(data, sample, space, tools, SYSTEM_PROMPT, make_environment(tools) if tools else None)
        assert _view(fill_images(row["messages"][:-1], row["images"])) == expected[sample.id], sample.id


def test_rollouts_send_the_grpo_prompt(grpo, expected):
    from vlmr.rewards import get_reward
    from vlmr.train.rollouts import roll_out

    backend = Recorder()
    rows = list(grpo.values())
    roll_out(backend, rows, TOOLS, [get_reward("accuracy")], max_turns=1)
    assert {row["id"]: _view(seen) for row, seen in zip(rows, backend.seen, strict=True)} == expected


@pytest.mark.parametrize("tools", [[], ["zoom_in"]])
def test_eval_sends_the_grpo_prompt(data, expected, grpo, tools, tmp_path):
    from vlmr.eval.runner import EvalConfig, run_eval

    backend = Recorder()
    run_eval(EvalConfig(benchmark="dataset", data=str(data), out=str(tmp_path), model="recorder",
                        api_base="http://unused", family=FAMILY, tools=tools, report=False), backend=backend)
    sent = {sid: _view(messages) for sid, messages in zip(grpo, backend.seen, strict=True)}  # file order
    same_tools = [sid for sid, row in grpo.items() if TOOLS.get(row["task"], []) == tools]
    assert same_tools and all(sent[sid] == expected[sid] for sid in same_tools)


def test_infer_and_demo_send_the_grpo_prompt(data, grpo, expected):
    from vlmr.demo.inputs import load_media
    from vlmr.demo.session import build_request
    from vlmr.inference.request import media_request

    backend = Recorder()

    def sent(request):
        return _view(fill_images(request.messages, request.images))

    ground = grpo["ground"]
    request, _ = media_request(backend, "Find the square.", "grounding", ["zoom_in"], image=open_rgb(ground["images"][0]))
    assert sent(request) == expected["ground"] and request.env_row["coord"] == ground["coord"]
    request, _ = media_request(backend, "When is the red square visible?", "temporal_grounding",
                               video={"path": grpo["clip"]["video"]["path"]})
    assert sent(request) == expected["clip"]
    request, _ = media_request(backend, "How many squares?", "counting",
                               video={"path": grpo["folder"]["video"]["path"], "native_fps": 3.0})
    assert sent(request) == expected["folder"]
    request, _ = media_request(backend, "Is there a lesion?", "medical_vqa", ["get_slice"],
                               image=open_rgb(grpo["scan"]["images"][0]), env={"volume": grpo["scan"]["volume"]})
    assert sent(request) == expected["scan"] and request.env_row["volume"] == grpo["scan"]["volume"]

    media = load_media(ground["images"][0])
    request, _ = build_request(backend, media, "Find the square.", "grounding", ["zoom_in"])
    assert sent(request) == expected["ground"]
    media = load_media(grpo["clip"]["video"]["path"], max_frames=16, fps=2.0)
    request, _ = build_request(backend, media, "When is the red square visible?", "temporal_grounding", None)
    assert sent(request) == expected["clip"] and media.times == [0.0, 0.6, 1.3, 1.9]  # the preview shows them


def test_built_video_set_evaluates_without_errors_as_in_training(tmp_path):
    """Issue 24: ``vlmr data build video_synthetic`` then ``vlmr eval run --benchmark dataset`` errored on
    every sample (the request builder met a ``video`` part); now 0 errors and the frames GRPO trains on."""
    from vlmr.cli import main
    from vlmr.eval.runner import EvalConfig, run_eval
    from vlmr.train.data import prompt_rows

    data = tmp_path / "vsyn"
    assert main(["data", "build", "video_synthetic", "--out", str(data), "--limit", "4"]) == 0
    backend = Recorder()
    scores = run_eval(EvalConfig(benchmark="dataset", data=str(data), out=str(tmp_path / "run"), model="recorder",
                                 api_base="http://unused", family=FAMILY, report=False), backend=backend)
    assert scores["n"] == 4 and scores["n_errors"] == 0
    cfg = _cfg(data)
    rows = prompt_rows(cfg, str(data), FAMILY)
    assert [_view(m) for m in backend.seen] == [_view(fill_images(r["prompt"], r["images"])) for r in rows]
    assert all(sum(p["type"] == "image" for p in m[-1]["content"]) == 12 for m in backend.seen)  # 6 s at 2 fps


def test_frame_policy_is_qwen_vl_utils_fetch_video(tmp_path):
    """Same frame indices and sizes as the installed qwen-vl-utils on settings both accept."""
    pytest.importorskip("qwen_vl_utils")
    import torch
    from qwen_vl_utils import vision_process
    from qwen_vl_utils.vision_process import fetch_video

    from vlmr.media.video import plan_indices, probe

    path = tmp_path / "clip.mp4"
    write_synthetic_video(path, np.random.default_rng(1), fps=10, seconds=6.0)  # 60 frames, 160x120
    info = probe(path)
    settings = [
        {"fps": 2.0, "max_frames": 8},
        {"fps": 1.0, "max_frames": 16},
        {"fps": 3.0, "max_frames": 16, "start": 1.0, "end": 4.5},
        {"fps": 0.5, "max_frames": 16},  # 3 frames wanted, raised to qwen's minimum of 4
        {"fps": 2.0, "max_frames": 16, "min_pixels": 128 * 28 * 28, "max_pixels": 256 * 28 * 28},
        {"fps": 2.0, "max_frames": 6, "min_pixels": 28 * 28, "max_pixels": 40 * 28 * 28},
    ]
    for s in settings:
        ele = {"video": str(path), "fps": s["fps"], "max_frames": s["max_frames"],
               **({"video_start": s["start"], "video_end": s["end"]} if "start" in s else {}),
               **{k: s[k] for k in ("min_pixels", "max_pixels") if k in s}}
        vision_process.FORCE_QWENVL_VIDEO_READER = "decord"
        video, meta = fetch_video(ele, return_video_metadata=True)
        policy = FramePolicy(s["fps"], s["max_frames"], s.get("min_pixels"), s.get("max_pixels"))
        record = {"path": path.name, **({"start": s["start"], "end": s["end"]} if "start" in s else {})}
        frames, times = policy.sample(tmp_path, record)
        indices = plan_indices(info["n_frames"], info["fps"], policy.fps, policy.max_frames, record.get("start"),
                               record.get("end"))
        assert indices == [int(i) for i in meta["frames_indices"]], s
        assert times == [round(i / info["fps"], 3) for i in indices], s
        if "max_pixels" in s:
            assert {f.size[::-1] for f in frames} == {tuple(video.shape[2:])}, s
        assert isinstance(video, torch.Tensor) and len(frames) == video.shape[0], s
