"""The one lookup rule of the five registries: a registered name or ``package.module:Name``."""

import pytest

from vlmr.registry import UnknownNameError, lookup, register


class TestLookup:
    def test_lazy_entry_and_import_path(self):
        entries = {"hsv": "colorsys:rgb_to_hsv"}
        assert lookup(entries, "hsv", "function").__name__ == "rgb_to_hsv"
        assert lookup(entries, "colorsys:hls_to_rgb", "function").__name__ == "hls_to_rgb"

    def test_unknown_name_suggests_and_is_a_key_and_value_error(self):
        with pytest.raises(UnknownNameError, match=r"unknown thing 'iuo'; choose one of \['giou', 'iou'\] "
                                                   r"\(did you mean 'iou'\?\); or name your own"):
            lookup({"iou": 1, "giou": 2}, "iuo", "thing")
        assert issubclass(UnknownNameError, KeyError) and issubclass(UnknownNameError, ValueError)

    @pytest.mark.parametrize(
        ("name", "error", "message"),
        [
            ("no_such_module_xyz:Thing", ModuleNotFoundError, "cannot import 'no_such_module_xyz'"),
            ("colorsys:no_such", AttributeError, "module 'colorsys' has no 'no_such'"),
            (":Thing", ValueError, "not an import path"),
        ],
    )
    def test_bad_import_path_says_what_is_missing(self, name, error, message):
        with pytest.raises(error, match=message):
            lookup({}, name, "thing")

    def test_check_names_the_requirement(self):
        with pytest.raises(TypeError, match=r"'colorsys:ONE_THIRD' is not a class \(it is 0.333"):
            lookup({}, "colorsys:ONE_THIRD", "thing", check=(lambda obj: isinstance(obj, type), "a class"))


class TestRegister:
    def test_same_definition_again_is_allowed_another_is_not(self):
        entries = {}

        def make():
            class Thing:
                pass

            return Thing

        first, again = make(), make()  # one definition, two class objects (a module imported twice)
        register(entries, "thing", first, "thing")
        register(entries, "thing", again, "thing")

        class Other:
            pass

        with pytest.raises(ValueError, match=r"thing 'thing' is already registered \(.*make.<locals>.Thing\)"):
            register(entries, "thing", Other, "thing")


class TestEveryRegistryTakesImportPaths:
    def test_reward(self):
        from vlmr.rewards import get_reward

        assert get_reward("vlmr.rewards.boxes:IouReward", threshold=0.5).__name__ == "iou"

    def test_tool_path_resolves_to_its_registered_name(self):
        from vlmr.tools import get_tool, resolve_tools

        assert get_tool("vlmr.tools.image_tools:crop").name == "crop"
        assert resolve_tools("zoom,vlmr.tools.image_tools:crop") == ["zoom_in", "crop"]
        with pytest.raises(TypeError, match="is not a tool function decorated with @register_tool"):
            get_tool("vlmr.tools.image_ops:crop")  # a plain function, not a registered tool

    def test_segmenter(self):
        from vlmr.tools.segmenters import get_segmenter

        assert type(get_segmenter("vlmr.tools.segment_grabcut:GrabCutSegmenter")).__name__ == "GrabCutSegmenter"

    def test_data_source(self):
        from vlmr.data_pipelines.sources import get_builder

        assert get_builder("vlmr.data_pipelines.shape_tasks:build_shapes") is get_builder("shapes")

    def test_benchmark_rejects_what_is_not_one(self):
        from vlmr.eval import get_benchmark

        with pytest.raises(TypeError, match="'vlmr.eval.runner:EvalConfig' is not a Benchmark subclass"):
            get_benchmark("vlmr.eval.runner:EvalConfig")
