"""Pixel-Reasoner RL rows (release_fixtures.py) -> vqa prompts; video rows and bad rows skipped and counted."""

from release_fixtures import write_pixel_reasoner_rl

from vlmr.data_pipelines.build import build_dataset
from vlmr.schema import load_samples


def test_image_rows_become_prompts_and_the_rest_is_counted(tmp_path):
    annotations = write_pixel_reasoner_rl(tmp_path / "PixelReasoner-RL-Data")
    out = build_dataset("pixel_reasoner_rl", tmp_path / "ds", annotations=str(annotations),
                        image_dir=str(tmp_path / "PixelReasoner-RL-Data" / "images"), progress=False)
    [sample] = load_samples(out)
    assert sample.id == "infovqa-10043" and sample.question == "What percentage of people prefer tea?"
    assert sample.answer == {"text": "34%"} and sample.task == "vqa" and sample.source == "pixel_reasoner_rl"
    assert sample.images == ["media/pixel_reasoner/infovqa/10043.jpeg"] and (out / sample.images[0]).is_file()
    assert (sample.meta["width"], sample.meta["height"]) == (120, 300)
    card = (out / "README.md").read_text()
    assert "(5 read)" in card
    assert "skipped 1: video row (its frames are a clip, not an image prompt)" in card
    assert "skipped 1: row without a ground truth" in card and "skipped 1: missing image" in card
    assert "skipped 1: malformed row (KeyError" in card
