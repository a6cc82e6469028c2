"""Parsers of model output: forgiving, and never raising."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vlmr.rewards import parse
from vlmr.rewards.parse import (
    parse_boxes,
    parse_choice,
    parse_count,
    parse_labels,
    parse_masks,
    parse_number,
    parse_objects,
    parse_points,
    parse_span,
    parse_yes_no,
    split_think_answer,
)

ALL_PARSERS = [
    parse_boxes,
    parse_points,
    parse_labels,
    parse_objects,
    parse_count,
    parse_number,
    parse_choice,
    parse_yes_no,
    parse_span,
    parse_masks,
    split_think_answer,
]


class TestSplitThinkAnswer:
    @pytest.mark.parametrize(
        ("text", "strict", "expected"),
        [
            ("<think>a</think><answer>B</answer>", True, ("a", "B")),
            ("  <think>a</think>\n<answer> B </answer>\n", True, ("a", "B")),
            ("<answer>B</answer>", True, (None, None)),  # no thought
            ("<think>a</think><answer>B</answer> trailing", True, (None, None)),
            ("<think>a<answer>A</answer></think><answer>B</answer>", True, (None, None)),  # nested
            ("<think>a</think><answer><answer>B</answer></answer>", True, (None, None)),
            ("<think>a</think>\nB", False, ("a", "B")),  # no answer tags
            ("B", False, (None, "B")),  # API model, bare answer
            ("<think>x <answer>A</answer></think>", False, ("x <answer>A</answer>", None)),
            ("<think>x <answer>A</answer>", False, (None, None)),  # unterminated thought
            ("<think>a</think><answer>A</answer><answer>B</answer>", False, ("a", "B")),  # last wins
            ("<think>a</think><answer><answer>B</answer></answer>", False, ("a", "B")),
            ("<think>a</think><answer>B", False, ("a", "B")),  # unterminated answer
            ("<think>a</think><answer></answer>", False, ("a", None)),
            ("", False, (None, None)),
        ],
    )
    def test_cases(self, text, strict, expected):
        assert split_think_answer(text, strict=strict) == expected

    def test_non_string_is_none(self):
        assert split_think_answer(None) == (None, None)
        assert split_think_answer(["<answer>B</answer>"]) == (None, None)


class TestBoxes:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('{"bbox_2d": [1, 2, 3, 4]}', [[1, 2, 3, 4]]),
            (
                '[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8]},]',
                [[1, 2, 3, 4], [5, 6, 7, 8]],
            ),
            ("[1, 2, 3, 4]", [[1, 2, 3, 4]]),
            ("[[1, 2, 3, 4], [5, 6, 7, 8]]", [[1, 2, 3, 4], [5, 6, 7, 8]]),
            ("(1,2),(3,4)", [[1, 2, 3, 4]]),
            ("<|box_start|>(10, 20), (30, 40)<|box_end|>", [[10, 20, 30, 40]]),
            ("[1.5, 2.25, 3e2, 4.]", [[1.5, 2.25, 300, 4]]),
            ('```json\n{"bbox_2d": [1, 2, 3, 4,]}\n```', [[1, 2, 3, 4]]),
            ("{'bbox_2d': [1, 2, 3, 4]}", [[1, 2, 3, 4]]),  # single quotes
            ("the box is [-5, 2, 3, 4] here", [[-5, 2, 3, 4]]),
            ('{"bbox_2d": [1, 2, 3]}', None),  # three numbers
            ('{"bbox_2d": [NaN, 2, 3, 4]}', None),
            ('{"bbox_2d": [1e999, 2, 3, 4]}', None),  # overflows to inf
            ("no box", None),
            ("", None),
        ],
    )
    def test_cases(self, text, expected):
        assert parse_boxes(text) == expected

    def test_labels_and_objects_stay_aligned(self):
        text = '[{"bbox_2d": [1, 2, 3, 4], "label": "cat"}, {"label": "dog", "bbox_2d": [5, 6, 7, 8]}]'
        assert parse_labels(text) == ["cat", "dog"]
        assert [o["label"] for o in parse_objects(text)] == ["cat", "dog"]
        assert parse_objects("[1, 2, 3, 4]") == [{"bbox_2d": [1, 2, 3, 4], "label": None, "point_2d": None}]
        assert parse_labels("[1, 2, 3, 4]") is None


class TestPoints:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('{"point_2d": [3, 4]}', [[3, 4]]),
            ('[{"point_2d": [3, 4]}, {"point_2d": [5.5, 6]}]', [[3, 4], [5.5, 6]]),
            ('{"bbox": [1, 2, 3, 4], "points_1": [2, 3], "points_2": [2, 4]}', [[2, 3], [2, 4]]),  # Seg-Zero
            ("(12, 30)", [[12, 30]]),
            ("[12, 30]", [[12, 30]]),
            ('{"bbox_2d": [1, 2, 3, 4]}', None),  # a box is not a point
            ("nothing", None),
        ],
    )
    def test_cases(self, text, expected):
        assert parse_points(text) == expected


class TestCount:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("3", 3),
            ("There are 2 rows with 3 apples each, 6 in total.", 6),  # the last number concludes
            ("There are 3 dogs, 2 of them brown.", 2),  # ... also when the prose ends on a detail
            ("1,000", 1000),
            ("twelve dogs", 12),
            ("Twenty", 20),
            ("twenty-one", 21),
            ("ninety nine", 99),
            ("three hundred", 300),
            ("zero", 0),
            ("none", 0),
            ("No cats.", 0),
            ("3.0", 3),
            ("2.5", None),  # not a count
            ("-2", None),
            ("1e400", None),
            ("many", None),
            ("", None),
        ],
    )
    def test_cases(self, text, expected):
        assert parse_count(text) == expected


class TestNumber:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("42", 42.0),
            ("-3.5", -3.5),
            ("\u22123.5", -3.5),  # unicode minus
            ("+7", 7.0),
            (".5", 0.5),
            ("1,234.5", 1234.5),
            ("$1,200", 1200.0),
            ("12 cm", 12.0),
            ("45%", 45.0),
            ("1.5e3", 1500.0),
            ("2.5E-3", 0.0025),
            ("1.5 x 10^3", 1500.0),
            ("so x = 3 and the answer is 42", 42.0),  # last number
            ("2020-2021", 2021.0),  # a range, not a negative number
            ("1e999", None),  # not finite
            ("seven", 7.0),
            ("none", None),
        ],
    )
    def test_cases(self, text, expected):
        assert parse_number(text) == expected

    def test_percent_as_fraction(self):
        assert parse_number("45%", percent_as_fraction=True) == pytest.approx(0.45)


class TestChoice:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("B", "B"),
            ("b", "B"),
            ("(B)", "B"),
            ("B.", "B"),
            ("B. a dog", "B"),
            ("(B) a dog", "B"),
            ("Answer: B", "B"),
            ("the answer is b", "B"),
            ("The answer is (C).", "C"),
            ("The correct answer is option D", "D"),
            ("I think it's B.", "B"),
            ("A B C D", None),  # every choice listed
            ("A or B", None),  # a hedge names no letter, in either order
            ("B or A", None),
            ("The answer is B or C.", None),
            ("(A)/(D)", None),
            ("Is it A or B? The answer is B.", "B"),  # the question restated, then one answer
            ("A. cat\nB. dog", None),
            ("the answer is a cat", None),  # an article, not a letter
            ("A cat", None),
            ("", None),
        ],
    )
    def test_cases(self, text, expected):
        assert parse_choice(text) == expected

    def test_n_choices_limits_letters(self):
        assert parse_choice("E", n_choices=4) is None
        assert parse_choice("D", n_choices=4) == "D"

    def test_option_text_maps_to_letter(self):
        choices = ["A. a cat", "B. a dog", "C. a bird"]
        assert parse_choice("A dog.", choices=choices) == "B"
        assert parse_choice("a horse", choices=choices) is None


class TestYesNo:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Yes", "yes"),
            ("no.", "no"),
            ("Yes, there is no doubt.", "yes"),  # first word decides
            ("True", "yes"),
            ("false", "no"),
            ("I would say no", "no"),
            ("yes or no", None),  # hedging
            ("yes/no", None),
            ("maybe", None),
        ],
    )
    def test_cases(self, text, expected):
        assert parse_yes_no(text) == expected


class TestSpan:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2.5 - 7.0 seconds", [2.5, 7.0]),
            ("from 2.5s to 7s", [2.5, 7.0]),  # "2.5s" is 2.5, not 2
            ("0:02-0:07", [2.0, 7.0]),
            ("1:02:03 to 1:02:10", [3723.0, 3730.0]),
            ("[2.5, 7.0]", [2.5, 7.0]),
            ("The event happens between 12 and 15.5 seconds.", [12.0, 15.5]),
            ("at 3s", None),
            ("", None),
        ],
    )
    def test_cases(self, text, expected):
        assert parse_span(text) == expected


class TestMasks:
    def test_rle_and_polygons(self):
        text = '[{"size": [4, 4], "counts": "04L4"}, {"polygon": [[0, 0], [2, 0], [2, 2]]}]'
        assert parse_masks(text) == [
            {"size": [4, 4], "counts": "04L4"},
            {"polygon": [[0.0, 0.0, 2.0, 0.0, 2.0, 2.0]]},
        ]

    def test_coco_segmentation_key_and_prose(self):
        text = 'Here: {"segmentation": [[0, 0, 4, 0, 4, 4]]} done'
        assert parse_masks(text) == [{"polygon": [[0.0, 0.0, 4.0, 0.0, 4.0, 4.0]]}]

    @pytest.mark.parametrize(
        "text",
        [
            '{"size": [0, 4], "counts": "04"}',  # empty size
            '{"size": [4, 4], "counts": 5}',
            '{"polygon": [[0, 0], [1, 1]]}',  # two points
            '{"polygon": "abc"}',
            "[1, 2, 3, 4]",
            "{{{{",
        ],
    )
    def test_unusable_is_none(self, text):
        assert parse_masks(text) is None


class TestNeverRaise:
    @pytest.mark.parametrize("parser", ALL_PARSERS, ids=lambda p: p.__name__)
    @given(text=st.text(max_size=300))
    def test_arbitrary_text(self, parser, text):
        parser(text)

    @pytest.mark.parametrize("parser", ALL_PARSERS, ids=lambda p: p.__name__)
    @given(
        text=st.lists(
            st.sampled_from(["<think>", "</think>", "<answer>", "</answer>", "[", "]", "{", "}", ",", "(", ")",
                             '"bbox_2d":', '"point_2d":', '"size": [2, 2]', '"counts":', '"polygon":', "1",
                             "-2.5", "1e999", "NaN", ":", "%", "s", " to ", "twelve", "B", "yes", "\u2212", ".", "<|begin_of_box|>", "<|end_of_box|>"]),
            max_size=40,
        ).map("".join)
    )  # fmt: skip
    def test_structured_garbage(self, parser, text):
        parser(text)

    @pytest.mark.parametrize("parser", ALL_PARSERS, ids=lambda p: p.__name__)
    @pytest.mark.parametrize("value", [None, 3, 2.5, b"B", ["B"], {"a": 1}])
    def test_non_strings(self, parser, value):
        result = parser(value)
        assert result in (None, (None, None))

    def test_over_long_answer_is_not_an_answer(self):
        text = "7 " * parse.MAX_ANSWER_CHARS
        assert parse_count(text) is None
        assert parse_boxes("[1, 2, 3, 4] " * 5000) is None
