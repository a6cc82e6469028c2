"""Tasks as registered specs: lookup by name or import path, registration rules, the built-ins."""

import pytest

from vlmr.formats import CoordinateSpace
from vlmr.tasks import BUILTIN_TASKS, Task, get_task, list_tasks, register_task


class TestTaskRegistry:
    def test_builtins_keep_their_order(self):
        # the tiny model's tokenizer is trained on the built-in instructions in this order
        assert BUILTIN_TASKS == ("grounding", "detection", "pointing", "segmentation", "counting", "mcq",
                                 "temporal_grounding", "vqa", "chart_qa", "medical_vqa", "math", "scene3d_qa",
                                 "scene3d_grounding")
        assert list_tasks()[: len(BUILTIN_TASKS)] == list(BUILTIN_TASKS)

    def test_import_path_and_name_give_the_same_spec(self):
        by_path = get_task("vlmr.tasks:Counting")
        assert type(by_path) is type(get_task("counting")) and by_path.name == "counting"

    def test_another_class_cannot_take_a_registered_name(self):
        with pytest.raises(ValueError, match="task 'counting' is already registered"):
            @register_task("counting")
            class MyCounting(Task):
                pass

    def test_only_task_subclasses_register(self):
        with pytest.raises(TypeError, match="decorates a Task subclass"):
            register_task("nope")(dict)


class TestTaskSpecs:
    @pytest.mark.parametrize(
        ("task", "answer", "space", "written"),
        [
            # boxes in 0-1000 of a 200x100 image; segmentation adds its point, detection lists every box
            ("grounding", {"boxes": [[20, 10, 100, 50]], "labels": ["cat"]}, CoordinateSpace(200, 100, "norm1000"),
             '{"bbox_2d": [100, 100, 500, 500], "label": "cat"}'),
            ("segmentation", {"boxes": [[20, 10, 100, 50]], "points": [[40, 20]]}, None,
             '{"bbox_2d": [20, 10, 100, 50], "point_2d": [40, 20]}'),
            ("detection", {"boxes": [[0, 0, 2, 2], [4, 4, 6, 6]]}, None,
             '[{"bbox_2d": [0, 0, 2, 2]}, {"bbox_2d": [4, 4, 6, 6]}]'),
            ("counting", {"count": 3, "boxes": [[0, 0, 1, 1]]}, None, "3"),  # a count's boxes are not the answer
            ("temporal_grounding", {"span": [1.25, 4.0]}, None, "[1.2, 4.0]"),
            ("vqa", {"text": "red"}, None, "red"),
        ],
    )
    def test_answers_are_written_as_the_model_answers(self, task, answer, space, written):
        assert get_task(task).format_answer(answer, space) == written

    def test_what_each_task_reads_from_an_answer(self):
        assert get_task("counting").read("There are 3.") == {"count": 3}
        assert get_task("temporal_grounding").read("[2.5, 7]") == {"span": [2.5, 7.0]}
        assert get_task("vqa").read("3") == {}

    def test_nothing_to_write_is_an_error_naming_the_task(self):
        with pytest.raises(ValueError, match="has nothing to format for task 'mcq'"):
            get_task("mcq").format_answer({})
