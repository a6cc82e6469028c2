"""A high-resolution benchmark with and without the zoom tool: scores carry the tool-call rate, compare shows it."""

from __future__ import annotations

import pytest
from highres_fixtures import build_vstar

from vlmr.eval.compare import compare_rows, load_scores
from vlmr.eval.runner import EvalConfig, run_eval

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch

    from vlmr.tiny_model import build_tiny_model

    torch.set_num_threads(1)
    return str(build_tiny_model(tmp_path_factory.mktemp("model") / "nano", size="nano"))


def test_with_and_without_tools(tiny_model, tmp_path):
    data = str(build_vstar(tmp_path / "data"))
    common = {"benchmark": "vstar", "data": data, "model": tiny_model, "max_new_tokens": 6, "report": False}
    plain = run_eval(EvalConfig(out=str(tmp_path / "plain"), **common))
    tools = run_eval(EvalConfig(out=str(tmp_path / "tools"), tools=["zoom_in"], max_turns=2, **common))
    assert plain["tool_use"] == {"rate": 0.0, "mean_calls": 0.0, "n": 2}  # no tools: no calls recorded
    assert tools["tool_use"]["n"] == 2 and 0.0 <= tools["tool_use"]["rate"] <= 1.0
    rows = {name: (a, b) for name, a, b, _ in compare_rows(load_scores(tmp_path / "plain"),
                                                          load_scores(tmp_path / "tools"))}
    assert rows["tool_call_rate"] == (0.0, tools["tool_use"]["rate"])
    assert rows["accuracy"] == (plain["overall"]["accuracy"], tools["overall"]["accuracy"])
