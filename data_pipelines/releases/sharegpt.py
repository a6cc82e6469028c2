"""ShareGPT-style trajectories as tool-use cold-start sets release them (LLaMA-Factory's ``sharegpt`` format).

A row holds its turns under ``conversations`` (Mini-o3-Coldstart-Dataset: ``{"from": "system" | "human" | "gpt",
"value"}``) or ``messages`` (CoF-SFT-Data-5.4k: ``{"role", "content"}``), and ``images``: the original image,
then one image per tool observation, embedded (``{"bytes", "path"}`` cells) or as paths relative to the image
folder (bare, ``./``-prefixed or as ``{"image": path}``, forms readers of CoF-SFT-Data-5.4k take them in).
Mini-o3 stores its turns as the *text* of a list (its ``scripts/preprocess_coldstart.py`` runs ``eval`` on it,
so a Python literal or JSON); here that text is read with ``ast.literal_eval``, which reads both and evaluates
no code.

>>> row = sharegpt_row({"conversations": "[{'from': 'human', 'value': '<image>\\\\nWhat is on the sign?'}, "
...                                        "{'from': 'gpt', 'value': '<answer>STOP</answer>'}]",
...                     "images": [{"bytes": b"jpeg...", "path": None}], "data_source": "visual_probe"})
>>> row.question, row.assistant_turns, row.images
('What is on the sign?', ['<answer>STOP</answer>'], [b'jpeg...'])
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from vlmr.data_pipelines.releases.parquet import image_bytes

ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}


@dataclass(frozen=True)
class ShareGptRow:
    """One trajectory: its messages as ``(role, text)``, its image cells (bytes or relative paths), its source."""

    messages: list[tuple[str, str]]
    images: list[bytes | str | None]
    data_source: str = ""

    @property
    def question(self) -> str:
        """The first user turn without its image placeholders."""
        first = next((text for role, text in self.messages if role == "user"), "")
        return first.replace("<image>", "").strip()

    @property
    def assistant_turns(self) -> list[str]:
        """The assistant turns' texts, in order."""
        return [text for role, text in self.messages if role == "assistant"]


def _turns(value: Any) -> list:
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
            raise ValueError(f"turns are text but not a Python list literal ({type(e).__name__})") from e
    if not isinstance(value, list):
        raise TypeError(f"turns are {type(value).__name__}, expected a list")
    return value


def _turn(turn: dict) -> tuple[str, str]:
    role = turn["from"] if "from" in turn else turn["role"]
    text = turn["value"] if "value" in turn else turn["content"]
    return ROLES[role], str(text)


def _cell(cell: Any) -> bytes | str | None:
    if isinstance(cell, dict) and isinstance(cell.get("image"), str):
        cell = cell["image"]
    return cell.removeprefix("./") if isinstance(cell, str) and cell else image_bytes(cell)


def sharegpt_row(row: dict[str, Any]) -> ShareGptRow:
    """A :class:`ShareGptRow` from one released row; a malformed row raises ``KeyError``/``TypeError``/
    ``ValueError`` (counted by the builder)."""
    turns = _turns(row["conversations"] if "conversations" in row else row["messages"])
    return ShareGptRow([_turn(turn) for turn in turns], [_cell(cell) for cell in row.get("images") or []],
                       str(row.get("data_source") or ""))
