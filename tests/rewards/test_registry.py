"""Registry, config building and the trl contract every reward follows."""

import pickle

import pytest

from vlmr.rewards import Reward, build_rewards, get_reward, list_rewards, register_reward, registry

EXPECTED = {
    "accuracy", "box_l1", "box_points", "box_size", "chart_relaxed", "count", "detection", "format", "giou",
    "iou", "length", "mask_iou", "point_in_box", "point_in_mask", "repetition", "temporal_iou", "tool_use", "curiosity",
}  # fmt: skip

# One mixed batch of several tasks, two generations per prompt (trl repeats every column).
ANSWERS = [
    {"boxes": [[10, 10, 50, 50]], "choice": None, "count": None},  # Arrow round trip: None = absent
    {"boxes": [[10, 10, 50, 50]], "choice": None, "count": None},
    {"boxes": None, "choice": "B", "count": None},
    {"boxes": None, "choice": "B", "count": None},
    {"boxes": None, "choice": None, "count": 4},
    {"boxes": None, "choice": None, "count": 4},
]
COMPLETIONS = [
    '<think>dog</think><answer>{"bbox_2d": [10, 10, 50, 50]}</answer>',
    "<think>dog</think><answer>[0, 0, 5, 5]</answer>",
    "<think>x</think><answer>B</answer>",
    "<think>x</think><answer>C</answer>",
    "<think>x</think><answer>four</answer>",
    "<think>x</think><answer>5</answer>",
]
TASKS = ["grounding", "grounding", "mcq", "mcq", "counting", "counting"]
META = [{"width": 100, "height": 100}] * 6


class TestRegistry:
    def test_every_reward_is_registered(self):
        assert set(list_rewards()) >= EXPECTED

    def test_unknown_name_lists_known_ones(self):
        with pytest.raises(KeyError, match=r"unknown reward 'ioo'; known rewards: accuracy, box_l1"):
            get_reward("ioo")

    def test_unknown_parameter_names_the_reward(self):
        with pytest.raises(TypeError, match=r"reward 'iou': .*treshold"):
            get_reward("iou", treshold=0.5)

    @pytest.mark.parametrize(
        ("name", "params", "message"),
        [
            ("iou", {"threshold": 1.5}, r"threshold must be in \[0.0, 1\]"),
            ("count", {"mode": "fuzzy"}, r"mode must be one of \('exact', 'smooth'\)"),
            ("detection", {"metric": "map"}, "metric must be one of"),
            ("length", {"max_length": 10, "cache": 20}, "cache <= max_length"),
            ("repetition", {"max_penalty": 1.0}, "must be <= 0"),
            ("tool_use", {"cost_per_call": -1}, "cost_per_call must be >= 0"),
            ("chart_relaxed", {"tolerance": 2}, r"tolerance must be in \[0, 1\)"),
            ("box_size", {"max_ratio": 0.5}, "max_ratio must be >= 1"),
        ],
    )
    def test_parameters_are_validated(self, name, params, message):
        with pytest.raises(ValueError, match=message):
            get_reward(name, **params)

    def test_build_rewards_from_config(self):
        funcs, weights = build_rewards(
            [{"name": "iou", "weight": 1.0, "threshold": 0.5}, {"name": "format", "weight": 0.5}]
        )
        assert [f.__name__ for f in funcs] == ["iou", "format"]
        assert funcs[0].threshold == 0.5
        assert weights == [1.0, 0.5]

    def test_build_rewards_rejects_specs_without_name(self):
        with pytest.raises(ValueError, match=r"rewards\[0\] must be a mapping with a 'name' key"):
            build_rewards([{"weight": 1.0}])

    def test_duplicate_registration_is_an_error(self):
        with pytest.raises(ValueError, match="already registered"):

            @register_reward("iou")
            class Other(Reward):
                pass

    def test_custom_reward_registers_and_builds(self, monkeypatch):
        monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # keep the global registry clean

        @register_reward("test_always_half")
        class Half(Reward):
            def score(self, prediction, answer=None, **context):
                return 0.5

        assert get_reward("test_always_half")(["a", "b"]) == [0.5, 0.5]


@pytest.mark.parametrize("name", sorted(EXPECTED))
class TestContract:
    def test_name_is_fixed(self, name):
        reward = get_reward(name)
        assert reward.__name__ == name
        assert type(reward).name == name

    def test_picklable(self, name):
        reward = get_reward(name)
        clone = pickle.loads(pickle.dumps(reward))
        assert clone.__name__ == name
        assert clone(COMPLETIONS, answer=ANSWERS, task=TASKS, meta=META) == reward(
            COMPLETIONS, answer=ANSWERS, task=TASKS, meta=META
        )

    def test_one_value_per_completion_in_a_mixed_batch(self, name):
        out = get_reward(name)(COMPLETIONS, answer=ANSWERS, task=TASKS, meta=META, trainer_state=object())
        assert len(out) == len(COMPLETIONS)
        assert all(v is None or isinstance(v, float) for v in out)

    def test_conversational_completions_score_like_strings(self, name):
        reward = get_reward(name)
        chat = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]
        blocks = [[{"role": "assistant", "content": [{"type": "text", "text": c}]}] for c in COMPLETIONS]
        expected = reward(COMPLETIONS, answer=ANSWERS, task=TASKS, meta=META)
        assert reward(chat, answer=ANSWERS, task=TASKS, meta=META) == expected
        assert reward(blocks, answer=ANSWERS, task=TASKS, meta=META) == expected

    def test_empty_and_garbled_completions(self, name):
        garbage = ["", "<answer>", "}{][", "\x00\x01", "<think><think></answer>", None, 5]
        out = get_reward(name)(garbage, answer=[ANSWERS[0]] * len(garbage), meta=[META[0]] * len(garbage))
        assert len(out) == len(garbage)

    def test_misaligned_column_is_an_error(self, name):
        with pytest.raises(ValueError, match=r"column 'answer' has 2 values for 6 completions"):
            get_reward(name)(COMPLETIONS, answer=ANSWERS[:2])


class TestMixedBatchValues:
    def test_each_reward_scores_only_its_task(self):
        columns = {"answer": ANSWERS, "task": TASKS, "meta": META}
        assert get_reward("iou")(COMPLETIONS, **columns) == [1.0, 0.0, None, None, None, None]
        assert get_reward("accuracy")(COMPLETIONS, **columns) == [None, None, 1.0, 0.0, 1.0, 0.0]
        assert get_reward("count")(COMPLETIONS, **columns) == [None, None, None, None, 1.0, 0.0]
        assert get_reward("format")(COMPLETIONS, **columns) == [1.0] * 6

    def test_missing_answer_column_gives_none(self):
        assert get_reward("iou")(COMPLETIONS) == [None] * 6


class TestColumns:
    def test_scalar_columns_are_shared_and_trainer_extras_ignored(self):
        reward = get_reward("accuracy")
        out = reward(
            ["<answer>\\frac{1}{2}</answer>"] * 2,
            answer=[{"text": "0.5"}] * 2,
            task="math",  # one value for the whole batch
            environments=[object()] * 5,  # trl extra with its own length
            log_metric=print,
        )
        assert out == [1.0, 1.0]

    def test_answer_as_json_string(self):
        assert get_reward("count")(["<answer>3</answer>"], answer=['{"count": 3}']) == [1.0]
