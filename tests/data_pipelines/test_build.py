import pytest

from vlmr.data_pipelines import build as build_module
from vlmr.data_pipelines.build import Built, Skipped, build_dataset, shard_records
from vlmr.data_pipelines.show import show_dataset
from vlmr.schema import load_samples


def flaky_builder(*, seed=0, limit=None, split="train", shard=0, num_shards=1):
    """Two good samples, one duplicate, one skipped, one invalid record."""
    from PIL import Image

    image = Image.new("RGB", (8, 8), "red")
    good = {"task": "vqa", "question": "Colour?", "answer": {"text": "red"}, "images": ["media/a.png"]}
    yield Built({"id": "a", **good}, {"a.png": image})
    yield Built({"id": "b", **good, "question": "Which colour?"}, {"a.png": image})
    yield Built({"id": "c", **good}, {"a.png": image})  # same image bytes + question as "a"
    yield Skipped("corrupted image (truncated PNG)")
    yield Built({"id": "d", "task": "vqa", "question": "?", "answer": {"count": -2}}, {})


@pytest.fixture
def flaky_source(monkeypatch):
    monkeypatch.setitem(build_module.get_builder.__globals__["SOURCES"], "flaky",
                        f"{__name__}:flaky_builder")


class TestShardRecords:
    def test_limit_applies_before_sharding_and_skips_pass_through_once(self):
        items = ["a", Skipped("bad"), "c", "d", "e", "f"]

        def make(i, letter):  # several records per item
            return [Built({"id": f"{i}{letter}"}), Built({"id": f"{i}{letter}+"})]

        first, second = (list(shard_records(items, make, limit=5, shard=k, num_shards=2)) for k in (0, 1))
        # limit 5 keeps items 0-4; shard 0 takes 0, 2, 4 and shard 1 takes 1 (the skip) and 3
        assert [r.record["id"] for r in first] == ["0a", "0a+", "2c", "2c+", "4e", "4e+"]
        assert second == [Skipped("bad"), Built({"id": "3d"}), Built({"id": "3d+"})]

    def test_the_shards_of_a_builder_together_are_the_serial_build(self):
        from vlmr.data_pipelines.charts import build_charts

        def ids(**shards):
            return [b.record["id"] for b in build_charts(limit=5, kinds="bar", size=48, **shards)]

        assert ids() == [f"charts-train-{i:06d}" for i in range(5)]
        assert sorted(ids(shard=0, num_shards=2) + ids(shard=1, num_shards=2)) == ids()


class TestBuildRunner:
    def test_skips_dedups_and_reports(self, tmp_path, flaky_source):
        out = build_dataset("flaky", tmp_path / "ds", progress=False, command="vlmr data build flaky")
        assert [s.id for s in load_samples(out)] == ["a", "b"]
        card = (out / "README.md").read_text()
        assert "vlmr data build flaky" in card and "duplicates dropped" in card
        assert "skipped 1: corrupted image" in card and "skipped 1: invalid record" in card

    def test_parallel_build_equals_serial(self, tmp_path):
        opts = {"limit": 16, "tasks": "grounding,counting", "width": 64, "height": 64, "progress": False}
        serial = build_dataset("shapes", tmp_path / "a", workers=1, **opts)
        parallel = build_dataset("shapes", tmp_path / "b", workers=2, **opts)
        assert (serial / "records.jsonl").read_text() == (parallel / "records.jsonl").read_text()

    def test_show_writes_grid(self, tmp_path):
        ds = build_dataset("shapes", tmp_path / "ds", limit=4, width=64, height=64, progress=False)
        from PIL import Image

        grid = Image.open(show_dataset(ds, n=4, out=tmp_path / "grid.png"))
        assert grid.size == (4 * 256, 256 + 56)


def breaking_builder(*, seed=0, limit=None, split="train", shard=0, num_shards=1):
    """One good sample sharing its image with an invalid one, then a crash mid-stream."""
    from PIL import Image

    image = Image.new("RGB", (8, 8), "blue")
    yield Built({"id": f"{split}-a", "task": "vqa", "question": f"Colour in {split}?", "answer": {"text": "blue"},
                 "images": ["media/shared.png"], "meta": {"split": split}}, {"shared.png": image})
    yield Built({"id": f"{split}-bad", "task": "vqa", "question": "Again?", "answer": {"count": 1.5},
                 "images": ["media/shared.png"]}, {"shared.png": image})
    raise KeyError("question")


def failing_builder(*, seed=0, limit=None, split="train", shard=0, num_shards=1):
    raise FileNotFoundError("annotations.json not found")
    yield  # pragma: no cover


@pytest.fixture
def breaking_sources(monkeypatch):
    sources = build_module.get_builder.__globals__["SOURCES"]
    monkeypatch.setitem(sources, "breaking", f"{__name__}:breaking_builder")
    monkeypatch.setitem(sources, "failing", f"{__name__}:failing_builder")


class TestBuildRobustness:
    def test_crash_mid_stream_is_counted_and_shared_media_kept(self, tmp_path, breaking_sources):
        out = build_dataset("breaking", tmp_path / "ds", split=["train", "val"], progress=False)
        samples = load_samples(out)  # checks every media file exists
        assert [s.id for s in samples] == ["train-a", "val-a"]
        card = (out / "README.md").read_text()
        assert "skipped 2: builder stopped early (KeyError" in card and "split val: 1" in card

    def test_error_before_any_sample_is_raised(self, tmp_path, breaking_sources):
        with pytest.raises(FileNotFoundError, match="annotations.json"):
            build_dataset("failing", tmp_path / "ds", progress=False)
        assert not (tmp_path / "ds").exists()  # nothing half-written


class TestDataCli:
    def test_build_with_source_options_and_show(self, tmp_path):
        from PIL import Image

        from vlmr.cli import main

        out = tmp_path / "ds"
        assert main(["data", "build", "shapes", "--out", str(out), "--limit", "6", "--seed", "2",
                     "--tasks", "pointing,segmentation", "--width", "96", "--height", "80",
                     "--splits", "train", "val"]) == 0
        samples = load_samples(out)
        assert len(samples) == 12 and {s.meta["split"] for s in samples} == {"train", "val"}
        assert {s.meta["width"] for s in samples} == {96}
        card = (out / "README.md").read_text()
        assert (f"vlmr data build shapes --out {out} --seed 2 --splits train val --limit 6 "
                "--tasks pointing,segmentation --width 96 --height 80") in card
        assert main(["data", "show", str(out), "--n", "3", "--out", str(tmp_path / "g.png")]) == 0
        assert Image.open(tmp_path / "g.png").size == (3 * 256, 256 + 56)

    def test_build_list_names_every_source(self, capsys):
        from vlmr.cli import main
        from vlmr.data_pipelines.sources import list_sources

        assert main(["data", "build", "list"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == list_sources()
        assert any(line.startswith("chartqa ") and "ChartQA" in line for line in lines)

    def test_out_is_required_to_build(self):
        from vlmr.cli import main

        with pytest.raises(SystemExit, match="--out DIR is required"):
            main(["data", "build", "shapes"])

    def test_a_negative_limit_is_one_clear_error(self, tmp_path):
        from vlmr.cli import main

        with pytest.raises(SystemExit, match="--limit is a number of samples .0 or more., got -1"):
            main(["data", "build", "charts", "--out", str(tmp_path / "x"), "--limit", "-1"])
        assert not (tmp_path / "x").exists()

    def test_without_splits_the_builder_default_is_recorded(self, tmp_path, breaking_sources):
        out = build_dataset("breaking", tmp_path / "ds", progress=False)  # no split given: the builder's "train"
        assert [s.meta["split"] for s in load_samples(out)] == ["train"]

    def test_unknown_source_option_lists_valid_ones(self, tmp_path):
        from vlmr.cli import main

        with pytest.raises(SystemExit, match="--tasks"):
            main(["data", "build", "shapes", "--out", str(tmp_path / "x"), "--colour", "red"])

    def test_output_loads_with_datasets(self, tmp_path):
        import datasets

        out = build_dataset("shapes", tmp_path / "ds", limit=6, tasks="grounding,zoom,counting",
                            width=64, height=64, progress=False)
        ds = datasets.load_dataset("json", data_files=str(out / "records.jsonl"), split="train")
        assert len(ds) == 6 and ds[0]["answer"]["boxes"]
