"""The tool-rate alarm: one warning when rollouts offered tools stop calling them for N steps."""

import logging
from types import SimpleNamespace

import pytest
from PIL import Image

from vlmr.config import ConfigError, TrainConfig
from vlmr.tools import make_environment
from vlmr.train.callbacks import ToolRateAlarm, default_callbacks, offered_tool_call_rate

ZOOM, NONE = make_environment(["zoom_in"]), make_environment([])


def rollouts(called: int, silent: int, without_tools: int = 2) -> list:
    """Environments of one step: ``called`` rollouts that zoomed, ``silent`` that did not, and rollouts of a task
    without tools (they never count)."""
    envs = []
    for i in range(called + silent):
        env = ZOOM()
        env.reset(images=[Image.new("RGB", (64, 64))])
        if i < called:
            env.zoom_in(bbox_2d=[0, 0, 32, 32])
        envs.append(env)
    for _ in range(without_tools):
        env = NONE()
        env.reset(images=[])
        envs.append(env)
    return envs


def run_steps(alarm: ToolRateAlarm, steps: list[list]) -> None:
    trainer = SimpleNamespace(environments=None)
    alarm.attach(trainer)
    for step, envs in enumerate(steps, start=1):
        trainer.environments = envs
        alarm.on_step_end(None, SimpleNamespace(global_step=step, is_world_process_zero=True), None)


class TestToolRateAlarm:
    def test_rate_counts_only_rollouts_offered_tools(self):
        assert offered_tool_call_rate(rollouts(1, 3)) == 0.25
        assert offered_tool_call_rate(rollouts(0, 0)) is None  # no rollout was offered a tool
        assert offered_tool_call_rate(None) is None  # a trainer without environments (SFT)

    def test_warns_once_after_n_low_steps(self, caplog):
        alarm = ToolRateAlarm(floor=0.2, steps=3)
        # rates: 0.5, 0.0, 0.0 (reset by the next), 0.25, 0.0, 0.0, 0.0 (alarm), 0.0, 0.0 (no second warning)
        steps = [rollouts(2, 2), rollouts(0, 4), rollouts(0, 4), rollouts(1, 3)] + [rollouts(0, 4)] * 5
        with caplog.at_level(logging.WARNING, logger="vlmr.train.callbacks"):
            run_steps(alarm, steps)
        assert alarm.rates == [0.5, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0]
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1
        assert warnings[0].startswith("tool-rate alarm at step 7: the rollouts offered tools called one in under 20% "
                                      "of cases for 3 steps in a row (last 0.000)")
        assert "name: curiosity" in warnings[0] and "mask_over_turn: true" in warnings[0]

    def test_steps_without_tool_rollouts_are_skipped(self, caplog):
        alarm = ToolRateAlarm(floor=0.2, steps=2)
        with caplog.at_level(logging.WARNING, logger="vlmr.train.callbacks"):
            run_steps(alarm, [rollouts(0, 0), rollouts(0, 0), rollouts(0, 0)])
        assert alarm.rates == [] and not caplog.records


class TestConfig:
    def base(self, tmp_path, **fields):
        return {"model": "m", "output_dir": str(tmp_path), "datasets": [{"path": "d"}], **fields}

    def test_alarm_only_with_tools_and_switchable(self, tmp_path):
        with_tools = TrainConfig.from_dict(self.base(tmp_path, tools={"vqa": ["zoom_in"]}))
        alarms = [c for c in default_callbacks(with_tools) if isinstance(c, ToolRateAlarm)]
        assert [(a.floor, a.steps) for a in alarms] == [(0.05, 20)]
        assert not any(isinstance(c, ToolRateAlarm) for c in default_callbacks(TrainConfig.from_dict(self.base(tmp_path))))
        off = TrainConfig.from_dict(self.base(tmp_path, tools={"vqa": ["zoom_in"]}, tool_rate_alarm=None))
        assert not any(isinstance(c, ToolRateAlarm) for c in default_callbacks(off))

    @pytest.mark.parametrize(("fields", "message"), [
        ({"mask_over_turn": True}, "mask_over_turn: true needs tools"),
        ({"tool_rate_alarm": {"floor": 2}}, r"tool_rate_alarm=\{'floor': 2\}; use \{floor: 0.05, steps: 20\}"),
        ({"tool_rate_alarm": {"window": 3}}, "tool_rate_alarm="),
    ])
    def test_bad_fields(self, tmp_path, fields, message):
        with pytest.raises(ConfigError, match=message):
            TrainConfig.from_dict(self.base(tmp_path, **fields))
