"""Pixel-level tests of every image tool, through the environment (as trl and inference call them)."""

import numpy as np
import pytest
from PIL import Image

from vlmr.formats import CoordinateSpace
from vlmr.tools import ToolLimits, make_environment
from vlmr.tools.image_ops import COLORS, DIM_FACTOR


def env_for(image, tools="image", coord=None, limits=None):
    env = make_environment(tools, limits=limits)()
    env.reset(images=[image], coord=coord)
    return env


def image_of(parts):
    assert parts[-1]["type"] == "text" and not parts[-1]["text"].startswith("Error"), parts[-1]["text"]
    images = [p["image"] for p in parts if p["type"] == "image"]
    assert len(images) == 1
    return np.asarray(images[0])


RED = np.array(COLORS["red"], dtype=np.uint8)


class TestCrop:
    def test_crop_equals_array_slice_pixel_convention(self, gradient):
        arr, img = gradient
        out = image_of(env_for(img).crop(bbox_2d=[50, 20, 150, 80]))
        np.testing.assert_array_equal(out, arr[20:80, 50:150])

    @pytest.mark.parametrize(
        "coord, box",
        [
            # norm1000: 250/1000 of 200 px = 50 px, 200/1000 of 100 px = 20 px
            ({"convention": "norm1000", "width": 200, "height": 100}, [250, 200, 750, 800]),
            ({"convention": "norm1", "width": 200, "height": 100}, [0.25, 0.2, 0.75, 0.8]),
            # resized: the model sees 400x200, so everything is doubled
            ({"convention": "resized", "width": 200, "height": 100, "input_width": 400, "input_height": 200},
             [100, 40, 300, 160]),
        ],
    )
    def test_crop_converts_model_convention_to_original_pixels(self, gradient, coord, box):
        arr, img = gradient
        out = image_of(env_for(img, coord=coord).crop(bbox_2d=box))
        np.testing.assert_array_equal(out, arr[20:80, 50:150])

    def test_crop_rescales_when_coord_describes_a_larger_original(self, gradient):
        arr, img = gradient  # the row's image is a half-size copy of a 400x200 original
        out = image_of(env_for(img, coord={"convention": "pixel", "width": 400, "height": 200}).crop(bbox_2d=[100, 40, 300, 160]))
        np.testing.assert_array_equal(out, arr[20:80, 50:150])

    def test_crop_partly_outside_is_clipped_to_the_image(self, gradient):
        arr, img = gradient
        out = image_of(env_for(img).crop(bbox_2d=[150, 50, 260, 140]))
        np.testing.assert_array_equal(out, arr[50:100, 150:200])

    def test_fractional_box_rounds_outward(self, gradient):
        arr, img = gradient
        out = image_of(env_for(img).crop(bbox_2d=[10.4, 10.6, 49.2, 49.9]))
        np.testing.assert_array_equal(out, arr[10:50, 10:50])

    def test_returned_image_is_within_pixel_budget(self, gradient):
        _, img = gradient
        out = image_of(env_for(img, limits=ToolLimits(max_pixels=50 * 50)).crop(bbox_2d=[0, 0, 200, 100]))
        assert out.shape[0] * out.shape[1] <= 50 * 50
        assert out.shape[:2] == (35, 70)  # aspect ratio kept: floor(sqrt(2500 / 20000) * (100, 200))


class TestZoomIn:
    def test_zoom_enlarges_the_region_bicubic(self, gradient):
        arr, img = gradient
        limits = ToolLimits(zoom_pixels=200 * 120, max_zoom=4.0)
        out = image_of(env_for(img, limits=limits).zoom_in(bbox_2d=[50, 20, 150, 80], label="cat"))
        # region 100x60 -> area 24000 = 200*120: factor 2
        assert out.shape == (120, 200, 3)
        expected = Image.fromarray(arr[20:80, 50:150]).resize((200, 120), Image.Resampling.BICUBIC)
        np.testing.assert_array_equal(out, np.asarray(expected))

    def test_zoom_factor_is_capped(self, gradient):
        _, img = gradient
        out = image_of(env_for(img, limits=ToolLimits(zoom_pixels=10**6, max_zoom=2.0)).zoom_in(bbox_2d=[0, 0, 40, 30]))
        assert out.shape[:2] == (60, 80)

    def test_zoom_of_a_flat_block_keeps_its_colour(self):
        arr = np.zeros((100, 100, 3), np.uint8)
        arr[30:70, 30:70] = (10, 200, 30)
        out = image_of(env_for(Image.fromarray(arr)).zoom_in(bbox_2d=[30, 30, 70, 70]))
        assert (out == (10, 200, 30)).all()

    def test_zoom_text_names_the_new_image_and_the_default_frame(self, gradient):
        _, img = gradient
        text = env_for(img).zoom_in(bbox_2d=[50, 20, 150, 80], label="dog")[-1]["text"]
        assert text.startswith("Zoomed into [50, 20, 150, 80] (dog): 100x60 px shown at")
        assert text.endswith("The zoomed view is image 1: pass image_index=1 to look closer at it; without "
                             "image_index, coordinates refer to the input image.")


class TestRotate:
    @pytest.mark.parametrize("angle, k", [(90, 1), (180, 2), (-90, 3), (270, 3), (450, 1)])
    def test_quarter_turns_are_exact(self, gradient, angle, k):
        arr, img = gradient
        np.testing.assert_array_equal(image_of(env_for(img).rotate(angle=angle)), np.rot90(arr, k))

    def test_free_angle_expands_the_canvas(self, gradient):
        _, img = gradient
        out = image_of(env_for(img).rotate(angle=45))
        assert out.shape[0] > 100 and out.shape[1] > 200


class TestDrawing:
    def test_draw_box_outline_lands_on_original_pixels(self, white):
        # norm1000 box [250, 200, 750, 800] -> pixels (50, 20) to (150, 80)
        env = env_for(white, coord={"convention": "norm1000", "width": 200, "height": 100})
        out = image_of(env.draw_box(bbox_2d=[250, 200, 750, 800]))
        np.testing.assert_array_equal(out[50, 50], RED)  # left edge
        np.testing.assert_array_equal(out[50, 149], RED)  # right edge (last pixel inside the box)
        np.testing.assert_array_equal(out[20, 100], RED)  # top edge
        np.testing.assert_array_equal(out[79, 100], RED)  # bottom edge
        assert (out[50, 100] == 255).all()  # interior untouched
        assert (out[50, 45] == 255).all() and (out[50, 155] == 255).all()  # outside untouched
        assert (out[10, 10] == 255).all()

    def test_draw_box_label_and_colour(self, white):
        out = image_of(env_for(white).draw_box(bbox_2d=[50, 40, 150, 90], label="cup", color="Blue"))
        np.testing.assert_array_equal(out[60, 50], COLORS["blue"])
        assert (out[20:40, 50:100] == COLORS["blue"]).all(axis=-1).any()  # the label tag above the box

    def test_draw_line_pixels(self, white):
        out = image_of(env_for(white).draw_line(start_2d=[10, 50], end_2d=[190, 50], color="green"))
        np.testing.assert_array_equal(out[50, 100], COLORS["green"])
        assert (out[20, 100] == 255).all() and (out[50, 5] == 255).all()

    def test_draw_point_pixels(self, white):
        out = image_of(env_for(white).draw_point(point_2d=[100, 50]))
        np.testing.assert_array_equal(out[50, 100], RED)
        assert (out[50, 120] == 255).all()

    def test_highlight_dims_outside_only(self, gradient):
        arr, img = gradient
        out = image_of(env_for(img).highlight(bbox_2d=[50, 20, 150, 80]))
        np.testing.assert_array_equal(out[20:80, 50:150], arr[20:80, 50:150])
        np.testing.assert_array_equal(out[:20], np.round(arr[:20].astype(np.float32) * DIM_FACTOR).astype(np.uint8))

    def test_mask_out_paints_inside_only(self, gradient):
        arr, img = gradient
        out = image_of(env_for(img).mask_out(bbox_2d=[50, 20, 150, 80]))
        assert (out[20:80, 50:150] == 255).all()
        np.testing.assert_array_equal(out[:20], arr[:20])
        np.testing.assert_array_equal(out[:, 150:], arr[:, 150:])

    def test_grid_lines_at_model_coordinates(self, white):
        env = env_for(white, coord={"convention": "norm1000", "width": 200, "height": 100})
        parts = env.grid(divisions=4)
        out = image_of(parts)
        np.testing.assert_array_equal(out[70, 100], COLORS["yellow"])  # x = 500/1000 -> 100 px
        np.testing.assert_array_equal(out[50, 30], COLORS["yellow"])  # y = 500/1000 -> 50 px
        assert (out[70, 75] == 255).all()

    def test_edits_accumulate_but_zoom_reads_the_clean_original(self, gradient):
        arr, img = gradient
        env = env_for(img)
        env.mask_out(bbox_2d=[0, 0, 100, 100])
        out = image_of(env.draw_box(bbox_2d=[120, 20, 180, 80]))
        assert (out[50:60, 10:90] == 255).all()  # the earlier mask is still there
        np.testing.assert_array_equal(out[50, 120], RED)
        np.testing.assert_array_equal(image_of(env.crop(bbox_2d=[0, 0, 100, 100])), arr[:, :100])

    def test_reset_clears_edits(self, gradient):
        arr, img = gradient
        env = env_for(img)
        env.mask_out(bbox_2d=[0, 0, 100, 100])
        env.reset(images=[img])
        out = image_of(env.draw_point(point_2d=[150, 50]))
        np.testing.assert_array_equal(out[10:90, 10:90], arr[10:90, 10:90])


def test_space_from_coordinate_space_dict(gradient):
    arr, img = gradient
    space = CoordinateSpace.for_image(200, 100, family="qwen2_vl")  # norm1000
    out = image_of(env_for(img, coord=space.to_dict()).crop(bbox_2d=[250, 200, 750, 800]))
    np.testing.assert_array_equal(out, arr[20:80, 50:150])


class TestObservations:
    """Zoom, crop and rotate on any image of the episode (Mini-o3's observation_N), each in its own coordinates."""

    def test_crop_of_a_zoom_of_a_zoom_in_original_pixels(self, gradient):
        arr, img = gradient  # 200x100; each pixel holds its own position (R = x, G = y)
        env = env_for(img, limits=ToolLimits(zoom_pixels=400 * 240, max_zoom=4.0))
        env.zoom_in(bbox_2d=[50, 20, 150, 80])  # image 1: 100x60 px of the input shown 4x, at 400x240
        # [100, 40, 300, 160] of image 1 = 50 + [25, 10, 75, 40] -> [75, 30, 125, 60] of the input, shown 8x
        text = env.zoom_in(bbox_2d=[100, 40, 300, 160], image_index=1)[-1]["text"]
        assert text.startswith("Zoomed into [100, 40, 300, 160] of image 1 = [75, 30, 125, 60] in pixels of input "
                               "image 0: 200x120 px shown at 400x240.")
        assert "The zoomed view is image 2" in text
        # [0, 0, 160, 80] of image 2 (8 px a pixel of the input) -> 75 + [0, 20], 30 + [0, 10]
        parts = env.crop(bbox_2d=[0, 0, 160, 80], image_index=2)
        assert "of image 2 = [75, 30, 95, 40] in pixels of input image 0 (160x80 px)" in parts[-1]["text"]
        regions = [obs.region for obs in env._state().observations]
        assert regions == [(0, 0, 200, 100), (50, 20, 150, 80), (75, 30, 125, 60), (75, 30, 95, 40)]
        crop = np.asarray(parts[0]["image"]).astype(int)
        assert crop.shape == (80, 160, 3)
        # the pixels say where they came from (bicubic enlargements: within 1 of the exact position)
        assert abs(crop[0, 0, 0] - 75) <= 1 and abs(crop[0, 0, 1] - 30) <= 1
        assert abs(crop[-1, -1, 0] - 95) <= 1 and abs(crop[-1, -1, 1] - 40) <= 1

    def test_each_image_in_its_own_normalised_space(self, gradient):
        _, img = gradient
        env = env_for(img, coord={"convention": "norm1000", "width": 200, "height": 100})
        env.zoom_in(bbox_2d=[250, 200, 750, 800])  # image 1 shows input pixels [50, 20, 150, 80]
        # norm1000 of image 1: [250, 250, 750, 750] is its middle half -> [75, 35, 125, 65] of the input
        text = env.crop(bbox_2d=[250, 250, 750, 750], image_index=1)[-1]["text"]
        assert "of image 1 = [75, 35, 125, 65] in pixels of input image 0" in text

    def test_each_image_as_the_processor_shows_it(self, gradient):
        _, img = gradient
        # resized: the model sees the 200x100 input at 400x200, so its coordinates are doubled
        coord = {"convention": "resized", "width": 200, "height": 100, "input_width": 400, "input_height": 200}
        env = env_for(img, coord=coord, limits=ToolLimits(zoom_pixels=400 * 240, max_zoom=4.0))
        env.zoom_in(bbox_2d=[100, 40, 300, 160])  # input pixels [50, 20, 150, 80] -> image 1, 400x240
        # the processor shows a 400x240 image at 392x252 (sides rounded to 28), so [0, 0, 196, 126] is its
        # top-left quarter: pixels [0, 0, 200, 120] of image 1 -> [50, 20, 100, 50] of the input
        text = env.crop(bbox_2d=[0, 0, 196, 126], image_index=1)[-1]["text"]
        assert "of image 1 = [50, 20, 100, 50] in pixels of input image 0 (200x120 px)" in text

    def test_rotated_image_has_no_box_in_the_input(self, gradient):
        _, img = gradient
        env = env_for(img)
        assert "Rotated image 0 by 90 degrees" in env.rotate(angle=90)[-1]["text"]
        text = env.crop(bbox_2d=[0, 0, 50, 50], image_index=1)[-1]["text"]
        assert text.startswith("Cropped region [0, 0, 50, 50] of image 1 (50x50 px).")

    @pytest.mark.parametrize(("index", "problem"), [
        (3, "must be between 0 and 1, got 3."),  # only the input and one zoom so far
        (-1, "must be between 0 and 1, got -1."),
        (1.5, "must be a whole number, got 1.5."),
        (float("nan"), "must be a finite number, got nan."),
        (True, "must be a number, got bool True."),
        ("1", "must be a number, got str '1'."),
    ])
    def test_bad_index_is_a_message(self, gradient, index, problem):
        _, img = gradient
        env = env_for(img)
        env.zoom_in(bbox_2d=[0, 0, 100, 100])
        text = env.zoom_in(bbox_2d=[0, 0, 50, 50], image_index=index)[-1]["text"]
        assert text == (f"Error: image_index {problem} Image 0 is the input image, then come the images tools "
                        "returned, in order.")

    def test_image_budget_is_a_message(self, gradient):
        _, img = gradient
        env = env_for(img, limits=ToolLimits(max_images=2))
        env.zoom_in(bbox_2d=[0, 0, 100, 100])
        env.zoom_in(bbox_2d=[0, 0, 100, 100], image_index=1)
        text = env.zoom_in(bbox_2d=[0, 0, 100, 100], image_index=2)[-1]["text"]
        assert text == ("Error: the image limit of this episode (2 tool images) is reached; answer with what you "
                        "have seen.")


def test_sft_trajectory_names_the_image_each_call_used(gradient):
    """A stored trajectory replayed for SFT: the tool messages say which image each zoom read, and where it lies."""
    from vlmr.train.sft import trajectory_turns

    _, img = gradient
    env = env_for(img, tools=["zoom_in"])
    call = '<tool_call>{{"name": "zoom_in", "arguments": {}}}</tool_call>'
    turns = [{"role": "assistant", "content": "<think>look</think>" + call.format('{"bbox_2d": [50, 20, 150, 80]}')},
             {"role": "assistant", "content": "<think>closer</think>" + call.format(
                 '{"bbox_2d": [0, 0, 200, 120], "image_index": 1}')},
             {"role": "assistant", "content": "<answer>red</answer>"}]
    messages, images = trajectory_turns(turns, None, env)
    tool_texts = [m["content"][-1]["text"] for m in messages if m["role"] == "tool"]
    assert tool_texts[0].startswith("Zoomed into [50, 20, 150, 80]: 100x60 px") and "is image 1" in tool_texts[0]
    assert tool_texts[1].startswith("Zoomed into [0, 0, 200, 120] of image 1 = [50, 20, 100, 50] in pixels of "
                                    "input image 0") and "is image 2" in tool_texts[1]
    assert len(images) == 2
