"""``generic``: a model of no known family (a served model, or a checkpoint whose ``model_type`` no family claims).

It is asked for original-image pixels (what a chat API of unknown architecture can be told in words), and vlmr
knows no tool format for it: a local checkpoint of an unknown family answers text-and-image questions only.
"""

from __future__ import annotations

from vlmr.families.base import ModelFamily, register_family

# A served model of unknown architecture is sent a clip's frames as images (vlmr.inference.backends).
GENERIC = register_family(ModelFamily("generic", (), "pixel", 28, 56 * 56, 28 * 28 * 16384, video_input="images"))
