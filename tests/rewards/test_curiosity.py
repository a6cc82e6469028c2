"""The curiosity reward against Pixel-Reasoner's rule, worked by hand.

The rule, from ``curiosity_driven_rl/openrlhf/trainer/ppo_utils/experience_maker.py`` of
TIGER-AI-Lab/Pixel-Reasoner (images): per prompt group, ``rapr`` = share of rollouts with a tool
call; a rollout with ``ncall > 0`` gains ``max(0.3 - rapr, 0) / 2.0 / rapr * 0.25 - 0.05 * (ncall - 1)``,
one without calls gains 0. The expected values below are that arithmetic done by hand.
"""

import pickle

import pytest

from vlmr.rewards import get_reward
from vlmr.rewards.curiosity import CuriosityReward

CALL = '<think>look</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 9, 9]}}</tool_call>'
ANSWER = "<think>done</think><answer>B</answer>"


class TestCuriosityReward:
    @pytest.mark.parametrize(("calls", "expected"), [
        # 8 rollouts, 1 calls once: rapr 1/8; 0.175 / 2 = 0.0875; / 0.125 = 0.7; * 0.25 = 0.175
        ([1, 0, 0, 0, 0, 0, 0, 0], [0.175] + [0.0] * 7),
        # the same with 3 calls: 0.175 - 0.05 * 2 = 0.075
        ([3, 0, 0, 0, 0, 0, 0, 0], [0.075] + [0.0] * 7),
        # 2 of 8 call: rapr 0.25; 0.05 / 2 = 0.025; / 0.25 = 0.1; * 0.25 = 0.025
        ([1, 2, 0, 0, 0, 0, 0, 0], [0.025, -0.025] + [0.0] * 6),
        # 3 of 8 call: rapr 0.375 > 0.3, no bonus; only the extra-call cost
        ([1, 1, 2, 0, 0, 0, 0, 0], [0.0, 0.0, -0.05] + [0.0] * 5),
        # nobody calls: nothing to reward (rapr 0 never divides)
        ([0] * 8, [0.0] * 8),
    ])
    def test_pixel_reasoner_rule(self, calls, expected):
        completions = [CALL * n + ANSWER for n in calls]
        assert CuriosityReward()(completions, id=["q"] * 8) == pytest.approx(expected, abs=1e-9)

    def test_groups_are_the_prompt_ids(self):
        # q1: 1 of 4 calls (rapr 0.25 -> 0.125 * 0.05 / 0.25 = 0.025); q2: 1 of 2 (rapr 0.5 -> 0)
        completions = [CALL + ANSWER, ANSWER, ANSWER, ANSWER, CALL + ANSWER, ANSWER]
        assert CuriosityReward()(completions, id=["q1"] * 4 + ["q2"] * 2) == pytest.approx(
            [0.025, 0, 0, 0, 0, 0])

    def test_rows_of_other_tasks_are_not_applicable(self):
        r = get_reward("curiosity", tasks=["vqa"])
        out = r([CALL + ANSWER, ANSWER, ANSWER, ANSWER, CALL + ANSWER],
                id=["a"] * 4 + ["b"], task=["vqa"] * 4 + ["counting"])
        assert out[:4] == pytest.approx([0.025, 0, 0, 0])
        assert out[4] is None

    def test_structured_tool_calls_count(self):
        message = [{"role": "assistant", "content": "<think>z</think>",
                    "tool_calls": [{"type": "function", "function": {"name": "zoom_in", "arguments": {}}}]},
                   {"role": "tool", "content": "done"}, {"role": "assistant", "content": ANSWER}]
        assert CuriosityReward()([message, ANSWER, ANSWER, ANSWER], id=["q"] * 4)[0] == pytest.approx(0.025)

    def test_malformed_calls_earn_nothing(self):
        """A tag trl could not parse ran no tool: it must not farm the bonus (seen in the quickstart's GRPO)."""
        malformed = [{"role": "assistant", "content": "<think>z</think><tool_call>zoom there</tool_call>"}]
        assert CuriosityReward()([malformed, [{"role": "assistant", "content": ANSWER}]], id=["q", "q"]) == [0.0, 0.0]

    @pytest.mark.parametrize(("params", "message"), [
        ({"target_rate": 0}, r"target_rate must be in \(0, 1\], got 0"),
        ({"scale": -1}, "scale and extra_call_cost must be >= 0, got -1 and 0.05"),
    ])
    def test_bad_parameters(self, params, message):
        with pytest.raises(ValueError, match=message):
            CuriosityReward(**params)

    def test_picklable_and_named(self):
        r = pickle.loads(pickle.dumps(CuriosityReward(tasks=["vqa"])))
        assert r.__name__ == "curiosity" and r.tasks == ["vqa"]
