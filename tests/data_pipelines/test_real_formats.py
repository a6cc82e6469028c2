"""Every real-format source builds from a fixture written here in its official layout."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from vlmr.data_pipelines.build import build_dataset
from vlmr.data_pipelines.reasonseg import lisa_mask
from vlmr.masks import rle_to_mask
from vlmr.schema import load_samples, resolve_media


def write_image(path, size=(64, 48), color=(200, 40, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def write_corrupted(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")


def coco_instances(tmp_path):
    """instances.json as in COCO 2017: images, annotations (polygon + crowd RLE), categories."""
    images_dir = tmp_path / "val2017"
    write_image(images_dir / "000000000001.jpg", (64, 48))
    write_image(images_dir / "000000000002.jpg", (32, 32))
    write_corrupted(images_dir / "000000000003.jpg")  # corrupted; 000000000004.jpg is missing
    poly = lambda x, y, w, h: [[x, y, x + w, y, x + w, y + h, x, y + h]]  # noqa: E731
    anns = [
        {"id": 1, "image_id": 1, "category_id": 18, "bbox": [2, 3, 10, 12], "area": 120.0, "iscrowd": 0,
         "segmentation": poly(2, 3, 10, 12)},
        {"id": 2, "image_id": 1, "category_id": 18, "bbox": [30, 5, 8, 8], "area": 64.0, "iscrowd": 0,
         "segmentation": poly(30, 5, 8, 8)},
        {"id": 3, "image_id": 1, "category_id": 1, "bbox": [40, 20, 10, 20], "area": 200.0, "iscrowd": 0,
         "segmentation": poly(40, 20, 10, 20)},
        # a crowd of people: its category is not countable in image 1
        {"id": 4, "image_id": 1, "category_id": 1, "bbox": [0, 30, 20, 18], "area": 360.0, "iscrowd": 1,
         "segmentation": {"size": [48, 64], "counts": [30 * 48 + 30, 18, 30, 18]}},
        {"id": 5, "image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25.0, "iscrowd": 0,
         "segmentation": poly(1, 1, 5, 5)},
        {"id": 6, "image_id": 3, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25.0, "iscrowd": 0,
         "segmentation": poly(1, 1, 5, 5)},
    ]
    instances = {
        "info": {"description": "fixture"}, "licenses": [],
        "images": [{"id": i, "file_name": f"{i:012d}.jpg", "width": w, "height": h}
                   for i, (w, h) in {1: (64, 48), 2: (32, 32), 3: (32, 32), 4: (32, 32)}.items()],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "supercategory": "person"},
                       {"id": 18, "name": "dog", "supercategory": "animal"}],
    }
    ann_file = tmp_path / "annotations" / "instances_val2017.json"
    ann_file.parent.mkdir(parents=True)
    ann_file.write_text(json.dumps(instances))
    return ann_file, images_dir


class TestCoco:
    def test_detection_and_counting_with_crowd(self, tmp_path):
        ann_file, images = coco_instances(tmp_path)
        out = build_dataset("coco", tmp_path / "ds", ann_file=str(ann_file), image_dir=str(images),
                            split="val", progress=False)
        samples = {s.id: s for s in load_samples(out)}
        det = samples["coco-val-1-det"]
        # crowd box excluded; xywh -> xyxy
        assert det.answer["boxes"] == [[2, 3, 12, 15], [30, 5, 38, 13], [40, 20, 50, 40]]
        assert det.answer["labels"] == ["dog", "dog", "person"]
        assert samples["coco-val-1-count-18"].answer["count"] == 2
        assert "coco-val-1-count-1" not in samples  # person has a crowd region in image 1
        assert samples["coco-val-2-count-1"].answer["count"] == 1
        card = (out / "README.md").read_text()
        assert "skipped 1: corrupted image" in card and "skipped 1: missing image" in card
        # media copied byte for byte
        assert (resolve_media(out, det.images[0]).read_bytes()
                == (images / "000000000001.jpg").read_bytes())


    def test_grounded_cot_from_ground_truth(self, tmp_path):
        ann_file, images = coco_instances(tmp_path)
        out = build_dataset("coco", tmp_path / "ds", ann_file=str(ann_file), image_dir=str(images),
                            tasks="counting", cot=True, split="val", progress=False)
        dogs = {s.id: s for s in load_samples(out)}["coco-val-1-count-18"]
        assert dogs.cot == ('I look for dog. dog at {"bbox_2d": [2, 3, 12, 15]}; dog at {"bbox_2d": [30, 5, 38, 13]}. '
                            "That is 2, so the answer is 2.")


class TestRefcoco:
    def test_one_record_per_expression(self, tmp_path):
        ann_file, images = coco_instances(tmp_path)
        refs = [
            {"ref_id": 7, "ann_id": 2, "image_id": 1, "split": "val", "category_id": 18, "file_name": "x.jpg",
             "sentences": [{"sent": "dog on the right", "sent_id": 70}, {"sent": "small dog", "sent_id": 71}]},
            {"ref_id": 8, "ann_id": 1, "image_id": 1, "split": "train", "category_id": 18,
             "sentences": [{"sent": "left dog", "sent_id": 80}]},
        ]
        refs_file = tmp_path / "refs.json"
        refs_file.write_text(json.dumps(refs))
        out = build_dataset("refcoco", tmp_path / "ds", refs_file=str(refs_file), instances_file=str(ann_file),
                            image_dir=str(images), split="val", progress=False)
        samples = load_samples(out)
        assert [s.id for s in samples] == ["refcoco-val-7-70", "refcoco-val-7-71"]
        assert all(s.answer["boxes"] == [[30, 5, 38, 13]] for s in samples)
        assert "dog on the right" in samples[0].question


class TestReasonSeg:
    def test_lisa_mask_rules(self):
        big = {"label": "target", "points": [[0, 0], [9, 0], [9, 9], [0, 9]], "shape_type": "polygon"}
        hole = {"label": "ignore", "points": [[2, 2], [4, 2], [4, 4], [2, 4]], "shape_type": "polygon"}
        flag = {"label": "flag", "points": [[0, 0], [9, 0], [9, 9]], "shape_type": "polygon"}
        mask = lisa_mask([hole, flag, big], 12, 12)  # drawn largest first: the ignore square stays on top
        assert mask[3, 3] == 255 and mask[0, 0] == 1 and mask[11, 11] == 0
        assert int((mask == 255).sum()) == 9 and int((mask == 1).sum()) == 100 - 9

    def test_build_masks_and_boxes(self, tmp_path):
        root = tmp_path / "ReasonSeg" / "val"
        write_image(root / "img1.jpg", (40, 30))
        (root / "img1.json").write_text(json.dumps({
            "text": ["the thing you would sit on"], "is_sentence": True,
            "shapes": [{"label": "target", "points": [[5, 6], [20, 6], [20, 16], [5, 16]], "shape_type": "polygon"},
                       {"label": "ignore", "points": [[25, 2], [30, 2], [30, 8]], "shape_type": "polygon"},
                       {"label": "flag", "points": [[0, 0], [1, 1], [0, 1]], "shape_type": "polygon"}],
        }))
        write_image(root / "img2.jpg", (40, 30))
        (root / "img2.json").write_text(json.dumps({"text": ["cup", "mug"], "is_sentence": False,
                                                    "shapes": [{"label": "target", "points": [[1, 1], [9, 1], [9, 9]],
                                                                "shape_type": "polygon"}]}))
        (root / "img3.json").write_text(json.dumps({"text": ["lost"], "is_sentence": False, "shapes": []}))
        out = build_dataset("reasonseg", tmp_path / "ds", root=str(root), split="val", progress=False)
        samples = load_samples(out)
        assert [s.id for s in samples] == ["reasonseg-val-img1-0", "reasonseg-val-img2-0", "reasonseg-val-img2-1"]
        first = samples[0]
        mask = rle_to_mask(first.answer["masks"][0])
        assert mask.shape == (30, 40) and int(mask.sum()) == 16 * 11  # polygon outline + fill, inclusive ends
        assert first.answer["boxes"] == [[5, 6, 21, 17]]
        assert rle_to_mask(first.meta["ignore_mask"]).any()
        assert samples[1].question == "What is cup in this image? Please output the segmentation mask."
        assert "skipped 1: missing image" in (out / "README.md").read_text()


class TestChartQA:
    def test_human_and_augmented(self, tmp_path):
        root = tmp_path / "ChartQA Dataset"
        write_image(root / "test" / "png" / "a.png")
        write_image(root / "test" / "png" / "b.png")
        (root / "test" / "test_human.json").write_text(json.dumps(
            [{"imgname": "a.png", "query": "Which year was highest?", "label": "2019"},
             {"imgname": "b.png", "query": "Is the line rising?", "label": "Yes"}]))
        (root / "test" / "test_augmented.json").write_text(json.dumps(
            [{"imgname": "a.png", "query": "What is the value in 2010?", "label": "1,250"},
             {"imgname": "gone.png", "query": "?", "label": "1"}]))
        out = build_dataset("chartqa", tmp_path / "ds", root=str(root), split="test", progress=False)
        samples = {s.id: s for s in load_samples(out)}
        assert samples["chartqa-test-augmented-000000"].answer == {"text": "1,250", "number": 1250.0}
        assert samples["chartqa-test-human-000001"].answer == {"text": "Yes"}
        assert {s.meta["subset"] for s in samples.values()} == {"human", "augmented"}
        assert len(samples) == 3


class TestFolder:
    def test_csv_and_jsonl(self, tmp_path):
        write_image(tmp_path / "imgs" / "a.png")
        write_image(tmp_path / "imgs" / "b.png", color=(0, 0, 200))
        with (tmp_path / "qa.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["image", "question", "answer", "task", "choices"])
            w.writerow(["a.png", "What colour?", "red", "", ""])
            w.writerow(["b.png", "Which colour?", "B", "mcq", "A. red|B. blue"])
            w.writerow(["b.png", "How many squares?", "three", "counting", ""])  # bad count: skipped
            w.writerow(["nope.png", "?", "x", "", ""])
            w.writerow(["a.png", "", "x", "", ""])  # no question: skipped
            w.writerow(["b.png", "Which?", "A", "mcq", "[\"A. red\", "])  # broken JSON choices: skipped
        out = build_dataset("folder", tmp_path / "ds", image_dir=str(tmp_path / "imgs"),
                            annotations=str(tmp_path / "qa.csv"), progress=False)
        samples = load_samples(out)
        assert [(s.task, s.answer) for s in samples] == [("vqa", {"text": "red"}), ("mcq", {"choice": "B"})]
        assert samples[1].choices == ["A. red", "B. blue"]
        card = (out / "README.md").read_text()
        assert "skipped 1: missing image" in card and "does not fit task 'counting'" in card
        assert "skipped 1: row lacks question" in card
        assert "skipped 1: choices start with '[' but are not a JSON list" in card

    def test_jsonl_with_answer_dict(self, tmp_path):
        write_image(tmp_path / "imgs" / "a.png")
        (tmp_path / "qa.jsonl").write_text(json.dumps(
            {"id": "x1", "image": "a.png", "question": "Find the red square.", "task": "grounding",
             "answer": {"boxes": [[0, 0, 64, 48]]}}) + "\n")
        out = build_dataset("folder", tmp_path / "ds", image_dir=str(tmp_path / "imgs"),
                            annotations=str(tmp_path / "qa.jsonl"), progress=False)
        (sample,) = load_samples(out)
        assert sample.id == "x1" and sample.answer["boxes"] == [[0, 0, 64, 48]]


@pytest.mark.parametrize("source", ["coco", "reasonseg", "chartqa", "folder"])
def test_missing_required_option_names_it(source):
    from vlmr.data_pipelines.sources import get_builder

    with pytest.raises(TypeError, match="required keyword-only argument"):
        next(get_builder(source)(limit=1))


def test_refcoco_names_both_ways_to_give_data():
    from vlmr.data_pipelines.sources import get_builder

    with pytest.raises(ValueError, match="give --root .* or --refs-file, --instances-file and --image-dir"):
        next(get_builder("refcoco")(limit=1))


def test_mask_rle_roundtrip():
    from vlmr.masks import mask_box, mask_to_rle

    mask = np.zeros((7, 9), dtype=bool)
    mask[2:5, 3:8] = True
    assert (rle_to_mask(mask_to_rle(mask)) == mask).all() and mask_box(mask) == [3, 2, 8, 5]
