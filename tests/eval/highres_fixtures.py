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

# RUCAIBox/POPE output/coco/coco_pope_random.json, lines 1-3 (JSON Lines despite the suffix)
POPE_COCO_LINES = [
    '{"question_id": 1, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a snowboard in the image?", '
    '"label": "yes"}',
    '{"question_id": 2, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a car in the image?", '
    '"label": "no"}',
    '{"question_id": 3, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a person in the image?", '
    '"label": "yes"}',
]

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
# (single) and the four "How many computers" lines (cross). Not in that file, so written for the tests:
# ``index`` and ``cycle_category`` (the cycle each row belongs to, as VLMEvalKit's and lmms-eval's
# readers group them). The release stores a full base64 image in every row (DeepEyes decodes each
# row's cell); the cross rows here use VLMEvalKit's other layout, the index of the row holding the image.
HRBENCH_HEADER = ["index", "question", "A", "B", "C", "D", "answer", "category", "image", "cycle_category"]
HRBENCH_SINGLE = "What is the number displayed above the entrance where the woman is standing?"
HRBENCH_CROSS = "How many computers are visible on the table?"
HRBENCH_ROWS = [
    ["0", HRBENCH_SINGLE, "27B", "37B", "27D", "27E", "A", "single", "IMG0", "cycle1"],
    ["1", HRBENCH_SINGLE, "27E", "27B", "37B", "27D", "B", "single", "IMG0", "cycle2"],
    ["2", HRBENCH_SINGLE, "27E", "27D", "27B", "37B", "C", "single", "IMG0", "cycle3"],
    ["3", HRBENCH_SINGLE, "27E", "37B", "27D", "27B", "D", "single", "IMG0", "cycle4"],
    ["4", HRBENCH_CROSS, "Five computers", "Three computers", "Four computers", "Two computers", "A", "cross",
     "IMG1", "cycle1"],
    ["5", HRBENCH_CROSS, "Three computers", "Five computers", "Two computers", "Four computers", "B", "cross",
     "4", "cycle2"],
    ["6", HRBENCH_CROSS, "Two computers", "Four computers", "Five computers", "Three computers", "C", "cross",
     "4", "cycle3"],
    ["7", HRBENCH_CROSS, "Four computers", "Three computers", "Two computers", "Five computers", "D", "cross",
     "4", "cycle4"],
]
# The same file's ``pred_ans`` of Qwen2.5-VL-7B on those rows (the text of its <answer>), in row order
HRBENCH_QWEN_ANSWERS = ["A. 27B", "B. 27B", "C. 27B", "D. 27B",
                        "B. Three computers", "D. Four computers", "B. Four computers", "A. Four computers"]


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

# TreeBench.tsv columns as HaochenWang/TreeBench's readers use them (Haochen-Wang409/TreeVGR
# inference_treebench.py, VLMEvalKit image_mcq.py TreeBench: index, image, question, A-E, answer,
# category "Perception/..."|"Reasoning/...", target_instances a Python list of x1,y1,x2,y2 boxes). The
# released rows are not in any public repository; these are written for the tests. Searched: the TreeVGR
# README (its ten category names and per-category counts only), copies of inference_treebench.py (whose prompt
# is the question + " Options:\n" + the row's "multi-choice options" text), "target_instances" rows. Row 2 has
# its options only in that text (empty A-E cells), as a question whose options are in the picture may.
TREEBENCH_HEADER = ["index", "image", "question", "A", "B", "C", "D", "answer", "category", "target_instances",
                    "multi-choice options"]
TREEBENCH_ROWS = [
    ["0", "IMG", "What is the color of the cup left of the laptop?", "red", "white", "blue", "green", "B",
     "Perception/Attributes", "[[10, 10, 30, 30]]", "A. red\nB. white\nC. blue\nD. green"],
    ["1", "0", "Which object is closer to the camera?", "the chair", "the lamp", "", "", "A",
     "Reasoning/Perspective Transform", "[[0, 0, 20, 20], [40, 20, 60, 40]]", "A. the chair\nB. the lamp"],
    ["2", "0", "Recognize the question and options in the image and answer it.", "", "", "", "", "C",
     "Perception/OCR", "[[50, 40, 90, 70]]", "A. 12\nB. 21\nC. 112\nD. 121"],
]


# VisualProbe_<Level>/val.json rows with the fields Mini-o3's loader reads (Mini-o3/Mini-o3
# verl/utils/dataset/multimodal_dataset.py: problem, images, solution); the released rows are not in
# any public repository (searched: the Mini-o3 forks' VisualProbe notes and preprocess_visualprobe.py, which
# read problem/question, images, solution/answer, doc_id; "VisualProbe_Hard" paths). Readers of the Hub repos
# (Mini-o3/VisualProbe_<Level>: val.json + data/*.jpg) take doc_id and data_source from every row and find the
# image at "VisualProbe_<Level>/data/<file>" under the base folder, the layout written here. The first question
# and its answer are the example of Mini-o3's verl/utils/reward_score/general_qa_tool.py.
VISUALPROBE_ROWS = {
    "VisualProbe_Hard": [{"doc_id": 0, "problem": "<image>\nWhat is the name of the store with a blue sign?",
                          "images": ["VisualProbe_Hard/data/0.jpg"], "solution": "Jptica",
                          "data_source": "visual_probe_hard"}],
    "VisualProbe_Easy": [{"doc_id": 0, "problem": "What colour is the umbrella of the man on the bench?",
                          "images": ["VisualProbe_Easy/data/0.jpg"], "solution": "<answer>Red</answer>",
                          "data_source": "visual_probe_easy"},
                         {"doc_id": 1, "problem": "How many bikes are parked by the door?",
                          "images": ["VisualProbe_Easy/data/1.jpg"], "solution": "3",
                          "data_source": "visual_probe_easy"}],
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
    """The release's per-image layout: direct_attributes/sa_4690.jpg beside sa_4690.json."""
    write_image(root / "direct_attributes" / "sa_4690.jpg", 96, 72)
    (root / "direct_attributes" / "sa_4690.json").write_text(json.dumps(VSTAR_ANNOTATION), encoding="utf-8")
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
    """hr_bench_4k.tsv: the single rows each hold the base64 image, the cross rows refer to row 4's."""
    images = {"IMG0": b64_png(80, 45, (200, 0, 0)), "IMG1": b64_png(80, 45, (0, 0, 200))}
    rows = [[images.get(cell, cell) for cell in row] for row in HRBENCH_ROWS]
    return write_tsv(root / "hr_bench_4k.tsv", HRBENCH_HEADER, rows)


def build_mme_realworld(root: Path) -> Path:
    """The release JSON (the template's rows) and an image at each row's path."""
    for i, row in enumerate(MME_RW_ROWS):
        write_image(root / row["Image"], 64, 48, color=(30 * i, 60, 90))  # .jpg and .webp, by suffix
    path = root / "MME_RealWorld.json"
    path.write_text(json.dumps(MME_RW_ROWS, indent=4), encoding="utf-8")
    return path


def build_treebench(root: Path) -> Path:
    """TreeBench.tsv with one base64 image (100x80) shared by both rows."""
    rows = [[b64_png(100, 80) if cell == "IMG" else cell for cell in row] for row in TREEBENCH_ROWS]
    return write_tsv(root / "TreeBench.tsv", TREEBENCH_HEADER, rows)


def build_visualprobe(root: Path) -> Path:
    """The three-folder layout (two levels here) with images under the same root."""
    for folder, rows in VISUALPROBE_ROWS.items():
        (root / folder).mkdir(parents=True)
        (root / folder / "val.json").write_text(json.dumps(rows), encoding="utf-8")
        for row in rows:
            write_image(root / row["images"][0], 120, 90)
    return root


def build_visualprobe_train(root: Path) -> Path:
    """Mini-o3's training layout (its README's ``VISUALPROBE_TRAIN_DATA``): ``VisualProbe_train/train.json``
    with the val rows' fields, images under ``root`` (``BASE_IMAGE_DIR``); a row whose image is missing."""
    rows = [{"problem": "<image>\nWhat is written on the blue sign?", "images": ["VisualProbe_train/data/0.jpg"],
             "solution": "Exit"},
            {"problem": "What colour is the kite?", "images": ["VisualProbe_train/data/missing.jpg"], "solution": "red"}]
    write_image(root / "VisualProbe_train" / "data" / "0.jpg", 120, 90)
    (root / "VisualProbe_train" / "train.json").write_text(json.dumps(rows), encoding="utf-8")
    return root / "VisualProbe_train" / "train.json"


HIGHRES_BUILDERS = {"vstar": build_vstar, "pope": build_pope, "mme_realworld": build_mme_realworld,
                    "visualprobe": build_visualprobe}  # layouts that need no media cache
