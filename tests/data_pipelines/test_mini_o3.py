"""Mini-o3 cold start: stored <grounding> trajectories (release_fixtures.py) -> SFT records whose zoom_in calls
vlmr executes; coordinates relative to their source image (norm1), observations composed by hand."""

from release_fixtures import write_mini_o3_coldstart

from vlmr.data_pipelines.build import build_dataset
from vlmr.schema import load_samples


def test_trajectories_are_mapped_kept_or_dropped_and_counted(tmp_path):
    write_mini_o3_coldstart(tmp_path / "Mini-o3-Coldstart-Dataset")
    out = build_dataset("mini_o3_coldstart", tmp_path / "ds", root=str(tmp_path / "Mini-o3-Coldstart-Dataset"),
                        progress=False)
    samples = {s.question: s for s in load_samples(out)}
    assert sorted(samples) == ["What colour is the small flag on the roof?", "What does the sign say?"]
    mapped = samples["What colour is the small flag on the roof?"]
    # 800x400 image. Call 1: [0.5, 0.25, 0.75, 0.5] of the original -> [400, 100, 600, 200] px.
    # Call 2: [0, 0.5, 0.5, 1] of observation 1 (200x100 px at (400, 100)) -> [400 + 0, 100 + 50, 400 + 100, 100 + 100]
    # = [400, 150, 500, 200].
    assert [t["role"] for t in mapped.cot] == ["assistant"] * 3
    assert mapped.cot[0]["content"] == ("<think>The flag is too small to see; I zoom in on the roof.</think>\n"
                                        '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [400, 100, 600, 200]}}'
                                        "</tool_call>")
    assert '"bbox_2d": [400, 150, 500, 200]' in mapped.cot[1]["content"]
    assert mapped.answer == {"text": "red"} and mapped.meta["data_source"] == "visual_probe"
    assert len(mapped.images) == 1  # the observations are vlmr's to produce
    kept = samples["What does the sign say?"]  # its turns stored as JSON text, the others as a Python literal
    assert kept.cot == "<think>The sign is large and clear.</think>\n<answer>STOP</answer>"
    card = (out / "README.md").read_text()
    assert "(8 read)" in card
    assert "trajectory mapped to zoom_in: 1" in card and "trajectory kept as given (no tool call): 1" in card
    assert "skipped 1: trajectory dropped: tool call without a 4-number box" in card
    assert "skipped 1: trajectory dropped: tool call on an observation that does not exist yet" in card
    # [0.5, 0.5, 0.51, 0.51] of 800x400 is 8x4 px: zoom_in would refuse it
    assert "skipped 1: trajectory dropped: tool call box is thinner than zoom_in's 28 px or longer than 50:1" in card
    assert "skipped 1: prompt without an image" in card and "skipped 1: corrupted image" in card
    assert "skipped 1: malformed row (ValueError" in card


def test_sft_executes_the_mapped_calls_on_the_original(tmp_path):
    from vlmr.tools.environment import make_environment
    from vlmr.train.sft import sft_row

    write_mini_o3_coldstart(tmp_path / "release")
    out = build_dataset("mini_o3_coldstart", tmp_path / "ds", root=str(tmp_path / "release"), progress=False)
    sample = next(s for s in load_samples(out) if isinstance(s.cot, list))
    row = sft_row(out, sample, None, ["zoom_in"], None, make_environment(["zoom_in"]))
    tools = [m for m in row["messages"] if m["role"] == "tool"]
    assert len(tools) == 2 and len(row["images"]) == 3  # the original, then one zoom per call
    first, second = row["images"][1], row["images"][2]
    # zoom_in enlarges the region keeping its shape: the 200x100 and 100x50 px regions are both 2:1
    assert abs(first.width / first.height - 2.0) < 0.05 and abs(second.width / second.height - 2.0) < 0.05
    texts = [" ".join(part.get("text", "") for part in message["content"]) for message in tools]
    assert "Zoomed into [400, 100, 600, 200]: 200x100 px" in texts[0]
    assert "Zoomed into [400, 150, 500, 200]: 100x50 px" in texts[1]
