"""Prompt snapshots: the exact messages each benchmark sends for its first fixture sample.

A change in a benchmark's question text or in the shared prompt builder shows up here as
a diff. After an intended change, refresh with ``VLMR_UPDATE_SNAPSHOTS=1 pytest tests/eval/test_eval_prompts.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eval_fixtures import BUILDERS

from vlmr.eval import get_benchmark
from vlmr.eval.registry import ScoreContext

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_prompt_snapshot(name, bench_data):
    bench = get_benchmark(name, max_frames=4)
    data = bench_data(name)
    sample = bench.load(data)[0]
    ctx = ScoreContext(root=bench.media_root(data), family="qwen2_5_vl")
    conversation = bench.conversation(sample, ctx.root, ctx.space_for(sample), tools=None)
    messages, images = conversation.messages, conversation.images
    rendered = {"messages": messages, "n_images": len(images), "image_sizes": [list(im.size) for im in images]}
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("VLMR_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert rendered == json.loads(path.read_text(encoding="utf-8"))
    placeholders = sum(part.get("type") == "image" for m in messages for part in m["content"])
    assert placeholders == len(images)  # one placeholder per image the loop will send
