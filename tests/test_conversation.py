"""One conversation: the same records through the SFT, GRPO, roll-out, eval, infer and demo paths give
the same text, images and frame times (issue 24); the frame policy is qwen-vl-utils' own."""

from __future__ import annotations

import json

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
    # the record's own question (a judge's), while the prompt's text adds the choices and the answer instruction
    assert grpo["mcq"]["question"] == "Which animal is it?"


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


# ---------------------------------------------------------------- rewards and eval scores
W, H = 640, 480
SPACE = CoordinateSpace.for_image(W, H, FAMILY)  # "resized": the model answers on 644x476


def _box(box):
    """A box answer in the model's coordinates for a box in original pixels."""
    return json.dumps({"bbox_2d": [round(v) for v in SPACE.from_pixels(box)]})


def _point(x, y):
    return json.dumps({"point_2d": [round(v) for v in SPACE.from_pixels([x, y])]})


def _mask():
    from vlmr.masks import mask_to_rle

    mask = np.zeros((H, W), bool)
    mask[100:200, 100:300] = True
    return mask_to_rle(mask)


SIZE = {"width": W, "height": H}
# task: (record, GRPO reward, eval metric, answers); the reward is the one a config trains the task with
AGREE = {
    "grounding": (dict(answer={"boxes": [[100, 100, 300, 200]]}, meta=SIZE), "iou", "iou",
                  [_box([100, 100, 300, 200]), _box([100, 100, 200, 200]), "none"]),
    "detection": (dict(answer={"boxes": [[100, 100, 300, 200], [400, 300, 500, 400]]}, meta=SIZE), "detection",
                  "f1@0.5", [f"[{_box([100, 100, 300, 200])}]", "[]"]),
    "counting": (dict(answer={"count": 3}), "count", "accuracy", ["3", "4", "three", ""]),
    "mcq": (dict(choices=["A. cat", "B. dog"], answer={"choice": "B"}), "accuracy", "accuracy",
            ["B", "dog", "A", "(B)"]),  # "dog" is B only with the choices: GRPO rows now carry them
    "pointing": (dict(answer={"masks": [_mask()]}, meta=SIZE), "point_in_mask", "accuracy",
                 [_point(150, 150), _point(0, 0)]),
    "segmentation": (dict(answer={"masks": [_mask()]}, meta=SIZE), "mask_iou", "giou",
                     [_box([100, 100, 300, 200]), _box([100, 100, 200, 200])]),
    "temporal_grounding": (dict(answer={"span": [2.0, 6.0]}), "temporal_iou", "miou", ["[2.0, 6.0]", "[4, 8]", "x"]),
    "chart_qa": (dict(answer={"text": "45"}), "chart_relaxed", "relaxed_accuracy", ["46", "50", "45.0"]),
    "medical_vqa": (dict(answer={"text": "yes"}, meta={"answer_type": "CLOSED"}), "accuracy", "closed_accuracy",
                    ["yes", "no", "Yes, there is."]),
    "math": (dict(answer={"text": "0.5"}), "accuracy", "accuracy", ["\\frac{1}{2}", "0.6"]),
    "vqa": (dict(answer={"text": "red"}), "accuracy", "accuracy", ["Red", "blue", "the red"]),
    "scene3d_qa": (dict(answer={"text": "brown"}), "accuracy", "exact_match_normalised", ["brown", "Brown.", "a cat"]),
}


def _reward_and_score(task, fields, reward, metric, text):
    """The GRPO reward (columns after the Arrow round trip trl reads them from) and the eval score."""
    from vlmr.dataset import to_hf_dataset
    from vlmr.eval.benchmarks.dataset_dir import DatasetDir
    from vlmr.eval.registry import ScoreContext
    from vlmr.rewards import get_reward
    from vlmr.tasks import get_task

    sample = Sample(id=task, task=task, question="q", **fields)
    ctx = ScoreContext(family=FAMILY)
    [row] = to_hf_dataset([build_conversation_row(sample, ctx.space_for(sample))])
    completion = f"<think>x</think><answer>{text}</answer>"
    got = get_reward(reward)([completion], **{k: [row[k]] for k in REWARD_COLUMNS if k != "images"})[0]
    assert get_task(task).scorer is not None
    return got, DatasetDir().process_results(sample, {"response": completion}, ctx)[metric]


def build_conversation_row(sample, space):
    from vlmr.conversation import build_conversation

    return build_conversation(sample, ".", space, images=[]).row()


@pytest.mark.parametrize("task", sorted(AGREE))
def test_grpo_reward_equals_eval_score(task):
    fields, reward, metric, answers = AGREE[task]
    for text in answers:
        got, score = _reward_and_score(task, fields, reward, metric, text)
        assert (got or 0.0) == pytest.approx(score, abs=1e-6), (task, text)


def test_named_differences_between_reward_and_official_score():
    """Where the official scorer is more lenient or stricter on purpose, pinned so a change is seen."""
    # a reversed span: lmms-eval's eval_tvg.py swaps it, the training reward gives nothing for it
    assert _reward_and_score("temporal_grounding", AGREE["temporal_grounding"][0], "temporal_iou", "miou",
                             "[7, 3]") == (0.0, pytest.approx(0.6))  # [3, 7] vs [2, 6]: 3 / 5
    # words around the number: ChartQA's official match is strict, the reward retries the number alone
    assert _reward_and_score("chart_qa", AGREE["chart_qa"][0], "chart_relaxed", "relaxed_accuracy",
                             "about 45 units") == (1.0, 0.0)


def test_every_reward_reads_columns_rows_carry():
    from vlmr.rewards import get_reward, list_rewards

    for name in list_rewards():
        assert set(get_reward(name).columns) <= set(REWARD_COLUMNS), name


def test_rollouts_give_rewards_every_declared_column(grpo):
    from vlmr.rewards.base import Reward
    from vlmr.train.rollouts import roll_out

    class Seen(Reward):
        name = "seen"
        columns = REWARD_COLUMNS

        def score(self, prediction, answer=None, **context):
            seen.append({"answer": answer, **context})
            return 0.0

    seen: list[dict] = []
    roll_out(Recorder(), [grpo["mcq"]], {}, [Seen()], max_turns=1)
    assert set(REWARD_COLUMNS) <= set(seen[0]) and seen[0]["choices"] == ["A. cat", "B. dog"]


def test_a_reward_reading_a_missing_column_fails_at_config_load(tmp_path, monkeypatch):
    from vlmr.config import ConfigError, TrainConfig
    from vlmr.train.specs import check_config

    (tmp_path / "depth_reward.py").write_text(
        "from vlmr.rewards.base import Reward\n\n\n"
        "class Depth(Reward):\n    name = 'depth'\n    columns = ('answer', 'depth_map')\n\n"
        "    def score(self, prediction, answer=None, **context):\n        return 0.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = TrainConfig.from_dict({"model": "m", "output_dir": "o", "datasets": [{"path": "d"}],
                                 "rewards": [{"name": "depth_reward:Depth"}]})
    with pytest.raises(ConfigError, match=r"rewards\[0\] \(depth_reward:Depth\): reads the column\(s\) "
                                          r"\['depth_map'\], which vlmr rows do not carry"):
        check_config(cfg, "grpo")


def test_distillation_verifies_with_the_choices():
    from vlmr.data_pipelines.distill import verified
    from vlmr.rewards import get_reward

    sample = Sample(id="m", task="mcq", question="Which?", choices=["A. cat", "B. dog"], answer={"choice": "B"})
    assert verified("<think>x</think><answer>dog</answer>", sample, {"*": [get_reward("accuracy")]}, 1.0)
