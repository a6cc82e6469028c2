"""The one reader of annotation files (JSON Lines, JSON, CSV): bad rows named, kept in place or skipped."""

import logging

import pytest

from vlmr.data_pipelines.releases.rows import BadRow, read_rows, rows_in_place
from vlmr.schema import SchemaError


class TestRowsInPlace:
    def test_bad_jsonl_lines_stay_in_place_with_their_line_numbers(self, tmp_path, caplog):
        path = tmp_path / "qa.jsonl"
        path.write_text('{"q": 1}\n\n{"q": 2,}\n"text"\n{"q": 3}\n', encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            rows = rows_in_place(path)
        # line 2 is blank (no row); line 3 is not JSON; line 4 is JSON but not an object
        assert rows[0] == {"q": 1} and rows[2] == "text" and rows[3] == {"q": 3}
        assert isinstance(rows[1], BadRow) and rows[1].number == 3
        assert f"{path}:3: skipped, not a JSON object (Expecting property name" in caplog.text
        assert f"{path}:4: skipped, not a JSON object (str)" in caplog.text
        assert read_rows(path) == [{"q": 1}, "text", {"q": 3}]  # the caller's own row check counts "text"

    def test_json_list_and_keyed_object(self, tmp_path, caplog):
        listed, keyed = tmp_path / "a.json", tmp_path / "b.json"
        listed.write_text('[{"q": 1}, 7, {"q": 2}]', encoding="utf-8")
        keyed.write_text('{"7": {"q": "x"}, "8": {"q": "y"}}', encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            assert read_rows(listed) == [{"q": 1}, 7, {"q": 2}]
        assert f"{listed}: row 2: skipped, not a JSON object (int)" in caplog.text
        assert read_rows(keyed) == [{"_key": "7", "q": "x"}, {"_key": "8", "q": "y"}]

    def test_csv_rows_keep_quoted_newlines(self, tmp_path):
        path = tmp_path / "qa.csv"
        path.write_bytes(b'image,question\r\na.png,"two\r\nlines"\r\n')
        assert read_rows(path) == [{"image": "a.png", "question": "two\r\nlines"}]

    @pytest.mark.parametrize(
        ("name", "data", "message"),
        [
            ("qa.jsonl", b"\xff\xfe{}", r"qa.jsonl: not UTF-8 text \(byte 0\); save the annotations as UTF-8"),
            ("qa.csv", b"a,b\n\xe9,1\n", r"qa.csv: not UTF-8 text \(byte 4\)"),
            ("qa.json", b'{"q": 1}\n{"q": 2}\n', r"qa.json: not one JSON document .*needs the suffix .jsonl"),
            ("qa.json", b'"text"', r"qa.json: expected a JSON list or object of rows, got str"),
        ],
    )
    def test_a_file_that_cannot_be_read_is_one_error_naming_it(self, tmp_path, name, data, message):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(SchemaError, match=message):
            rows_in_place(tmp_path / name)
