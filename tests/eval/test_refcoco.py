"""RefCOCO: the headline Acc@0.5 (refer / lmms-eval) and VLM-R1's full rule, on every released form.

Expected values by hand. Headline: the first box of vlmr's parse of the ``<answer>`` text (the
last ``<answer>`` block; a bare ``[x1, y1, x2, y2]`` list counts), ``IoU >= 0.5`` (lmms-eval
``tasks/refcoco/utils_rec.py``: ``compute_iou(...) >= threshold``). VLM-R1 (om-ai-lab/VLM-R1
``src/eval/test_rec_r1.py``): ``re.search(r'<answer>(.*?)</answer>')`` (the first block), then
``\\{.*\\[(\\d+),\\s*(\\d+),\\s*(\\d+),\\s*(\\d+)]\\s*.*\\}`` with DOTALL (greedy: the last integer box
between braces), ``[0, 0, 0, 0]`` otherwise; its ``iou`` clips with ``x2 - 1`` and adds ``+1``, so an
overlap of one pixel or less is none; a hit is ``iou > 0.5``.
"""

from __future__ import annotations

import json

import datasets
import pytest
from eval_fixtures import png_bytes, write_hub_snapshot, write_image

from vlmr.data_pipelines.build import build_dataset
from vlmr.eval import get_benchmark
from vlmr.eval.registry import ScoreContext
from vlmr.eval.scoring import score_predictions
from vlmr.schema import Sample, load_samples

GT = [10.0, 10.0, 30.0, 30.0]  # 20 x 20 = 400 px


def box(x1, y1, x2, y2, key="bbox_2d"):
    return f'{{"{key}": [{x1}, {y1}, {x2}, {y2}]}}'


def score_one(response, gt=GT, comparison=">="):
    bench = get_benchmark("refcoco", iou_comparison=comparison)
    sample = Sample(id="s", task="grounding", question="Locate the man.", images=["x.png"], answer={"boxes": [gt]},
                    meta={"width": 100, "height": 80})
    return bench.process_results(sample, {"response": response}, ScoreContext(convention="pixel"))


class TestRules:
    @pytest.mark.parametrize(
        ("response", "headline", "vlm_r1"),
        [
            (f"<answer>{box(10, 10, 30, 30)}</answer>", 1.0, 1.0),
            (f"<answer>{box(10, 10, 30, 20)}</answer>", 1.0, 0.0),  # IoU 200/400 = 0.5: >= hits, > misses
            (f"<answer>{box(10.0, 10.0, 30.0, 30.0)}</answer>", 1.0, 0.0),  # VLM-R1 reads integers only
            (f"<answer>[{box(10, 10, 30, 30)}, {box(50, 50, 70, 70)}]</answer>", 1.0, 0.0),  # first vs last box
            (f"<answer>[{box(50, 50, 70, 70)}, {box(10, 10, 30, 30)}]</answer>", 0.0, 1.0),
            (box(10, 10, 30, 30), 1.0, 0.0),  # no <answer> block: VLM-R1 has no box
            ("<answer>[10, 10, 30, 30]</answer>", 1.0, 0.0),  # a bare list: VLM-R1 needs braces
            ("", 0.0, 0.0),  # empty
            ("<answer>the man on the left</answer>", 0.0, 0.0),  # unparsable
            (f"<think>{box(10, 10, 30, 30)}</think><answer>none</answer>", 0.0, 0.0),  # a box only in the thinking
            (f"<answer>{box(-5, 10, 30, 30)}</answer>", 1.0, 0.0),  # IoU 400/700 = 0.57; "-5" is no VLM-R1 integer
            ('<answer>{"bbox_2d": [ 10, 10, 30, 30 ]}</answer>', 1.0, 0.0),  # VLM-R1: no space after "[" or before "]"
            (f"<answer>{box(50, 50, 70, 70)}</answer> then <answer>{box(10, 10, 30, 30)}</answer>", 1.0, 0.0),
            # ... vlmr reads the last <answer> block, VLM-R1 the first
            (f"<answer>The box is {box(10, 10, 30, 30)}.</answer>", 1.0, 1.0),  # prose and a trailing period
            (f"<answer>{box(10, 10, 30, 30, key='bbox')}</answer>", 1.0, 1.0),  # any key inside braces
            (f"<answer>{box(12, 10, 30, 30)}</answer>", 1.0, 1.0),  # IoU 360/400 = 0.9
        ],
    )
    def test_case(self, response, headline, vlm_r1):
        row = score_one(response)
        assert (row["acc@0.5"], row["acc@0.5_vlm_r1"]) == (headline, vlm_r1)

    def test_strict_comparison_option(self):
        assert score_one(f"<answer>{box(10, 10, 30, 20)}</answer>", comparison=">")["acc@0.5"] == 0.0

    def test_one_pixel_target_only_vlm_r1_misses(self):
        # gt 1x1 px: the same box has IoU 1, but VLM-R1's overlap 11 - 10 = 1 is not > 1 -> IoU 0
        row = score_one(f"<answer>{box(10, 10, 11, 11)}</answer>", gt=[10.0, 10.0, 11.0, 11.0])
        assert row["iou"] == 1.0 and (row["acc@0.5"], row["acc@0.5_vlm_r1"]) == (1.0, 0.0)


def lmms_rows():
    """Two rows in lmms-eval's RefCOCO form (values synthesised in the published schema)."""
    return {
        "question_id": ["1709", "2250"],
        "question": ["Please carefully observe the area circled in the image and come up with a caption for the area."] * 2,
        "answer": [["man in black", "guy on left"], ["white bowl"]],
        "segmentation": [[10.0, 10.0, 30.0, 10.0, 30.0, 30.0], [40.0, 5.0, 60.0, 5.0, 60.0, 25.0]],
        "bbox": [[10.0, 10.0, 20.0, 20.0], [40.0, 5.0, 20.0, 20.0]],  # COCO [x, y, w, h]
        "iscrowd": [0, 0],
        "file_name": ["COCO_train2014_000000000001_1709.jpg", "COCO_train2014_000000000002_2250.jpg"],
    }


# lmms-lab/RefCOCOg card (README.md dataset_info; RefCOCO and RefCOCOplus alike): question_id string,
# image image, question string, answer sequence<string>, segmentation sequence<float32>,
# bbox sequence<float32>, iscrowd int8, file_name string; splits val 7573, test 5023 (RefCOCOg).
LMMS_FEATURES = {"question_id": datasets.Value("string"), "image": datasets.Image(),
                 "question": datasets.Value("string"), "answer": datasets.Sequence(datasets.Value("string")),
                 "segmentation": datasets.Sequence(datasets.Value("float32")),
                 "bbox": datasets.Sequence(datasets.Value("float32")), "iscrowd": datasets.Value("int8"),
                 "file_name": datasets.Value("string")}


class TestForms:
    def test_vlm_r1_rows(self, bench_data):
        data = bench_data("refcoco")
        samples = get_benchmark("refcoco").load(data)
        assert [s.id for s in samples] == ["refcoco_val-000000", "refcoco_val-000001"]
        assert samples[0].question == "Locate white square in the image." and samples[1].answer["boxes"] == [[0, 0, 20, 40]]

    def test_lmms_eval_json_export_one_sample_per_expression(self, tmp_path):
        rows = lmms_rows()
        records = [{k: v[i] for k, v in rows.items()} for i in range(2)]
        for r in records:
            write_image(tmp_path / r["file_name"], width=100, height=80)
        (tmp_path / "refcoco_val.json").write_text(json.dumps(records))
        samples = get_benchmark("refcoco").load(tmp_path / "refcoco_val.json")
        assert [s.id for s in samples] == ["1709-0", "1709-1", "2250-0"]  # 3 expressions in 2 rows
        assert [s.question for s in samples] == ["Locate man in black in the image.", "Locate guy on left in the image.",
                                                 "Locate white bowl in the image."]  # never the caption prompt
        assert samples[2].answer["boxes"] == [[40.0, 5.0, 60.0, 25.0]]

    def test_hub_copy_and_scores(self, tmp_path, monkeypatch):
        monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
        rows = {**lmms_rows(), "image": [png_bytes(100, 80), png_bytes(100, 80, color=(9, 9, 9))]}
        root = write_hub_snapshot(tmp_path / "RefCOCO", LMMS_FEATURES, {"val": rows, "testA": rows})
        bench = get_benchmark("refcoco")
        samples = bench.load(root)
        assert len(samples) == 3 and {s.meta["split"] for s in samples} == {"val"} and samples[0].meta["width"] == 100
        ctx = ScoreContext(root=bench.media_root(root), convention="pixel")
        gold = {s.id: {"response": f"<answer>{box(*[int(v) for v in s.answer['boxes'][0]])}</answer>"} for s in samples}
        result = score_predictions(bench, samples, gold, ctx)
        assert result.overall["acc@0.5"] == 1.0 and result.overall["acc@0.5_vlm_r1"] == 1.0
        assert score_predictions(bench, samples, {}, ctx).overall["acc@0.5"] == 0.0
        assert len(get_benchmark("refcoco", split="testA").load(root)) == 3

    def test_build_from_hub_copy(self, tmp_path):
        rows = {**lmms_rows(), "image": [png_bytes(100, 80), png_bytes(100, 80, color=(9, 9, 9))]}
        root = write_hub_snapshot(tmp_path / "RefCOCO", LMMS_FEATURES, {"val": rows})
        out = build_dataset("refcoco", tmp_path / "ds", root=str(root), progress=False)
        samples = load_samples(out)
        assert [s.id for s in samples] == ["refcoco-val-1709-0", "refcoco-val-1709-1", "refcoco-val-2250-0"]
        assert samples[0].images == samples[1].images and samples[0].meta["expression"] == "man in black"
        assert len(list((out / "media" / "refcoco").iterdir())) == 2  # one file per image
