"""One question end to end with a scripted backend: streamed views, tool gallery, answer drawn."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from vlmr.demo.session import Settings, ask, default_tools, page_tools, preview, with_sampling
from vlmr.formats import CoordinateSpace
from vlmr.inference import Generation
from vlmr.render import BOX_COLORS


class Scripted:
    """Zooms first, then answers with a box in 0-1000 coordinates."""

    family = "qwen2_vl"

    def __init__(self, fail=False):
        self.seen = []
        self.fail = fail

    def coordinate_space(self, width, height):
        return CoordinateSpace(width, height, "norm1000")

    def generate(self, conversations):
        [(messages, schemas)] = conversations
        self.seen.append((messages, schemas))
        if self.fail:
            return [Generation("", error="RuntimeError: out of memory")]
        if not any(m["role"] == "tool" for m in messages):
            call = {"name": "zoom_in", "arguments": {"bbox_2d": [250, 250, 750, 750]}}
            return [Generation(f"<think>look closer</think><tool_call>{json.dumps(call)}</tool_call>", None, 40, 12)]
        return [Generation('<think>found it</think><answer>{"bbox_2d": [500, 500, 1000, 1000], "label": "dot"}</answer>',
                           None, 80, 9)]


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "img.png"
    Image.new("RGB", (200, 100), (200, 200, 200)).save(path)
    return path


def test_grounding_question_streams_tool_call_and_draws_the_box(png):
    views = list(ask(Scripted(), str(png), "Where is the dot?", "grounding", ["zoom_in", "draw_box"], Settings()))
    assert views[0].status.startswith("Thinking about the image")
    tool_views = [v for v in views if v.gallery]
    assert tool_views[0].answer == "" and '→ zoom_in({"bbox_2d": [250, 250, 750, 750]})' in tool_views[0].transcript
    final = views[-1]
    assert final.ok and final.status.startswith("Done in") and "2 turn(s) · 1 tool call(s) · 21 tokens" in final.status
    assert final.answer == '{"bbox_2d": [500, 500, 1000, 1000], "label": "dot"}\n\nbox 1: [100, 50, 200, 100] px'
    [(zoomed, caption)] = final.gallery
    assert zoomed.size[0] > 100 and caption.startswith("1 · turn 1 · zoom_in(")
    overlay = np.asarray(final.overlay)
    assert tuple(overlay[75, 100]) == BOX_COLORS[0] and tuple(overlay[25, 50]) == (200, 200, 200)


def test_prompt_and_tools_reach_the_backend(png):
    backend = Scripted()
    list(ask(backend, str(png), "Where is the dot?", "grounding", ["zoom_in"], Settings()))
    messages, schemas = backend.seen[0]
    assert [s["function"]["name"] for s in schemas] == ["zoom_in"]
    user = next(m for m in messages if m["role"] == "user")
    assert user["content"][0]["image"].size == (200, 100)
    assert "Where is the dot? Answer with the box" in user["content"][1]["text"]


@pytest.mark.parametrize(
    ("question", "task", "tools", "message"),
    [
        ("", "grounding", [], "The question is empty"),
        ("When?", "temporal_grounding", [], "Temporal grounding needs a video"),
        ("Where?", "dance", [], "Unknown task 'dance'"),
        ("Where?", "grounding", ["teleport"], r"Unknown tools \['teleport'\]"),
    ],
)
def test_bad_requests_end_with_one_error_view(png, question, task, tools, message):
    backend = Scripted()
    [view] = list(ask(backend, str(png), question, task, tools, Settings()))
    assert not view.ok and view.status.startswith("**Cannot answer:**")
    assert re.search(message, view.status.replace("\\", ""))
    assert backend.seen == []


def test_backend_failure_is_reported(png):
    views = list(ask(Scripted(fail=True), str(png), "Where?", "grounding", [], Settings()))
    assert not views[-1].ok and "out of memory" in views[-1].status


def test_preview_of_a_bad_upload_says_why(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("hello")
    image, status = preview(str(path), Settings())
    assert image is None and status.startswith("**Cannot use this upload:** Cannot read a\\.txt")


def test_with_sampling_copies_generation_settings():
    class Local:
        family = "qwen2_5_vl"
        generation = {"max_new_tokens": 512, "do_sample": False, "suppress_tokens": [7]}

    local = Local()
    hot = with_sampling(local, 64, 0.7)
    assert hot.generation == {"max_new_tokens": 64, "do_sample": True, "suppress_tokens": [7], "temperature": 0.7,
                              "top_p": 1.0}
    assert local.generation["max_new_tokens"] == 512  # the shared backend is untouched
    cold = with_sampling(hot, 32, 0.0)
    assert cold.generation == {"max_new_tokens": 32, "do_sample": False, "suppress_tokens": [7]}


def test_default_tools_follow_the_upload_kind():
    assert default_tools("counting") == ["zoom_in", "grid", "mask_out"]
    assert default_tools("grounding", "video") == ["select_frames", "zoom_in_frame"]
    assert default_tools("vqa", "volume") == ["zoom_in", "crop", "rotate", "get_slice"]
    assert "render_view" not in page_tools() and "get_slice" in page_tools()
