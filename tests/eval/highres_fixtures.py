"""Release layouts of V*, HR-Bench, POPE, MME-RealWorld and TreeBench, written by the tests.

Text rows are quoted verbatim from the released files where the public index holds them (the
repository and path are given above each); images are small generated stand-ins, since the real
ones are not in any repository.
"""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path


def write_image(*args, **kwargs) -> Path:
    """``eval_fixtures.write_image``, imported at call time: ``eval_fixtures`` imports this module."""
    from eval_fixtures import write_image as write

    return write(*args, **kwargs)

# craigwu/vstar_bench test_questions.jsonl, rows 0 and 1 (the Hub file itself is not in the public code
# index; these texts are quoted alike by several repositories that read it: a verl recipe README's
# validation example, the HiDe README, an lmms-eval task's sample comment)
VSTAR_ROWS = [
    {"image": "direct_attributes/sa_4690.jpg",
     "text": "What is the material of the glove?\n(A) rubber\n(B) cotton\n(C) kevlar\n(D) leather\n"
             "Answer with the option's letter from the given choices directly.",
     "category": "direct_attributes", "question_id": 0, "label": "A"},
    {"image": "direct_attributes/sa_86101.jpg",
     "text": "What is the color of the dustpan?\n(A) purple\n(B) red\n(C) blue\n(D) white\n"
             "Answer with the option's letter from the given choices directly.",
     "category": "direct_attributes", "question_id": 1, "label": "C"},
]

# craigwu/vstar_bench direct_attributes/sa_4690.json (fields as the penghao-wu/vstar README documents
# them; target, bbox <x,y,w,h> and question as quoted from that file in a public run log; options in
# the order of test_questions.jsonl row 0, whose answer A is the first: the correct option first)
VSTAR_ANNOTATION = {"target_object": ["glove"], "bbox": [[564, 142, 155, 157]],
                    "question": "What is the material of the glove?",
                    "options": ["rubber", "cotton", "kevlar", "leather"]}

# craigwu/vstar_bench relative_position/sa_41869.json: its question and options in the file's order (the correct one
# first), quoted from XavierZXY/DeepEyes results/qwen2.5_vl_7b/result_relative_position_qwen2.5_vl_7b.jsonl line 1
# (its eval/eval_vstar.py lists a file's options in order and records options[0] as the answer); the file's
# target_object and bbox are not quoted there and are left out (the reader does not read them)
VSTAR_SPATIAL_ANNOTATION = {"question": "Is the cyclist on the left or right side of the sculpture?",
                            "options": ["The cyclist is on the right side of the sculpture.",
                                        "The cyclist is on the left side of the sculpture."]}

# RUCAIBox/POPE output/coco/coco_pope_random.json, lines 1-3 (JSON Lines despite the suffix)
POPE_COCO_LINES = [
    '{"question_id": 1, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a snowboard in the image?", '
    '"label": "yes"}',
    '{"question_id": 2, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a car in the image?", '
    '"label": "no"}',
    '{"question_id": 3, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a person in the image?", '
    '"label": "yes"}',
]

# AoiDragon/POPE output/coco/coco_pope_popular.json and coco_pope_adversarial.json, lines 1-2 each: the COCO
# files as that earlier copy of the release holds them (question_id from 0, an image_id beside the image)
POPE_COCO_EARLIER_LINES = {
    "popular": [
        '{"question_id": 0, "image": "COCO_val2014_000000548882.jpg", "image_id": 548882, "text": "Is there a dining '
        'table in the image?", "label": "yes"}',
        '{"question_id": 1, "image": "COCO_val2014_000000548882.jpg", "image_id": 548882, "text": "Is there a sandwich '
        'in the image?", "label": "yes"}',
    ],
    "adversarial": [
        '{"question_id": 0, "image": "COCO_val2014_000000548882.jpg", "image_id": 548882, "text": "Is there a dining '
        'table in the image?", "label": "yes"}',
        '{"question_id": 1, "image": "COCO_val2014_000000548882.jpg", "image_id": 548882, "text": "Is there a chair in '
        'the image?", "label": "no"}',
    ],
}

# RUCAIBox/POPE output/seem/gqa/gqa_pope_seem_popular.json, its first 3 rows (a JSON list)
POPE_GQA_ROWS = [
    {"question_id": 1, "image": "2405722.jpg", "text": "Is there a bird in the image?", "label": "yes"},
    {"question_id": 2, "image": "2405722.jpg", "text": "Is there a wall in the image?", "label": "yes"},
    {"question_id": 3, "image": "2405722.jpg", "text": "Is there a grass in the image?", "label": "yes"},
]

# HR-Bench 4K (DreamMr/HR-Bench hr_bench_4k.tsv), two questions in their four option cycles, each cell
# quoted verbatim from XavierZXY/DeepEyes results/qwen2.5_vl_7b/result_hr_bench_4k_qwen2.5_vl_7b.jsonl:
# DeepEyes' eval/eval_hrbench.py writes one line per TSV row, in file order, with the row's question,
# answer, category and its A-D cells inside the prompt ("Options: \nA. 27B\nB. 37B..."); its lines 1-4
# (single) and the four "How many computers" lines (cross). ``index``: the rows' positions, as
# Tiamat-Tech/InSight-o3 data/HR-Bench/hrbench_4k.jsonl numbers its 800 rows ("question_id" 0-3 and 408-411
# for these questions). ``cycle_category``: 0-3, the answer A-D of each cycle, the strata
# Miocio-nora/TGVF-E2E-RL src/tgvf_rl/evaluation/deepeyes_dev.py requires of the pinned hr_bench_8k.parquet
# (100 rows for each category, cycle and answer). Not found verbatim: the TSV's column order (the parquet's,
# per that file: index, answer, question, A-D, category, cycle_category, image). The release stores a full
# base64 image in every row (DeepEyes decodes each row's cell); the cross rows here use VLMEvalKit's other
# layout, the index of the row holding the image.
HRBENCH_HEADER = ["index", "question", "A", "B", "C", "D", "answer", "category", "image", "cycle_category"]
HRBENCH_SINGLE = "What is the number displayed above the entrance where the woman is standing?"
HRBENCH_CROSS = "How many computers are visible on the table?"
HRBENCH_ROWS = [
    ["0", HRBENCH_SINGLE, "27B", "37B", "27D", "27E", "A", "single", "IMG0", "0"],
    ["1", HRBENCH_SINGLE, "27E", "27B", "37B", "27D", "B", "single", "IMG0", "1"],
    ["2", HRBENCH_SINGLE, "27E", "27D", "27B", "37B", "C", "single", "IMG0", "2"],
    ["3", HRBENCH_SINGLE, "27E", "37B", "27D", "27B", "D", "single", "IMG0", "3"],
    ["408", HRBENCH_CROSS, "Five computers", "Three computers", "Four computers", "Two computers", "A", "cross",
     "IMG1", "0"],
    ["409", HRBENCH_CROSS, "Three computers", "Five computers", "Two computers", "Four computers", "B", "cross",
     "408", "1"],
    ["410", HRBENCH_CROSS, "Two computers", "Four computers", "Five computers", "Three computers", "C", "cross",
     "408", "2"],
    ["411", HRBENCH_CROSS, "Four computers", "Three computers", "Two computers", "Five computers", "D", "cross",
     "408", "3"],
]
# The same file's ``pred_ans`` of Qwen2.5-VL-7B on those rows (the text of its <answer>), in row order
HRBENCH_QWEN_ANSWERS = ["A. 27B", "B. 27B", "C. 27B", "D. 27B",
                        "B. Three computers", "D. Four computers", "B. Four computers", "A. Four computers"]

# HR-Bench 8K (DreamMr/HR-Bench hr_bench_8k.tsv), its first question in its four option cycles, each cell quoted
# verbatim from XavierZXY/DeepEyes results/hrbench_bs256_step56/result_hr_bench_8k_hrbench_bs256_step56.jsonl lines
# 1-4 (the same eval_hrbench.py, one line per row in file order). Not found verbatim for 8K: index and
# cycle_category, taken as for 4K (the rows' positions; the cycle of each answer A-D).
HRBENCH_8K_ROWS = [
    ["0", HRBENCH_SINGLE, "27B", "27D", "27E", "37B", "A", "single", "IMG0", "0"],
    ["1", HRBENCH_SINGLE, "37B", "27B", "27E", "27D", "B", "single", "IMG0", "1"],
    ["2", HRBENCH_SINGLE, "37B", "27D", "27B", "27E", "C", "single", "IMG0", "2"],
    ["3", HRBENCH_SINGLE, "27E", "27D", "37B", "27B", "D", "single", "IMG0", "3"],
]


# yfzhang114/MME-RealWorld evaluation/output_test_template.json, rows 1-4 (each key and value as in the file,
# with the template's model "Output"; the release's MME_RealWorld.json has the same rows without it)
MME_RW_ROWS = [
    {"Question_id": "Perception/Autonomous_Driving/Objects_Identify/0000", "Question Type": "Multiple Choice",
     "Image": "AutonomousDriving/nuScenes/n008-2018-05-21-11-06-59-0400__CAM_FRONT__1526915269912465.jpg",
     "Text": "This image shows the front view of the ego car. What are objects to the front of the ego car?",
     "Answer choices": [
         "(A) There are many cars, one pedestrian, one bicycle, one motorcycle, two trucks, and one trailer.",
         "(B) There are many pedestrians, many barriers, one car, and one truck.",
         "(C) There are many cars, one truck, and three pedestrians.",
         "(D) There are many cars and one truck.",
         "(E) All the above answers are wrong."],
     "Ground truth": "D", "Task": "Perception", "Subtask": "Autonomous_Driving", "Category": "Objects_Identify",
     "Dataset": "nuScenes", "Output": "D"},
    {"Question_id": "perception/diagram_and_table/diagram/0558", "Image": "diagram_and_table/cons9.jpg",
     "Text": "What is the data of Interest in Feb-23 in the table?", "Question Type": "Multiple Choice",
     "Answer choices": ["(A) 458", "(B) 457", "(C) 456", "(D) 455", "(E) This image doesn't feature the data."],
     "Ground truth": "B", "Category": "diagram", "Subtask": "Diagram and Table", "Task": "Perception",
     "Output": "A"},
    {"Question_id": "perception/monitoring/Vehicle/counting/0310",
     "Image": "monitoring_images/9999998_00382_d_0000334.jpg",
     "Text": "What is the number of buses in the image?", "Question type": "Multiple Choice",
     "Answer choices": ["(A) 13", "(B) 90", "(C) 77", "(D) 6", "(E) The image does not feature the buses"],
     "Ground truth": "E", "Category": "Vehicle/counting", "Subtask": "Monitoring", "Task": "Perception",
     "Output": "E"},
    {"Question_id": "reasoning/diagram_and_table/diagram/0020",
     "Image": "diagram_and_table/2_Motorboat_Fleet_Motorboat-Rental-Business-scaled.webp",
     "Text": "Which motorboat category has the highest value of 'Avg. Rides/Motorboat/Day', according to the "
             "'Avg. Rides per Motorboat per Day' diagram?", "Question Type": "Multiple Choice",
     "Answer choices": ["(A) Center Console Boats", "(B) Deck Boats", "(C) Jet Skis", "(D) Pontoon Boats",
                        "(E) The image does not feature the number."],
     "Ground truth": "C", "Category": "diagram", "Subtask": "Diagram and Table", "Task": "Reasoning",
     "Output": "D"},
]

# MME-RealWorld's other layouts, holding MME_RW_ROWS' values. VLMEvalKit (vlmeval/dataset/image_mcq.py,
# MMERealWorld.load_data) writes MME-RealWorld.tsv from yifanzhang114/MME-RealWorld-Base64's rows: index, image,
# question, "multi-choice options" ("The choices are listed below:\n" and the options a line), A-E (each option
# without its "(X) "), answer, category, l2-category; it reads that repository's mme_realworld_lite.tsv with the
# options as a Python list in "multi-choice options" (the Lite file's other columns are not named there: these are
# assumed). The Hub copies lmms-eval reads (yifanzhang114/MME-RealWorld-Lmms-eval, -lite-lmms-eval,
# data/train-*.parquet; lmms_eval/tasks/mme_realworld/utils.py) hold index, question, "multi-choice options" (the
# list), answer, category (Task/Subtask: "Perception/Monitoring", as the readers of the Lite copy filter it),
# l2-category (the release's Category) and the image as base64 text in "bytes". Not found: the index of these
# questions in those files (here their position).
def mme_realworld_fields(i: int, row: dict) -> dict:
    """Release row ``i`` under the field names of the TSV and the Hub copies (options: the release's list)."""
    return {"index": i, "question": row["Text"], "multi-choice options": row["Answer choices"],
            "answer": row["Ground truth"], "category": f"{row['Task']}/{row['Subtask']}",
            "l2-category": row["Category"]}


# TreeBench.tsv (HaochenWang/TreeBench) rows 8, 142, 286, 327 and 330: ``index``, ``question``, ``answer``,
# ``category``, ``target_instances`` and the ``multi-choice options`` text quoted verbatim from
# Tiamat-Tech/InSight-o3 data/TreeBench/treebench.jsonl, the 405 rows in TSV order ("question_id" = index,
# "options" = the options text: the index, answer and layout of rows 142 and 330 match what the tests of a
# VLMEvalKit-based reader of the release say of them; that file's repository was not identified). Chosen for the
# text's forms: one option a line (8), an OCR row whose options are only in that text and the picture (142),
# letters without a period (286), a letter repeated (327), two options on one line (330). Written for the tests:
# the A-D cells (the text's lines without their letters; empty for the OCR rows, as that reader says they are;
# row 330's shifted as it describes the defect: option B at the end of A, D missing), the column order, and one
# 2250x1500 image (the boxes are in its pixels) that row 8 holds and the others name by index.
TREEBENCH_HEADER = ["index", "image", "question", "A", "B", "C", "D", "answer", "category", "target_instances",
                    "multi-choice options"]
TREEBENCH_ROWS = [
    ["8", "IMG", "From the perspective of the red car, in which direction is the man walking a dog on the left side "
                 "of the image located?", "Front left", "Front right", "Left rear", "Right rear", "B",
     "Reasoning/Perspective Transform", "[[231.0, 679.0, 278.0, 777.0], [554.0, 695.0, 626.0, 736.0]]",
     "A. Front left\nB. Front right\nC. Left rear\nD. Right rear"],
    ["142", "8", "Recognize the question and options in the image and answer it.", "", "", "", "", "D",
     "Perception/OCR", "[[1379.0, 893.0, 2000.0, 1086.0], [1147.0, 1050.0, 1691.0, 1203.0], "
                       "[50.0, 50.0, 2184.953125, 266.0]]",
     "A. The front section of the ferry\nB. The middle section of the ferry \nC. The rear section of the ferry "
     "\nD. No part of the ferry is occluded by the structure "],
    ["286", "8", "Considering its sheen, slight imperfections, and the way light reflects off it, what is the most "
                 "likely material and surface finish of the large, cylindrical pot situated in the lower right "
                 "section of the image, partially visible behind the glass enclosure?",
     "Cast iron", "Polished copper with a high-gloss, reddish finish", "Stainless steel with a brushed",
     "Ceramic with a smooth, glazed white coating", "C", "Perception/Material", "[[1722.0, 1175.0, 2249.0, 1469.0]]",
     "A Cast iron \nB Polished copper with a high-gloss, reddish finish\nC Stainless steel with a brushed \n"
     "D Ceramic with a smooth, glazed white coating"],
    ["327", "8", "Recognize the question and options in the image and answer it.", "", "", "", "", "C",
     "Perception/OCR", "[[439.0, 940.0, 574.0, 1086.0], [50.0, 50.0, 2025.96875, 266.0]]",
     "A. Fully closed and latched\nB. Completely detached and lying beside the chest\nC. Propped open at an acute "
     "angle\nC. Open flat, parallel to the floor"],
    ["330", "8", "What is the physical posture of the boy in the red shirt on the grassy hill at the far top left?",
     "He is standing and watching the performance. B. He is lying down flat on the grass.",
     "He is in the middle of running down the hill.", "He is sitting with his knees bent.", "", "D",
     "Perception/Physical State", "[[124.0, 491.0, 172.0, 561.0]]",
     "A. He is standing and watching the performance. B. He is lying down flat on the grass. \nC. He is in the "
     "middle of running down the hill. \nD. He is sitting with his knees bent."],
]


# Mini-o3/VisualProbe_Hard val.json, four of its 106 rows in file order (the 1st-3rd and the 49th), their values
# quoted verbatim from Tiamat-Tech/InSight-o3 data/VisualProbe_Hard/visual_probe_hard.jsonl, a conversion of that
# file: its "question_id", "image", "question", "answer" and "category" are the rows' doc_id, images[0], problem
# (without the "<image>\n" Mini-o3's docs/mini_o3_demo.md requires it to begin with, put back here), solution and
# data_source (the keys of the demo's input format). The image paths name the folder above the level's, where
# Mini-o3's loader joins them to BASE_IMAGE_DIR (verl/utils/dataset/multimodal_dataset.py); the level's Hub
# repository holds them as data/visual_probe_hard_<n>.jpg (readers of those repositories strip that folder). No
# Easy or Medium row was found (searched: Mini-o3 and its forks, "visual_probe_easy" rows, readers' tests).
VISUALPROBE_ROWS = {
    "VisualProbe_Hard": [
        {"images": ["VisualProbe_Hard/data/visual_probe_hard_60.jpg"], "doc_id": "visual_probe_hard_60",
         "problem": "<image>\nWhat is the color of the lampshade on the left side of the piano?", "solution": "White.",
         "data_source": "visual_probe_hard"},
        {"images": ["VisualProbe_Hard/data/visual_probe_hard_20.jpg"], "doc_id": "visual_probe_hard_20",
         "problem": '<image>\nWhat is the line of English where the dark yellow "YE" is located?',
         "solution": "YE OLDE.", "data_source": "visual_probe_hard"},
        {"images": ["VisualProbe_Hard/data/visual_probe_hard_65.jpg"], "doc_id": "visual_probe_hard_65",
         "problem": "<image>\nWhat color is the body of the butterfly with black wings?", "solution": "brown",
         "data_source": "visual_probe_hard"},
        {"images": ["VisualProbe_Hard/data/visual_probe_hard_69.jpg"], "doc_id": "visual_probe_hard_69",
         "problem": "<image>\nHow many people are sitting on the wooden chairs?", "solution": "two",
         "data_source": "visual_probe_hard"},
    ],
}


def b64_png(width: int = 64, height: int = 48, color=(120, 80, 200)) -> str:
    """A PNG as VLMEvalKit stores it in a TSV cell."""
    from eval_fixtures import png_bytes

    return base64.b64encode(png_bytes(width, height, color)).decode()


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A TSV as pandas ``to_csv(sep="\\t", index=False)`` writes it (minimal quoting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def build_vstar(root: Path) -> Path:
    """The release folder: test_questions.jsonl and the images it names."""
    for i, row in enumerate(VSTAR_ROWS):
        write_image(root / row["image"], 96, 72, color=(40 * i, 90, 160))
    (root / "test_questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in VSTAR_ROWS), encoding="utf-8")
    return root


def build_vstar_folders(root: Path) -> Path:
    """The release's per-image layout: direct_attributes/sa_4690.jpg beside sa_4690.json, and
    relative_position/sa_41869.jpg beside sa_41869.json."""
    for name, annotation in (("direct_attributes/sa_4690", VSTAR_ANNOTATION),
                             ("relative_position/sa_41869", VSTAR_SPATIAL_ANNOTATION)):
        write_image(root / f"{name}.jpg", 96, 72)
        (root / f"{name}.json").write_text(json.dumps(annotation), encoding="utf-8")
    return root


def build_pope(root: Path) -> Path:
    """POPE's output/ folder with a COCO (JSON Lines) and a GQA (JSON list) file, and their images."""
    (root / "coco").mkdir(parents=True)
    (root / "coco" / "coco_pope_random.json").write_text("\n".join(POPE_COCO_LINES) + "\n", encoding="utf-8")
    (root / "seem" / "gqa").mkdir(parents=True)
    (root / "seem" / "gqa" / "gqa_pope_seem_popular.json").write_text(json.dumps(POPE_GQA_ROWS, indent=4),
                                                                     encoding="utf-8")
    write_image(root / "val2014" / "COCO_val2014_000000310196.jpg")
    write_image(root / "images" / "2405722.jpg", color=(10, 200, 10))
    return root


def build_hrbench(root: Path) -> Path:
    """hr_bench_4k.tsv: the single rows each hold the base64 image, the cross rows refer to row 408's."""
    images = {"IMG0": b64_png(80, 45, (200, 0, 0)), "IMG1": b64_png(80, 45, (0, 0, 200))}
    rows = [[images.get(cell, cell) for cell in row] for row in HRBENCH_ROWS]
    return write_tsv(root / "hr_bench_4k.tsv", HRBENCH_HEADER, rows)


def build_hrbench_snapshot(root: Path) -> Path:
    """The DreamMr/HR-Bench repository as downloaded: ``hr_bench_4k.parquet`` (HRBENCH_ROWS) and
    ``hr_bench_8k.parquet`` (HRBENCH_8K_ROWS) in the parquet's column order, ``index`` and ``cycle_category``
    numbers, every row holding its question's picture as base64 (the cycles of a question, the same bytes)."""
    import pandas as pd

    root.mkdir(parents=True, exist_ok=True)
    order = ["index", "answer", "question", "A", "B", "C", "D", "category", "cycle_category", "image"]
    for name, rows, size in (("hr_bench_4k", HRBENCH_ROWS, (80, 45)), ("hr_bench_8k", HRBENCH_8K_ROWS, (160, 90))):
        frame = pd.DataFrame(rows, columns=HRBENCH_HEADER)[order]
        frame["index"], frame["cycle_category"] = frame["index"].astype(int), frame["cycle_category"].astype(int)
        frame["image"] = frame["question"].map({HRBENCH_SINGLE: b64_png(*size, (200, 0, 0)),
                                                HRBENCH_CROSS: b64_png(*size, (0, 0, 200))})
        frame.to_parquet(root / f"{name}.parquet", index=False)
    return root


def build_mme_realworld(root: Path, lite: bool = False) -> Path:
    """The release JSON (the template's rows) and an image at each row's path; ``lite``: as the Lite release's
    data.zip holds them, ``MME-RealWorld-Lite.json`` beside ``imgs/``."""
    for i, row in enumerate(MME_RW_ROWS):
        write_image(root / ("imgs" if lite else "") / row["Image"], 64, 48, color=(30 * i, 60, 90))  # .jpg, .webp
    path = root / ("MME-RealWorld-Lite.json" if lite else "MME_RealWorld.json")
    path.write_text(json.dumps(MME_RW_ROWS, indent=4), encoding="utf-8")
    return path


def build_mme_realworld_tsv(root: Path, lite: bool = False) -> Path:
    """``MME-RealWorld.tsv`` of MME_RW_ROWS, or ``mme_realworld_lite.tsv`` (the options only as a Python list)."""
    header = ["index", "image", "question", "multi-choice options", *([] if lite else "ABCDE"), "answer", "category",
              "l2-category"]
    rows = []
    for i, release_row in enumerate(MME_RW_ROWS):
        row = mme_realworld_fields(i, release_row)
        options = row["multi-choice options"]
        listed = repr(options) if lite else "The choices are listed below:\n" + "\n".join(options)
        rows.append([str(i), b64_png(64, 48, (30 * i, 60, 90)), row["question"], listed,
                     *([] if lite else [option[4:] for option in options]), row["answer"], row["category"],
                     row["l2-category"]])
    return write_tsv(root / ("mme_realworld_lite.tsv" if lite else "MME-RealWorld.tsv"), header, rows)


def build_mme_realworld_hub(root: Path) -> Path:
    """lmms-eval's Hub copy of MME_RW_ROWS: ``data/train-00000-of-00001.parquet``, the image base64 in ``bytes``."""
    import datasets
    from eval_fixtures import write_hub_snapshot

    text = datasets.Value("string")
    features = {"index": datasets.Value("int64"), "question": text, "multi-choice options": datasets.Sequence(text),
                "answer": text, "category": text, "l2-category": text, "bytes": text}
    rows = [mme_realworld_fields(i, row) for i, row in enumerate(MME_RW_ROWS)]
    columns = {name: [row[name] for row in rows] for name in features if name != "bytes"}
    columns["bytes"] = [b64_png(64, 48, (30 * i, 60, 90)) for i in range(len(rows))]
    return write_hub_snapshot(root, features, {"train": columns})


def build_treebench(root: Path) -> Path:
    """TreeBench.tsv with one base64 image (2250x1500) that row 8 holds and the others name."""
    rows = [[b64_png(2250, 1500) if cell == "IMG" else cell for cell in row] for row in TREEBENCH_ROWS]
    return write_tsv(root / "TreeBench.tsv", TREEBENCH_HEADER, rows)


def build_treebench_hub(root: Path) -> Path:
    """TREEBENCH_ROWS as ``load_dataset("HaochenWang/TreeBench")`` reads the TSV (split ``train``, ``index`` a
    number, an empty cell null), written as a Hub parquet; each row holds its own base64 picture (2250x1500), as
    the release's rows do."""
    import datasets
    from eval_fixtures import write_hub_snapshot

    features = {name: datasets.Value("int64" if name == "index" else "string") for name in TREEBENCH_HEADER}
    columns = {name: [row[i] or None for row in TREEBENCH_ROWS] for i, name in enumerate(TREEBENCH_HEADER)}
    columns["index"] = [int(row[0]) for row in TREEBENCH_ROWS]
    columns["image"] = [b64_png(2250, 1500, (40 * i, 90, 160)) for i in range(len(TREEBENCH_ROWS))]
    return write_hub_snapshot(root, features, {"train": columns})


def build_visualprobe(root: Path) -> Path:
    """Mini-o3's layout under ``root`` (its ``BASE_IMAGE_DIR``): ``VisualProbe_Hard/val.json`` and the images
    it names (the other levels' folders are left out)."""
    for folder, rows in VISUALPROBE_ROWS.items():
        (root / folder).mkdir(parents=True)
        (root / folder / "val.json").write_text(json.dumps(rows), encoding="utf-8")
        for row in rows:
            write_image(root / row["images"][0], 120, 90)
    return root


def build_visualprobe_hub(root: Path) -> Path:
    """VISUALPROBE_ROWS' Hard rows as a parquet with the val.json's columns, each image embedded in ``images``
    (split ``validation``, as ``datasets`` names a val file). No such copy was found published: the level's Hub
    repository is the val.json and data/ (:func:`build_visualprobe`'s ``VisualProbe_Hard`` folder)."""
    import datasets
    from eval_fixtures import png_bytes, write_hub_snapshot

    rows = VISUALPROBE_ROWS["VisualProbe_Hard"]
    text = datasets.Value("string")
    features = {"images": datasets.Sequence(datasets.Image()), "doc_id": text, "problem": text, "solution": text,
                "data_source": text}
    columns = {name: [row[name] for row in rows] for name in features if name != "images"}
    columns["images"] = [[{"bytes": png_bytes(120, 90), "path": None}] for _ in rows]
    return write_hub_snapshot(root, features, {"validation": columns})


def build_visualprobe_train(root: Path) -> Path:
    """Mini-o3's training layout (its README's ``VISUALPROBE_TRAIN_DATA``): ``VisualProbe_train/train.json``
    with the val rows' fields, images under ``root`` (``BASE_IMAGE_DIR``); a row whose image is missing. The
    image names are the release's form (``VisualProbe_train/data/visual_probe_train_7.jpg``, the example two of
    its readers give); the questions and answers are written for the tests (no train row was found)."""
    rows = [{"problem": "<image>\nWhat is written on the blue sign?",
             "images": ["VisualProbe_train/data/visual_probe_train_7.jpg"], "solution": "Exit"},
            {"problem": "What colour is the kite?", "images": ["VisualProbe_train/data/visual_probe_train_8.jpg"],
             "solution": "red"}]
    write_image(root / "VisualProbe_train" / "data" / "visual_probe_train_7.jpg", 120, 90)
    (root / "VisualProbe_train" / "train.json").write_text(json.dumps(rows), encoding="utf-8")
    return root / "VisualProbe_train" / "train.json"


HIGHRES_BUILDERS = {"vstar": build_vstar, "pope": build_pope, "mme_realworld": build_mme_realworld,
                    "visualprobe": build_visualprobe}  # layouts that need no media cache
