"""Thyme SFT and RL rows in the README's layouts (release_fixtures.py): literal crops in the code become zoom_in
calls vlmr executes; other code is dropped and counted; RL rows become prompts with their solution."""

from release_fixtures import THYME_RL_ROW, THYME_SFT_README_ROW, write_thyme

from vlmr.data_pipelines.build import build_dataset
from vlmr.schema import load_samples


def test_sft_code_crops_become_zoom_in_calls(tmp_path):
    sft, _ = write_thyme(tmp_path / "Thyme")
    out = build_dataset("thyme_sft", tmp_path / "ds", annotations=str(sft), image_dir=str(tmp_path / "Thyme"),
                        progress=False)
    samples = {s.question.split("\n")[0]: s for s in load_samples(out)}
    readme = "Based on the top-right graph, describe the behavior of P(z) as z approaches zero. Options:"
    assert sorted(samples) == [readme, "Question: What is the plate number of the blue car in the picture?"]
    plate = samples["Question: What is the plate number of the blue car in the picture?"]
    # the code crops image[y1:y2, x1:x2] with x1, y1, x2, y2 = 1250, 1030, 1360, 1070 (original pixels)
    assert len(plate.cot) == 2
    assert plate.cot[0]["content"].endswith('<tool_call>{"name": "zoom_in", "arguments": '
                                            '{"bbox_2d": [1250, 1030, 1360, 1070]}}</tool_call>')
    assert "<sandbox_output>" not in plate.cot[1]["content"] and plate.cot[1]["content"].startswith("Upon examining")
    assert plate.answer == {"text": "**C. S QT 911**"} and plate.meta["width"] == 1400
    # the README's section 3.1 row has no code: kept as given, its first image found by file name
    assert samples[readme].cot == THYME_SFT_README_ROW["response"] and samples[readme].answer == {"text": "B"}
    assert samples[readme].question == readme + "\n..." and samples[readme].meta["width"] == 96
    card = (out / "README.md").read_text()
    assert "(4 read)" in card and "trajectory mapped to zoom_in: 1" in card
    assert "skipped 1: trajectory dropped: python code changes the image beyond a crop (rotate)" in card
    assert "skipped 1: missing image" in card


def test_rl_rows_become_prompts_with_their_solution(tmp_path):
    _, rl = write_thyme(tmp_path / "Thyme")
    out = build_dataset("thyme_rl", tmp_path / "ds", annotations=str(rl), image_dir=str(tmp_path / "Thyme"),
                        progress=False)
    [sample] = load_samples(out)
    assert sample.question == THYME_RL_ROW["question"] and sample.answer == {"text": "black"}
    card = (out / "README.md").read_text()
    assert "skipped 1: row without a ground truth" in card and "skipped 1: malformed row (KeyError" in card
