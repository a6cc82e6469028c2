"""The environment contract: bad arguments and limits give messages, never exceptions."""

import inspect
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from transformers.utils import get_json_schema

from vlmr.tools import ToolLimits, ToolResult, list_tools, make_environment, make_environments, resolve_tools
from vlmr.tools.environment import COORDINATE_PHRASES, ToolEnvironment, _as_method


@pytest.fixture
def env(white):
    env = make_environment("image", limits=ToolLimits(max_calls=50))()
    env.reset(images=[white])
    return env


def error_of(parts):
    assert [p["type"] for p in parts] == ["text"], "an error returns text only"
    assert parts[0]["text"].startswith("Error: ")
    return parts[0]["text"]


class TestBadArguments:
    @pytest.mark.parametrize(
        "tool, arguments, message",
        [
            # wrong container type
            ("zoom_in", {"bbox_2d": "10, 10, 50, 50"}, "bbox_2d must be a list of 4 numbers like [x1, y1, x2, y2], got str"),
            # wrong length
            ("zoom_in", {"bbox_2d": [10, 10, 50]}, "bbox_2d must have 4 numbers like [x1, y1, x2, y2], got 3"),
            # an element of the wrong type
            ("crop", {"bbox_2d": [10, "a", 50, 50]}, "bbox_2d[1] must be a number, got str 'a'"),
            # booleans are not numbers
            ("crop", {"bbox_2d": [True, 0, 50, 50]}, "bbox_2d[0] must be a number, got bool"),
            # NaN and infinity
            ("zoom_in", {"bbox_2d": [math.nan, 10, 50, 50]}, "bbox_2d[0] must be a finite number, got nan"),
            ("draw_box", {"bbox_2d": [0, 0, math.inf, 50]}, "bbox_2d[2] must be a finite number, got inf"),
            # reversed corners
            ("zoom_in", {"bbox_2d": [50, 50, 10, 10]}, "is empty or reversed: write [x1, y1, x2, y2] with x1 < x2"),
            # zero area
            ("crop", {"bbox_2d": [10, 10, 10, 40]}, "is empty or reversed"),
            # wholly outside the 200x100 image
            ("zoom_in", {"bbox_2d": [300, 10, 400, 60]}, "lies outside the image; valid coordinates are x in [0, 200] and y in [0, 100]"),
            # tiny after conversion
            ("zoom_in", {"bbox_2d": [10, 10, 12, 12]}, "bbox_2d [10, 10, 12, 12] is 2x2 px; the smallest region is 28x28 px"),
            # other argument types
            ("rotate", {"angle": "ninety"}, "angle must be a number, got str 'ninety'"),
            ("draw_point", {"point_2d": [250, 50]}, "point_2d [250, 50] lies outside the image"),
            ("draw_line", {"start_2d": [0, 0], "end_2d": [10]}, "end_2d must have 2 numbers like [x, y], got 1"),
            ("draw_box", {"bbox_2d": [0, 0, 50, 50], "color": "mauve"}, "color must be one of ['red', 'green'"),
            ("draw_box", {"bbox_2d": [0, 0, 50, 50], "label": 7}, "label must be a short text, got int 7"),
            ("grid", {"divisions": 40}, "divisions must be between 2 and 10, got 40"),
            ("grid", {"divisions": 2.5}, "divisions must be a whole number, got 2.5"),
            # unknown and missing argument names
            ("zoom_in", {"box": [0, 0, 50, 50]}, "zoom_in got unknown argument(s) ['box']; its arguments are: bbox_2d, label (optional)"),
            ("draw_line", {"start_2d": [0, 0]}, "draw_line is missing required argument(s) ['end_2d']"),
        ],
    )
    def test_bad_argument_gives_message(self, env, tool, arguments, message):
        assert message in error_of(getattr(env, tool)(**arguments))

    def test_absurd_aspect_ratio(self):
        env = make_environment("zoom")()
        env.reset(images=[Image.new("RGB", (3000, 100))])
        text = error_of(env.zoom_in(bbox_2d=[0, 0, 2000, 30]))
        assert "an aspect ratio of 67:1; the limit is 50:1" in text

    def test_failed_call_leaves_state_usable(self, env):
        env.zoom_in(bbox_2d=[1, 2])
        parts = env.zoom_in(bbox_2d=[0, 0, 100, 100])
        assert parts[0]["type"] == "image"
        assert [h["ok"] for h in env.history] == [False, True]

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-10**6, 10**6), st.text(max_size=3), st.none()), max_size=6))
    def test_any_bbox_never_raises(self, bbox):
        env = make_environment("image", limits=ToolLimits(max_calls=10**6))()
        env.reset(images=[Image.new("RGB", (64, 64))])
        for tool in ("zoom_in", "crop", "draw_box", "highlight", "mask_out"):
            parts = getattr(env, tool)(bbox_2d=bbox)
            assert parts[-1]["type"] == "text"

    def test_sample_without_image(self):
        env = make_environment("image")()
        env.reset(images=[], question="hi")
        assert "this sample has no image" in error_of(env.zoom_in(bbox_2d=[0, 0, 50, 50]))

    def test_unreadable_image_is_skipped_and_reported(self, tmp_path, caplog):
        bad = tmp_path / "bad.png"
        bad.write_bytes(b"not a png")
        env = make_environment("image")()
        env.reset(images=["bad.png"], root=str(tmp_path))
        assert "unreadable" in caplog.text
        assert "no image" in error_of(env.crop(bbox_2d=[0, 0, 50, 50]))

    def test_image_path_relative_to_root(self, tmp_path, white):
        white.save(tmp_path / "w.png")
        env = make_environment("crop")()
        env.reset(images=["w.png"], root=str(tmp_path))
        assert env.crop(bbox_2d=[0, 0, 50, 50])[0]["image"].size == (50, 50)


def _slow(self, seconds: float) -> ToolResult:
    """Sleep.

    Args:
        seconds: How long.
    """
    time.sleep(seconds)
    return ToolResult("slept")


def _broken(self) -> ToolResult:
    """Fail."""
    raise KeyError("boom")


class TestLimits:
    def test_too_many_calls(self, white):
        env = make_environment("crop", limits=ToolLimits(max_calls=2))()
        env.reset(images=[white])
        for _ in range(2):
            assert env.crop(bbox_2d=[0, 0, 50, 50])[0]["type"] == "image"
        assert "tool call limit (2 calls) is reached" in error_of(env.crop(bbox_2d=[0, 0, 50, 50]))
        env.reset(images=[white])  # a new episode starts a new budget
        assert env.crop(bbox_2d=[0, 0, 50, 50])[0]["type"] == "image"

    def test_too_many_images(self, white):
        env = make_environment("crop", limits=ToolLimits(max_images=1))()
        env.reset(images=[white])
        env.crop(bbox_2d=[0, 0, 50, 50])
        assert "image limit of this episode (1 tool images)" in error_of(env.crop(bbox_2d=[0, 0, 50, 50]))

    def test_time_limit(self, white):
        Env = type("SlowEnv", (ToolEnvironment,), {"slow": _as_method(_slow, None), "limits": ToolLimits(time_limit=0.2)})
        env = Env()
        env.reset(images=[white])
        start = time.perf_counter()
        text = error_of(env.slow(seconds=2.0))
        assert time.perf_counter() - start < 1.0
        assert "slow took longer than its 0.2 s time limit" in text
        assert env.slow(seconds=0.0) == [{"type": "text", "text": "slept"}]

    def test_unexpected_exception_becomes_message(self, white):
        env = type("BrokenEnv", (ToolEnvironment,), {"broken": _as_method(_broken, None)})()
        env.reset(images=[white])
        assert error_of(env.broken()) == "Error: _broken failed (KeyError: 'boom')."

    def test_limits_are_validated(self):
        with pytest.raises(ValueError, match="ToolLimits.max_calls must be >= 1, got 0"):
            ToolLimits(max_calls=0)
        with pytest.raises(ValueError, match="code_seconds > 0 and code_memory_mb >= 64; got 10.0, 32"):
            ToolLimits(code_memory_mb=32)  # below what the interpreter itself needs

    def test_tool_before_reset_is_a_programming_error(self):
        with pytest.raises(RuntimeError, match="call reset"):
            make_environment("crop")().crop(bbox_2d=[0, 0, 1, 1])


class TestClassContract:
    def test_public_methods_are_exactly_the_tools(self):
        Env = make_environment(["zoom_in", "draw_box"])
        public = [n for n, _ in inspect.getmembers(Env, predicate=inspect.isfunction) if not n.startswith("_")]
        assert sorted(public) == ["draw_box", "reset", "zoom_in"]

    def test_reset_accepts_any_row_and_returns_none(self, white):
        env = make_environment("zoom")()
        assert env.reset(prompt=[{"role": "user", "content": "x"}], images=[white], answer={"count": 1}, task="counting") is None

    @pytest.mark.parametrize("convention", list(COORDINATE_PHRASES))
    def test_every_tool_has_a_full_schema_stating_the_convention(self, convention):
        env = make_environment(list_tools(), convention=convention)()
        for name in env.tool_names:
            schema = get_json_schema(getattr(env, name))["function"]
            assert schema["name"] == name and schema["description"]
            for arg, prop in schema["parameters"]["properties"].items():
                assert prop.get("description"), f"{name}.{arg} has no description"
            if "bbox_2d" in schema["parameters"]["properties"]:
                assert COORDINATE_PHRASES[convention] in schema["parameters"]["properties"]["bbox_2d"]["description"]
            assert "return" not in schema

    def test_tool_sets_per_task(self):
        envs = make_environments({"grounding": ["zoom_in", "draw_box"], "counting": "zoom,grid"})
        assert envs["grounding"].tool_names == ("zoom_in", "draw_box")
        assert envs["counting"].tool_names == ("zoom_in", "grid")

    def test_unknown_tool_lists_choices(self):
        with pytest.raises(ValueError, match=r"unknown tool 'zoomy'; tools: \['crop'.*tool sets: \['image'"):
            make_environment(["zoomy"])
        assert resolve_tools("zoom_in, image") == ["zoom_in", *resolve_tools("image")[1:]]
