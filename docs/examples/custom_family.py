"""A model family of your own: how vlmr feeds your checkpoint images and reads its coordinates and tool calls.

Here, a Qwen2.5-VL fine-tuned to answer in 0-1000 coordinates (as Qwen2-VL and Qwen3-VL do) instead of Qwen2.5-VL's
pixels of the resized image: the Qwen2.5-VL spec with another convention. With ``docs/examples`` on ``PYTHONPATH``
this file is the module ``custom_family``; name the family by import path wherever a family is named::

    vlmr infer --model runs/my-finetune --family custom_family:QWEN2_5_VL_NORM1000 --image cat.jpg \\
        --question "Find the cat." --task grounding --tools zoom_in
    vlmr eval run --benchmark refcoco --data ... --model runs/my-finetune --family custom_family:QWEN2_5_VL_NORM1000
    # a training config: family: custom_family:QWEN2_5_VL_NORM1000

A family for an architecture vlmr does not know lists its ``config.model_type`` values in ``model_types`` and is
registered with ``register_family`` when its module is imported; from then on checkpoints of that type are
recognised without ``--family``.
"""

from __future__ import annotations

from dataclasses import replace

from vlmr.families import get_family, register_family

# model_types=(): chosen by name, never instead of the published Qwen2.5-VL for a qwen2_5_vl checkpoint.
QWEN2_5_VL_NORM1000 = register_family(
    replace(get_family("qwen2_5_vl"), name="qwen2_5_vl_norm1000", model_types=(), convention="norm1000"))
