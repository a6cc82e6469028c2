"""ChartQA as released (Masry et al., ACL Findings 2022) and its Hub copies.

The release: ``{split}/{split}_human.json`` and ``{split}_augmented.json`` (rows ``{"imgname",
"query", "label"}``) with the charts in ``{split}/png/``. Hub copies: ``HuggingFaceM4/ChartQA``
(``image, query, label: list[str], human_or_machine``: 0 human, 1 machine) and
``lmms-lab/ChartQA`` (``type: human_test|augmented_test, question, answer, image``).
"""

from __future__ import annotations

from typing import Any

from vlmr.data_pipelines.releases.hub import ImageCell


def hub_fields(row: dict[str, Any]) -> tuple[str, str, list[str], ImageCell | None]:
    """``(subset, question, targets, image)`` of a HuggingFaceM4/ChartQA or lmms-lab/ChartQA row.

    >>> hub_fields({"query": "How many bars?", "label": ["3"], "human_or_machine": 1, "image": None})
    ('augmented', 'How many bars?', ['3'], None)
    >>> hub_fields({"type": "human_test", "question": "Which?", "answer": "No", "image": None})[:3]
    ('human', 'Which?', ['No'])
    """
    if "human_or_machine" in row:  # HuggingFaceM4: a ClassLabel, 0 = human, 1 = machine-generated (augmented)
        return ("human", "augmented")[int(row["human_or_machine"])], row["query"], list(row["label"]), row["image"]
    return str(row["type"]).removesuffix("_test"), row["question"], [str(row["answer"])], row["image"]
