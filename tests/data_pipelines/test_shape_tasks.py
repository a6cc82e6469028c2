import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from vlmr.data_pipelines.build import build_dataset
from vlmr.data_pipelines.shape_tasks import build_shapes
from vlmr.schema import load_samples, resolve_media

TASKS = "grounding,pointing,counting,segmentation,spatial,zoom"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes") / "ds"
    return build_dataset("shapes", out, seed=7, limit=40, tasks=TASKS, width=112, height=112, progress=False)


class TestShapesSource:
    def test_every_task_built_and_valid(self, dataset):
        samples = load_samples(dataset)  # validates every record and media path
        assert {s.task for s in samples} == {"grounding", "pointing", "counting", "segmentation", "vqa"}
        assert len(samples) >= 36  # a few indices without a uniquely named object are skipped

    def test_mask_box_and_point_agree_with_pixels(self, dataset):
        for s in load_samples(dataset):
            if s.task != "segmentation":
                continue
            mask = mask_utils.decode(s.answer["masks"][0]).astype(bool)
            ys, xs = mask.nonzero()
            assert s.answer["boxes"][0] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]  # tight box
            x, y = s.answer["points"][0]
            assert mask[round(y), round(x)]  # the point lies on the object

    def test_counting_answer_matches_colours_in_image(self, dataset):
        from vlmr.data_pipelines.shapes import COLORS

        checked = 0
        for s in load_samples(dataset):
            if s.task != "counting" or "shapes are there" not in s.question:
                continue
            colour = s.question.split()[2]
            pixels = np.asarray(Image.open(resolve_media(dataset, s.images[0])).convert("RGB")).astype(int)
            close = (np.abs(pixels - np.array(COLORS[colour])).max(axis=2) <= 12).astype(np.uint8)
            import cv2

            n_blobs = cv2.connectedComponentsWithStats(close)[0] - 1
            assert n_blobs >= s.answer["count"] >= 1
            checked += 1
        assert checked >= 1

    def test_counts_are_spread_so_a_constant_answer_fails(self):
        counts = [b.record["answer"]["count"] for b in build_shapes(seed=3, limit=200, tasks="counting",
                                                                      width=112, height=112, max_objects=4)]
        share = {k: counts.count(k) / len(counts) for k in set(counts)}
        assert set(share) == {1, 2, 3, 4}
        assert max(share.values()) < 0.35  # about a quarter each

    def test_zoom_trajectory_targets_the_tiny_shape(self, dataset):
        zoom = [s for s in load_samples(dataset) if "target_box" in s.meta]
        assert zoom
        for s in zoom:
            call = json.loads(s.cot[0]["content"].split("<tool_call>")[1].split("</tool_call>")[0])
            x1, y1, x2, y2 = call["arguments"]["bbox_2d"]
            tx1, ty1, tx2, ty2 = s.meta["target_box"]
            assert x1 <= tx1 and y1 <= ty1 and tx2 <= x2 and ty2 <= y2 and x2 - x1 >= 28
            assert s.cot[-1]["content"].endswith(f"<answer>{s.answer['text']}</answer>")

    def test_zoom_region_is_the_named_ninth_of_the_image(self):
        rows, cols = ("top", "middle", "bottom"), ("left", "center", "right")
        for built in build_shapes(seed=5, limit=60, tasks="zoom", width=112, height=112):
            x1, y1, x2, y2 = built.record["meta"]["zoom_region"]
            row, col = built.record["question"].removesuffix("?").split()[-2:]
            cell_x, cell_y = cols.index(col) * 112 / 3, rows.index(row) * 112 / 3  # top-left of the named cell
            assert x2 - x1 == y2 - y1 == 50  # a 37 px cell grown by 6 px a side
            assert x1 <= cell_x + 1 and cell_x + 112 / 3 <= x2 + 1 and y1 <= cell_y + 1 and cell_y + 112 / 3 <= y2 + 1

    def test_grounded_cot_cites_the_answer_box(self, dataset):
        grounding = [s for s in load_samples(dataset) if s.task == "grounding"]
        assert grounding
        for s in grounding:
            cited = json.loads(s.cot[s.cot.index("{"):s.cot.rindex("}") + 1])
            assert cited == {"bbox_2d": s.answer["boxes"][0], "label": s.answer["labels"][0]}

    def test_spatial_answers_match_the_pixels(self, dataset):
        from vlmr.data_pipelines.shapes import COLORS

        spatial = [s for s in load_samples(dataset) if s.task == "vqa" and "target_box" not in s.meta]
        assert spatial
        for s in spatial:
            pixels = np.asarray(Image.open(resolve_media(dataset, s.images[0])).convert("RGB")).astype(int)
            cited = [json.loads("{" + part.split("{", 1)[1].split("}")[0] + "}") for part in s.cot.split(" at ")[1:]]
            for c in cited:  # every cited box holds pixels of the cited colour
                x1, y1, x2, y2 = c["bbox_2d"]
                crop = pixels[y1:y2, x1:x2]
                colour = COLORS[c["label"].split()[0]]
                assert (np.abs(crop - np.array(colour)).max(axis=2) <= 12).any()
            if s.question.startswith("Is the"):
                a, b = cited
                assert s.answer["text"] == ("yes" if a["bbox_2d"][2] < b["bbox_2d"][0] else "no")
            else:
                assert s.answer["text"] == cited[0]["label"]

    def test_color_answer_is_the_colour_of_the_only_shape_of_that_kind(self):
        from vlmr.data_pipelines.shapes import COLORS

        for built in build_shapes(seed=4, limit=30, tasks="color", width=112, height=112, max_objects=4):
            record = built.record
            kind = record["question"].removeprefix("What color is the ").removesuffix("?")
            cited = json.loads(record["cot"][record["cot"].index("{"):record["cot"].rindex("}") + 1])
            assert cited["label"] == f"{record['answer']['text']} {kind}"
            pixels = np.asarray(built.media[Path(record["images"][0]).name].convert("RGB")).astype(int)
            x1, y1, x2, y2 = cited["bbox_2d"]
            colour = np.array(COLORS[record["answer"]["text"]])
            assert (np.abs(pixels[y1:y2, x1:x2] - colour).max(axis=2) <= 12).mean() > 0.3

    def test_detection_lists_every_shape_in_reading_order(self):
        from vlmr.data_pipelines.shapes import COLORS

        for built in build_shapes(seed=6, limit=20, tasks="detection", width=112, height=112, max_objects=4):
            answer, thought = built.record["answer"], built.record["cot"]
            n = len(answer["boxes"])
            assert 1 <= n <= 4 and len(answer["labels"]) == n
            assert thought == ("There is 1 shape." if n == 1 else f"There are {n} shapes.")
            rows = [min(2, int(3 * (b[1] + b[3]) / 2 / 112)) for b in answer["boxes"]]
            assert rows == sorted(rows)  # top row first, then left to right within a row
            pixels = np.asarray(built.media[Path(built.record["images"][0]).name].convert("RGB")).astype(int)
            for (x1, y1, x2, y2), label in zip(answer["boxes"], answer["labels"], strict=True):
                colour = np.array(COLORS[label.split()[0]])
                assert (np.abs(pixels[int(y1):int(y2), int(x1):int(x2)] - colour).max(axis=2) <= 12).any()

    def test_zoom_target_is_unreadable_at_112_px_and_readable_in_the_zoomed_cell(self):
        for built in build_shapes(seed=8, limit=20, tasks="zoom", width=336, height=336):
            tx1, ty1, tx2, ty2 = built.record["meta"]["target_box"]
            x1, y1, x2, y2 = built.record["meta"]["zoom_region"]
            assert max(tx2 - tx1, ty2 - ty1) * 112 / 336 <= 4.5  # 2-4 px in the 112 px view the model gets
            assert max(tx2 - tx1, ty2 - ty1) * 112 / (x2 - x1) >= 6  # the zoomed cell, shown at 112 px

    def test_deterministic_and_shard_invariant(self):
        one = [b.record for b in build_shapes(seed=3, limit=12, tasks=TASKS, width=96, height=96)]
        sharded = [b.record for k in range(3)
                   for b in build_shapes(seed=3, limit=12, tasks=TASKS, width=96, height=96, shard=k, num_shards=3)]
        assert sorted(one, key=lambda r: r["id"]) == sorted(sharded, key=lambda r: r["id"])

    def test_unknown_task_lists_choices(self):
        with pytest.raises(ValueError, match="choose from"):
            next(build_shapes(tasks="grounding,colouring"))
