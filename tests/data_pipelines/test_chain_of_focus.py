"""Chain-of-Focus SFT: image_zoom_in_tool trajectories (release_fixtures.py) -> zoom_in SFT records; boxes in pixels
of the image resized as the authors fed it (vlmr.formats 'resized'), enlarged 1.5x as their tool crops."""

from release_fixtures import write_chain_of_focus

from vlmr.data_pipelines.build import build_dataset
from vlmr.schema import load_samples


def test_zoom_trajectories_are_mapped_in_original_pixels(tmp_path):
    annotations = write_chain_of_focus(tmp_path / "CoF-SFT-Data-5.4k")
    out = build_dataset("chain_of_focus", tmp_path / "ds", annotations=str(annotations),
                        image_dir=str(tmp_path / "CoF-SFT-Data-5.4k"), progress=False)
    samples = {s.question: s for s in load_samples(out)}
    assert sorted(samples) == ["Is there a car in the image?", "What is the color of the umbrella?"]
    zoom = samples["What is the color of the umbrella?"]
    # 1000x500 image -> smart_resize(500, 1000, 28, 112*112, 3840*3840) = 504 x 1008 input.
    # [504, 126, 756, 252] resized px -> x * 1000/1008, y * 500/504 = [500, 125, 750, 250] original px;
    # enlarged 1.5x about (625, 187.5): [437.5, 93.75, 812.5, 281.25] -> whole pixels [437, 93, 812, 281].
    assert zoom.cot[0]["content"] == ('<think>The umbrella is small; I zoom in.</think> <tool_call>{"name": "zoom_in", '
                                      '"arguments": {"bbox_2d": [437, 93, 812, 281]}}</tool_call>')
    assert zoom.answer == {"text": "blue"} and zoom.meta["width"] == 1000
    car = samples["Is there a car in the image?"]
    assert car.cot == "<think>Yes, in the centre.</think> <answer>yes</answer>"
    assert car.images == zoom.images == ["media/chain_of_focus/images/sa_1.png"]  # {"image": "./images/sa_1.png"}
    card = (out / "README.md").read_text()
    assert "(5 read)" in card
    assert "trajectory mapped to zoom_in: 1" in card and "trajectory kept as given (no tool call): 1" in card
    assert "skipped 1: trajectory dropped: tool call 'image_rotate_tool' is not image_zoom_in_tool" in card
    assert "skipped 1: missing image" in card
    assert "skipped 1: image path outside the image directory" in card
