"""DeepEyes-Datasets-47k: the verl parquet rows as released (release_fixtures.py) -> vqa records."""

import pytest
from release_fixtures import DEEPEYES_ANSWER, DEEPEYES_QUESTION, DEEPEYES_ROW0_ANSWER, write_deepeyes

from vlmr.data_pipelines.build import build_dataset
from vlmr.data_pipelines.releases.parquet import parquet_rows
from vlmr.data_pipelines.releases.verl import verl_row
from vlmr.schema import load_samples, resolve_media


@pytest.mark.parametrize("as_image_feature", [False, True], ids=["struct-column", "image-feature"])
def test_rows_become_vqa_records_with_their_images(tmp_path, as_image_feature):
    root = tmp_path / "DeepEyes-Datasets-47k"
    write_deepeyes(root, as_image_feature=as_image_feature)
    out = build_dataset("deepeyes", tmp_path / "ds", root=str(root), progress=False)
    samples = load_samples(out)
    assert [s.id for s in samples] == ["deepeyes-data_0.1.2_visual_toolbox_v2-000000",
                                       "deepeyes-data_0.1.2_visual_toolbox_v2-000001"]
    first, second = samples
    # the released row 0 has no extra_info.question: its user turn without <image> and the set's instruction
    assert first.question == "Is the car on the left side of the person?"
    assert first.answer == {"text": DEEPEYES_ROW0_ANSWER} and first.task == "vqa" and first.source == "deepeyes"
    assert first.meta == {"width": 364, "height": 504, "split": "train", "env_name": "visual_toolbox_v2",
                          "data_source": "vstar", "ability": "vl"}
    # extra_info.question wins over the user turn ("Question:\n..." there); the reference answer as released
    assert second.question == DEEPEYES_QUESTION and second.answer == {"text": DEEPEYES_ANSWER}
    # the embedded bytes, written once under their content name
    [row] = [verl_row(r) for r in parquet_rows(root / "data_0.1.2_visual_toolbox_v2.parquet")][:1]
    assert resolve_media(out, first.images[0]).read_bytes() == row.images[0]
    card = (out / "README.md").read_text()
    assert "(5 read)" in card
    assert "skipped 1: corrupted image" in card and "skipped 1: prompt without an image" in card
    assert "skipped 1: malformed row (TypeError" in card


def test_files_option_keeps_the_named_parquet_files(tmp_path):
    root = tmp_path / "snapshot"
    write_deepeyes(root)
    out = build_dataset("deepeyes", tmp_path / "ds", root=str(root), files="data_0.1.2", progress=False)
    assert "malformed" not in (out / "README.md").read_text() and len(load_samples(out)) == 2
    with pytest.raises(FileNotFoundError, match="starts with"):
        build_dataset("deepeyes", tmp_path / "ds2", root=str(root), files="data_v0.8", progress=False)


def test_placeholders_and_images_must_agree(tmp_path):
    from vlmr.data_pipelines.deepeyes import verl_record

    row = verl_row({"prompt": [{"role": "user", "content": "<image><image>\nWhich is bigger?"}],
                    "images": [{"bytes": b"x", "path": None}], "reward_model": {"ground_truth": "left"}})
    assert verl_record(row, "x", "deepeyes", "train").reason == "prompt has 2 <image> placeholders for 1 images"


def test_save_to_disk_copy_reads_the_same_rows(tmp_path):
    import datasets

    write_deepeyes(tmp_path / "snapshot", bad_rows=False)
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "snapshot" / "*.parquet"))
    loaded.cast_column("images", datasets.Sequence(datasets.Image())).save_to_disk(str(tmp_path / "saved"))
    out = build_dataset("deepeyes", tmp_path / "ds", root=str(tmp_path / "saved"), progress=False)
    parquet_out = build_dataset("deepeyes", tmp_path / "ds2", root=str(tmp_path / "snapshot"), progress=False)
    saved, direct = load_samples(out), load_samples(parquet_out)
    assert [s.id for s in saved] == ["deepeyes-train-000000", "deepeyes-train-000001"]
    assert [(s.question, s.answer, s.images) for s in saved] == [(s.question, s.answer, s.images) for s in direct]
