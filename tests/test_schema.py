import json

import pytest

from vlmr.schema import DatasetWriter, Sample, SchemaError, load_samples, resolve_media, validate_record


def record(**overrides):
    base = {"id": "r1", "task": "grounding", "question": "Find the cat.", "images": ["media/a.png"],
            "answer": {"boxes": [[1, 2, 30, 40]]}, "meta": {"width": 64, "height": 48}}
    base.update(overrides)
    return base


class TestValidation:
    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"task": "caption"}, r"record 'r1': field 'task': unknown task 'caption'"),
            # a task named by import path must import and be a Task subclass (vlmr.tasks)
            ({"task": "no_such_pkg.tasks:OCR"}, r"field 'task': cannot import 'no_such_pkg.tasks'"),
            ({"task": "vlmr.tasks:to_model"}, r"field 'task': 'vlmr.tasks:to_model' is not a Task subclass"),
            ({"id": ""}, r"field 'id': required"),
            ({"answer": {"boxes": [[30, 2, 1, 40]]}}, r"answer.boxes\[0\]': expected x1 <= x2"),  # reversed corners
            ({"answer": {"boxes": [[1, 2, 3]]}}, r"answer.boxes\[0\]': expected 4 finite numbers"),
            ({"answer": {"boxes": [[1, 2, 3, float("nan")]]}}, r"4 finite numbers"),
            ({"answer": {"count": -1}}, r"answer.count': expected a non-negative integer"),
            ({"answer": {"count": True}}, r"answer.count'"),  # bools are not counts
            ({"answer": {"span": [5, 2]}}, r"answer.span'"),
            ({"answer": {"score": 1}}, r"unknown keys \['score'\]"),
            ({"images": "media/a.png"}, r"field 'images'"),
            ({"video": {"fps": 2}}, r"field 'video'"),
            ({"colour": "red"}, r"field 'colour': unknown field"),
        ],
    )
    def test_errors_name_record_and_field(self, overrides, message):
        with pytest.raises(SchemaError, match=message):
            validate_record(record(**overrides))

    def test_valid_record_round_trips(self):
        sample = Sample.from_dict(record())
        assert Sample.from_dict(sample.to_dict()) == sample

    def test_none_answer_values_dropped(self):  # rows coming back from Arrow carry None for absent keys
        assert Sample.from_dict(record(answer={"boxes": [[1, 2, 3, 4]], "count": None})).answer == {
            "boxes": [[1, 2, 3, 4]]
        }


class TestPaths:
    @pytest.mark.parametrize("bad", ["../outside.png", "media/../../x.png", "/etc/passwd"])
    def test_escape_rejected(self, tmp_path, bad):
        with pytest.raises(SchemaError, match="dataset root"):
            resolve_media(tmp_path, bad)

    def test_symlink_out_of_root_rejected(self, tmp_path):
        (tmp_path / "ds" / "media").mkdir(parents=True)
        (tmp_path / "secret.png").write_bytes(b"x")
        (tmp_path / "ds" / "media" / "link.png").symlink_to(tmp_path / "secret.png")
        with pytest.raises(SchemaError, match="leaves the dataset root"):
            resolve_media(tmp_path / "ds", "media/link.png")

    def test_reading_a_record_pointing_outside_fails(self, tmp_path):
        (tmp_path / "records.jsonl").write_text(json.dumps(record(images=["../x.png"])) + "\n")
        with pytest.raises(SchemaError, match="records.jsonl:1"):
            load_samples(tmp_path)


class TestDatasetWriter:
    def test_atomic_on_failure(self, tmp_path):
        out = tmp_path / "ds"
        with pytest.raises(RuntimeError), DatasetWriter(out) as w:
            w.add(Sample(id="a", task="vqa", question="?", answer={"text": "x"}))
            raise RuntimeError("killed mid-build")
        assert not out.exists() and list(tmp_path.iterdir()) == []

    def test_writes_media_and_records(self, tmp_path):
        with DatasetWriter(tmp_path / "ds") as w:
            path, rel = w.media_path("a.png")
            path.write_bytes(b"png")
            w.add(record(images=[rel]))
        assert [s.id for s in load_samples(tmp_path / "ds")] == ["r1"]
        assert (tmp_path / "ds" / "media" / "a.png").read_bytes() == b"png"

    def test_missing_media_and_duplicates_rejected(self, tmp_path):
        with DatasetWriter(tmp_path / "ds") as w:
            with pytest.raises(SchemaError, match="was not written"):
                w.add(record())
            w.add(record(images=[]))
            with pytest.raises(SchemaError, match="duplicate id"):
                w.add(record(images=[]))

    def test_refuses_to_overwrite_without_flag(self, tmp_path):
        (tmp_path / "ds").mkdir()
        with pytest.raises(FileExistsError, match="--overwrite"):
            DatasetWriter(tmp_path / "ds")
