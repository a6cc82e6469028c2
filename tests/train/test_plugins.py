"""docs/extending.md's own data source, reward, tool and benchmark, each named by import path,
through ``vlmr data build``, ``vlmr train grpo`` and ``vlmr eval run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vlmr.cli import main
from vlmr.inference import Generation

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


class DarkThenLeft:
    """A backend that measures the left half with the plug-in tool, then answers "left"."""

    family = "generic"  # original-image pixels

    def coordinate_space(self, width, height):
        from vlmr.formats import CoordinateSpace

        return CoordinateSpace(width, height)

    def generate(self, conversations):
        return [Generation("<answer>left</answer>" if any(m["role"] == "tool" for m in messages) else
                           '<tool_call>{"name": "dark_share", "arguments": {"bbox_2d": [0, 0, 28, 56]}}</tool_call>')
                for messages, _ in conversations]


def test_plugins_by_import_path_train_and_eval(nano_model, write_config, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the user's package: `custom_task` stands for `my_pkg.module`
    data = tmp_path / "dots"
    assert main(["data", "build", "custom_task:build_dots", "--out", str(data), "--n", "4"]) == 0
    assert len((data / "records.jsonl").read_text().splitlines()) == 4

    config = write_config(tmp_path / "cfg.yaml", model=nano_model, output_dir=str(tmp_path / "run"),
                          datasets=[{"path": str(data)}], rewards=[{"name": "custom_task:SideReward"}],
                          tools={"vqa": ["custom_task:dark_share"]})
    assert main(["train", "grpo", "--config", str(config)]) == 0
    [log] = [e for e in json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"]
             if "loss" in e]
    assert 0.0 <= log["rewards/side/mean"] <= 1.0  # the plug-in reward scored the rollouts
    assert "tools/call_frequency" in log  # the rollouts ran with the plug-in tool's environment

    monkeypatch.setattr("vlmr.inference.load_backend", lambda *a, **k: DarkThenLeft())
    out = tmp_path / "eval"
    assert main(["eval", "run", "--benchmark", "custom_task:DotsBench", "--data", str(data), "--model",
                 str(tmp_path / "run" / "final"), "--tools", "custom_task:dark_share", "--out", str(out)]) == 0
    scores = json.loads((out / "scores.json").read_text())
    # build_dots puts the dot left in samples 0 and 2, right in 1 and 3: "left" is right half the time
    assert (scores["benchmark"], scores["n"], scores["overall"]["accuracy"]) == ("dots", 4, 0.5)
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [r["n_tool_calls"] for r in rows] == [1] * 4 and all(r["error"] is None for r in rows)


class AnswersCat:
    """A backend that reads every word as "cat"."""

    family = "generic"  # original-image pixels

    def coordinate_space(self, width, height):
        from vlmr.formats import CoordinateSpace

        return CoordinateSpace(width, height)

    def generate(self, conversations):
        return [Generation("<think>black letters</think><answer>cat</answer>") for _ in conversations]


def test_own_task_builds_trains_evaluates_and_renders(nano_model, write_config, tmp_path, monkeypatch):
    """docs/extending.md's OCR task (docs/examples/ocr_task.py), named by import path in its records."""
    from PIL import Image

    from vlmr.demo.session import task_choices
    from vlmr.prompts import build_prompt, format_answer
    from vlmr.render import read_answer, render_answer
    from vlmr.rewards import get_reward
    from vlmr.schema import load_samples

    monkeypatch.syspath_prepend(str(EXAMPLES))
    data = tmp_path / "words"
    assert main(["data", "build", "ocr_task:build_words", "--out", str(data), "--n", "4"]) == 0
    samples = load_samples(data)
    assert [(s.task, s.answer["text"]) for s in samples] == [
        ("ocr_task:OCR", "CAT"), ("ocr_task:OCR", "COAT"), ("ocr_task:OCR", "DOG"), ("ocr_task:OCR", "MAP")]
    # the spec's instruction ends the prompt; its ground truth is written as the bare text
    assert build_prompt(samples[1], system=None)[0]["content"][-1]["text"] == (
        "What word is written in the image? Answer with the text exactly as it is written.")
    assert format_answer(samples[1]) == "COAT"

    config = write_config(tmp_path / "cfg.yaml", model=nano_model, output_dir=str(tmp_path / "run"),
                          datasets=[{"path": str(data)}], rewards=[{"name": "accuracy"}])
    assert main(["train", "grpo", "--config", str(config)]) == 0
    [log] = [e for e in json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"]
             if "loss" in e]
    assert 0.0 <= log["rewards/accuracy/mean"] <= 1.0  # the built-in reward scored the OCR rollouts

    monkeypatch.setattr("vlmr.inference.load_backend", lambda *a, **k: AnswersCat())
    out = tmp_path / "eval"
    assert main(["eval", "run", "--benchmark", "dataset", "--data", str(data), "--model",
                 str(tmp_path / "run" / "final"), "--out", str(out)]) == 0
    scores = json.loads((out / "scores.json").read_text())
    # "cat" against CAT, COAT, DOG, MAP: edit distances 0, 1, 3, 2 over lengths 3, 4, 3, 3, so the
    # similarities are 1, 0.75, 0 and 1/3 (not above 0.5: 0): ANLS (1 + 0.75) / 4, exact match 1 / 4
    assert scores["n"] == 4
    assert scores["overall"]["exact_match"] == pytest.approx(0.25)
    assert scores["overall"]["anls"] == pytest.approx(0.4375)
    # the training reward agrees with the eval score on the same completion
    reward = get_reward("accuracy")
    assert [reward.score("<answer>cat</answer>", s.answer, task=s.task) for s in samples] == [1.0, 0.0, 0.0, 0.0]

    answer = read_answer("<think>black letters</think><answer> cat </answer>", "ocr_task:OCR", None)
    drawn = render_answer(Image.new("RGB", (56, 56), "white"), answer, "ocr_task:OCR")
    assert answer.text.strip() == "cat" and drawn.size == (56, 56)
    assert drawn.getpixel((0, 55)) == (30, 30, 30)  # the note band "read: cat" along the bottom
    assert ("Read text (OCR)", "ocr") in task_choices()  # the demo offers it once the module is imported
