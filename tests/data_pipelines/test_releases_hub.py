"""Hub copies: parquet snapshots and save_to_disk folders."""

from __future__ import annotations

import io

import datasets
import pytest
from PIL import Image

from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, hub_media_dir, is_hub_copy
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.eval.registry import Benchmark


def png(color=(10, 20, 30), size=(8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


FEATURES = datasets.Features({"question": datasets.Value("string"), "image": datasets.Image(),
                              "pages": datasets.Sequence(datasets.Image())})


def table(n: int) -> datasets.Dataset:
    """n rows; rows 0 and 1 share one picture, the last row has none."""
    images = [{"bytes": png((i // 2, 0, 0)), "path": None} for i in range(n - 1)] + [None]
    return datasets.Dataset.from_dict(
        {"question": [f"q{i}" for i in range(n)], "image": images, "pages": [[png()]] * n}, features=FEATURES)


@pytest.fixture(autouse=True)
def media_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


class TestHubCopy:
    def test_parquet_snapshot_splits_rows_and_images_saved_once(self, tmp_path, media_cache):
        root = tmp_path / "snap"
        table(4).to_parquet(str(root / "data" / "test-00000-of-00001-abc.parquet"))
        table(2).to_parquet(str(root / "data" / "train-00000-of-00001-abc.parquet"))
        copy = HubCopy(root)
        assert is_hub_copy(root) and copy.splits == ["test", "train"]
        assert copy.choose_split(prefer=("val", "test")) == "test"
        rows = list(copy.rows("test"))
        assert [r["question"] for r in rows] == ["q0", "q1", "q2", "q3"]  # file order
        assert rows[3]["image"] is None  # an empty image cell stays visible to the loader
        names = [r["image"].save() for r in rows[:3]]
        assert names[0] == names[1] != names[2] and names[0].endswith(".png")
        assert sorted(p.name for p in media_cache.iterdir()) == sorted(set(names))  # one file per distinct picture
        assert (media_cache / names[0]).read_bytes() == png((0, 0, 0))
        assert isinstance(rows[0]["pages"][0], ImageCell)  # a list-of-images column

    def test_save_to_disk_dataset_and_dict(self, tmp_path):
        table(2).save_to_disk(str(tmp_path / "one"))
        datasets.DatasetDict({"val": table(3), "test": table(2)}).save_to_disk(str(tmp_path / "two"))
        assert is_hub_copy(tmp_path / "one") and is_hub_copy(tmp_path / "two")
        one = HubCopy(tmp_path / "one")
        assert one.splits == ["train"] and len(list(one.rows(one.choose_split()))) == 2
        two = HubCopy(tmp_path / "two")
        assert [len(list(two.rows(s))) for s in two.splits] == [2, 3]

    def test_split_choice_errors_name_the_splits(self, tmp_path):
        datasets.DatasetDict({"val": table(2), "test": table(2)}).save_to_disk(str(tmp_path / "two"))
        copy = HubCopy(tmp_path / "two")
        with pytest.raises(ValueError, match=r"no split 'testA'; its splits: \['test', 'val'\]"):
            copy.choose_split("testA")
        with pytest.raises(ValueError, match="choose one with the split option"):
            copy.choose_split()

    def test_single_parquet_file_and_plain_release_files(self, tmp_path):
        file = tmp_path / "test-00000-of-00001.parquet"
        table(2).to_parquet(str(file))
        assert is_hub_copy(file) and HubCopy(file).splits == ["test"]
        (tmp_path / "rows.json").write_text("[]")
        assert not is_hub_copy(tmp_path / "rows.json") and not is_hub_copy(tmp_path / "missing")

    def test_the_one_row_reader_reads_a_parquet_file_as_its_hub_copy(self, tmp_path):
        file = tmp_path / "test-00000-of-00001.parquet"
        table(2).to_parquet(str(file))
        rows = read_rows(file)
        # row 0 has its picture as an ImageCell; the last row has none
        assert [r["question"] for r in rows] == ["q0", "q1"]
        assert rows[0]["image"].data == png((0, 0, 0)) and rows[1]["image"] is None
        assert [cell.data for cell in rows[0]["pages"]] == [png()]

    def test_bare_path_outside_the_snapshot_is_not_read(self, tmp_path):
        secret = tmp_path / "secret.png"
        secret.write_bytes(png())
        root = tmp_path / "snap"
        root.mkdir()
        copy = HubCopy(root)
        assert copy._cell({"bytes": None, "path": "../secret.png"}) is None
        (root / "inside.png").write_bytes(png())
        assert copy._cell({"bytes": None, "path": "inside.png"}).data == png()

    def test_media_root_of_a_hub_copy_is_the_media_cache(self, tmp_path, media_cache):
        table(2).save_to_disk(str(tmp_path / "one"))
        assert Benchmark().media_root(tmp_path / "one") == hub_media_dir() == media_cache
        assert Benchmark().media_root(tmp_path / "one" / "state.json") == tmp_path / "one"  # a plain file: its folder
