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

from eval_fixtures import png_bytes, write_image

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

# HR-Bench's TSV columns and values as DreamMr/HR-Bench's and VLMEvalKit's readers use them
# (hrbench/vlmeval/dataset/utils/hrbench.py: category single|cross, cycle_category; lmms-eval
# tasks/hrbench: A-D, answer, index). The question texts are not in any public repository, so
# these rows are written for the tests: one single and one cross question, each in two cycles.
HRBENCH_HEADER = ["index", "question", "A", "B", "C", "D", "answer", "category", "image", "cycle_category"]
HRBENCH_ROWS = [
    ["0", "What is the number on the bus?", "12", "21", "112", "121", "B", "single", "IMG0", "cycle1"],
    ["1", "Which car is closer to the red sign?", "the blue car", "the white car", "the black car",
     "the taxi", "C", "cross", "IMG1", "cycle1"],
    ["200", "What is the number on the bus?", "21", "112", "121", "12", "A", "single", "0", "cycle2"],
    ["201", "Which car is closer to the red sign?", "the white car", "the black car", "the taxi",
     "the blue car", "B", "cross", "1", "cycle2"],
]


def b64_png(width: int = 64, height: int = 48, color=(120, 80, 200)) -> str:
    """A PNG as VLMEvalKit stores it in a TSV cell."""
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
    """hr_bench_4k.tsv with base64 images; the cycle-2 rows refer to the cycle-1 rows' images by index."""
    images = {"IMG0": b64_png(80, 45, (200, 0, 0)), "IMG1": b64_png(80, 45, (0, 0, 200))}
    rows = [[images.get(cell, cell) for cell in row] for row in HRBENCH_ROWS]
    return write_tsv(root / "hr_bench_4k.tsv", HRBENCH_HEADER, rows)


HIGHRES_BUILDERS = {"vstar": build_vstar, "pope": build_pope}  # layouts that need no media cache
