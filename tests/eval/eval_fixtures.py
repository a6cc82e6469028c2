"""Benchmark data in each official release format, written by the tests themselves.

Each ``build_<benchmark>(dir)`` writes a tiny but faithful copy of the release layout and
returns the path ``vlmr eval run --data`` takes. ``BUILDERS`` maps benchmark name ->
(builder, options) for the end-to-end tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

from vlmr.schema import DatasetWriter, Sample


def write_image(path: Path, width: int = 64, height: int = 48, color=(120, 80, 200), box=None) -> Path:
    """An RGB image with an optional white rectangle ``box`` (x1, y1, x2, y2)."""
    pixels = np.full((height, width, 3), color, np.uint8)
    if box:
        x1, y1, x2, y2 = box
        pixels[y1:y2, x1:x2] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def write_video(path: Path, seconds: float = 5.0, fps: int = 4, size=(64, 48)) -> Path:
    """A small mp4 whose brightness rises frame by frame."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(int(seconds * fps)):
        writer.write(np.full((size[1], size[0], 3), (i * 12) % 255, np.uint8))
    writer.release()
    return path


def build_mathvista(root: Path) -> Path:
    """testmini.json (dict keyed by pid) + images/."""
    problems = {
        "1": {"question": "What fraction of the shape is blue?", "image": "images/1.png",
              "choices": ["3/11", "8/11", "6/11", "3/5"], "unit": None, "precision": None, "answer": "8/11",
              "question_type": "multi_choice", "answer_type": "text",
              "metadata": {"split": "testmini", "source": "IconQA", "category": "math-targeted-vqa",
                           "task": "textbook question answering", "context": "abstract scene", "grade": "elementary school",
                           "language": "english", "skills": ["arithmetic reasoning"], "img_width": 64, "img_height": 48}},
        "2": {"question": "Which number is missing?", "image": "images/2.png", "choices": None, "unit": None,
              "precision": None, "answer": "-3", "question_type": "free_form", "answer_type": "integer",
              "metadata": {"split": "testmini", "source": "FunctionQA", "category": "math-targeted-vqa",
                           "task": "math word problem", "context": "function plot", "grade": "high school",
                           "language": "english", "skills": ["algebraic reasoning", "arithmetic reasoning"],
                           "img_width": 64, "img_height": 48}},
        "3": {"question": "What is the fraction of females facing the camera?", "image": "images/3.png",
              "choices": None, "unit": None, "precision": 1.0, "answer": "1.1", "question_type": "free_form",
              "answer_type": "float",
              "metadata": {"split": "testmini", "source": "VQA2.0", "category": "general-vqa",
                           "task": "visual question answering", "context": "natural image", "grade": "daily life",
                           "language": "english", "skills": ["arithmetic reasoning"], "img_width": 64, "img_height": 48}},
        "4": {"question": "Between which two years was the peak?", "image": "images/4.png", "choices": None,
              "unit": None, "precision": None, "answer": "[2007, 2008]", "question_type": "free_form",
              "answer_type": "list",
              "metadata": {"split": "testmini", "source": "ChartQA", "category": "general-vqa",
                           "task": "figure question answering", "context": "line plot", "grade": "daily life",
                           "language": "english", "skills": ["statistical reasoning"], "img_width": 64, "img_height": 48}},
    }  # fmt: skip
    for pid in problems:
        write_image(root / f"images/{pid}.png")
    (root / "testmini.json").write_text(json.dumps(problems))
    return root


def square(x1, y1, x2, y2):
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]


def build_reasonseg(root: Path) -> Path:
    """val/ with NAME.jpg + LabelMe NAME.json (target, ignore and flag shapes)."""
    split = root / "val"
    anns = {
        "img_a": {"text": ["the thing people sit on when they are tired", "x"], "is_sentence": True,
                  "shapes": [{"label": "target", "points": square(10, 10, 30, 30), "shape_type": "polygon"},
                             {"label": "ignore", "points": square(20, 20, 30, 30), "shape_type": "polygon"},
                             {"label": "flag", "points": square(0, 0, 63, 47), "shape_type": "polygon"}]},
        "img_b": {"text": ["the cup"], "is_sentence": False,
                  "shapes": [{"label": "target", "points": square(40, 5, 60, 25), "shape_type": "polygon"}]},
    }  # fmt: skip
    for name, ann in anns.items():
        write_image(split / f"{name}.jpg", box=(10, 10, 30, 30))
        (split / f"{name}.json").write_text(json.dumps({**ann, "imageWidth": 64, "imageHeight": 48}))
    return split


def build_refcoco(root: Path) -> Path:
    """VLM-R1 style refcoco_val.json + COCO images."""
    rows = [
        {"image": "COCO_train2014_000000000001.jpg", "normal_caption": "white square", "solution": [10, 10, 30, 30]},
        {"image": "COCO_train2014_000000000002.jpg", "problem": "the left thing", "solution": [0, 0, 20, 40]},
    ]
    for row in rows:
        write_image(root / row["image"], box=(10, 10, 30, 30))
    (root / "refcoco_val.json").write_text(json.dumps(rows))
    return root / "refcoco_val.json"


def build_chartqa(root: Path) -> Path:
    """test/ with test_human.json, test_augmented.json and png/."""
    test = root / "test"
    human = [{"imgname": "a.png", "query": "What is the highest value?", "label": "100"},
             {"imgname": "b.png", "query": "Which color is the bar?", "label": "Blue"}]
    augmented = [{"imgname": "c.png", "query": "What is the difference?", "label": "0"}]
    for name in ("a.png", "b.png", "c.png"):
        write_image(test / "png" / name)
    (test / "test_human.json").write_text(json.dumps(human))
    (test / "test_augmented.json").write_text(json.dumps(augmented))
    return test


def build_countbench(root: Path) -> Path:
    """CountBenchQA-style rows (question + number)."""
    rows = [{"image": "images/0.png", "question": "How many squares are there?", "number": 3},
            {"image": "images/1.png", "question": "How many dogs are there?", "number": 5}]
    for row in rows:
        write_image(root / row["image"])
    (root / "countbench.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root / "countbench.jsonl"


def build_pixmo_count(root: Path) -> Path:
    """PixMo-Count-style rows (label + count)."""
    rows = [{"image": "images/0.png", "label": "cars", "count": 2}]
    write_image(root / "images/0.png")
    (root / "pixmo_count.json").write_text(json.dumps(rows))
    return root / "pixmo_count.json"


# Real Video-MME rows: the first of showlab/livecc README.md (the lmms-lab/Video-MME Hub schema,
# `videoID` included) and question 001-2 of showlab/livecc
# evaluation/videomme/results/LiveCC-7B-Instruct_no_subtitles.json (its `url`/`videoID` as in 001-1).
VIDEOMME_ROWS = [
    {"video_id": "001", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
     "url": "https://www.youtube.com/watch?v=fFjv93ACGo8", "videoID": "fFjv93ACGo8", "question_id": "001-1",
     "task_type": "Counting Problem", "question": "When demonstrating the Germany modern Christmas tree is initially "
     "decorated with apples, candles and berries, which kind of the decoration has the largest number?",
     "options": ["A. Apples.", "B. Candles.", "C. Berries.", "D. The three kinds are of the same number."],
     "answer": "C"},
    {"video_id": "001", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
     "url": "https://www.youtube.com/watch?v=fFjv93ACGo8", "videoID": "fFjv93ACGo8", "question_id": "001-2",
     "task_type": "Information Synopsis", "question": "What is the genre of this video?",
     "options": ["A. It is a news report that introduces the history behind Christmas decorations.",
                 "B. It is a documentary on the evolution of Christmas holiday recipes.",
                 "C. It is a travel vlog exploring Christmas markets around the world.",
                 "D. It is a tutorial on DIY Christmas ornament crafting."], "answer": "A"},
]


def build_videomme(root: Path) -> Path:
    """The Hub copy's layout: videomme/test-00000-of-00001.parquet + data/<videoID>.mp4."""
    import datasets

    write_video(root / "data/fFjv93ACGo8.mp4")
    datasets.Dataset.from_list(VIDEOMME_ROWS).to_parquet(str(root / "videomme/test-00000-of-00001.parquet"))
    return root


# MVBench rows. action_antonym: the row quoted from OpenGVLab/MVBench json/action_antonym.json in
# modelscope/evalscope docs/en/benchmarks/mvbench.md (main branch name .webm; the `video` branch
# renamed it .mp4). action_sequence: the question and candidates the official
# OpenGVLab/Ask-Anything video_chat2/mvbench.ipynb prints for its first sample (clip name,
# start and end made up). episodic_reasoning: a made-up row on a TVQA frame folder.
MVBENCH_ROWS = {
    "action_sequence": [{"video": "ZS9XR.mp4", "question": "What happened after the person took the food?",
                         "candidates": ["Ate the medicine.", "Tidied up the blanket.",
                                        "Put down the cup/glass/bottle.", "Took the box."],
                         "answer": "Ate the medicine.", "start": 0.5, "end": 4.5}],
    "action_antonym": [{"video": "166583.webm", "question": "What is the action performed by the person in the video?",
                        "candidates": ["Not sure", "Scattering something down", "Piling something up"],
                        "answer": "Piling something up"}],
    "episodic_reasoning": [{"video": "castle_s01e01_seg02_clip_00", "question": "Why is Castle smiling?",
                            "candidates": ["He won.", "He lost.", "He slept."], "answer": "He won.",
                            "start": 1.0, "end": 3.0}],
}


def build_mvbench(root: Path) -> Path:
    """The release layout: json/<task>.json + video/<task folder>/<clip> (a frame folder for TVQA)."""
    (root / "json").mkdir(parents=True)
    for task, rows in MVBENCH_ROWS.items():
        (root / "json" / f"{task}.json").write_text(json.dumps(rows))
    write_video(root / "video/star/Charades_v1_480/ZS9XR.mp4")
    write_video(root / "video/ssv2_video/166583.mp4").rename(root / "video/ssv2_video/166583.webm")  # mp4 bytes, .webm name
    for k in range(1, 13):  # 4 s at 3 fps, frames 00001.jpg ... as the official read_frame expects
        write_image(root / f"video/tvqa/frames_fps3_hq/castle_s01e01_seg02_clip_00/{k:05d}.jpg", color=(k * 20, 0, 0))
    return root


def build_charades_sta(root: Path) -> Path:
    """charades_sta_test.txt (its first two lines, microsoft/VideoX MS-2D-TAN/data/Charades-STA/
    charades_sta_test.txt) + Charades_v1_480/."""
    write_video(root / "Charades_v1_480/3MSZA.mp4", seconds=32.0, fps=1)
    (root / "charades_sta_test.txt").write_text(
        "3MSZA 24.3 30.4##person turn a light on.\n3MSZA 24.3 30.4##person flipped the light switch near the door.\n")
    return root


def build_vqa_rad(root: Path) -> Path:
    """VQA_RAD Dataset Public.json + VQA_RAD Image Folder/."""
    rows = [{"qid": 1, "image_name": "synpic1.jpg", "question": "Is there a fracture?", "answer": "Yes",
             "answer_type": "CLOSED", "image_organ": "CHEST", "phrase_type": "test_freeform"},
            {"qid": 2, "image_name": "synpic1.jpg", "question": "Where is the lesion?", "answer": "left lung",
             "answer_type": "OPEN", "image_organ": "CHEST", "phrase_type": "freeform"}]
    write_image(root / "VQA_RAD Image Folder/synpic1.jpg")
    (root / "VQA_RAD Dataset Public.json").write_text(json.dumps(rows))
    return root


def build_slake(root: Path) -> Path:
    """test.json + imgs/ (one English and one Chinese question)."""
    rows = [{"qid": 11, "img_name": "xmlab1/source.jpg", "question": "Is this a CT?", "answer": "Yes",
             "answer_type": "CLOSED", "q_lang": "en", "modality": "CT", "content_type": "Modality"},
            {"qid": 12, "img_name": "xmlab1/source.jpg", "question": "这是CT吗?", "answer": "是",
             "answer_type": "CLOSED", "q_lang": "zh", "modality": "CT", "content_type": "Modality"}]
    write_image(root / "imgs/xmlab1/source.jpg")
    (root / "test.json").write_text(json.dumps(rows, ensure_ascii=False))
    return root


def square_rle(x1: int, y1: int, x2: int, y2: int, height: int = 48, width: int = 64) -> dict:
    """COCO RLE (``counts`` as str) of the pixels ``[y1:y2, x1:x2]``."""
    from vlmr.masks import mask_to_rle

    mask = np.zeros((height, width), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask_to_rle(mask)


def build_dataset(root: Path) -> Path:
    """A vlmr dataset dir mixing every image task the dataset benchmark scores."""
    out = root / "ds"
    with DatasetWriter(out) as w:
        for i, (task, answer, extra) in enumerate([
            ("grounding", {"boxes": [[10, 10, 30, 30]]}, {}),
            ("counting", {"count": 2}, {}),
            ("mcq", {"choice": "B"}, {"choices": ["A. red", "B. blue"]}),
            ("vqa", {"text": "purple"}, {}),
            ("segmentation", {"masks": [square_rle(10, 10, 30, 30)]}, {}),
            ("pointing", {"boxes": [[10, 10, 30, 30]]}, {}),
            ("detection", {"boxes": [[10, 10, 30, 30], [40, 5, 60, 25]]}, {}),
        ]):
            path, rel = w.media_path(f"{i}.png")
            write_image(path, box=(10, 10, 30, 30))
            w.add(Sample(id=f"s{i}", task=task, source="synthetic", question="What is shown?", images=[rel],
                         answer=answer, meta={"width": 64, "height": 48}, **extra))
    return out


# ScanQA rows as `vlmr data build scanqa` writes them. q0 is ScanQA_v1.0_train.json's first row
# (answers ["brown cabinet with tv sitting in it"], object_ids [8], scene0000_00), quoted verbatim in
# a public conversion script's docstring; q1's question and first answer are a ScanQA pair quoted in a
# public few-shot prompt, its second reference made up to test "any reference".
SCANQA_ROWS = [
    ("q0", "What is in the right corner of room by curtains?", ["brown cabinet with tv sitting in it"]),
    ("q1", "What color table is on the left side of the cabinet?", ["light brown", "brown"]),
]


def build_scene3d(root: Path) -> Path:
    """A vlmr dataset dir of ScanQA samples (point cloud + rendered view, every reference answer)."""
    out = root / "scenes"
    with DatasetWriter(out) as w:
        ply, ply_rel = w.media_path("scene0000_00.ply")
        ply.write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                       "property float z\nend_header\n0 0 0\n")
        view, view_rel = w.media_path("scene0000_00.png")
        write_image(view)
        for qid, question, answers in SCANQA_ROWS:
            w.add(Sample(id=qid, task="scene3d_qa", source="scanqa", question=question, images=[view_rel],
                         scene={"path": ply_rel}, answer={"text": answers[0]},
                         meta={"width": 64, "height": 48, "answers": answers, "split": "val"}))
    return out


class ChatServer:
    """A loopback OpenAI-compatible chat server answering every request with ``reply``: a text, or a function
    of the last user message's text returning the reply text or an HTTP status code to fail with.

    Records the text of the last user message of each request in ``prompts``.
    """

    def __init__(self, reply: str | Callable[[str], str | int]):
        self.prompts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                content = body["messages"][-1]["content"]
                if isinstance(content, list):
                    content = "".join(p.get("text", "") for p in content if p.get("type") == "text")
                outer.prompts.append(content)
                text = reply(content) if callable(reply) else reply
                if isinstance(text, int):
                    self.send_response(text)
                    self.end_headers()
                    return
                payload = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                }).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # the judge's requests come concurrently
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


BUILDERS = {
    "mathvista": build_mathvista,
    "reasonseg": build_reasonseg,
    "refcoco": build_refcoco,
    "chartqa": build_chartqa,
    "countbench": build_countbench,
    "pixmo_count": build_pixmo_count,
    "videomme": build_videomme,
    "mvbench": build_mvbench,
    "charades_sta": build_charades_sta,
    "vqa_rad": build_vqa_rad,
    "slake": build_slake,
    "dataset": build_dataset,
    "scene3d": build_scene3d,
}


def png_bytes(width: int = 64, height: int = 48, color=(120, 80, 200)) -> bytes:
    """An encoded PNG of one colour (distinct colours give distinct images)."""
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def write_hub_snapshot(root: Path, features: dict, splits: dict[str, dict[str, list]]) -> Path:
    """A Hub parquet snapshot (``data/<split>-00000-of-00001.parquet``) with the given features.

    ``features`` maps column -> ``datasets`` feature (as the dataset card declares it); ``splits``
    maps split -> column -> values; image values are PNG bytes (or ``None``).
    """
    import datasets

    feats = datasets.Features(features)
    for split, columns in splits.items():
        columns = {name: [_hub_value(feats[name], v) for v in values] for name, values in columns.items()}
        datasets.Dataset.from_dict(columns, features=feats).to_parquet(
            str(root / "data" / f"{split}-00000-of-00001.parquet"))
    return root


def _hub_value(feature, value):
    import datasets

    if isinstance(feature, datasets.Image) and isinstance(value, bytes):
        return {"bytes": value, "path": None}
    return value


from highres_fixtures import HIGHRES_BUILDERS  # noqa: E402  (it builds on the helpers above)

BUILDERS.update(HIGHRES_BUILDERS)
