"""ChartQA -> ``chart_qa`` records, from the release or its Hub copy.

``vlmr data build chartqa --out data/chartqa --root "ChartQA Dataset" --split test``
``vlmr data build chartqa --out data/chartqa --root ChartQA-hub --split test`` (a Hub snapshot)

The release is ``{root}/{split}/{split}_human.json``, ``{split}_augmented.json`` (lists of
``{"imgname", "query", "label"}``) and ``{split}/png/``. A Hub copy (``HuggingFaceM4/ChartQA``
or ``lmms-lab/ChartQA``, detected from ``root``) is read with
:func:`vlmr.data_pipelines.releases.chartqa.hub_fields`, each chart written once under its content name.
Numeric labels are stored as ``answer.number`` (and ``answer.text``) so relaxed accuracy can
compare numbers; the subset (human / augmented) is kept in ``meta.subset``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from vlmr.data_pipelines.build import Built, Skipped, annotation_rows, open_image, shard_records
from vlmr.data_pipelines.releases.chartqa import hub_fields
from vlmr.data_pipelines.releases.hub import HubCopy, ImageCell, is_hub_copy
from vlmr.data_pipelines.releases.rows import MALFORMED


def answer_for(label: str) -> dict:
    """``{"text": label}`` plus ``number`` when the label is numeric (commas, % allowed).

    >>> answer_for("1,250%")
    {'text': '1,250%', 'number': 1250.0}
    >>> answer_for("Yes")
    {'text': 'Yes'}
    """
    answer: dict = {"text": str(label)}
    try:
        number = float(str(label).replace(",", "").rstrip("%").strip())
    except ValueError:
        return answer
    if math.isfinite(number):  # "nan" / "inf" labels stay text
        answer["number"] = number
    return answer


def _release_items(root: Path, split: str, subsets: list[str]) -> Iterator[tuple | Skipped]:
    """``(id, subset, question, label, image path)`` of the release's split files."""
    split_dir = root / split
    files = [(subset, split_dir / f"{split}_{subset}.json") for subset in subsets]
    for _, path in files:
        if not path.exists():
            raise FileNotFoundError(f"{path} not found; expected the ChartQA layout {{root}}/{split}/{split}_{{subset}}.json")
    for subset, path in files:
        for j, q in enumerate(annotation_rows(path)):
            if isinstance(q, Skipped):
                yield q
                continue
            try:
                yield f"chartqa-{split}-{subset}-{j:06d}", subset, q["query"], q["label"], split_dir / "png" / q["imgname"]
            except MALFORMED as e:
                yield Skipped.malformed(e)


def _hub_items(root: Path, split: str, subsets: list[str]) -> Iterator[tuple | Skipped]:
    """The same items from a Hub copy (the image cell; ``None`` when a row has none)."""
    copy = HubCopy(root)
    for j, row in enumerate(copy.rows(copy.choose_split(split))):
        try:
            subset, question, targets, image = hub_fields(row)
            if subset in subsets:
                yield f"chartqa-{split}-{subset}-{j:06d}", subset, question, targets[0], image
        except MALFORMED as e:
            yield Skipped.malformed(e)


def build_chartqa(
    *,
    root: str,
    subsets: str = "human,augmented",
    seed: int = 0,
    limit: int | None = None,
    split: str = "test",
    shard: int = 0,
    num_shards: int = 1,
) -> Iterator[Built | Skipped]:
    """ChartQA questions from the release or its Hub copy.

    The records of ``split`` from the ``subsets`` (comma-separated: human, augmented).
    """
    wanted = [s.strip() for s in subsets.split(",") if s.strip()]
    items = _hub_items(Path(root), split, wanted) if is_hub_copy(root) else _release_items(Path(root), split, wanted)
    yield from shard_records(items, lambda i, item: _record(item, split), limit=limit, shard=shard,
                             num_shards=num_shards)


def _record(item: tuple, split: str) -> Built | Skipped:
    """The record of one ``(id, subset, question, label, image)`` item."""
    sid, subset, question, label, source = item
    data = source.data if isinstance(source, ImageCell) else source  # one file per chart: its name
    image = open_image(data) if data is not None else Skipped("missing image")
    if isinstance(image, Skipped):
        return image
    name = f"chartqa/{source.name}"
    return Built({"id": sid, "task": "chart_qa", "source": "chartqa", "question": question,
                  "images": [f"media/{name}"], "answer": answer_for(label),
                  "meta": {"width": image.width, "height": image.height, "split": split, "subset": subset}},
                 {name: data})
