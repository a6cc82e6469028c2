"""Reading the final answer and drawing it on the input (boxes, points, masks, time spans)."""

import numpy as np
import pytest
from PIL import Image

from vlmr.formats import CoordinateSpace
from vlmr.render import (
    BOX_COLORS,
    MASK_COLOR,
    Answer,
    draw_overlay,
    draw_timeline,
    read_answer,
    render_answer,
    tint,
)
from vlmr.tools.segmenters import get_segmenter

RED = BOX_COLORS[0]


class TestReadAnswer:
    @pytest.mark.parametrize(
        ("response", "task", "space", "boxes", "points"),
        [
            # Qwen2.5-VL frame: a 644x476 input of a 640x480 image -> original pixels
            ('<think>x</think><answer>{"bbox_2d": [0, 0, 322, 238]}</answer>', "grounding",
             CoordinateSpace.for_image(640, 480), [[0.0, 0.0, 320.0, 240.0]], []),
            # 0-1000 relative box and point (segmentation payload)
            ('<answer>{"bbox_2d": [100, 100, 500, 500], "point_2d": [300, 300]}</answer>', "segmentation",
             CoordinateSpace(200, 100, "norm1000"), [[20.0, 10.0, 100.0, 50.0]], [[60.0, 30.0]]),
            # no space: coordinates stay as written
            ('<answer>{"point_2d": [5, 6]}</answer>', "pointing", None, [], [[5.0, 6.0]]),
            # garbage: nothing read, nothing raised
            ("\n\n\n", "grounding", CoordinateSpace(10, 10), [], []),
        ],
    )
    def test_coordinates_come_back_in_original_pixels(self, response, task, space, boxes, points):
        answer = read_answer(response, task, space)
        np.testing.assert_allclose(np.array(answer.boxes).reshape(-1, 4), np.array(boxes).reshape(-1, 4))
        np.testing.assert_allclose(np.array(answer.points).reshape(-1, 2), np.array(points).reshape(-1, 2))

    def test_count_and_span_are_read_only_for_their_tasks(self):
        assert read_answer("<answer>3</answer>", "counting", None).count == 3
        assert read_answer("<answer>3</answer>", "vqa", None).count is None
        assert read_answer("<answer>[2.5, 4.0]</answer>", "temporal_grounding", None).span == [2.5, 4.0]
        assert read_answer("<answer>[2.5, 4.0]</answer>", "counting", None).span is None

    @pytest.mark.parametrize("response", [None, 12, "", "<answer>", "<think>unclosed", "x" * 100_000])
    def test_never_raises_on_garbled_output(self, response):
        answer = read_answer(response, "grounding", CoordinateSpace(10, 10))
        assert answer.boxes == [] and answer.points == []


class TestTint:
    def test_masked_pixels_are_blended_and_the_rest_kept(self):
        image = Image.new("RGB", (4, 2), (100, 50, 0))
        mask = np.zeros((2, 4), bool)
        mask[1, 2:] = True
        out = np.asarray(tint(image, mask, (0, 250, 200), 0.4))
        assert out[1, 2].tolist() == [60, 130, 80]  # 0.6 * (100, 50, 0) + 0.4 * (0, 250, 200)
        assert (out[~mask] == (100, 50, 0)).all()
        assert image.getpixel((2, 1)) == (100, 50, 0)  # the input is not modified

    def test_a_mask_of_another_size_is_not_drawn(self):
        out = tint(Image.new("RGB", (4, 2), (100, 50, 0)), np.ones((3, 3), bool))
        assert (np.asarray(out) == (100, 50, 0)).all()

    def test_dataset_previews_tint_through_it(self, tmp_path):
        from vlmr.data_pipelines.medical import preview
        from vlmr.data_pipelines.show import draw_answer
        from vlmr.masks import mask_to_rle
        from vlmr.schema import Sample

        Image.new("RGB", (6, 4), (100, 100, 100)).save(tmp_path / "a.png")
        mask = np.zeros((4, 6), bool)
        mask[1:3, 1:3] = True
        answer = {"masks": [mask_to_rle(mask)]}
        shown = np.asarray(draw_answer(Image.open(tmp_path / "a.png"), answer))
        assert shown[1, 1].tolist() == [178, 50, 178]  # 0.5 * 100 + 0.5 * (255, 0, 255), rounded half to even
        sample = Sample(id="a", task="segmentation", question="?", images=["a.png"], answer=answer)
        assert np.asarray(preview(sample, tmp_path))[2, 2].tolist() == [178, 50, 50]  # red: 0.5 * (255, 0, 0)
        assert np.asarray(preview(sample, tmp_path))[0, 0].tolist() == [100, 100, 100]


class TestDrawOverlay:
    def test_box_outline_is_drawn_and_inside_untouched(self):
        image = Image.new("RGB", (300, 200), (200, 200, 200))
        out = np.asarray(draw_overlay(image, boxes=[[50, 40, 150, 120]]))
        assert tuple(out[80, 50]) == RED and tuple(out[40, 100]) == RED  # left and top edges
        assert tuple(out[80, 100]) == (200, 200, 200)  # inside the box
        assert image.getpixel((50, 80)) == (200, 200, 200)  # the input is not modified

    def test_mask_is_tinted_only_where_true(self):
        image = Image.new("RGB", (20, 10), (0, 0, 0))
        mask = np.zeros((10, 20), bool)
        mask[2:5, 3:8] = True
        out = np.asarray(draw_overlay(image, mask=mask)).astype(int)
        assert tuple(out[3, 4]) == tuple(round(0.45 * c) for c in MASK_COLOR)
        assert out[~mask].sum() == 0

    def test_wrong_shape_mask_and_nan_box_are_ignored(self):
        image = Image.new("RGB", (20, 10), (0, 0, 0))
        out = draw_overlay(image, boxes=[[float("nan"), 0, 5, 5]], mask=np.ones((3, 3), bool))
        assert np.asarray(out).sum() == 0

    def test_label_is_written_above_the_box(self):
        out = np.asarray(draw_overlay(Image.new("RGB", (200, 100), "white"), [[20, 50, 120, 90]], labels=["circle"]))
        assert (out[30:48, 22:60] == RED).all(axis=-1).mean() > 0.3  # the label background


class TestRenderAnswer:
    def test_segmentation_draws_the_segmenter_mask(self):
        pixels = np.full((60, 80, 3), 128, np.uint8)
        pixels[20:40, 30:50] = (220, 30, 35)
        answer = Answer("", boxes=[[28.0, 18.0, 52.0, 42.0]], points=[[40.0, 30.0]])
        out = np.asarray(render_answer(Image.fromarray(pixels), answer, "segmentation", get_segmenter("grabcut")))
        tinted = (1 - 0.45) * np.array([220, 30, 35]) + 0.45 * np.array(MASK_COLOR)
        assert np.abs(out[24, 46].astype(float) - tinted).max() <= 1  # inside the object, off the point: tinted
        assert tuple(out[5, 5]) == (128, 128, 128)  # background: untouched

    def test_missing_box_is_said_on_the_image(self):
        out = render_answer(Image.new("RGB", (200, 100), "white"), Answer("no idea"), "grounding")
        assert out.getpixel((199, 99)) == (30, 30, 30)  # the note band along the bottom

    def test_video_gets_a_timeline_with_the_span(self):
        strip = Image.new("RGB", (220, 40), "black")
        out = render_answer(strip, Answer("[1, 2]", span=[1.0, 2.0]), "temporal_grounding", duration=4.0)
        assert out.size == (220, 86)
        row = np.asarray(out)[52]
        red = np.nonzero((row == RED).all(axis=-1))[0]
        assert red.min() == pytest.approx(10 + 200 / 4, abs=1) and red.max() == pytest.approx(10 + 400 / 4, abs=1)


    def test_video_without_span_says_so_under_the_timeline(self):
        strip = Image.new("RGB", (300, 40), "black")
        out = np.asarray(render_answer(strip, Answer("soon"), "temporal_grounding", duration=4.0))
        assert not (out == RED).all(axis=-1).any()  # no span drawn
        assert (out[66:86, 10:200] == (90, 90, 90)).all(axis=-1).any()  # the grey note in the label row


def test_timeline_rejects_a_video_without_duration():
    with pytest.raises(ValueError, match="duration must be > 0"):
        draw_timeline(Image.new("RGB", (10, 10)), 0.0, None)
