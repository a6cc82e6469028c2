"""The one reader of VLMEvalKit TSV files: rows, base64 images, references, bad cells."""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

from PIL import Image

from vlmr.data_pipelines.releases.vlmevalkit_tsv import read_tsv, tsv_options

sys.path.insert(0, str(Path(__file__).parents[1] / "eval"))
from highres_fixtures import HRBENCH_ROWS, b64_png, build_hrbench, write_tsv  # noqa: E402


class Saver:
    """A ``save`` callable that records what it was handed and names images by call order."""

    def __init__(self):
        self.sizes: list[tuple[int, int]] = []

    def __call__(self, data: bytes) -> str:
        self.sizes.append(Image.open(io.BytesIO(data)).size)
        return f"img{len(self.sizes)}.png"


class TestReadTsv:
    def test_rows_read_equal_rows_in_file_and_references_share_the_image(self, tmp_path):
        save = Saver()
        rows = read_tsv(build_hrbench(tmp_path), save)
        assert len(rows) == len(HRBENCH_ROWS) == 8
        assert [r["index"] for r in rows] == [row[0] for row in HRBENCH_ROWS]
        # five full images decoded (80x45 each: rows 0-3 and 408); rows 409-411 name row 408's
        assert save.sizes == [(80, 45)] * 5
        assert [r["_images"] for r in rows] == [[f"img{i}.png"] for i in range(1, 6)] + [["img5.png"]] * 3
        assert rows[4]["C"] == "Four computers" and rows[4]["cycle_category"] == "0"
        assert "image" not in rows[0] and all(r["_image_error"] is None for r in rows)

    def test_reference_to_a_later_row_and_to_a_row_without_image(self, tmp_path):
        path = write_tsv(tmp_path / "x.tsv", ["index", "image", "question"],
                         [["a", "b", "refers forward"], ["b", b64_png(), "holds it"], ["c", "zz", "refers to nothing"]])
        rows = read_tsv(path, Saver())
        assert rows[0]["_images"] == ["img1.png"] and rows[0]["_image_error"] is None
        assert rows[2]["_images"] == [] and rows[2]["_image_error"] == "image refers to a row that has no image"

    def test_bad_image_cells_are_named_not_raised(self, tmp_path):
        not_base64 = "!" * 100  # longer than an index reference, not base64
        not_an_image = base64.b64encode(b"plain text, not a picture" * 4).decode()
        path = write_tsv(tmp_path / "x.tsv", ["index", "image", "question"],
                         [["0", not_base64, "q"], ["1", not_an_image, "q"], ["2", "", "q"],
                          ["3", "['" + b64_png() + "', '" + b64_png(8, 8) + "']", "two images"]])
        save = Saver()
        rows = read_tsv(path, save)
        assert [r["_image_error"] for r in rows] == [
            "corrupt base64 image", "base64 data is not an image", "no image", None]
        assert rows[3]["_images"] == ["img1.png", "img2.png"] and save.sizes == [(64, 48), (8, 8)]

    def test_quoted_fields_and_short_rows(self, tmp_path):
        path = tmp_path / "x.tsv"
        # pandas quotes a field holding a tab or a newline; a row may end before the last columns
        path.write_text(f'index\timage\tquestion\tA\tB\n0\t{b64_png()}\t"two\tparts\nand a line"\tx\n',
                        encoding="utf-8")
        (row,) = read_tsv(path, Saver())
        assert row["question"] == "two\tparts\nand a line" and row["B"] == ""
        assert tsv_options(row) == ["A. x"]
