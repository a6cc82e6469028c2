"""A task of your own in one file: reading a word from an image (OCR), answered with text.

With ``docs/examples`` on ``PYTHONPATH`` this file is the module ``ocr_task``; a record names the
task by its import path, ``"task": "ocr_task:OCR"``, so every command finds it without an import
hook (the registered name ``ocr`` works too in a process that has imported this module):

    vlmr data build ocr_task:build_words --out data/words --n 16
    vlmr train grpo --config my_ocr.yaml        # rewards: [{name: accuracy}, {name: format}]
    vlmr eval run --benchmark dataset --data data/words --model runs/ocr/final --out runs/ocr_eval
    vlmr infer --model runs/ocr/final --image word.png --question "What word is written?" --task ocr_task:OCR

The spec below is all vlmr needs: the prompt's answer instruction, the tools the demo ticks
for it, the scorer of ``--benchmark dataset``, the demo's label and the line drawn
under an answer. The ground truth ``{"text": ...}`` is written and read as plain text (the
defaults of :class:`vlmr.tasks.Task`), and the built-in ``accuracy`` reward already scores it in
training (exact text after lower-casing and dropping punctuation).
"""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from vlmr.data_pipelines.build import Built, shard_records
from vlmr.eval.answers import answer_text
from vlmr.eval.benchmarks.mathvista import levenshtein
from vlmr.tasks import Task, register_task

WORDS = ("CAT", "COAT", "DOG", "MAP", "SUN", "TREE", "BOX", "KEY")
QUESTION = "What word is written in the image?"


@register_task("ocr")
class OCR(Task):
    """Read the text in the image; scored by exact match and ANLS."""

    instruction = "Answer with the text exactly as it is written."
    tools = ("zoom_in",)
    scorer = "ocr_task:score_text"
    label = "Read text (OCR)"

    def note(self, answer) -> str | None:
        """The text read, under the image."""
        return f"read: {answer.text.strip()}" if answer.text.strip() else "no text in the answer"


def score_text(sample, prediction: dict[str, Any], ctx) -> dict[str, float]:
    """``exact_match`` (case and surrounding spaces aside) and ``anls``, the ST-VQA metric (Biten et al.,
    ICCV 2019): ``1 - d / max(len)`` with ``d`` the edit distance, 0 when that is not above 0.5."""
    pred, truth = answer_text(prediction.get("response") or "").strip().lower(), sample.answer["text"].strip().lower()
    similarity = 1 - levenshtein(pred, truth) / max(len(pred), len(truth), 1)
    return {"exact_match": float(pred == truth), "anls": similarity if similarity > 0.5 else 0.0}


def word_image(word: str, size: int = 56) -> Image.Image:
    """``word`` in black on a white square."""
    image = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(image).text((4, size // 2 - 6), word, fill="black")
    return image


def build_words(*, n: int = 16, seed: int = 0, limit: int | None = None, split: str = "train", shard: int = 0,
                num_shards: int = 1):
    """Synthetic word images to read (OCR): ``vlmr data build ocr_task:build_words --out DIR [--n 16]``."""

    def record(i: int, word: str) -> Built:
        return Built({"id": f"word-{i}", "task": "ocr_task:OCR", "question": QUESTION, "images": [f"media/{i}.png"],
                      "answer": {"text": word}, "meta": {"width": 56, "height": 56, "split": split}},
                     {f"{i}.png": word_image(word)})

    yield from shard_records((WORDS[i % len(WORDS)] for i in range(n)), record, limit=limit, shard=shard,
                             num_shards=num_shards)
