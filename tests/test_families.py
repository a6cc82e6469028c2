"""Model families as registered specs: lookup by name or import path, recognition by model_type, the size rules."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from PIL import Image

from vlmr.families import (
    FAMILIES,
    ModelFamily,
    family_for_model_type,
    get_family,
    list_families,
    register_family,
)
from vlmr.families.internvl import tile_grid
from vlmr.families.smolvlm import split_size
from vlmr.registry import UnknownNameError


@pytest.fixture
def own_module(monkeypatch):
    """A module ``my_families`` holding a family of its own, unregistered until named."""
    module = types.ModuleType("my_families")
    module.MINE = ModelFamily("mine", ("mine_vl",), "norm1", 32, 32 * 32, 32 * 32 * 64)
    monkeypatch.setitem(sys.modules, "my_families", module)
    yield module
    FAMILIES.pop("mine", None)
    from vlmr.families import base

    base._BY_MODEL_TYPE.pop("mine_vl", None)


class TestRegistry:
    def test_built_in_families(self):
        assert {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "internvl", "llava_onevision", "glm4v", "gemma3", "smolvlm",
                "generic"} <= set(list_families())

    @pytest.mark.parametrize(
        ("model_type", "family"),
        [
            ("qwen2_5_vl", "qwen2_5_vl"),
            ("qwen2_vl", "qwen2_vl"),
            ("qwen3_vl_moe", "qwen3_vl"),  # two model types, one family
            ("internvl", "internvl"),
            ("llava_onevision", "llava_onevision"),
            ("glm4v", "glm4v"),  # GLM-4.1V, GLM-4.6V-Flash
            ("glm4v_moe", "glm4v"),  # GLM-4.5V, GLM-4.6V
            ("glm46v", "glm4v"),  # transformers' GLM-4.6V processor class around any language model
            ("gemma3", "gemma3"),
            ("smolvlm", "smolvlm"),
            ("gemma3_text", "generic"),  # Gemma 3 without a vision tower
            ("llava", "generic"),  # no family claims it (LLaVA-1.5)
            (None, "generic"),
        ],
    )
    def test_family_for_model_type(self, model_type, family):
        assert family_for_model_type(model_type) == family

    def test_unknown_name_lists_the_families(self):
        with pytest.raises(UnknownNameError, match=r"unknown model family 'qwen25_vl'.*did you mean 'qwen2_5_vl'"):
            get_family("qwen25_vl")

    def test_a_family_of_ones_own_by_import_path(self, own_module):
        assert family_for_model_type("mine_vl") == "generic"  # not imported yet
        assert get_family("my_families:MINE") is own_module.MINE
        assert family_for_model_type("mine_vl") == "mine"  # registered on first use
        assert get_family("mine") is own_module.MINE

    def test_import_path_to_something_else_is_refused(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "not_families", types.SimpleNamespace(X=3))
        with pytest.raises(TypeError, match="'not_families:X' is not a ModelFamily"):
            get_family("not_families:X")

    def test_a_model_type_has_one_family(self):
        with pytest.raises(ValueError, match="model_type 'internvl' already belongs to family 'internvl'"):
            register_family(ModelFamily("other", ("internvl",), "pixel", 28, 784, 784 * 4))
        assert "other" not in FAMILIES

    def test_bad_pixel_limits_are_refused(self):
        with pytest.raises(ValueError, match="need 0 < min_pixels <= max_pixels, got 100 and 10"):
            ModelFamily("bad", (), "pixel", 28, 100, 10)

    def test_how_video_frames_are_given_is_part_of_the_spec(self):
        names = ("qwen2_5_vl", "internvl", "glm4v", "smolvlm", "gemma3", "generic")
        assert {name: get_family(name).video_input for name in names} == {  # Gemma 3 has no video processor
            "qwen2_5_vl": "video", "internvl": "video", "glm4v": "video", "smolvlm": "video", "gemma3": "images",
            "generic": "images"}
        with pytest.raises(ValueError, match="video_input must be one of \\('video', 'images'\\), got 'frames'"):
            ModelFamily("bad", (), "pixel", 28, 784, 784, video_input="frames")


class TestGlmSizeRule:
    """GLM-4.xV counts an image twice (temporal patch 2) against its area limits, unlike Qwen-VL."""

    def test_an_image_gets_half_the_area_qwen_would_give_it(self):
        glm, qwen = get_family("glm4v"), get_family("qwen2_5_vl")
        # 3000x4000 under 9633792: beta = sqrt(2 * 12e6 / 9633792) = 1.57838; floor(3000 / 1.57838 / 28) = 67 -> 1876,
        # floor(4000 / 1.57838 / 28) = 90 -> 2520; Qwen's rule under the same limit counts the image once:
        # beta = sqrt(12e6 / 9633792) = 1.11607, floor(3000 / 1.11607 / 28) = 96 -> 2688, floor(128.0) -> 3584
        assert glm.input_size(3000, 4000) == (1876, 2520)
        assert qwen.input_size(3000, 4000, max_pixels=9633792) == (2688, 3584)

    def test_max_pixels_is_written_to_size_longest_edge(self):
        from transformers import Glm4vImageProcessor

        from vlmr.models import pixel_limits, set_pixel_limits

        processor = types.SimpleNamespace(image_processor=Glm4vImageProcessor())
        assert set_pixel_limits(processor, max_pixels=1003520, family="glm4v")
        assert pixel_limits(processor, "glm4v") == (112 * 112, 1003520)  # transformers' default floor kept


class TestInternVLTiles:
    @pytest.mark.parametrize(
        ("height", "width", "max_tiles", "grid"),
        [
            # 4:3 landscape: (4, 3) has ratio 1.333, exactly the image's, with 12 tiles <= 12
            (480, 640, 12, (4, 3)),
            # square: (1, 1) is first of the ratio-1 grids; (2, 2) ties but 100x100 covers less than half of
            # 2x2 tiles (0.5 * 448^2 * 4), (3, 3) likewise
            (100, 100, 12, (1, 1)),
            # square 1000x1000 = 1e6 px: ties with (2, 2) (1e6 > 0.5 * 448^2 * 4 = 401,408) and then with (3, 3)
            # (1e6 > 0.5 * 448^2 * 9 = 903,168) both go to the larger grid
            (1000, 1000, 12, (3, 3)),
            # one tile at most: always (1, 1)
            (480, 640, 1, (1, 1)),
            # 2:1 panorama within 4 tiles: (2, 1) ratio 2.0
            (300, 600, 4, (2, 1)),
        ],
    )  # fmt: skip
    def test_grid_closest_aspect_ratio(self, height, width, max_tiles, grid):
        assert tile_grid(height, width, 1, max_tiles) == grid

    def test_input_size_is_the_tile_grid(self):
        internvl = get_family("internvl")
        assert internvl.input_size(480, 640) == (3 * 448, 4 * 448)
        assert internvl.input_size(480, 640, max_pixels=448 * 448) == (448, 448)  # max_pixels -> max_patches 1


class TestSmolVLMSplitting:
    @pytest.mark.parametrize(
        ("height", "width", "longest_edge", "size"),
        [
            # landscape 4:3 to a 2048 longest edge: 2048 x 1536, both multiples of 512 already
            (480, 640, 2048, (1536, 2048)),
            # portrait 100x200 (w x h) to 1024: width int(1024 * 0.5) = 512
            (200, 100, 1024, (1024, 512)),
            # 70x100 (w x h) to 2048: width int(2048 * 0.7) = 1433, odd -> 1434, up to 1536
            (100, 70, 2048, (2048, 1536)),
            # tiny image, one-tile edge: scaled up to 512 x int(512 / 1.5) = 341 -> 342 -> 512
            (64, 96, 512, (512, 512)),
        ],
    )  # fmt: skip
    def test_split_size(self, height, width, longest_edge, size):
        assert split_size(height, width, longest_edge) == size

    def test_max_pixels_is_the_longest_edge(self):
        smolvlm = get_family("smolvlm")
        assert smolvlm.input_size(480, 640) == (1536, 2048)  # published 2048
        assert smolvlm.input_size(480, 640, max_pixels=1100 * 1100) == (1024, 1024)  # 1100 -> 1024, two tiles
        assert smolvlm.input_size(480, 640, max_pixels=100 * 100) == (512, 512)  # at least one tile

    def test_gemma3_input_is_always_896_square(self):
        assert get_family("gemma3").input_size(480, 640) == get_family("gemma3").input_size(10, 3000) == (896, 896)


# ---------------------------------------------------------------- on a checkpoint
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.fixture(scope="module")
def nano(tmp_path_factory) -> str:
    from vlmr.tiny_model import build_tiny_model

    path = tmp_path_factory.getbasetemp() / "tiny-nano-shared"  # shared with the other tests' nano fixtures
    return str(path if (path / "config.json").exists() else build_tiny_model(path, size="nano"))


@pytest.fixture
def image(tmp_path) -> str:
    path = tmp_path / "img.png"
    Image.new("RGB", (112, 84), "red").save(path)
    return str(path)


def infer(model: str, image: str, out: Path, *extra: str) -> int:
    from vlmr.cli import main

    return main(["infer", "--model", model, "--image", image, "--question", "Where is it?", "--task", "grounding",
                 "--max-turns", "1", "--max-new-tokens", "2", "--save-dir", str(out), *extra])


@pytest.mark.slow
class TestOnACheckpoint:
    def test_docs_family_of_ones_own_by_import_path(self, nano, image, tmp_path, monkeypatch, capsys):
        """docs/extending.md: a Qwen2.5-VL fine-tuned to 0-1000 coordinates, named with --family by import path."""
        monkeypatch.syspath_prepend(str(EXAMPLES))
        assert infer(nano, image, tmp_path / "plain") == 0
        assert "Coordinates are relative, from 0 to 1000" not in " ".join(capsys.readouterr().out.split())
        assert infer(nano, image, tmp_path / "own", "--family", "custom_family:QWEN2_5_VL_NORM1000",
                     "--tools", "zoom_in") == 0
        printed = " ".join(capsys.readouterr().out.split())
        assert "Coordinates are relative, from 0 to 1000" in printed  # the prompt asks in the family's convention
        assert get_family("qwen2_5_vl_norm1000").input_size(480, 640) == (476, 644)  # Qwen2.5-VL's sizes kept

    def test_unknown_family_says_so_in_one_line_and_runs_without_tools(self, nano, image, tmp_path, monkeypatch,
                                                                       caplog, capsys):
        from vlmr.families import base

        monkeypatch.delitem(base._BY_MODEL_TYPE, "qwen2_5_vl")  # as if no family claimed the checkpoint
        with caplog.at_level("WARNING", logger="vlmr.models"):
            assert infer(nano, image, tmp_path / "plain") == 0
        [line] = [r.message for r in caplog.records if r.name == "vlmr.models"]
        assert line.startswith("no vlmr model family claims model_type 'qwen2_5_vl': text-and-image questions only")
        assert "\n" not in line
        assert "no tools" in line and "original-image pixels, unverified" in line
        printed = " ".join(capsys.readouterr().out.split())
        assert "Coordinates are pixels of the original 112x84 image" in printed  # what the prompt asks for

        assert infer(nano, image, tmp_path / "tools", "--tools", "zoom_in") != 0
        printed = " ".join(capsys.readouterr().out.split())
        assert "vlmr knows no tool-call format for the model family 'generic'" in printed


class TestRewardsReadEachFamilysBoxes:
    @pytest.mark.parametrize(
        ("family", "response"),
        [
            # InternVL's own grounding output: <ref>/<box> with [[x1, y1, x2, y2]] in 0-1000
            # (OpenGVLab/InternVL, internvl_chat/eval/refcoco/evaluate_grounding.py reads it so);
            # the 64..320 x 48..240 px box of a 640x480 image is [[100, 100, 500, 500]]
            ("internvl", "<ref>the cat</ref><box>[[100, 100, 500, 500]]</box>"),
            # LLaVA-OneVision: floats in 0-1 (lmms-eval's RefCOCO prompt): 64/640 = 0.1, 320/640 = 0.5, ...
            ("llava_onevision", "[0.1, 0.1, 0.5, 0.5]"),
            # Gemma 3: asked in 0-1000 of the image (no convention is trained), as InternVL's numbers
            ("gemma3", "[100, 100, 500, 500]"),
            # SmolVLM: asked in pixels of the original image (no convention is trained)
            ("smolvlm", "[64, 48, 320, 240]"),
            # Qwen2.5-VL: pixels of the 644x476 input: 64 * 644/640 = 64.4, 48 * 476/480 = 47.6, ...
            ("qwen2_5_vl", '{"bbox_2d": [64.4, 47.6, 322, 238]}'),
            # GLM-4.1V-Thinking: 0-1000 between its box marks (zai-org/GLM-V README, "Grounding"), inside <answer>
            ("glm4v", "<think>a cat</think><answer>The cat is at <|begin_of_box|>[[100,100,500,500]]<|end_of_box|>"
                      "</answer>"),
            # GLM-4.5V: no <answer> tags, round brackets; decoded without special tokens the marks are gone
            ("glm4v", "<think>a cat</think>\n<|begin_of_box|>(100,100,500,500)<|end_of_box|>"),
            ("glm4v", "<think>a cat</think>\n(100,100,500,500)"),
        ],
    )  # fmt: skip
    def test_iou_of_a_native_answer_is_one(self, family, response):
        from vlmr.formats import CoordinateSpace, coord_column
        from vlmr.rewards import get_reward

        coord = coord_column(CoordinateSpace.for_image(640, 480, family))
        score = get_reward("iou").score(response, {"boxes": [[64, 48, 320, 240]]}, coord=coord)
        assert score == pytest.approx(1.0)

    @pytest.mark.parametrize(
        ("reward", "response", "answer"),
        [
            # GLM-4.1V-Thinking marks its final answer of any kind with the box tokens, inside <answer>
            ("count", "<think>two</think>\n<answer>There are <|begin_of_box|>2<|end_of_box|> shapes.</answer>",
             {"count": 2}),
            ("format", "<think>two</think>\n<answer>There are <|begin_of_box|>2<|end_of_box|> shapes.</answer>", {}),
            ("accuracy", "<think>b</think>\n<answer>The answer is <|begin_of_box|>B<|end_of_box|>.</answer>",
             {"choice": "B"}),
            # GLM-4.5V: the same marks without <answer> tags
            ("accuracy", "<think>b</think>\nThe answer is <|begin_of_box|>B<|end_of_box|>", {"choice": "B"}),
        ],
    )  # fmt: skip
    def test_glm_answers_in_box_marks_score(self, reward, response, answer):
        from vlmr.rewards import get_reward

        assert get_reward(reward).score(response, answer) == 1.0
