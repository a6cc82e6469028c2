"""verl-style RL parquet files, as DeepEyes-Datasets-47k (and other tool-RL sets trained with verl) ship them.

One row per prompt: ``data_source``, ``prompt`` (chat messages, ``<image>`` placeholders in the user text),
``images`` (a list of ``{"bytes", "path"}`` cells, the bytes embedded), ``ability``, ``env_name`` (the tool
environment the row is meant for), ``reward_model`` (``{"style", "ground_truth"}``) and ``extra_info``
(``{"split", "index", "answer", "question", ...}``). DeepEyes writes these rows with
``datasets.Dataset.to_parquet`` (``verl/workers/agent/envs/mm_process_engine/create_train_dataset.py``), so
the images column is a plain struct; copies re-saved with ``cast_column("images", Sequence(Image()))``
hold the same struct under an Image feature. Both read the same here.

Files are streamed by :mod:`vlmr.data_pipelines.releases.parquet`: the 47k set is several GB of embedded images.

>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "data_x.parquet")
>>> pq.write_table(pa.Table.from_pylist([{"data_source": "vstar", "prompt": [
...     {"role": "system", "content": "You are a helpful assistant."},
...     {"role": "user", "content": "<image>\\nWhat colour is the bus?"}],
...     "images": [{"bytes": b"png...", "path": "/cluster/a.png"}],
...     "reward_model": {"style": "rule", "ground_truth": "red"}}]), path)
>>> from vlmr.data_pipelines.releases.parquet import parquet_rows
>>> row = verl_row(next(parquet_rows(path)))
>>> row.question, row.ground_truth, row.images, row.image_slots
('What colour is the bus?', 'red', [b'png...'], 1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vlmr.data_pipelines.releases.parquet import image_bytes

IMAGE_TOKEN = "<image>"
_IMAGE_TOKEN = re.compile(re.escape(IMAGE_TOKEN))


@dataclass(frozen=True)
class VerlRow:
    """One prompt of a verl RL file, its fields as released."""

    data_source: str
    system: str | None
    user: str  # the user message's text, ``<image>`` placeholders kept
    images: list[bytes | None]  # embedded bytes per image cell; ``None`` where a cell holds none
    ground_truth: str | None
    env_name: str | None = None
    ability: str | None = None
    extra_info: dict[str, Any] = field(default_factory=dict)

    @property
    def image_slots(self) -> int:
        """How many ``<image>`` placeholders the user text has."""
        return len(_IMAGE_TOKEN.findall(self.user))

    @property
    def question(self) -> str:
        """``extra_info.question`` when the row has one (the question without the set's format instruction),
        else the user text without its image placeholders."""
        question = self.extra_info.get("question")
        if isinstance(question, str) and question.strip():
            return question.strip()
        return _IMAGE_TOKEN.sub("", self.user).strip()


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list (image parts become ``<image>``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(IMAGE_TOKEN if part.get("type") == "image" else str(part.get("text") or "")
                       for part in content if isinstance(part, dict))
    raise TypeError(f"message content is {type(content).__name__}, expected text or a list of parts")


def verl_row(row: dict[str, Any]) -> VerlRow:
    """A :class:`VerlRow` from one parquet row; a row without a user message or with fields of the wrong type
    raises ``KeyError``/``TypeError`` (the builder counts it as malformed)."""
    messages = row["prompt"]
    if not isinstance(messages, list):
        raise TypeError(f"prompt is {type(messages).__name__}, expected a list of messages")
    system = next((_text(m["content"]) for m in messages if m.get("role") == "system"), None)
    users = [_text(m["content"]) for m in messages if m.get("role") == "user"]
    if not users:
        raise KeyError("user message")
    reward = row.get("reward_model") or {}
    truth = reward.get("ground_truth")
    return VerlRow(
        data_source=str(row.get("data_source") or ""), system=system, user="\n".join(users),
        images=[image_bytes(cell) for cell in row.get("images") or []],
        ground_truth=None if truth is None else str(truth), env_name=row.get("env_name"),
        ability=row.get("ability"), extra_info=dict(row.get("extra_info") or {}),
    )
