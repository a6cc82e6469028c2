"""Qwen2-VL, Qwen2.5-VL, Qwen3-VL, InternVL, LLaVA-OneVision, GLM-4.1V, Gemma 3 and SmolVLM as published: their checkpoints' preprocessor settings
(tests/fixtures/published) on tiny weights (image sizes, token budgets, ``max_pixels``, coordinates),
and tools through their published chat templates (``vlmr infer --tools``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from vlmr.formats import CoordinateSpace, get_family

PUBLISHED = Path(__file__).parent / "fixtures" / "published"
FAMILIES = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"]


def published_image_settings(family: str) -> dict:
    """patch/merge size and pixel limits of the family's published preprocessor_config.json."""
    config = json.loads((PUBLISHED / family / "preprocessor_config.json").read_text(encoding="utf-8"))
    size = config.get("size", {})  # Qwen3-VL writes the limits as size; Qwen2(.5)-VL as min/max_pixels
    return {"patch": config["patch_size"], "merge": config["merge_size"], "temporal": config["temporal_patch_size"],
            "min_pixels": config.get("min_pixels", size.get("shortest_edge")),
            "max_pixels": config.get("max_pixels", size.get("longest_edge"))}


@pytest.fixture(scope="module")
def backend_of(published_checkpoint):
    """``backend_of(family, max_pixels=None)``: a TransformersBackend on the family's published checkpoint."""
    from vlmr.inference.backends import TransformersBackend

    return lambda family, max_pixels=None: TransformersBackend.from_pretrained(
        published_checkpoint(family), max_pixels=max_pixels, max_new_tokens=2)


class TestPublishedProcessorSettings:
    @pytest.mark.parametrize("family", FAMILIES)
    def test_vlmr_family_defaults_are_the_published_settings(self, family):
        published, fam = published_image_settings(family), get_family(family)
        assert fam.patch_factor == published["patch"] * published["merge"]
        assert (fam.min_pixels, fam.max_pixels) == (published["min_pixels"], published["max_pixels"])

    @pytest.mark.parametrize("family", FAMILIES)
    def test_checkpoint_loads_the_published_settings(self, backend_of, family):
        image_processor = backend_of(family).processor.image_processor
        published = published_image_settings(family)
        assert (image_processor.patch_size, image_processor.merge_size, image_processor.temporal_patch_size) == (
            published["patch"], published["merge"], published["temporal"])
        assert (image_processor.size["shortest_edge"], image_processor.size["longest_edge"]) == (
            published["min_pixels"], published["max_pixels"])

    @pytest.mark.parametrize(
        ("family", "width", "height", "max_pixels", "grid_hw"),
        [
            # 640x480, factor 28: round(480/28)=17 -> 476, round(640/28)=23 -> 644; 306,544 px is within
            # [3136, 12845056]; grid of 14 px patches 476/14=34 x 644/14=46
            ("qwen2_5_vl", 640, 480, None, (34, 46)),
            # max_pixels 1003520 (the grounding recipe): 1288x952 = 1,226,176 px is over it, so
            # beta = sqrt(1280*960/1003520) = 1.10657; floor(960/1.10657/28)=30 -> 840, floor(1280/1.10657/28)=41
            # -> 1148; 840*1148 = 964,320 px; grid 60 x 82
            ("qwen2_5_vl", 1280, 960, 1003520, (60, 82)),
            # 100x80: round(80/28)=3 -> 84, round(100/28)=4 -> 112; 9,408 px >= 3136; grid 6 x 8
            ("qwen2_vl", 100, 80, None, (6, 8)),
            # factor 32: round(480/32)=15 -> 480, round(640/32)=20 -> 640; 307,200 px in [65536, 16777216];
            # grid of 16 px patches 30 x 40
            ("qwen3_vl", 640, 480, None, (30, 40)),
            # 100x80 under Qwen3-VL's 65,536 px floor: beta = sqrt(65536/8000) = 2.86217;
            # ceil(80*2.86217/32)=8 -> 256, ceil(100*2.86217/32)=9 -> 288; grid 16 x 18
            ("qwen3_vl", 100, 80, None, (16, 18)),
        ],
    )  # fmt: skip
    def test_image_size_and_token_budget(self, backend_of, family, width, height, max_pixels, grid_hw):
        backend = backend_of(family, max_pixels)
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (width, height))},
                                                  {"type": "text", "text": "What is it?"}]}]
        out = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        assert out["image_grid_thw"].tolist() == [[1, *grid_hw]]
        merge = backend.processor.image_processor.merge_size
        tokens = grid_hw[0] * grid_hw[1] // merge**2
        assert out["input_ids"][0].tolist().count(backend.processor.image_token_id) == tokens
        patch = backend.processor.image_processor.patch_size
        space = backend.coordinate_space(width, height)  # what rewards, tools and eval convert with
        assert (space.input_height, space.input_width) == (grid_hw[0] * patch, grid_hw[1] * patch)
        # vlmr.formats alone (the family defaults, or the recipe's max_pixels) predicts the same input size
        assert space == CoordinateSpace.for_image(width, height, family, max_pixels=max_pixels)

    @pytest.mark.parametrize(
        ("family", "expected"),
        [
            # Qwen2.5-VL: absolute pixels of the 644x476 input: x * 644/640, y * 476/480
            ("qwen2_5_vl", [64.4, 47.6, 322.0, 238.0]),
            # Qwen2-VL and Qwen3-VL: 0-1000 of the image: x * 1000/640, y * 1000/480
            ("qwen2_vl", [100.0, 100.0, 500.0, 500.0]),
            ("qwen3_vl", [100.0, 100.0, 500.0, 500.0]),
        ],
    )
    def test_box_in_the_family_convention(self, backend_of, family, expected):
        space = backend_of(family).coordinate_space(640, 480)
        assert space.from_pixels([64, 48, 320, 240]) == pytest.approx(expected)
        assert space.to_pixels(expected) == pytest.approx([64, 48, 320, 240])

    @pytest.mark.parametrize("family", FAMILIES)
    def test_tiny_weights_answer_through_the_published_processor(self, backend_of, family):
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (100, 80), "red")},
                                                  {"type": "text", "text": "What colour?"}]}]
        [generation] = backend_of(family).generate([(messages, [])])
        assert generation.error is None and generation.n_completion_tokens >= 1


class TestToolsThroughPublishedTemplates:
    def test_infer_puts_the_tool_schema_in_the_prompt(self, published_checkpoint, tmp_path, monkeypatch, caplog):
        """`vlmr infer --tools zoom_in` on a checkpoint with Qwen2.5-VL's published template, which renders no tools."""
        from transformers import Qwen2_5_VLProcessor

        from vlmr.cli import main

        prompts = []
        render = Qwen2_5_VLProcessor.apply_chat_template

        def recording(self, *args, **kwargs):  # keeps the prompts the model is asked to continue
            text = render(self, *args, **kwargs)
            if kwargs.get("add_generation_prompt") and isinstance(text, str):
                prompts.append(text)
            return text

        monkeypatch.setattr(Qwen2_5_VLProcessor, "apply_chat_template", recording)
        image = tmp_path / "img.png"
        Image.new("RGB", (112, 84), "red").save(image)
        with caplog.at_level("INFO", logger="vlmr.chat_templates"):
            code = main(["infer", "--model", published_checkpoint("qwen2_5_vl"), "--image", str(image),
                         "--question", "Where is it?", "--task", "grounding", "--tools", "zoom_in", "--max-turns", "1",
                         "--max-new-tokens", "2", "--save-dir", str(tmp_path / "out")])
        assert code == 0
        [prompt] = prompts
        assert prompt.startswith("<|im_start|>system\n")
        assert "<tools>\n" + '{"type": "function", "function": {"name": "zoom_in", ' in prompt
        assert "For each function call, return a json object with function name and arguments" in prompt
        assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
        assert any("using vlmr's tool template for qwen2_5_vl" in r.message for r in caplog.records)


class TestInternVLAsPublished:
    """InternVL3-hf's published processor files (tests/fixtures/published/internvl) on tiny InternVL weights."""

    @pytest.fixture(scope="class")
    @classmethod
    def published(cls) -> dict:
        return json.loads((PUBLISHED / "internvl" / "preprocessor_config.json").read_text(encoding="utf-8"))

    def test_vlmr_family_defaults_are_the_published_settings(self, published):
        internvl = get_family("internvl")
        tile = published["size"]["height"]
        assert (published["size"]["width"], internvl.patch_factor) == (tile, tile)
        assert (internvl.min_pixels, internvl.max_pixels) == (published["min_patches"] * tile**2,
                                                               published["max_patches"] * tile**2)

    def test_checkpoint_loads_the_published_settings(self, backend_of, published):
        processor = backend_of("internvl").processor
        image_processor = processor.image_processor
        assert image_processor.size == {"height": 448, "width": 448}
        assert (image_processor.min_patches, image_processor.max_patches) == (1, 12)
        assert list(image_processor.image_mean) == published["image_mean"]
        assert processor.image_seq_length == 256
        assert backend_of("internvl").coordinate_space(640, 480).convention == "norm1000"

    @pytest.mark.parametrize(
        ("width", "height", "max_pixels", "grid", "tiles"),
        [
            # 640x480 (aspect 4/3), up to 12 tiles: the 4x3 grid has exactly that aspect; 12 tiles + 1 thumbnail
            (640, 480, None, (4, 3), 13),
            # max_pixels 4 tiles (4 * 448^2): grids 1x1 and 2x2 are closest (|4/3 - 1| = 1/3); the tie goes to 2x2
            # only if 640*480 = 307,200 > 0.5 * 448^2 * 4 = 401,408, which it is not: one tile, no thumbnail
            (640, 480, 4 * 448 * 448, (1, 1), 1),
            # 1000x500 (aspect 2): 2x1 is exact; 4x2 ties but 500,000 <= 0.5 * 448^2 * 8 = 802,816: 2 tiles + thumbnail
            (1000, 500, None, (2, 1), 3),
        ],
    )  # fmt: skip
    def test_image_size_and_token_budget(self, backend_of, width, height, max_pixels, grid, tiles):
        backend = backend_of("internvl", max_pixels)
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (width, height))},
                                                  {"type": "text", "text": "What is it?"}]}]
        out = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        assert tuple(out["pixel_values"].shape) == (tiles, 3, 448, 448)
        assert out["input_ids"][0].tolist().count(backend.processor.image_token_id) == 256 * tiles
        space = backend.coordinate_space(width, height)
        assert (space.input_width, space.input_height) == (grid[0] * 448, grid[1] * 448)
        assert space == CoordinateSpace.for_image(width, height, "internvl", max_pixels=max_pixels)

    def test_box_in_the_family_convention(self, backend_of):
        # <box>[[x1, y1, x2, y2]]</box> in 0-1000 of the image: x * 1000/640, y * 1000/480
        space = backend_of("internvl").coordinate_space(640, 480)
        assert space.from_pixels([64, 48, 320, 240]) == pytest.approx([100.0, 100.0, 500.0, 500.0])
        assert space.to_pixels([100, 100, 500, 500]) == pytest.approx([64, 48, 320, 240])

    def test_tiny_weights_answer_through_the_published_processor(self, backend_of):
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (100, 80), "red")},
                                                  {"type": "text", "text": "What colour?"}]}]
        [generation] = backend_of("internvl").generate([(messages, [])])
        assert generation.error is None and generation.n_completion_tokens >= 1


class TestLlavaOnevisionAsPublished:
    """LLaVA-OneVision's published processor files (tests/fixtures/published/llava_onevision) on tiny weights."""

    @pytest.fixture(scope="class")
    @classmethod
    def published(cls) -> dict:
        return json.loads((PUBLISHED / "llava_onevision" / "preprocessor_config.json").read_text(encoding="utf-8"))

    def test_vlmr_family_defaults_are_the_published_settings(self, published):
        from vlmr.families.llava_onevision import PINPOINTS

        family = get_family("llava_onevision")
        areas = [h * w for h, w in published["image_grid_pinpoints"]]
        assert published["image_grid_pinpoints"] == PINPOINTS
        assert published["size"] == {"height": family.patch_factor, "width": family.patch_factor}
        assert (family.min_pixels, family.max_pixels) == (min(areas), max(areas)) == (384 * 384, 2304 * 2304)

    def test_checkpoint_loads_the_published_settings(self, backend_of, published):
        backend = backend_of("llava_onevision")
        assert backend.processor.image_processor.image_grid_pinpoints == published["image_grid_pinpoints"]
        assert backend.model.config.image_grid_pinpoints == published["image_grid_pinpoints"]
        assert list(backend.processor.image_processor.image_mean) == [0.5, 0.5, 0.5]
        assert (backend.processor.num_image_tokens, backend.processor.vision_feature_select_strategy) == (729, "full")

    @pytest.mark.parametrize(
        ("width", "height", "grid", "tokens"),
        [
            # 384x384 fits the 384x384 grid exactly (nothing lost, nothing padded): 1 tile + the whole image;
            # 729 (whole image) + 27 x 27 tile features + 27 row newlines = 1,485
            (384, 384, (384, 384), 1485),
            # 640x480: 768x768 keeps all 307,200 px (scale 1.2) with the least padding (768x1152 keeps as many, pads
            # more); 2x2 tiles + the whole image. Features 54 x 54, unpadded: aspect 640/480 > 1, so
            # int(480 * 54/640) = int(40.5) = 40 rows, (54 - 40) // 2 = 7 padding rows cut each side: 40 x 54 = 2,160,
            # under 9 tiles' worth (sqrt(2160 / (9 * 729)) = 0.57 <= 1.1, no pooling); 729 + 2,160 + 40 newlines
            (640, 480, (768, 768), 2929),
        ],
    )  # fmt: skip
    def test_image_size_and_token_budget(self, backend_of, width, height, grid, tokens):
        backend = backend_of("llava_onevision")
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (width, height))},
                                                  {"type": "text", "text": "What is it?"}]}]
        out = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        tiles = grid[0] // 384 * grid[1] // 384
        assert tuple(out["pixel_values"].shape) == (1, tiles + 1, 3, 384, 384)
        assert out["input_ids"][0].tolist().count(backend.model.config.image_token_index) == tokens
        space = backend.coordinate_space(width, height)
        assert (space.input_height, space.input_width) == grid
        assert space == CoordinateSpace.for_image(width, height, "llava_onevision")

    def test_images_among_several_are_729_plus_1_tokens(self, backend_of):
        backend = backend_of("llava_onevision")
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (640, 480))},
                                                  {"type": "image", "image": Image.new("RGB", (100, 80))},
                                                  {"type": "text", "text": "Same?"}]}]
        out = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        assert out["input_ids"][0].tolist().count(backend.model.config.image_token_index) == 2 * (729 + 1)

    def test_box_in_the_family_convention(self, backend_of):
        # [x1, y1, x2, y2] in 0-1 of the image: x / 640, y / 480
        space = backend_of("llava_onevision").coordinate_space(640, 480)
        assert space.from_pixels([64, 48, 320, 240]) == pytest.approx([0.1, 0.1, 0.5, 0.5])
        assert space.to_pixels([0.1, 0.1, 0.5, 0.5]) == pytest.approx([64, 48, 320, 240])

    def test_max_pixels_is_not_applied_and_says_so(self, backend_of, caplog):
        with caplog.at_level("WARNING", logger="vlmr.models"):
            backend = backend_of("llava_onevision", 384 * 384)
        assert len(backend.processor.image_processor.image_grid_pinpoints) == 36  # the model's grid, kept
        assert any("does not size images by pixel area" in r.message for r in caplog.records)

    def test_tiny_weights_answer_through_the_published_processor(self, backend_of):
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (100, 80), "red")},
                                                  {"type": "text", "text": "What colour?"}]}]
        [generation] = backend_of("llava_onevision").generate([(messages, [])])
        assert generation.error is None and generation.n_completion_tokens >= 1


@pytest.mark.parametrize(("family", "image"), [("internvl", "<IMG_CONTEXT>\n"), ("llava_onevision", "<image>\n")])
class TestToolTemplatesOfNewFamilies:
    """Families whose published template renders no tools get vlmr's Hermes template, images as theirs render."""

    def test_tool_free_conversations_render_as_published(self, family, image):
        from transformers.utils.chat_template_utils import render_jinja_template

        from vlmr.chat_templates import tool_chat_template

        # images before text in every turn, as vlmr's prompts have them (LLaVA-OneVision's template moves them there)
        conversation = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
                        {"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "And?"}]}]
        published = (PUBLISHED / family / "chat_template.jinja").read_text(encoding="utf-8")
        for generation_prompt in (False, True):
            [ours], _ = render_jinja_template([conversation], chat_template=tool_chat_template(family),
                                              add_generation_prompt=generation_prompt)
            [theirs], _ = render_jinja_template([conversation], chat_template=published,
                                                add_generation_prompt=generation_prompt)
            assert ours == theirs
        assert f"<|im_start|>user\n{image}What is it?<|im_end|>\n" in ours

    def test_infer_with_tools_uses_vlmr_template(self, family, image, published_checkpoint, tmp_path, monkeypatch,
                                                 caplog):
        """`vlmr infer --tools zoom_in` on a checkpoint with the family's published template, which renders no tools."""
        from transformers import ProcessorMixin

        from vlmr.cli import main

        prompts = []
        render = ProcessorMixin.apply_chat_template

        def recording(self, *args, **kwargs):  # keeps the prompts the model is asked to continue
            text = render(self, *args, **kwargs)
            if kwargs.get("add_generation_prompt") and isinstance(text, str):
                prompts.append(text)
            return text

        monkeypatch.setattr(ProcessorMixin, "apply_chat_template", recording)
        path = tmp_path / "img.png"
        Image.new("RGB", (112, 84), "red").save(path)
        with caplog.at_level("INFO", logger="vlmr.chat_templates"):
            code = main(["infer", "--model", published_checkpoint(family), "--image", str(path),
                         "--question", "Where is it?", "--task", "grounding", "--tools", "zoom_in", "--max-turns", "1",
                         "--max-new-tokens", "2", "--save-dir", str(tmp_path / "out")])
        assert code == 0
        [prompt] = prompts
        convention = {"norm1000": "from 0 to 1000", "norm1": "from 0 to 1"}[get_family(family).convention]
        assert prompt.startswith("<|im_start|>system\n")
        assert "<tools>\n" + '{"type": "function", "function": {"name": "zoom_in", ' in prompt
        assert re.search(f"relative to the image, {convention}(?!\\d)", prompt)  # the tool's coordinates: the family's
        assert f"<|im_start|>user\n{image}Where is it?" in prompt  # the image as the published template has it
        assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
        assert any(f"using vlmr's tool template for {family}" in r.message for r in caplog.records)


class TestGlm4vAsPublished:
    """GLM-4.1V-9B-Thinking's published processor settings and chat template (tests/fixtures/published/glm4v) on
    tiny GLM-4.1V weights."""

    @pytest.fixture(scope="class")
    @classmethod
    def published(cls) -> dict:
        return json.loads((PUBLISHED / "glm4v" / "preprocessor_config.json").read_text(encoding="utf-8"))

    def test_vlmr_family_defaults_are_the_published_settings(self, published):
        glm = get_family("glm4v")
        assert glm.patch_factor == published["patch_size"] * published["merge_size"] == 28
        assert (glm.min_pixels, glm.max_pixels) == (published["size"]["shortest_edge"], published["size"]["longest_edge"])
        assert glm.convention == "norm1000"

    def test_checkpoint_loads_the_published_settings(self, backend_of, published):
        image_processor = backend_of("glm4v").processor.image_processor
        assert (image_processor.patch_size, image_processor.merge_size, image_processor.temporal_patch_size) == (
            14, 2, 2)
        assert (image_processor.size["shortest_edge"], image_processor.size["longest_edge"]) == (12544, 9633792)
        assert list(image_processor.image_mean) == published["image_mean"]

    @pytest.mark.parametrize(
        ("width", "height", "max_pixels", "input_hw"),
        [
            # 640x480: round(480/28)=17 -> 476, round(640/28)=23 -> 644; the image counts twice (temporal patch 2):
            # 2 * 476 * 644 = 613,088 px within [12544, 9633792]
            (640, 480, None, (476, 644)),
            # 60x60: 56x56, but 2 * 56 * 56 = 6,272 < 12,544: beta = sqrt(12544 / (2 * 3600)) = 1.31993,
            # ceil(60 * 1.31993 / 28) = ceil(2.83) = 3 -> 84 (Qwen's rule, counting the image once, gives 112)
            (60, 60, None, (84, 84)),
            # 100x20: the 20 px side is under 28, so first scaled by max(28/20, 28/100) = 1.4 to 140x28; then
            # 2 * 28 * 140 = 7,840 < 12,544: beta = sqrt(1.6) = 1.26491, ceil(28 * 1.26491 / 28) = 2 -> 56,
            # ceil(140 * 1.26491 / 28) = ceil(6.32) = 7 -> 196
            (100, 20, None, (56, 196)),
            # max_pixels 1003520 (size.longest_edge): 2 * 952 * 1288 = 2,452,352 is over it, so
            # beta = sqrt(2 * 1280 * 960 / 1003520) = 1.56492; floor(960 / 1.56492 / 28) = 21 -> 588,
            # floor(1280 / 1.56492 / 28) = 29 -> 812; 2 * 588 * 812 = 954,912 px
            (1280, 960, 1003520, (588, 812)),
        ],
    )  # fmt: skip
    def test_image_size_and_token_budget(self, backend_of, width, height, max_pixels, input_hw):
        backend = backend_of("glm4v", max_pixels)
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (width, height))},
                                                  {"type": "text", "text": "What is it?"}]}]
        out = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        grid = [input_hw[0] // 14, input_hw[1] // 14]
        assert out["image_grid_thw"].tolist() == [[1, *grid]]
        # one <|image|> per 28x28 px, between <|begin_of_image|> and <|end_of_image|>
        ids = out["input_ids"][0].tolist()
        tokenizer = backend.processor.tokenizer
        assert ids.count(backend.processor.image_token_id) == grid[0] * grid[1] // 4
        assert ids.count(tokenizer.convert_tokens_to_ids("<|begin_of_image|>")) == 1
        space = backend.coordinate_space(width, height)
        assert (space.input_height, space.input_width) == input_hw
        assert space == CoordinateSpace.for_image(width, height, "glm4v", max_pixels=max_pixels)

    def test_box_in_the_family_convention(self, backend_of):
        # <|begin_of_box|>[x1, y1, x2, y2]<|end_of_box|> in 0-1000 of the image: x * 1000/640, y * 1000/480
        space = backend_of("glm4v").coordinate_space(640, 480)
        assert space.from_pixels([64, 48, 320, 240]) == pytest.approx([100.0, 100.0, 500.0, 500.0])
        assert space.to_pixels([100, 100, 500, 500]) == pytest.approx([64, 48, 320, 240])

    def test_tiny_weights_answer_through_the_published_processor(self, backend_of):
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (100, 80), "red")},
                                                  {"type": "text", "text": "What colour?"}]}]
        [generation] = backend_of("glm4v").generate([(messages, [])])
        assert generation.error is None and generation.n_completion_tokens >= 1


class TestGlm4vToolTemplate:
    """GLM-4.1V's published template renders no tools: vlmr's GLM template renders them in GLM-4.5's format."""

    def test_the_published_template_renders_no_tools(self, published_checkpoint):
        from trl.chat_template_utils import supports_tool_calling

        from vlmr.models import load_model_and_processor

        _, processor = load_model_and_processor(published_checkpoint("glm4v"))
        assert processor.chat_template == (PUBLISHED / "glm4v" / "chat_template.jinja").read_text(encoding="utf-8")
        assert not supports_tool_calling(processor)

    def test_tool_free_conversations_render_as_published(self):
        from transformers.utils.chat_template_utils import render_jinja_template

        from vlmr.chat_templates import tool_chat_template

        # the published template takes string content in system and assistant turns (a list renders as its repr)
        conversation = [{"role": "system", "content": "Be brief."},
                        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]},
                        {"role": "assistant", "content": "<think>A cat.</think><answer>A cat.</answer>"},
                        {"role": "user", "content": [{"type": "image"}, {"type": "video"}, {"type": "text", "text": "And?"}]}]
        published = (PUBLISHED / "glm4v" / "chat_template.jinja").read_text(encoding="utf-8")
        [ours], _ = render_jinja_template([conversation], chat_template=tool_chat_template("glm4v"),
                                          add_generation_prompt=True)
        [theirs], _ = render_jinja_template([conversation], chat_template=published, add_generation_prompt=True)
        assert ours == theirs == (
            "[gMASK]<sop><|system|>\nBe brief.<|user|>\n<|begin_of_image|><|image|><|end_of_image|>What is it?"
            "<|assistant|>\n<think>A cat.</think><answer>A cat.</answer><|user|>\n<|begin_of_image|><|image|>"
            "<|end_of_image|><|begin_of_video|><|video|><|end_of_video|>And?<|assistant|>\n")

    def test_tool_calls_render_in_glm_format_and_parse_back(self, published_checkpoint):
        from transformers import AutoTokenizer
        from transformers.utils.chat_template_utils import render_jinja_template

        from vlmr.chat_templates import tool_chat_template
        from vlmr.families.glm4v import GLM_TOOL_PARSER

        tool = {"type": "function", "function": {"name": "zoom_in", "parameters": {"type": "object"}}}
        call = {"type": "function", "function": {"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500],
                                                                                   "label": "cat"}}}
        conversation = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many?"}]},
                        {"role": "assistant", "content": "<think>look</think>", "tool_calls": [call]},
                        {"role": "tool", "content": [{"type": "image"}, {"type": "text", "text": "zoomed"}]},
                        {"role": "assistant", "content": "<answer>2</answer>"}]
        [text], _ = render_jinja_template([conversation], tools=[tool], chat_template=tool_chat_template("glm4v"))
        assert text.startswith("[gMASK]<sop><|system|>\n# Tools\n\nYou may call one or more functions")
        assert "<tools>\n" + json.dumps(tool) + "\n</tools>" in text
        # the assistant's turn ends with the token the model stops on; the tool result follows it
        assert text.endswith(
            "<|assistant|>\n<think>look</think>\n<tool_call>zoom_in\n<arg_key>bbox_2d</arg_key>\n<arg_value>[0, 0, 500, "
            "500]</arg_value>\n<arg_key>label</arg_key>\n<arg_value>cat</arg_value>\n</tool_call><|observation|>\n"
            "<tool_response>\n<|begin_of_image|><|image|><|end_of_image|>zoomed\n</tool_response><|assistant|>\n"
            "<answer>2</answer><|user|>")
        # GLM_TOOL_PARSER reads the first turn's call back (up to <|observation|>, where generation stops), the
        # thinking kept in content, where rewards read it
        tokenizer = AutoTokenizer.from_pretrained(published_checkpoint("glm4v"))
        prompt, rest = text.split("<|assistant|>\n", 1)
        turn = rest.split("<|observation|>")[0] + "<|observation|>"
        parsed = tokenizer.parse_response(tokenizer.encode(turn, add_special_tokens=False), schema=GLM_TOOL_PARSER,
                                          prefix=tokenizer.encode(prompt + "<|assistant|>\n", add_special_tokens=False))
        assert parsed["content"] == "<think>look</think>"
        assert parsed["tool_calls"] == [{"type": "function", "function": {"name": "zoom_in", "arguments": {
            "bbox_2d": [0, 0, 500, 500], "label": "cat"}}}]

    def test_the_parser_reads_glm_4_5s_published_template(self, published_checkpoint):
        """GLM-4.5V's and GLM-4.6V's templates render tools as GLM-4.5's does (trl's copy of it): such a template is
        kept, and the family's parser reads the calls the model writes after its "<|assistant|>" prompt."""
        from transformers import AutoTokenizer
        from trl.chat_template_utils import glm4moe_chat_template

        from vlmr.chat_templates import prepare_for_tools
        from vlmr.families.glm4v import GLM_TOOL_PARSER

        tokenizer = AutoTokenizer.from_pretrained(published_checkpoint("glm4v"))
        tokenizer.chat_template = glm4moe_chat_template
        assert prepare_for_tools(tokenizer, "glm4v") is False  # renders tools: kept
        assert tokenizer.response_template == GLM_TOOL_PARSER  # its probe call parsed back
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                               tokenize=False)
        assert prompt.endswith("<|assistant|>")
        answer = ("\n<think>look</think>\n<tool_call>zoom_in\n<arg_key>bbox_2d</arg_key>\n<arg_value>[0, 0, 500, 500]"
                  "</arg_value>\n</tool_call><|observation|>")
        parsed = tokenizer.parse_response(tokenizer.encode(answer, add_special_tokens=False),
                                          prefix=tokenizer.encode(prompt, add_special_tokens=False))
        assert parsed["content"] == "<think>look</think>"
        assert parsed["tool_calls"][0]["function"] == {"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}

    def test_infer_with_tools_uses_vlmr_template(self, published_checkpoint, tmp_path, monkeypatch, caplog):
        """`vlmr infer --tools zoom_in` on a checkpoint with GLM-4.1V's published template, which renders no tools."""
        from transformers import ProcessorMixin

        from vlmr.cli import main
        from vlmr.families.glm4v import GLM_TOOL_PARSER

        prompts, tokenizers = [], []
        render = ProcessorMixin.apply_chat_template

        def recording(self, *args, **kwargs):  # keeps the prompts the model is asked to continue
            text = render(self, *args, **kwargs)
            if kwargs.get("add_generation_prompt") and isinstance(text, str) and kwargs.get("tools"):
                prompts.append(text)
                tokenizers.append(self.tokenizer)
            return text

        monkeypatch.setattr(ProcessorMixin, "apply_chat_template", recording)
        path = tmp_path / "img.png"
        Image.new("RGB", (112, 84), "red").save(path)
        with caplog.at_level("INFO", logger="vlmr.chat_templates"):
            code = main(["infer", "--model", published_checkpoint("glm4v"), "--image", str(path),
                         "--question", "Where is it?", "--task", "grounding", "--tools", "zoom_in", "--max-turns", "1",
                         "--max-new-tokens", "2", "--save-dir", str(tmp_path / "out")])
        assert code == 0
        [prompt] = prompts
        assert prompt.startswith("[gMASK]<sop><|system|>\n# Tools\n")
        assert "<tools>\n" + '{"type": "function", "function": {"name": "zoom_in", ' in prompt
        assert "<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key>" in prompt
        assert re.search("relative to the image, from 0 to 1000(?!\\d)", prompt)  # the tool's coordinates: GLM's
        assert "<|user|>\n<|begin_of_image|><|image|><|end_of_image|>Where is it?" in prompt
        assert prompt.endswith("<|assistant|>\n")
        assert any("using vlmr's tool template for glm4v" in r.message for r in caplog.records)
        assert tokenizers[0].response_template == GLM_TOOL_PARSER  # the probe call parsed back: its parser is set


class TestGemma3AsPublished:
    """Gemma 3's published processor files (tests/fixtures/published/gemma3) on tiny Gemma 3 weights."""

    @pytest.fixture(scope="class")
    @classmethod
    def published(cls) -> dict:
        return json.loads((PUBLISHED / "gemma3" / "preprocessor_config.json").read_text(encoding="utf-8"))

    def test_vlmr_family_defaults_are_the_published_settings(self, published):
        gemma3 = get_family("gemma3")
        side = published["size"]["height"]
        assert (published["size"]["width"], gemma3.patch_factor) == (side, side) == (896, 896)
        assert published["do_pan_and_scan"] is None  # off: one 896x896 input per image
        assert (gemma3.min_pixels, gemma3.max_pixels) == (side * side, side * side)

    def test_checkpoint_loads_the_published_settings(self, backend_of, published):
        backend = backend_of("gemma3")
        image_processor = backend.processor.image_processor
        assert image_processor.size == {"height": 896, "width": 896}
        assert list(image_processor.image_mean) == published["image_mean"] == [0.5, 0.5, 0.5]
        assert backend.processor.image_seq_length == published["image_seq_length"] == 256
        assert backend.coordinate_space(640, 480).convention == "norm1000"

    @pytest.mark.parametrize(("width", "height"), [(640, 480), (100, 80), (1000, 400)])
    def test_every_image_is_one_896_px_input_of_256_tokens(self, backend_of, width, height):
        """Resized to 896x896 whatever its shape (1000x400 too: pan-and-scan is off as published)."""
        backend = backend_of("gemma3")
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (width, height))},
                                                  {"type": "text", "text": "What is it?"}]}]
        out = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        assert tuple(out["pixel_values"].shape) == (1, 3, 896, 896)
        ids = out["input_ids"][0].tolist()
        tokenizer = backend.processor.tokenizer
        counts = [ids.count(tokenizer.convert_tokens_to_ids(t))
                  for t in ("<start_of_image>", "<image_soft_token>", "<end_of_image>")]
        assert counts == [1, 256, 1]
        assert out["token_type_ids"][0].sum().item() == 256  # the image tokens, which attend both ways
        space = backend.coordinate_space(width, height)
        assert (space.input_width, space.input_height) == (896, 896)
        assert space == CoordinateSpace.for_image(width, height, "gemma3")

    def test_max_pixels_is_not_applied_and_says_so(self, backend_of, caplog):
        with caplog.at_level("WARNING", logger="vlmr.models"):
            backend = backend_of("gemma3", 448 * 448)
        assert backend.processor.image_processor.size == {"height": 896, "width": 896}
        assert any("does not size images by pixel area" in r.message for r in caplog.records)

    def test_box_in_the_family_convention(self, backend_of):
        # asked as [x1, y1, x2, y2] in 0-1000 of the image (no convention is trained): x * 1000/640, y * 1000/480
        space = backend_of("gemma3").coordinate_space(640, 480)
        assert space.from_pixels([64, 48, 320, 240]) == pytest.approx([100.0, 100.0, 500.0, 500.0])
        assert space.to_pixels([100, 100, 500, 500]) == pytest.approx([64, 48, 320, 240])

    def test_tiny_weights_answer_through_the_published_processor(self, backend_of):
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (100, 80), "red")},
                                                  {"type": "text", "text": "What colour?"}]}]
        [generation] = backend_of("gemma3").generate([(messages, [])])
        assert generation.error is None and generation.n_completion_tokens >= 1


class TestSmolVLMAsPublished:
    """SmolVLM2-256M/500M's published processor files (tests/fixtures/published/smolvlm) on tiny SmolVLM weights."""

    @pytest.fixture(scope="class")
    @classmethod
    def published(cls) -> dict:
        return json.loads((PUBLISHED / "smolvlm" / "preprocessor_config.json").read_text(encoding="utf-8"))

    def test_vlmr_family_defaults_are_the_published_settings(self, published):
        smolvlm = get_family("smolvlm")
        tile, edge = published["max_image_size"]["longest_edge"], published["size"]["longest_edge"]
        assert (smolvlm.patch_factor, tile, edge) == (tile, 512, 2048)
        assert (smolvlm.min_pixels, smolvlm.max_pixels) == (tile * tile, edge * edge)

    def test_checkpoint_loads_the_published_settings(self, backend_of, published):
        backend = backend_of("smolvlm")
        image_processor = backend.processor.image_processor
        assert image_processor.size == {"longest_edge": 2048}
        assert image_processor.max_image_size == {"longest_edge": 512}
        assert image_processor.do_image_splitting is True
        assert list(image_processor.image_mean) == published["image_mean"] == [0.5, 0.5, 0.5]
        processor_config = json.loads((PUBLISHED / "smolvlm" / "processor_config.json").read_text(encoding="utf-8"))
        assert backend.processor.image_seq_len == processor_config["image_seq_len"] == 64
        assert backend.coordinate_space(640, 480).convention == "pixel"

    @pytest.mark.parametrize(
        ("width", "height", "max_pixels", "grid", "tiles"),
        [
            # longest edge to 2048: 640x480 -> 2048x1536, sides multiples of 512 already: 4 x 3 tiles + the whole image
            (640, 480, None, (2048, 1536), 13),
            # 100x80 -> 2048 x int(2048 / 1.25) = 1638, up to 2048: 4 x 4 tiles + the whole image
            (100, 80, None, (2048, 2048), 17),
            # max_pixels 1024^2 -> longest edge 1024: 640x480 -> 1024x768 -> 1024x1024, 2 x 2 tiles + the whole image
            (640, 480, 1024 * 1024, (1024, 1024), 5),
            # max_pixels 600^2 -> longest edge 512 (one tile): 640x480 -> 512x384 -> 512x512, one tile, no whole image
            (640, 480, 600 * 600, (512, 512), 1),
        ],
    )  # fmt: skip
    def test_image_size_and_token_budget(self, backend_of, width, height, max_pixels, grid, tiles):
        backend = backend_of("smolvlm", max_pixels)
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (width, height))},
                                                  {"type": "text", "text": "What is it?"}]}]
        out = backend.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                    return_dict=True, return_tensors="pt")
        assert tuple(out["pixel_values"].shape) == (1, tiles, 3, 512, 512)
        ids = out["input_ids"][0].tolist()
        assert ids.count(backend.processor.image_token_id) == 64 * tiles
        tokenizer = backend.processor.tokenizer
        assert ids.count(tokenizer.convert_tokens_to_ids("<global-img>")) == 1  # the whole image, or the lone tile
        assert ids.count(tokenizer.convert_tokens_to_ids("<row_1_col_1>")) == (tiles > 1)
        space = backend.coordinate_space(width, height)
        assert (space.input_width, space.input_height) == grid
        assert space == CoordinateSpace.for_image(width, height, "smolvlm", max_pixels=max_pixels)

    def test_box_in_the_family_convention(self, backend_of):
        # pixels of the original image (no convention is trained): the box is written as it is
        space = backend_of("smolvlm").coordinate_space(640, 480)
        assert space.from_pixels([64, 48, 320, 240]) == pytest.approx([64, 48, 320, 240])
        assert space.to_pixels([64, 48, 320, 240]) == pytest.approx([64, 48, 320, 240])

    def test_tiny_weights_answer_through_the_published_processor(self, backend_of):
        messages = [{"role": "user", "content": [{"type": "image", "image": Image.new("RGB", (100, 80), "red")},
                                                  {"type": "text", "text": "What colour?"}]}]
        [generation] = backend_of("smolvlm", 512 * 512).generate([(messages, [])])
        assert generation.error is None and generation.n_completion_tokens >= 1


@pytest.mark.parametrize(
    ("family", "head", "call_turn", "result_turn"),
    [
        # Gemma's turns: the system text and the tool list head the first user turn; the model's turn is "model"
        ("gemma3", "<bos><start_of_turn>user\nBe brief.\n\n# Tools\n\n",
         "<start_of_turn>model\n<think>look</think>\n<tool_call>\n{CALL}\n</tool_call><end_of_turn>\n",
         "<start_of_turn>user\n<tool_response>\n<start_of_image>Zoomed.\n</tool_response><end_of_turn>\n"),
        # SmolVLM's turns: 'Role:' then a space unless the turn opens with an image, <end_of_utterance> and a newline
        ("smolvlm", "<|im_start|>System: Be brief.\n\n# Tools\n\n",
         "Assistant: <think>look</think>\n<tool_call>\n{CALL}\n</tool_call><end_of_utterance>\n",
         "User:\n<tool_response>\n<image>Zoomed.\n</tool_response><end_of_utterance>\n"),
    ],
)  # fmt: skip
class TestToolTemplatesInTheFamilysOwnTurns:
    """Gemma 3 and SmolVLM: vlmr's Hermes tools in the family's own turns, the published turns kept."""

    CALL = {"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}

    def test_tool_free_conversations_render_as_published(self, family, head, call_turn, result_turn):
        from transformers.utils.chat_template_utils import render_jinja_template

        from vlmr.chat_templates import tool_chat_template

        conversation = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
                        {"role": "user", "content": [{"type": "text", "text": "And "}, {"type": "image"}]}]
        published = (PUBLISHED / family / "chat_template.jinja").read_text(encoding="utf-8")
        special = {"bos_token": "<bos>"} if family == "gemma3" else {}
        for generation_prompt in (False, True):
            [ours], _ = render_jinja_template([conversation], chat_template=tool_chat_template(family),
                                              add_generation_prompt=generation_prompt, **special)
            [theirs], _ = render_jinja_template([conversation], chat_template=published,
                                                add_generation_prompt=generation_prompt, **special)
            assert ours == theirs

    def test_a_tool_round_renders_in_hermes_and_its_call_parses_back(self, published_checkpoint, family, head,
                                                                     call_turn, result_turn):
        """The published template is swapped for vlmr's (prepare_for_tools), whose call the family's parser reads."""
        from transformers import AutoProcessor
        from transformers.utils import get_json_schema

        from vlmr.chat_templates import prepare_for_tools
        from vlmr.tools.environment import make_environment

        processor = AutoProcessor.from_pretrained(published_checkpoint(family))
        assert prepare_for_tools(processor, family) is True
        env = make_environment(["zoom_in"], convention=get_family(family).convention)()
        schemas = [get_json_schema(env.zoom_in)]
        call = {"type": "function", "function": self.CALL}
        conversation = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": "<think>look</think>"}],
                         "tool_calls": [call]},
                        {"role": "tool", "content": [{"type": "image"}, {"type": "text", "text": "Zoomed."}]}]
        text = processor.apply_chat_template(conversation, tools=schemas, tokenize=False)
        assert text.startswith(head)
        assert '\n{"type": "function", "function": {"name": "zoom_in", ' in text  # the schema, in the <tools> block
        assert text.endswith(call_turn.replace("{CALL}", json.dumps(self.CALL)) + result_turn)

        tokenizer = processor.tokenizer
        prompt = processor.apply_chat_template(conversation[:2], tools=schemas, add_generation_prompt=True,
                                               tokenize=False)
        answer = text[len(prompt):].removesuffix(result_turn)
        parsed = tokenizer.parse_response(tokenizer.encode(answer, add_special_tokens=False),
                                          prefix=tokenizer.encode(prompt, add_special_tokens=False), tools=schemas)
        assert parsed["tool_calls"] == [call]
        assert parsed["content"].strip() == "<think>look</think>"
