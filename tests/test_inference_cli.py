"""``vlmr infer``: the trajectory printed and saved, on the tiny model and with a scripted tool call."""

import json

import numpy as np
import pytest
from PIL import Image

from vlmr.cli import main
from vlmr.formats import CoordinateSpace
from vlmr.inference import Generation


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from vlmr.tiny_model import build_tiny_model

    path = tmp_path_factory.getbasetemp() / "tiny-nano-shared"
    return path if (path / "config.json").exists() else build_tiny_model(path, size="nano")


@pytest.fixture
def image_path(tmp_path):
    y, x = np.mgrid[0:100, 0:200]
    path = tmp_path / "img.png"
    Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)).save(path)
    return path


class Scripted:
    family = "generic"

    def __init__(self):
        self.turn = 0

    def coordinate_space(self, width, height):
        return CoordinateSpace(width, height, "pixel")

    def generate(self, conversations):
        self.turn += 1
        if self.turn == 1:
            return [Generation('<think>zoom</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [50, 20, 150, 80]}}</tool_call>', None, 50, 9)]
        return [Generation("<think>two</think><answer>2</answer>", None, 90, 5)]


def test_tool_call_is_printed_and_its_image_saved(image_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("vlmr.inference.load_backend", lambda *a, **k: Scripted())
    out = tmp_path / "out"
    code = main(["infer", "--model", "m", "--image", str(image_path), "--question", "How many?", "--task", "counting",
                 "--tools", "zoom_in", "--save-dir", str(out)])
    assert code == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "→ zoom_in" in printed and '"bbox_2d": [50, 20, 150, 80]' in printed
    assert "<answer>2</answer>" in printed and "turns 2 · tool calls 1" in printed
    saved = Image.open(out / "tool_00.png")
    expected = Image.open(image_path).crop((50, 20, 150, 80)).resize((400, 240), Image.Resampling.BICUBIC)
    np.testing.assert_array_equal(np.asarray(saved), np.asarray(expected))  # 100x60 region, zoomed 4x
    record = json.loads((out / "trajectory.json").read_text())
    assert record["tool_image_files"] == ["tool_00.png"] and record["tool_calls"][0]["ok"] is True
    assert record["n_completion_tokens"] == 14 and record["response"].endswith("<answer>2</answer>")


@pytest.mark.slow
def test_tiny_model_end_to_end(tiny_model_dir, image_path, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["infer", "--model", str(tiny_model_dir), "--image", str(image_path), "--question", "Where is it?",
                 "--task", "grounding", "--tools", "zoom_in,draw_box", "--max-new-tokens", "8", "--save-dir", str(out)])
    assert code == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "Where is it?" in printed and "image 200x100" in printed
    record = json.loads((out / "trajectory.json").read_text())
    assert record["turns"] >= 1 and 0 < record["n_completion_tokens"] <= 8 * record["turns"]


def test_missing_image_is_a_clear_error(tmp_path, capsys):
    assert main(["infer", "--model", "m", "--image", str(tmp_path / "nope.png"), "--question", "q"]) == 2
    assert "nope.png not found" in " ".join(capsys.readouterr().out.split())  # rich wraps long lines


def test_video_with_select_frames(tmp_path, capsys, monkeypatch):
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("decord")
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for k in range(30):
        writer.write(np.full((48, 64, 3), 8 * k, np.uint8))
    writer.release()

    class VideoScripted(Scripted):
        def generate(self, conversations):
            self.turn += 1
            if self.turn == 1:
                [(messages, schemas)] = conversations
                self.seen = messages, [s["function"]["name"] for s in schemas]
                return [Generation('<tool_call>{"name": "select_frames", "arguments": {"timestamps": [1.5]}}</tool_call>')]
            return [Generation("<answer>[1.0, 2.0]</answer>")]

    backend = VideoScripted()
    monkeypatch.setattr("vlmr.inference.load_backend", lambda *a, **k: backend)
    out = tmp_path / "out"
    assert main(["infer", "--model", "m", "--video", str(video), "--question", "When?", "--task", "temporal_grounding",
                 "--tools", "video", "--max-frames", "4", "--save-dir", str(out)]) == 0
    messages, tool_names = backend.seen
    parts = messages[1]["content"]  # system, user, then the turns appended later
    # the frames as training shows them: each an image after its time (issue 24: one conversation)
    assert [p["text"] for p in parts[:8:2]] == ["<0.0s>", "<1.0s>", "<1.9s>", "<2.9s>"]
    assert [p["type"] for p in parts[1:9:2]] == ["image"] * 4 and parts[8]["type"] == "text"
    assert tool_names == ["select_frames", "zoom_in_frame"]
    frame = np.asarray(Image.open(out / "tool_00.png")).astype(float)
    assert abs(frame.mean() - 8 * 15) < 4  # the frame at 1.5 s is frame 15


class ScriptedSegmenter(Scripted):
    def generate(self, conversations):
        return [Generation('<think>the red square</think><answer>{"bbox_2d": [60, 20, 120, 80], '
                           '"point_2d": [90, 50]}</answer>', None, 40, 20)]


def test_segmentation_answer_drawn_with_its_mask(tmp_path, capsys, monkeypatch):
    """--task segmentation: the predicted box + point become a GrabCut mask drawn on answer.png."""
    pixels = np.full((100, 200, 3), 180, np.uint8)
    pixels[20:80, 60:120] = (220, 30, 35)
    image_path = tmp_path / "square.png"
    Image.fromarray(pixels).save(image_path)
    monkeypatch.setattr("vlmr.inference.load_backend", lambda *a, **k: ScriptedSegmenter())
    out = tmp_path / "out"
    assert main(["infer", "--model", "m", "--image", str(image_path), "--question", "Segment the red square.",
                 "--task", "segmentation", "--save-dir", str(out)]) == 0
    drawn = np.asarray(Image.open(out / "answer.png").convert("RGB")).astype(int)
    assert drawn.shape == (100, 200, 3)
    inside, outside = drawn[50, 75], drawn[50, 20]
    assert np.abs(inside - pixels[50, 75]).sum() > 30  # the mask tints the square
    assert np.abs(outside - pixels[50, 20]).sum() == 0  # the background is untouched
