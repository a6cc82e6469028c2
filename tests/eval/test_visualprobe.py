"""VisualProbe: its val.json layout per difficulty, exact match without a judge, a judge when given."""

from __future__ import annotations

from highres_fixtures import build_visualprobe
from test_eval_metrics import score

from vlmr.eval import get_benchmark


def test_levels_from_the_folders(tmp_path):
    samples = get_benchmark("visualprobe").load(build_visualprobe(tmp_path))
    # doc_id 0 is in both files: the level keeps the ids apart
    assert [(s.id, s.meta["difficulty"]) for s in samples] == [("easy-0", "easy"), ("easy-1", "easy"),
                                                               ("hard-0", "hard")]
    assert samples[0].answer == {"text": "Red"}  # the solution's <answer> tags dropped
    assert samples[2].question == "What is the name of the store with a blue sign?"  # <image> token dropped


def test_exact_match_per_difficulty(tmp_path):
    responses = {"easy-0": "<answer>red.</answer>",  # normalised "red" == "red": right
                 "easy-1": "<answer>three</answer>",  # "three" != "3": wrong without a judge
                 "hard-0": '<answer>The name of the store with a blue sign is "J&optica."</answer>'}  # wrong
    result = score("visualprobe", build_visualprobe(tmp_path), responses)
    assert result.overall == {"accuracy": 1 / 3}
    assert result.breakdown["difficulty"]["easy"]["accuracy"] == 0.5
    assert result.breakdown["difficulty"]["hard"]["accuracy"] == 0.0


def test_a_judge_decides_when_given(tmp_path):
    asked = []

    def judge(prompt: str) -> str:
        asked.append(prompt)
        return "The answers agree. Score: 1" if "Model answer: three" in prompt else "Score: 0"

    result = score("visualprobe", build_visualprobe(tmp_path), {"easy-1": "<answer>three</answer>"}, extractor=judge)
    assert result.rows[1] == {"id": "easy-1", "accuracy": 1.0, "accuracy_exact": 0.0, "_pred": "three"}
    assert len(asked) == 1 and "Correct answer: 3" in asked[0]  # empty answers are not sent to the judge
