import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vlmr.formats import (
    CONVENTIONS,
    CoordinateSpace,
    boxes_look_misframed,
    coord_column,
    family_for_model_type,
    smart_resize,
)


class TestSmartResize:
    @pytest.mark.parametrize(
        ("h", "w", "kwargs", "expected"),
        [
            (480, 640, {}, (476, 644)),  # default limits: sides rounded to multiples of 28
            (3000, 4000, {"max_pixels": 1280 * 28 * 28}, (840, 1148)),  # over budget: scaled down, floored
            (10, 10, {}, (56, 56)),  # under min_pixels: scaled up, ceiled
            (28, 28 * 100, {}, (28, 2800)),  # extreme but valid aspect ratio
        ],
    )
    def test_known_sizes(self, h, w, kwargs, expected):
        assert smart_resize(h, w, **kwargs) == expected

    @given(st.integers(28, 5000), st.integers(28, 5000))
    def test_matches_transformers(self, h, w):
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as hf_smart_resize

        if max(h, w) / min(h, w) > 200:
            return
        assert smart_resize(h, w, 28, 56 * 56, 28 * 28 * 1280) == tuple(
            hf_smart_resize(h, w, factor=28, min_pixels=56 * 56, max_pixels=28 * 28 * 1280)
        )

    def test_rejects_extreme_aspect_ratio(self):
        with pytest.raises(ValueError, match="aspect ratio"):
            smart_resize(10, 5000)


class TestCoordinateSpace:
    def test_resized_box_on_big_image_maps_to_original(self):
        space = CoordinateSpace.for_image(4000, 3000, max_pixels=1280 * 28 * 28)
        assert (space.input_width, space.input_height) == (1148, 840)
        assert space.to_pixels([0, 0, 1148, 840]) == [0.0, 0.0, 4000.0, 3000.0]

    def test_norm1000(self):
        space = CoordinateSpace(200, 100, "norm1000")
        assert space.to_pixels([500, 500]) == [100.0, 50.0]
        assert space.from_pixels([200, 100]) == [1000.0, 1000.0]

    def test_qwen2_vl_family_uses_norm1000(self):
        assert CoordinateSpace.for_image(640, 480, family="qwen2_vl").convention == "norm1000"
        assert family_for_model_type("qwen2_5_vl") == "qwen2_5_vl"
        assert family_for_model_type("llava") == "generic"

    def test_unknown_convention_lists_choices(self):
        with pytest.raises(ValueError, match="choose one of"):
            CoordinateSpace(10, 10, "percent")

    @given(
        st.integers(1, 4000),
        st.integers(1, 4000),
        st.sampled_from(CONVENTIONS),
        st.lists(st.floats(0, 4000, allow_nan=False), min_size=2, max_size=12).filter(lambda v: len(v) % 2 == 0),
    )
    def test_round_trip(self, w, h, convention, xy):
        if max(w, h) / min(w, h) > 200:
            return
        space = CoordinateSpace.for_image(w, h, convention=convention)
        back = space.to_pixels(space.from_pixels(xy))
        assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6) for a, b in zip(back, xy, strict=True))


class TestCoordColumn:
    def test_dict_round_trip_keeps_every_field(self):
        space = CoordinateSpace.for_image(640, 480, family="qwen2_5_vl")
        column = coord_column(space)
        assert column == {"width": 640, "height": 480, "convention": "resized", "input_width": 644, "input_height": 476}
        assert CoordinateSpace.from_dict(column) == space

    @pytest.mark.parametrize(
        "coord",
        [
            None,  # no column
            coord_column(None),  # a row without an image: every field None
            {"convention": "norm1000"},  # no image size: nothing to convert against
        ],
    )
    def test_column_without_image_size_reads_as_none(self, coord):
        assert CoordinateSpace.from_dict(coord) is None

    def test_missing_convention_means_original_pixels(self):
        assert CoordinateSpace.from_dict({"width": 200, "height": 100}) == CoordinateSpace(200, 100, "pixel")

    def test_object_instead_of_dict_is_refused(self):
        with pytest.raises(TypeError, match=r"coord column is a dict \(CoordinateSpace.to_dict\(\)\), got CoordinateSpace"):
            CoordinateSpace.from_dict(CoordinateSpace(200, 100))


class TestMisframeWarning:
    def test_normalised_boxes_flagged(self):
        assert "0-1" in boxes_look_misframed([[0.1, 0.1, 0.5, 0.5]], 640, 480)

    def test_norm1000_read_as_pixels_flagged(self):
        assert "convention" in boxes_look_misframed([[100, 100, 990, 990]], 320, 240)

    def test_plausible_boxes_pass(self):
        assert boxes_look_misframed([[10, 10, 300, 200]], 320, 240) is None
