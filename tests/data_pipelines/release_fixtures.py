"""Released tool-RL files, written in their published layouts from rows quoted verbatim from the releases.

Only the text is quoted; the pictures are generated (the released images are not in any repository here),
so each quoted row gets a small image of the size its coordinates need.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

# --- DeepEyes-Datasets-47k ------------------------------------------------------------------------------
# Visual-Agent/DeepEyes verl/workers/agent/envs/mm_process_engine/prompt.py (PROMPT.SYSTEM_PROMPT_V2 and
# USER_PROMPT_V2): the system and user prompts create_train_dataset.py writes into every visual_toolbox_v2 row.
DEEPEYES_SYSTEM = """You are a helpful assistant.

# Tools
You may call one or more functions to assist with the user query.
You are provided with function signatures within <tools></tools> XML tags:
<tools>
{"type":"function","function":{"name":"image_zoom_in_tool","description":"Zoom in on a specific region of an image by cropping it based on a bounding box (bbox) and an optional object label.","parameters":{"type":"object","properties":{"bbox_2d":{"type":"array","items":{"type":"number"},"minItems":4,"maxItems":4,"description":"The bounding box of the region to zoom in, as [x1, y1, x2, y2], where (x1, y1) is the top-left corner and (x2, y2) is the bottom-right corner."},"label":{"type":"string","description":"The name or label of the object in the specified bounding box (optional)."}},"required":["bbox"]}}}
</tools>

# How to call a tool
Return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call>

**Example**:  
<tool_call>  
{"name": "image_zoom_in_tool", "arguments": {"bbox_2d": [10, 20, 100, 200], "label": "the apple on the desk"}}  
</tool_call>"""  # noqa: W291 (trailing spaces as released)
DEEPEYES_USER_SUFFIX = ("\nThink first, call **image_zoom_in_tool** if needed, then answer. Format strictly as:  "
                        "<think>...</think>  <tool_call>...</tool_call> (if tools needed)  <answer>...</answer> ")
# Visual-Agent/DeepEyes verl/utils/reward_score/vl_agent.py, the `extra_info` of its __main__ example: a GQA
# training row (image gqa/images/713270.jpg) with its question and reference answer. The other cells are the
# columns create_train_dataset.py writes. Beyond the prompt of row 0 below, no row of the three parquet files is
# in a public repository (searched: the authors' repo and its forks, "visual_toolbox_v2" rows, "env_name" dumps).
DEEPEYES_QUESTION = "Is the woman to the left or to the right of the man who is holding the camera?"
DEEPEYES_ANSWER = "The woman is to the left of the man who is holding the camera."
# Row 0 of data_0.1.2_visual_toolbox_v2.parquet as XavierZXY/DeepEyes dumped it
# (real_rollout_test/real_eval_v2_20250929_140817: sample_00/conversations.json holds its two messages verbatim,
# basic_info.json its env_name, data_source and image size 364x504, evaluation_summary_v2.json the file and row).
# Its user turn has no "Question:" line, and the dump shows neither its reward_model nor its extra_info: the
# ground truth below is written for the tests and the row is given no extra_info.question.
DEEPEYES_ROW0_USER = "<image>\nIs the car on the left side of the person?" + DEEPEYES_USER_SUFFIX
DEEPEYES_ROW0_ANSWER = "yes"


def png(size=(112, 84), seed=0) -> bytes:
    """A small noise picture, PNG-encoded."""
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def deepeyes_row(index: int, question: str, answer: str, images: list[bytes], split: str = "train") -> dict:
    """One visual_toolbox_v2 row as create_train_dataset.py writes it (user prompt, reward_model, extra_info)."""
    return {
        "data_source": "vstar",
        "prompt": [{"role": "system", "content": DEEPEYES_SYSTEM},
                   {"role": "user", "content": "<image>\n" + "\nQuestion:\n" + question + DEEPEYES_USER_SUFFIX}],
        "images": [{"bytes": data, "path": f"/fs-computility/mabasic/yangminghao/data/gqa/images/{713270 + index}.jpg"}
                   for data in images],
        "ability": "vl",
        "env_name": "visual_toolbox_v2",
        "reward_model": {"style": "rule", "ground_truth": answer},
        "extra_info": {"split": split, "index": index, "answer": answer, "question": question},
    }


def write_deepeyes(folder: Path, *, bad_rows: bool = True, as_image_feature: bool = False,
                   size=(112, 84)) -> Path:
    """``folder/data_0.1.2_visual_toolbox_v2.parquet`` with the released row 0 and the quoted GQA row and, with
    ``bad_rows``, a corrupted image, a row without an image and a row whose prompt is not a message list.

    ``as_image_feature`` re-saves the images column as ``Sequence(Image())`` (the verl recipe's preprocessing);
    otherwise the column is the plain struct ``datasets.Dataset.to_parquet`` writes from the official script.
    """
    import datasets

    row0 = deepeyes_row(0, "", DEEPEYES_ROW0_ANSWER, [png((364, 504), 0)])
    row0["prompt"][1]["content"] = DEEPEYES_ROW0_USER
    row0["extra_info"] = {**row0["extra_info"], "question": None}
    rows = [row0, deepeyes_row(1, DEEPEYES_QUESTION, DEEPEYES_ANSWER, [png(size, 1)])]
    if bad_rows:
        rows += [deepeyes_row(2, DEEPEYES_QUESTION, DEEPEYES_ANSWER, [b"\x89PNG\r\n\x1a\n truncated"]),
                 deepeyes_row(3, DEEPEYES_QUESTION, DEEPEYES_ANSWER, [])]
    ds = datasets.Dataset.from_list(rows)
    if as_image_feature:
        ds = ds.cast_column("images", datasets.Sequence(datasets.Image()))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "data_0.1.2_visual_toolbox_v2.parquet"
    ds.to_parquet(str(path))
    if bad_rows:  # a row whose prompt is a string: another schema, so its own file
        datasets.Dataset.from_list([{**rows[0], "prompt": "<image>\nno messages"}]).to_parquet(
            str(folder / "malformed.parquet"))
    return path


# --- Mini-o3 cold start ---------------------------------------------------------------------------------
# youthHan/Mini-o3 (a mirror of Mini-o3/Mini-o3) verl/trainer/constants.py: TOOL_CROP_SYSTEM_PROMPT and
# TOOL_CALL_CROP_MULTI_TRUN_PROMPT (the observation turn; its vision tokens written as the <image> placeholder
# of the ShareGPT files LLaMA-Factory reads, see the authors' scripts/preprocess_coldstart.py), numbered as
# Mini-o3/Mini-o3 verl/workers/rollout/vllm_rollout/vllm_async_engine.py fills it: action_turn = the call's
# 0-based number, observation_turn = action_turn + 1 ("After the above Action 0, ... (Observation 1)", as the
# preprocess_coldstart_sft test of dddraxxx/Mini-o3 writes it too). One image a placeholder (the original, then
# each observation), named in image_names: LLaMA-Factory pairs them with the placeholders and the preprocess
# script saves images[i] as image_names[i]. The questions, trajectories and names are written for the tests: no
# cold-start row is in a public repository (searched: Mini-o3 and its forks, their preprocess_coldstart tests,
# "here is the the zoom-in image (Observation 1)", "minio3_coldstart_0/", the Hub card and commit pages).
MINI_O3_SYSTEM = (
    "You are a helpful assistant. Answer the user's question based on the image provided. Output your thinking "
    "process within the <think> and </think> tags. Whenever you find anything unclear, you can zoom in a specific "
    "region in the given image to see more clearly by outputing <grounding>{\"bbox_2d\": [x0, y0, x1, y1], "
    "\"source\": \"original_image\"}</grounding>, where (x0, y0) and (x1, y1) are the top-left and bottom-right "
    "coordinates of the region that you want to zoom in, respectively (suppose the width and height of the image "
    "are 1.0), and 'source' refers to the image that you zoom in and could be either 'original_image' or "
    "'observation_i'. Once the final answer is confirmed, put it within <answer> and </answer>.")
MINI_O3_OBSERVATION = (
    "After the above Action {action_turn}, here is the the zoom-in image (Observation {observation_turn}):\n"
    "<image>.\nContinue your reasoning process inside <think> and </think>. If needed, you can continue to zoom in "
    "on the original image or any of the observations, by outputting <grounding> and </grounding> as before. If "
    "the final answer is confirmed, put your final answer inside <answer> and </answer>.")


def grounding(box, source="original_image") -> str:
    return '<grounding>{"bbox_2d": ' + json.dumps(box) + ', "source": "' + source + '"}</grounding>'


def mini_o3_conversation(question: str, gpt_turns: list[str], as_json: bool = False) -> str:
    """A ShareGPT conversation as the release stores it: the text of a Python list of turns (the authors'
    preprocess_coldstart.py ``eval``s it), or with ``as_json`` its JSON text (the form other readers of the set
    take it in: dddraxxx/Mini-o3 examples/minio3/preprocess_coldstart_sft.py and its test ``json.loads`` it)."""
    turns = [{"from": "system", "value": MINI_O3_SYSTEM}, {"from": "human", "value": "<image>\n" + question}]
    for i, text in enumerate(gpt_turns):
        turns.append({"from": "gpt", "value": text})
        if i < len(gpt_turns) - 1:
            turns.append({"from": "human", "value": MINI_O3_OBSERVATION.format(action_turn=i, observation_turn=i + 1)})
    return json.dumps(turns) if as_json else repr(turns)


def write_mini_o3_coldstart(folder: Path, size=(800, 400)) -> Path:
    """``folder/data/train-00000-of-00001.parquet``: a mapped trajectory (a crop of the original, then a crop
    of that observation), one with no tool call (its turns as JSON text), three with unmappable calls, a row
    without an image, a corrupted image and a conversation that is not a list literal. Rows with an image also
    hold their observations' pictures, which vlmr leaves for zoom_in to produce."""
    import datasets

    image = {"bytes": png(size, 7), "path": "minio3_coldstart_0/image_0.jpg"}
    rows = [
        ("What colour is the small flag on the roof?", [
            "<think>The flag is too small to see; I zoom in on the roof.</think>\n" + grounding([0.5, 0.25, 0.75, 0.5]),
            "<think>The flag is at the lower left of this view.</think>\n"
            + grounding([0.0, 0.5, 0.5, 1.0], "observation_1"),
            "<think>Now the flag is clearly red.</think>\n<answer>red</answer>"], [image]),
        ("What does the sign say?", ["<think>The sign is large and clear.</think>\n<answer>STOP</answer>"], [image]),
        ("How many birds are there?", ["<think>Zoom.</think>\n" + grounding([0.1, 0.2]),
                                       "<think>Two.</think>\n<answer>2</answer>"], [image]),
        ("Is the door open?", ["<think>Zoom.</think>\n" + grounding([0.1, 0.1, 0.2, 0.2], "observation_3"),
                               "<think>Yes.</think>\n<answer>yes</answer>"], [image]),
        ("Which way does the arrow point?", ["<think>Zoom.</think>\n" + grounding([0.5, 0.5, 0.51, 0.51]),
                                             "<think>Left.</think>\n<answer>left</answer>"], [image]),
        ("What is written on the cup?", ["<answer>coffee</answer>"], []),
        ("What is written on the bag?", ["<answer>sale</answer>"], [{"bytes": b"\xff\xd8\xff not a jpeg", "path": None}]),
    ]
    records = []
    for i, (question, turns, images) in enumerate(rows):
        if images and images[0]["path"]:  # then one picture per observation turn's <image> placeholder
            images = images + [{"bytes": png((64, 32), 8 + k), "path": f"minio3_coldstart_0/image_{k + 1}.jpg"}
                               for k in range(len(turns) - 1)]
        records.append({"conversations": mini_o3_conversation(question, turns, as_json=i == 1), "images": images,
                        "image_names": [f"image_{k}.jpg" for k in range(len(images))], "data_source": "visual_probe",
                        "sample_index": i, "rollout_index": 0})
    records.append({**records[1], "conversations": "[{'from': 'human', 'value': "})
    path = folder / "data" / "train-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(records).to_parquet(str(path))
    return path


# --- Chain-of-Focus SFT ---------------------------------------------------------------------------------
# xtong-zhang/Chain-of-Focus eval/vstar/vllm_inference.py: SYSTEM_PROMPT and USER_PROMPT (the tool and the
# turn format the SFT model is trained to), and configs/dataset_info.json (sharegpt, messages role/content, images).
# The first user turn is either that script's f"Question: {text}{USER_PROMPT}" or the layout of the authors'
# verl/recipe/zoomin/data_progress/prepare_zoomin_data.py ("<image>" + " Question: " + question + an answer
# instruction + USER_PROMPT). The questions and trajectories are written for the tests: no row of
# cof_sft_data.json (the Hub file; the authors' dataset_info.json calls it cof_sft_data_5.4k.json) is in a public
# repository (searched: the authors' repo and its full history, which holds no data file; "image_zoom_in_tool"
# trajectories with "Think in the mind first"; "cof_sft_data"; the system prompt's "args_format" text). Scripts that read the Hub file take an image as a path, "./"-prefixed or not, or
# {"image": path} (e.g. a cof_sft_download.py found by that search): the second row uses the last two forms.
COF_SYSTEM = """You are a helpful assistant.

# Tools
You may call one or more functions to assist with the user query.
You are provided with function signatures within <tools></tools> XML tags:
<tools>
{"type": "function", "function": {"name":"image_zoom_in_tool","description":"Zoom in on a specific region of an image by cropping it based on a bounding box (bbox_2d) and an optional object label.","parameters":{"properties":{"bbox_2d":{"type":"array","items":{"type":"number"},"minItems":4,"maxItems":4,"description":"The bounding box of the region to zoom in, as [x1, y1, x2, y2], where (x1, y1) is the top-left corner and (x2, y2) is the bottom-right corner."},"label":{"type":"string","description":"The name or label of the object in the specified bounding box (optional)."}},"required":["bbox_2d"], "type":"object"},"args_format": "Format the arguments as a JSON object."}}
</tools>

For the function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call>"""
COF_USER_SUFFIX = ("\nThink in the mind first, and then decide whether to call tools one or more times OR provide "
                   "final answer. Format strictly as: <think>...</think> <tool_call>...</tool_call> "
                   "<tool_call>...</tool_call> (if any tools needed) OR <answer>...</answer> (if no tools needed).")


def cof_call(name: str, box) -> str:
    return '<tool_call>\n{"name": "' + name + '", "arguments": {"bbox_2d": ' + json.dumps(box) + "}}\n</tool_call>"


def write_chain_of_focus(folder: Path, size=(1000, 500)) -> Path:
    """``folder/cof_sft_data.json`` + ``folder/images/``: a zoom trajectory, a direct answer, a call of
    another tool, a missing image and an image path leading out of the folder."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "images" / "sa_1.png").write_bytes(png(size, 3))

    def row(question, assistant_turns, image="images/sa_1.png", instruction=None):
        asked = ("<image> Question: " + question + "\n" + instruction if instruction
                 else "<image>Question: " + question)
        messages = [{"role": "system", "content": COF_SYSTEM}, {"role": "user", "content": asked + COF_USER_SUFFIX}]
        for i, text in enumerate(assistant_turns):
            messages.append({"role": "assistant", "content": text})
            if i < len(assistant_turns) - 1:
                messages.append({"role": "user", "content": "<image>" + COF_USER_SUFFIX})
        return {"messages": messages, "images": [image] + [f"images/sa_1_crop{i}.png"
                                                           for i in range(len(assistant_turns) - 1)]}

    rows = [
        row("What is the color of the umbrella?", [
            "<think>The umbrella is small; I zoom in.</think> " + cof_call("image_zoom_in_tool", [504, 126, 756, 252]),
            "<think>It is blue.</think> <answer>blue</answer>"]),
        row("Is there a car in the image?", ["<think>Yes, in the centre.</think> <answer>yes</answer>"],
            image={"image": "./images/sa_1.png"}, instruction="Answer the question using a single word or phrase."),
        row("What does the sign say?", ["<think>Rotate.</think> " + cof_call("image_rotate_tool", [0, 0, 10, 10]),
                                        "<think>STOP.</think> <answer>STOP</answer>"]),
        row("What colour is the bag?", ["<answer>red</answer>"], image="images/missing.png"),
        row("What colour is the hat?", ["<answer>red</answer>"], image="../outside.png"),
    ]
    path = folder / "cof_sft_data.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


# --- Thyme ------------------------------------------------------------------------------------------------
# yfzhang114/Thyme README.md, "6. Usage Example": the model response on its example (eval/17127.jpg), quoted
# with its code block; the <sandbox_output> held the processed image. The README's section 3.1 SFT row and
# section 4.1 RL row are quoted verbatim (THYME_SFT_README_ROW, THYME_RL_ROW), and the image name of the
# rotation row is the one its section 2.3 shows. No released row is in a public repository (searched: the
# authors' repo, its eval/VLMEvalKit copy, scripts/prompt.txt; "User Image Path", "sandbox_output" text).
THYME_THINK = (
    "<think>To determine the plate number of the blue car in the image, we need to focus on the license plate "
    "located near the bottom front of the vehicle. The plate is relatively small compared to the overall size of "
    "the car and the image, so zooming in on this specific area will help us clearly read the characters on the "
    "plate.\nThe coordinates for the license plate appear to be around the lower front section of the car, "
    "specifically near the center of the lower part of the image. Cropping and zooming in on this region will "
    "enhance the visibility of the text on the plate, making it easier to identify the correct option.\nHere is "
    "the Python code to crop and zoom in on the license plate area:\n")
THYME_CODE = '''<code>
```python
import cv2
import os
import numpy as np
from uuid import uuid4

# Load the image
image_path = "/eval/17127.jpg"
image = cv2.imread(image_path)

# Define the coordinates for the license plate area (inferred from the image content)
x1, y1, x2, y2 = 1250, 1030, 1360, 1070

# Crop the image based on the defined coordinates
cropped_image = image[y1:y2, x1:x2]

# Apply a zoom factor to enhance the cropped region
zoom_factor = 2
resized_image = cv2.resize(cropped_image, None, fx=zoom_factor, fy=zoom_factor, interpolation=cv2.INTER_CUBIC)

# Save the processed image with a random suffix
random_suffix = str(uuid4())[:8]
processed_filename = f"17127_{random_suffix}.jpg"
processed_path = os.path.join("/mnt/data/temp_processed_images/", processed_filename)
cv2.imwrite(processed_path, resized_image)

# Print the path of the saved cropped image for further processing
print(processed_path)
```
</code>'''
THYME_AFTER = ('Upon examining the cropped and zoomed-in image of the license plate, it becomes clear that the '
               'characters are "S QT 911". This matches option C. Therefore, the correct answer is C. S QT 911.'
               '</think>\n\n<answer> **C. S QT 911** </answer>')
THYME_QUESTION = ("Question: What is the plate number of the blue car in the picture?\nOptions:\nA. S OT 911\n"
                  "B. S TQ 119\nC. S QT 911\nD. B QT 119\nE. This image doesn't feature the plate number.\n"
                  "Please select the correct answer from the options above.")
THYME_SFT_README_ROW = {
    "image": ["/path/to/original.jpg", "/path/to/processed.jpg"],
    "question": "<image>\nBased on the top-right graph, describe the behavior of P(z) as z approaches zero. Options:\n...",
    "response": "<think>Detailed reasoning and executable code...</think><answer>B</answer>",
}
THYME_ROTATED = "/mllm_hdd/yfzhang/data/temp_processed_images/cauldron_dvqa_images_dvqa_00110792.png_rotated_image_318.png"
THYME_RL_ROW = {
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. Solve the problem step-by-step..."},
        {"role": "user", "content": "<image>\nQuestion text...\n"},
    ],
    "images": ["/path/to/image.jpg"],
    "solution": "black",
    "question": "What is the color of the glasses frame of the man in the white shirt?",
}


def flat_png(size, color=(90, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def write_thyme(folder: Path) -> tuple[Path, Path]:
    """``folder/sft.jsonl`` (the README trajectory, a rotation, the README's direct answer, a missing image)
    and ``folder/rl.jsonl`` (the README row, a row without a solution, a row without a question), images in
    ``folder`` (the README's absolute paths are found there by file name)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "17127.jpg").write_bytes(flat_png((1400, 1100)))
    (folder / "image.jpg").write_bytes(flat_png((64, 48)))
    (folder / "original.jpg").write_bytes(flat_png((96, 64)))
    (folder / Path(THYME_ROTATED).name).write_bytes(flat_png((64, 96)))
    sft = [
        {"image": ["/eval/17127.jpg", "/mnt/data/temp_processed_images/17127_ebd8fd46.jpg"],
         "question": "<image>\n" + THYME_QUESTION,
         "response": THYME_THINK + THYME_CODE + "\n<sandbox_output><image></sandbox_output>\n" + THYME_AFTER},
        {"image": [THYME_ROTATED, "17127_rot.jpg"], "question": "<image>\nWhat does the sideways sign say?",
         "response": "<think>Rotate it.\n<code>\n```python\nfrom PIL import Image\nimg = Image.open('x.jpg')\n"
                     "img.rotate(90).save('y.jpg')\n```\n</code>\n<sandbox_output><image></sandbox_output>\n"
                     "It says EXIT.</think><answer>EXIT</answer>"},
        THYME_SFT_README_ROW,
        {"image": ["missing.jpg"], "question": "<image>\nWhat is this?", "response": "<answer>a car</answer>"},
    ]
    rl = [THYME_RL_ROW, {**THYME_RL_ROW, "solution": ""}, {k: v for k, v in THYME_RL_ROW.items() if k != "question"}]
    for name, rows in (("sft.jsonl", sft), ("rl.jsonl", rl)):
        (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return folder / "sft.jsonl", folder / "rl.jsonl"


# --- Pixel-Reasoner RL ------------------------------------------------------------------------------------
# TIGER-Lab/PixelReasoner-RL-Data rows with the fields the authors' loader reads (TIGER-AI-Lab/Pixel-Reasoner
# curiosity_driven_rl/openrlhf/datasets/prompts_dataset.py: question, image, is_video, qid) and TIGER-AI-Lab/verl-tool
# examples/data_preprocess/pixel_reasoner/prepare_train.py maps (question, image: paths inside images.zip or,
# for a video row, videos.zip, is_video, answer, qid). No released row is in a public repository (searched:
# both repos, "PixelReasoner-RL-Data" readers, '"message_list": [' rows of the SFT set): the rows are written
# for the tests.
def write_pixel_reasoner_rl(folder: Path) -> Path:
    """``folder/train.jsonl`` + ``folder/images/``: an image row, a video row, a row without an answer, a missing
    image and a row without a question."""
    (folder / "images" / "infovqa").mkdir(parents=True, exist_ok=True)
    (folder / "images" / "infovqa" / "10043.jpeg").write_bytes(flat_png((120, 300)))
    image_row = {"qid": "infovqa-10043", "question": "What percentage of people prefer tea?",
                 "image": ["infovqa/10043.jpeg"], "is_video": False, "answer": "34%"}
    rows = [image_row,
            {"qid": "clip-7", "question": "What does the man pick up?", "image": ["clip7/1.jpg", "clip7/2.jpg"],
             "is_video": True, "answer": "a cup"},
            {**image_row, "qid": "infovqa-empty", "answer": ""},
            {**image_row, "qid": "infovqa-missing", "image": ["infovqa/missing.jpeg"]},
            {k: v for k, v in image_row.items() if k != "question"}]
    path = folder / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
