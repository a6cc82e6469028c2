"""Counting benchmarks: CountBench(QA) and PixMo-Count; accuracy, MAE and RMSE.

Data, detected from ``--data``:

* CountBench as released: ``CountBench.json`` (540 rows ``{"image_url", "text", "number"}``, no
  images, no questions) or a folder holding it. The user downloads the images into
  ``images/`` next to it (option ``image_dir``), each named by its row index (``17.jpg``, any
  extension: the release's URL basenames are not unique, 526 for 540 rows) or by its URL
  basename when that is unique in the file. The questions are big_vision's CountBenchQA
  ``countbench_paired_questions.json`` (a list of ``{"question"}`` in row order) next to it
  (option ``questions``); without it the question shows the caption with its count hidden.
* PixMo-Count as released (``allenai/pixmo-count``: ``image_url, image_sha256, count, points,
  label``, no images): images in ``image_dir`` named by ``image_sha256``, row index or URL
  basename; asked as "How many {label} are there?".
* Hub copies with embedded images: ``vikhyatk/CountBenchQA`` (``image, text, question, number``),
  ``nielsr/countbench`` (``image_url, text, number, image``; 49 of its 540 images are empty),
  PixMo-Count copies with an ``image`` column; option ``split`` (default ``test``).
* Rows ``{"image": relative path, "question"?, "number" | "count" | "answer", "label"?}`` in a
  JSON/JSONL file (images relative to it).

A row whose image is missing is skipped and counted in ``scores.json`` (``skipped_rows``).

Metrics: ``accuracy`` = the predicted count equals the true one, the count being read as the
published evaluations of reasoning models read it: the ``<answer>`` text when there is one, else
the prose after the thinking, and in either the last number written (digits or number words:
"2 rows of 3, 6 in total" counts 6). Beside it, under its own rule, the number the short-answer
evaluations report: CountBench ``accuracy_exact`` (PaliGemma's big_vision evaluator and lmms-eval:
the whole response, lower-cased, a number word turned into its numeral, equals the count) and
PixMo-Count ``accuracy_first_integer`` (lmms-eval: the first run of digits of the response).
``abs_error`` (MAE once averaged) and ``rmse`` count an answer with no count as 0 (never skipped,
so silence cannot lower the error); ``parsed`` is the share of answers that had a count.
Breakdown by true count.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from vlmr.data_pipelines.releases.files import find_file, image_size
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, is_hub_copy
from vlmr.data_pipelines.releases.rows import read_rows
from vlmr.eval.answers import count_scores
from vlmr.eval.registry import Benchmark, MetricRule, ScoreContext, register_benchmark
from vlmr.schema import Sample

# big_vision's tallyqa evaluator (used for CountBenchQA) and lmms-eval's countbench map these words
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
RELEASE_FILES = ("CountBench.json", "countbench.json", "countbench.jsonl")
COUNT_RULE = ("the last number (digits or number words) of the <answer> text, else of the prose after the "
              "thinking, equals the count")


def exact_count_match(response: str, count: int) -> bool:
    """The short-answer rule: the whole response, stripped and lower-cased, is the count or its word.

    >>> exact_count_match(" Three", 3), exact_count_match("none", 0), exact_count_match("3.", 3)
    (True, True, False)
    """
    text = response.strip().lower()
    text = "0" if text == "none" else str(NUMBER_WORDS.index(text)) if text in NUMBER_WORDS else text
    return text == str(count)


def first_integer_match(response: str, count: int) -> bool:
    """lmms-eval's PixMo-Count rule: the first run of digits of the response equals the count.

    >>> first_integer_match("There are 2 rows, 6 in all", 6), first_integer_match("6", 6)
    (False, True)
    """
    m = re.search(r"\d+", response.strip())
    return bool(m) and m.group() == str(count)


def count_of(row: dict[str, Any]) -> int | None:
    """The true count of a row (``number``, ``count``, or the digits of an ``answer`` text), or ``None``.

    >>> count_of({"number": 3}), count_of({"answer": "There are 4."}), count_of({"answer": "many"})
    (3, 4, None)
    """
    value = row.get("number", row.get("count", row.get("answer")))
    if isinstance(value, str):  # lmms-eval's pixmo copy: the count is written in the answer text
        digits = re.search(r"\d+", value)
        value = digits.group() if digits else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def hide_count(caption: str, count: int) -> str:
    """The caption with the count (digits or its word) replaced by ``___``.

    >>> hide_count("We review the ten best gaming headsets in the market", 10)
    'We review the ___ best gaming headsets in the market'
    """
    words = [str(count)] + ([NUMBER_WORDS[count]] if count < len(NUMBER_WORDS) else [])
    return re.sub(r"\b(?:" + "|".join(words) + r")\b", "___", caption, flags=re.IGNORECASE)


class Downloads:
    """The images a user downloaded for a URL-only release: found by row index, ``image_sha256``
    or the URL's basename (only when no other row of the file shares it)."""

    def __init__(self, folder: Path, urls: list[str]):
        self.by_stem: dict[str, Path] = {}
        self.by_name: dict[str, Path] = {}
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                self.by_stem.setdefault(path.stem, path)
                self.by_name[path.name] = path
        names = Counter(Path(urlparse(u or "").path).name for u in urls)
        # a basename that is another row's index ("17.jpg") would pick that row's download
        self.unique = {n for n, k in names.items() if n and k == 1
                       and not (Path(n).stem.isdigit() and int(Path(n).stem) < len(urls))}

    def find(self, index: int, url: str | None, sha: str | None = None) -> Path | None:
        """The downloaded file of row ``index``, or ``None``."""
        for stem in (str(index), sha):
            if stem and stem in self.by_stem:
                return self.by_stem[stem]
        name = Path(urlparse(url or "").path).name
        return self.by_name.get(name) if name in self.unique else None


class _Counting(Benchmark):
    task = "counting"
    primary_metric = "accuracy"
    headline = (MetricRule("accuracy", COUNT_RULE),)
    breakdown_keys = ("true_count",)

    def load(self, path: str | Path) -> list[Sample]:
        """Read the release, a Hub copy or plain rows (see the module docstring)."""
        if is_hub_copy(path):
            copy = HubCopy(path)
            stem = copy.choose_split(self.options.get("split"), prefer=("test",))
            rows, folder = list(copy.rows(stem)), Path(path) if Path(path).is_dir() else Path(path).parent
        else:
            file = find_file(path, RELEASE_FILES)
            rows, stem, folder = read_rows(file), file.stem, file.parent
        media = self.media_root(path)
        questions = self._paired_questions(folder, len(rows))
        downloads = Downloads(self._image_dir(folder), [r.get("image_url") for r in rows])

        def make(i: int, row: dict[str, Any]) -> Sample | None:
            image = self._image(row, i, downloads, media)
            count = count_of(row)
            if image is None or count is None:
                self.skip("image missing (not embedded, not downloaded into image_dir)" if image is None
                          else "row without a count")
                return None
            width, height = image_size(media / image)
            return Sample(
                id=str(row.get("id", f"{stem}-{i:05d}")), task="counting", source=self.name,
                question=self._question(row, questions[i] if questions else None, count), images=[image],
                answer={"count": count}, meta={"true_count": count, "width": width, "height": height},
            )

        return self.samples_from(rows, make)

    def media_root(self, path: str | Path) -> Path:
        """The media cache for a Hub copy, ``image_dir`` for a URL-only release, else the file's folder."""
        if is_hub_copy(path):
            return super().media_root(path)
        file = find_file(path, RELEASE_FILES)
        rows = read_rows(file)
        return self._image_dir(file.parent) if rows and "image" not in rows[0] else file.parent

    def _image_dir(self, folder: Path) -> Path:
        return Path(self.options.get("image_dir") or folder / "images")

    def _paired_questions(self, folder: Path, n_rows: int) -> list[str] | None:
        """big_vision's CountBenchQA questions, in row order, when the file is there."""
        file = Path(self.options.get("questions") or folder / "countbench_paired_questions.json")
        if not file.is_file():
            return None
        questions = [q["question"] for q in read_rows(file)]
        if len(questions) != n_rows:
            raise ValueError(f"{file} has {len(questions)} questions for {n_rows} rows; they pair by row order")
        return questions

    @staticmethod
    def _image(row: dict[str, Any], index: int, downloads: Downloads, media: Path) -> str | None:
        """The row's image relative to ``media``: embedded, a relative path, or the user's download."""
        image = row.get("image")
        if isinstance(image, ImageCell):
            return image.save(media)
        if isinstance(image, str):
            return image if (media / image).is_file() else None
        if "image" in row:  # an empty Hub image cell
            return None
        found = downloads.find(index, row.get("image_url"), row.get("image_sha256"))
        if found is None:
            return None
        if found.is_relative_to(media):
            return found.relative_to(media).as_posix()
        return ImageCell(found.read_bytes()).save(media)  # a Hub copy's media live in the media cache

    @staticmethod
    def _question(row: dict[str, Any], paired: str | None, count: int) -> str:
        if paired or row.get("question"):
            return str(paired or row["question"]).replace("<image>", "").strip()
        if row.get("label"):
            return f"How many {row['label']} are there?"
        return f'The caption of this image reads "{hide_count(row["text"], count)}". How many are there?'

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """The count of the answer, its errors, and the alternative rule's verdict."""
        response = prediction.get("response") or ""
        out = count_scores(response, sample.answer["count"])
        for rule in self.alternatives:
            out[rule.metric] = float(ALTERNATIVE_RULES[rule.metric](response, sample.answer["count"]))
        return out


ALTERNATIVE_RULES = {"accuracy_exact": exact_count_match, "accuracy_first_integer": first_integer_match}


@register_benchmark("countbench")
class CountBench(_Counting):
    """CountBench(QA): count 2-10 objects named in the question."""

    alternatives = (MetricRule("accuracy_exact", "PaliGemma big_vision / lmms-eval countbench: the whole response, "
                                                 "lower-cased, number word -> numeral, equals the count"),)


@register_benchmark("pixmo_count")
class PixMoCount(_Counting):
    """PixMo-Count (Molmo): count the objects of a label."""

    alternatives = (MetricRule("accuracy_first_integer", "lmms-eval pixmo_count: the first run of digits of the "
                                                         "response equals the count"),)
