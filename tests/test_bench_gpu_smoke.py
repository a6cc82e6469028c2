"""bench/gpu_smoke.py: the 3B shapes it builds, and its own CPU run (``--size small``)."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gpu_smoke():
    spec = importlib.util.spec_from_file_location("gpu_smoke", ROOT / "bench" / "gpu_smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_3b_model_has_the_published_parameter_count(gpu_smoke):
    """Counted by hand from the published config (H=2048, I=11008, 36 layers, 16 heads of 128, 2 KV heads,
    vocab 151936 tied; vision 1280 wide, 32 blocks, MLP 3420, merger 4x1280 -> 2048):
    text  = 151936*2048 (embedding) + 36 * 77_076_992 (q 2048*2048+2048, k and v 2048*256+256, o 2048*2048,
            MLP 3*2048*11008, 2 norms of 2048) + 2048 = 3_085_938_688
    vision = 3*2*14*14*1280 (patch conv) + 32 * 19_702_200 (qkv 1280*3840+3840, proj 1280*1280+1280,
             gate/up 2*(1280*3420+3420), down 3420*1280+1280, 2 norms) + 1280 + (5120*5120+5120) + (5120*2048+2048)
             = 668_684_288  -> 3_754_622_976 in all (the per-layer and per-block counts agree with a
    ``torchinfo`` print of the released model's layers)."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    from vlmr.tiny_model import create_tiny_model

    tiny, processor = create_tiny_model(gpu_smoke.TOKENIZER_PRESET)
    config = gpu_smoke.qwen2_5_vl_3b_config(tiny.config)
    with torch.device("meta"):
        model = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=torch.bfloat16)
    assert sum(p.numel() for p in model.parameters()) == 3_754_622_976
    assert config.image_token_id == processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")  # tiny tokenizer's
    assert config.text_config.num_hidden_layers == len(config.text_config.layer_types) == 36


@pytest.mark.slow
def test_small_run_on_cpu(gpu_smoke, tmp_path):
    out = tmp_path / "figures.json"
    runs = gpu_smoke.main(["--size", "small", "--cpu", "--work-dir", str(tmp_path / "work"), "--out", str(out)])
    assert json.loads(out.read_text())["runs"] == runs
    without, with_tools, trl_loop = runs
    shape = gpu_smoke.RUNS["small"]
    for run in runs:
        assert run["steps"] == gpu_smoke.STEPS and all(s > 0 for s in run["step_seconds"])
        assert run["generated_tokens_per_second"] > 0 and run["peak_memory_gib"] > 0
        assert run["estimate_gib"] > 0  # read from the line vlmr logs at start-up
    # without tools every completion is generated; a random model rarely stops early
    assert 0 < without["generated_tokens"] <= gpu_smoke.STEPS * shape["batch"] * shape["length"]
    assert without["tool_calls_per_rollout"] == 0.0
    # with tools: the scripted zoom_in ran in every rollout and the model wrote on after its image
    assert with_tools["tool_calls_per_rollout"] == 1.0 and with_tools["generated_tokens"] > 0
    # the same with trl's tool loop instead of vlmr's per-trajectory rollout
    assert (with_tools["rollout_loop"], trl_loop["rollout_loop"]) == ("async", "trl")
    assert trl_loop["tool_calls_per_rollout"] == 1.0 and trl_loop["generated_tokens"] > 0
