"""Chain-of-Focus SFT trajectories (CoF-SFT-Data-5.4k) -> ``vqa`` SFT records whose zooms vlmr's ``zoom_in`` executes.

``vlmr data build chain_of_focus --out data/cof_sft --annotations CoF-SFT-Data-5.4k/cof_sft_data.json
--image-dir CoF-SFT-Data-5.4k``

The release (``xintongzhang/CoF-SFT-Data-5.4k``: ``cof_sft_data.json`` and ``images.zip``, unpacked beside it)
is a LLaMA-Factory ``sharegpt`` JSON list (``messages`` with ``role``/``content``, ``images`` as paths relative
to the image folder; ``configs/dataset_info.json`` of xtong-zhang/Chain-of-Focus), read by
:mod:`vlmr.data_pipelines.releases.sharegpt`. Assistant turns call
``<tool_call>{"name": "image_zoom_in_tool", "arguments": {"bbox_2d": [x0, y0, x1, y1]}}</tool_call>`` in
absolute pixels of the image as Qwen2.5-VL received it: resized by ``smart_resize`` within 112x112 and
3840x3840 pixels (``image_min_pixels``/``image_max_pixels`` of the authors' ``configs/sft_lora-7b.yaml``, the
same limits as their ``eval/vstar/vllm_inference.py``) -- the ``resized`` convention of :mod:`vlmr.formats`.
Their tool crops the box enlarged 1.5 times about its centre (``enlarge_factor``), so the ``zoom_in`` call
written here is that enlarged region, in original pixels. Counting and skips as in
:mod:`vlmr.data_pipelines.trajectories`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from vlmr.data_pipelines.build import Built, Skipped, annotation_rows, image_in, open_image, shard_records
from vlmr.data_pipelines.releases.rows import MALFORMED
from vlmr.data_pipelines.releases.sharegpt import ShareGptRow, sharegpt_row
from vlmr.data_pipelines.trajectories import StoredCall, convert_trajectory, grown
from vlmr.formats import CoordinateSpace
from vlmr.rewards.parse import split_think_answer

MIN_PIXELS, MAX_PIXELS = 112 * 112, 3840 * 3840  # configs/sft_lora-7b.yaml: image_min_pixels, image_max_pixels
ENLARGE = 1.5  # eval/vstar/vllm_inference.py: --enlarge_factor default
_TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
# the set's user turn is f"Question: {question}" + its answer and format instructions, which are vlmr's to write
# (the answer instructions as the authors' verl/recipe/zoomin/data_progress/prepare_zoomin_data.py adds them)
_INSTRUCTIONS = ("Answer the question using a single word or phrase.",
                 "Answer with the option's letter from the given choices directly.")
_QUESTION = re.compile(r"\A\s*Question:\s*(.*?)(?:\n(?:" + "|".join(map(re.escape, _INSTRUCTIONS)) + r"))?"
                       r"(?:\nThink in the mind first,.*)?\Z", re.DOTALL)


def question_of(user_text: str) -> str:
    """The question inside CoF's first user turn (image placeholder, ``Question:`` and instruction removed).

    >>> question_of("<image>Question: Is it red?\\nThink in the mind first, and then decide ...")
    'Is it red?'
    >>> question_of("<image> Question: Is it red?\\nAnswer the question using a single word or phrase."
    ...             "\\nThink in the mind first, ...")
    'Is it red?'
    """
    text = user_text.replace("<image>", "")
    m = _QUESTION.match(text)
    return (m.group(1) if m else text).strip()


def resized(width: int, height: int) -> CoordinateSpace:
    """CoF's boxes: pixels of the image resized as the authors fed it to Qwen2.5-VL."""
    return CoordinateSpace.for_image(width, height, "qwen2_5_vl", MIN_PIXELS, MAX_PIXELS)


def zoom_calls(text: str) -> list[StoredCall]:
    """The ``image_zoom_in_tool`` calls of one assistant turn; any other tool call has no mappable box.

    >>> [(c.box, c.problem) for c in zoom_calls('<tool_call>{"name": "image_zoom_in_tool", "arguments": '
    ...     '{"bbox_2d": [10, 20, 110, 220], "label": "dog"}}</tool_call><tool_call>{"name": "ocr"}</tool_call>')]
    [([10, 20, 110, 220], None), (None, "tool call 'ocr' is not image_zoom_in_tool")]
    """
    calls = []
    for m in _TOOL_CALL.finditer(text):
        try:
            payload = json.loads(m.group(1))
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("arguments", {}), dict):
            calls.append(StoredCall(m.start(), m.end(), problem="tool call is not a JSON object with arguments"))
        elif payload.get("name") != "image_zoom_in_tool":
            calls.append(StoredCall(m.start(), m.end(),
                                    problem=f"tool call {payload.get('name')!r} is not image_zoom_in_tool"))
        else:
            calls.append(StoredCall(m.start(), m.end(), payload.get("arguments", {}).get("bbox_2d")))
    return calls


def cof_record(row: ShareGptRow, sid: str, image_dir: str, split: str) -> Built | Skipped:
    """The SFT record of one trajectory, or why it cannot be one."""
    if not row.images or not isinstance(row.images[0], str):
        return Skipped("prompt without an image")
    turns = row.assistant_turns
    answer = split_think_answer(turns[-1])[1] if turns and "<answer>" in turns[-1] else None
    if not answer:
        return Skipped("trajectory without a final <answer>")
    path = image_in(image_dir, row.images[0])
    image = path if isinstance(path, Skipped) else open_image(path)
    if isinstance(image, Skipped):
        return image
    converted = convert_trajectory(turns, zoom_calls, resized, image.width, image.height, grow=grown(ENLARGE))
    if isinstance(converted, Skipped):
        return converted
    name = f"chain_of_focus/{row.images[0]}"
    return Built({"id": sid, "task": "vqa", "source": "chain_of_focus", "question": question_of(row.question),
                  "images": [f"media/{name}"], "answer": {"text": answer.strip()}, "cot": converted.cot,
                  "meta": {"width": image.width, "height": image.height, "split": split}},
                 {name: path}, converted.note)


def build_chain_of_focus(
    *,
    annotations: str,
    image_dir: str,
    seed: int = 0,
    limit: int | None = None,
    split: str = "train",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """One SFT record per trajectory of the CoF JSON ``annotations`` (images under ``image_dir``)."""

    def record(i: int, row: dict) -> Built | Skipped:
        try:
            parsed = sharegpt_row(row)
        except MALFORMED as e:
            return Skipped.malformed(e)
        return cof_record(parsed, f"cof-{split}-{i:06d}", image_dir, split)

    yield from shard_records(annotation_rows(annotations), record, limit=limit, shard=shard, num_shards=num_shards)
