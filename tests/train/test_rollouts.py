"""Rollouts: the weighted totals, per-row groups, selection and metrics the filter and reports read."""

import pytest

from vlmr.inference.loop import Trajectory
from vlmr.train.rollouts import Rollouts


@pytest.fixture
def rollouts():
    # two rows, two answers each; `iou` applies to the grounding row only, the first zoom answer called a tool
    rows = [{"task": "grounding", "id": "g"}, {"task": "vqa", "id": "z"}]
    trajectories = [Trajectory([]), Trajectory([]), Trajectory([], tool_calls=[{"name": "zoom_in"}]), Trajectory([])]
    values = {"format": [1.0, 0.0, 1.0, 1.0], "iou": [0.5, 0.25, None, None], "accuracy": [None, None, 1.0, 0.0]}
    return Rollouts(rows, 2, trajectories, values)


def test_total_weights_each_reward_and_counts_inapplicable_as_zero(rollouts):
    assert rollouts.total({"format": 0.5, "iou": 1.0, "accuracy": 1.0}) == [1.0, 0.25, 1.5, 0.5]


def test_by_row_groups_each_rows_answers(rollouts):
    assert rollouts.by_row([1.0, 0.25, 1.5, 0.5]) == [[1.0, 0.25], [1.5, 0.5]]


def test_metrics_average_over_the_answers_a_reward_applies_to(rollouts):
    metrics = rollouts.metrics({"format": 0.5, "iou": 1.0, "accuracy": 1.0})
    assert metrics == {"reward": 0.8125, "format": 0.75, "iou": 0.375, "accuracy": 0.5, "tool_call_rate": 0.25}


def test_select_keeps_the_chosen_rows_with_their_answers(rollouts):
    zoom = rollouts.select(lambda row: row["task"] == "vqa")
    assert zoom.rows == [{"task": "vqa", "id": "z"}] and zoom.repeats == 2
    assert zoom.values == {"format": [1.0, 1.0], "iou": [None, None], "accuracy": [1.0, 0.0]}
    assert zoom.metrics({"accuracy": 1.0}) == {"reward": 0.5, "format": 1.0, "iou": 0.0, "accuracy": 0.5,
                                               "tool_call_rate": 0.5}
