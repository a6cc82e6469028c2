"""Hostile and unlucky files for ``vlmr data build`` and ``vlmr eval run``: decompression bombs,
paths that leave their folder, and the mode of what is written."""

from __future__ import annotations

import json
import os
import stat
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from vlmr.cli import main
from vlmr.inference import Generation
from vlmr.schema import DatasetWriter, Sample, SchemaError, load_samples


def bomb_png(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A PNG whose header says ``width x height`` (900 megapixels by default): PIL refuses it at open."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00"))
                     + chunk(b"IEND", b""))
    return path


def photo(path: Path, color=(200, 40, 40)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), color).save(path)
    return path


def build_folder(tmp_path: Path, rows: list[dict], image_dir: Path) -> tuple[int, Path]:
    annotations = tmp_path / "qa.jsonl"
    annotations.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "ds"
    code = main(["data", "build", "folder", "--out", str(out), "--image_dir", str(image_dir),
                 "--annotations", str(annotations)])
    return code, out


def card_counts(out: Path) -> str:
    return " ".join((out / "README.md").read_text(encoding="utf-8").split())


class TestDecompressionBombs:
    def test_a_bomb_in_a_folder_build_is_skipped_and_later_rows_kept(self, tmp_path):
        images = tmp_path / "photos"
        photo(images / "a.png")
        bomb_png(images / "bomb.png")
        photo(images / "b.png", (40, 40, 200))
        rows = [{"image": name, "question": "What colour?", "answer": "red"} for name in ("a.png", "bomb.png", "b.png")]
        code, out = build_folder(tmp_path, rows, images)
        assert code == 0
        assert [s.images for s in load_samples(out)] == [["media/folder/a.png"], ["media/folder/b.png"]]
        assert "skipped 1: corrupted image" in card_counts(out)

    def test_eval_run_records_a_bomb_as_that_sample_s_error(self, tmp_path):
        from vlmr.eval.runner import EvalConfig, run_eval

        with DatasetWriter(tmp_path / "ds") as writer:
            for name in ("ok", "bomb"):
                path, rel = writer.media_path(f"{name}.png")
                bomb_png(path) if name == "bomb" else photo(path)
                writer.add(Sample(id=name, task="counting", question="How many?", images=[rel],
                                  answer={"count": 1}, meta={"width": 32, "height": 24}))

        class Scripted:
            family = "qwen2_5_vl"

            def coordinate_space(self, width, height):
                from vlmr.formats import CoordinateSpace

                return CoordinateSpace.for_image(width, height, self.family)

            def generate(self, conversations):
                return [Generation("<answer>1</answer>") for _ in conversations]

        scores = run_eval(EvalConfig(benchmark="dataset", data=str(tmp_path / "ds"), out=str(tmp_path / "run"),
                                     model="scripted", family="qwen2_5_vl", report=False), backend=Scripted())
        assert scores["n"] == 2 and scores["n_errors"] == 1
        assert scores["overall"]["accuracy"] == 0.5  # the readable sample was answered and scored

    def test_the_tool_environment_treats_a_bomb_as_an_unreadable_image(self, tmp_path):
        from vlmr.tools import make_environment

        env = make_environment(["crop"])()
        env.reset(images=[str(bomb_png(tmp_path / "bomb.png"))])
        assert env.crop(bbox_2d=[0, 0, 10, 10])[0]["text"].startswith("Error: this sample has no image")


class TestPathsStayInTheirFolder:
    def test_annotation_paths_resolve_under_the_image_directory_only(self, tmp_path):
        images = tmp_path / "photos"
        photo(images / "ok.png")
        secret = photo(tmp_path / "private" / "secret.png")
        (images / "link.png").symlink_to(secret)
        rows = [{"image": image, "question": "What colour?", "answer": "red"}
                for image in ("ok.png", str(secret), "../private/secret.png", "link.png", "sub/../ok.png")]
        code, out = build_folder(tmp_path, rows, images)
        assert code == 0
        assert [s.images for s in load_samples(out)] == [["media/folder/ok.png"]]  # the 5th is ok.png again
        card = card_counts(out)
        assert "skipped 3: image path outside the image directory (absolute, '..' or a symlink out)" in card
        assert "duplicates dropped (same image + question): 1" in card

    def test_a_media_name_cannot_leave_media(self, tmp_path):
        with DatasetWriter(tmp_path / "ds") as writer:
            with pytest.raises(SchemaError, match="leaves the dataset root"):
                writer.media_path("../records.jsonl")
            assert writer.media_path("a/../b.png")[1] == "media/b.png"


class TestModes:
    @pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o755), (0o027, 0o750)])
    def test_a_built_dataset_follows_the_umask(self, tmp_path, umask, mode):
        previous = os.umask(umask)
        try:
            with DatasetWriter(tmp_path / "ds") as writer:
                writer.add(Sample(id="q", task="vqa", question="?", answer={"text": "a"}))
        finally:
            os.umask(previous)
        assert stat.S_IMODE((tmp_path / "ds").stat().st_mode) == mode
        assert stat.S_IMODE((tmp_path / "ds" / "media").stat().st_mode) == mode
