"""A user's mistake ends a command with one line naming the file (and line), exit code 2; a bug keeps
its traceback; ``--debug`` shows the traceback of both. Bad rows and bad media are skipped and counted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from PIL import Image

from vlmr import cli
from vlmr.schema import SchemaError, load_samples


@pytest.fixture
def folder(tmp_path):
    """An image folder with one picture, and ``annotate(text)`` writing the annotations file."""
    Image.new("RGB", (32, 24), "red").save(tmp_path / "a.png")

    def annotate(data: bytes) -> list[str]:
        (tmp_path / "qa.jsonl").write_bytes(data)
        return ["data", "build", "folder", "--out", str(tmp_path / "ds"), "--image_dir", str(tmp_path),
                "--annotations", str(tmp_path / "qa.jsonl")]

    return annotate


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if line.startswith("vlmr: error:")]
    return line


class TestDataBuild:
    def test_a_malformed_annotation_line_is_skipped_counted_and_named(self, folder, tmp_path, caplog):
        good = json.dumps({"image": "a.png", "question": "What colour?", "answer": "red"})
        with caplog.at_level(logging.WARNING):
            assert cli.main(folder(f'{good}\n{{"image": "a.png", "question": "x" "answer": "red"}}\n'.encode())) == 0
        assert len(load_samples(tmp_path / "ds")) == 1
        assert "skipped 1: annotation line is not a JSON object" in (tmp_path / "ds" / "README.md").read_text()
        assert f"{tmp_path / 'qa.jsonl'}:2: skipped, not a JSON object (Expecting ',' delimiter" in caplog.text

    def test_annotations_that_are_not_text_end_with_one_line(self, folder, tmp_path, capsys):
        assert cli.main(folder(b"\xff\xfe\x00binary")) == 2
        assert one_line_error(capsys) == (f"vlmr: error: {tmp_path / 'qa.jsonl'}: not UTF-8 text (byte 0); "
                                          "save the annotations as UTF-8")
        assert not (tmp_path / "ds").exists()


class TestDataShow:
    @pytest.fixture
    def dataset(self, folder, tmp_path):
        row = json.dumps({"image": "a.png", "question": "What colour?", "answer": "red"})
        assert cli.main(folder(row.encode())) == 0
        return tmp_path / "ds"

    def test_a_broken_record_line_is_one_line_with_the_file_and_line(self, dataset, capsys):
        with (dataset / "records.jsonl").open("ab") as f:
            f.write(b'{"id": "x", "task": "vqa"\n')
        assert cli.main(["data", "show", str(dataset)]) == 2
        assert one_line_error(capsys) == (f"vlmr: error: {dataset / 'records.jsonl'}:2: not valid JSON "
                                          "(Expecting ',' delimiter at column 26)")

    def test_debug_shows_the_traceback(self, dataset):
        (dataset / "records.jsonl").write_bytes(b"\xff\n")
        with pytest.raises(SchemaError, match=r"records.jsonl:1: not UTF-8 text \(byte 0\)"):
            cli.main(["data", "show", str(dataset), "--debug"])

    def test_unreadable_media_is_a_grey_tile_and_a_warning(self, dataset, caplog):
        [sample] = load_samples(dataset)
        (dataset / sample.images[0]).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
        with caplog.at_level(logging.WARNING):
            assert cli.main(["data", "show", str(dataset), "--out", str(dataset / "grid.png")]) == 0
        assert Image.open(dataset / "grid.png").size == (256, 256 + 56)
        assert f"cannot draw sample {sample.id}: cannot read image {dataset / sample.images[0]}" in caplog.text


class TestTrainConfig:
    def test_a_config_that_is_not_yaml_is_one_line_with_its_line(self, tmp_path, capsys):
        config = tmp_path / "sft.yaml"
        config.write_text("model: runs/tiny\n  datasets: [\n", encoding="utf-8")
        assert cli.main(["train", "sft", "--config", str(config)]) == 2
        assert one_line_error(capsys) == f"vlmr: error: {config}:2: not valid YAML (mapping values are not allowed here)"

    def test_a_missing_config_is_one_line(self, tmp_path, capsys):
        assert cli.main(["train", "grpo", "--config", str(tmp_path / "nope.yaml")]) == 2
        assert str(tmp_path / "nope.yaml") in one_line_error(capsys)


class TestBugsKeepTheirTraceback:
    def test_an_unexpected_exception_is_not_turned_into_one_line(self, monkeypatch):
        from vlmr.commands import data

        def broken(args):
            raise KeyError("a bug")

        monkeypatch.setattr(data, "run_show", broken)
        with pytest.raises(KeyError, match="a bug"):
            cli.main(["data", "show", "anything"])


class TestTrainingSkipsUnreadableMedia:
    def test_sft_skips_a_truncated_image_at_build_time_and_names_it(self, nano_model, make_dataset, sft_trainer,
                                                                   tmp_path, caplog):
        data = make_dataset(tmp_path / "data", ["grounding"], per_task=3)
        broken = next(s for s in load_samples(data) if s.id == "grounding-1")
        path = data / broken.images[0]
        path.write_bytes(path.read_bytes()[:60])  # the header survives, the pixels are cut
        config = tmp_path / "sft.yaml"
        config.write_text(yaml.safe_dump({"model": nano_model, "output_dir": str(tmp_path / "run"),
                                          "datasets": [{"path": str(data)}],
                                          "trainer": {**sft_trainer, "max_steps": 2}}), encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            assert cli.main(["train", "sft", "--config", str(config)]) == 0
        assert f"skipped 1 of 3 samples whose media cannot be read: grounding-1 (cannot read image {path}" in caplog.text
        assert json.loads((tmp_path / "run" / "final" / "vlmr_meta.json").read_text())["global_step"] == 2
        assert Path(tmp_path / "run" / "final" / "config.json").is_file()
