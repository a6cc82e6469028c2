"""Model families as registered specs: lookup by name or import path, recognition by model_type, the size rules."""

from __future__ import annotations

import sys
import types

import pytest

from vlmr.families import (
    FAMILIES,
    ModelFamily,
    family_for_model_type,
    get_family,
    list_families,
    register_family,
)
from vlmr.families.internvl import tile_grid
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
        assert {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "internvl", "generic"} <= set(list_families())

    @pytest.mark.parametrize(
        ("model_type", "family"),
        [
            ("qwen2_5_vl", "qwen2_5_vl"),
            ("qwen2_vl", "qwen2_vl"),
            ("qwen3_vl_moe", "qwen3_vl"),  # two model types, one family
            ("internvl", "internvl"),
            ("llava", "generic"),  # no family claims it
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
