"""Mini-o3's cold-start trajectories as released (``Mini-o3/Mini-o3-Coldstart-Dataset``, parquet).

Each row holds ``conversations`` -- a ShareGPT list (``{"from": "system" | "human" | "gpt", "value"}``)
stored as the *text* of a Python list (the authors' ``scripts/preprocess_coldstart.py`` runs ``eval`` on
it; here it is read with ``ast.literal_eval``, which evaluates no code) -- ``images`` (the original image,
then one image per observation, embedded), ``image_names``, ``data_source``, ``sample_index`` and
``rollout_index``. Assistant turns call the crop tool as
``<grounding>{"bbox_2d": [x0, y0, x1, y1], "source": "original_image" | "observation_i"}</grounding>`` with
coordinates relative to the source image's width and height taken as 1.0 (``verl/trainer/constants.py``,
``TOOL_CROP_SYSTEM_PROMPT``).

>>> row = coldstart_row({"conversations": "[{'from': 'human', 'value': '<image>\\\\nWhat is on the sign?'}, "
...                                         "{'from': 'gpt', 'value': '<answer>STOP</answer>'}]",
...                      "images": [{"bytes": b"jpeg...", "path": None}], "data_source": "visual_probe"})
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
class ColdstartRow:
    """One cold-start trajectory: its messages as ``(role, text)``, images and data source, as released."""

    messages: list[tuple[str, str]]
    images: list[bytes | None]
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


def coldstart_row(row: dict[str, Any]) -> ColdstartRow:
    """A :class:`ColdstartRow` from one parquet row; a malformed row raises ``ValueError``/``KeyError``/
    ``TypeError`` (counted by the builder)."""
    conversations = row["conversations"]
    if isinstance(conversations, str):
        try:
            conversations = ast.literal_eval(conversations)
        except (SyntaxError, MemoryError, RecursionError) as e:
            raise ValueError(f"conversations is not a Python list literal ({type(e).__name__})") from e
    if not isinstance(conversations, list):
        raise TypeError(f"conversations is {type(conversations).__name__}, expected a list of turns")
    messages = [(ROLES[turn["from"]], str(turn["value"])) for turn in conversations]
    return ColdstartRow(messages, [image_bytes(cell) for cell in row.get("images") or []],
                        str(row.get("data_source") or ""))
