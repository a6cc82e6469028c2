"""Project-wide test settings and fixtures."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

# The machine is shared and has 2 cores: time limits per example would make tests flaky.
settings.register_profile("vlmr", deadline=None, max_examples=100)
settings.load_profile("vlmr")

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched from a hub in tests
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # environment_factory is used on purpose


@contextmanager
def _transformers_serve(model_dir, log_dir: Path):
    """Run `transformers serve MODEL_DIR` on a free loopback port; yields its OpenAI base URL."""
    exe = Path(sys.executable).with_name("transformers")
    if not exe.exists() and not shutil.which("transformers"):
        pytest.skip("the `transformers` CLI is not installed, so `transformers serve` cannot run here")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = Path(log_dir) / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen([str(exe if exe.exists() else "transformers"), "serve", str(model_dir),
                                 "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                pytest.skip(f"`transformers serve` exited at start-up (code {proc.returncode}): {log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"`transformers serve` did not become healthy in 120 s: {log.read_text()[-800:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def transformers_serve():
    """``with transformers_serve(model_dir, log_dir) as api_base:`` a real local OpenAI-compatible server."""
    return _transformers_serve


class ScriptFirstTurn:
    """Logits processor forcing ``script`` as the first assistant turn (no tool result yet); later turns are free.

    The model still runs every forward pass: only the choice of token is scripted. The assistant turn opens where the
    tokenizer's tool-call parser starts reading (ChatML's ``<|im_start|>assistant\n`` without one).
    """

    def __init__(self, tokenizer, script):
        self.script = tokenizer.encode(script, add_special_tokens=False)
        parser = getattr(tokenizer, "response_template", None) or {}
        self.header = tokenizer.encode(parser.get("start_anchor", "<|im_start|>assistant\n"), add_special_tokens=False)
        self.marker = tokenizer.convert_tokens_to_ids("<tool_response>")

    def __call__(self, input_ids, scores):
        for b, row in enumerate(input_ids.tolist()):
            if self.marker in row:
                continue
            start = max(i for i in range(len(row)) if row[i : i + len(self.header)] == self.header) + len(self.header)
            step = len(row) - start
            if step < len(self.script):
                scores[b] = -float("inf")
                scores[b, self.script[step]] = 0.0
        return scores


@pytest.fixture(scope="session")
def script_first_turn():
    """:class:`ScriptFirstTurn`: ``LogitsProcessorList([script_first_turn(tokenizer, script)])`` in generation."""
    return ScriptFirstTurn


# ------------------------------------------------- tiny checkpoints of published families
PUBLISHED = Path(__file__).parent / "fixtures" / "published"  # preprocessor files as the hub checkpoints ship them
NANO_SIZES = {"hidden_size": 48, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
              "num_key_value_heads": 1, "max_position_embeddings": 4096}
NANO_VISION = {"depth": 1, "num_heads": 2, "spatial_merge_size": 2, "temporal_patch_size": 2}


def _tiny_family_model(family: str, tokenizer, nano_dir: Path):
    """Random nano-sized weights of ``family``'s architecture (a family vlmr builds tiny: its nano tiny model)."""
    from transformers import AutoModelForImageTextToText, GenerationConfig

    from vlmr.tiny_architectures import TINY_ARCHITECTURES

    if family in TINY_ARCHITECTURES:
        return AutoModelForImageTextToText.from_pretrained(nano_dir)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in
           ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|im_end|>", "<|endoftext|>")}
    text = {**NANO_SIZES, "vocab_size": len(tokenizer), "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"], "bos_token_id": None,
            # head_dim 24: 12 rotary frequencies over (time, height, width)
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 4, 4]}}
    tokens = {"image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
              "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"],
              "tie_word_embeddings": True}
    if family == "qwen2_vl":
        from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

        vision = {**NANO_VISION, "embed_dim": 32, "hidden_size": 48, "mlp_ratio": 2, "patch_size": 14}
        model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(text_config=text, vision_config=vision, **tokens))
    else:
        from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

        text["head_dim"] = 24
        text["rope_parameters"]["mrope_interleaved"] = True
        vision = {**NANO_VISION, "hidden_size": 32, "intermediate_size": 64, "out_hidden_size": 48, "patch_size": 16,
                  "deepstack_visual_indexes": [0], "num_position_embeddings": 64}
        model = Qwen3VLForConditionalGeneration(Qwen3VLConfig(text_config=text, vision_config=vision, **tokens))
    model.generation_config = GenerationConfig(eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
                                               pad_token_id=ids["<|endoftext|>"])
    return model.eval()


def _published_template(family: str) -> str:
    """The family's published chat template: trl's copy for Qwen (Qwen2-VL's is byte-identical to Qwen2.5-VL's),
    else the fixture's ``chat_template.jinja`` (tests/fixtures/published/README.md)."""
    from trl.chat_template_utils import qwen2_5_vl_chat_template, qwen3_vl_chat_template

    fixture = PUBLISHED / family / "chat_template.jinja"
    if fixture.exists():
        return fixture.read_text(encoding="utf-8")
    return qwen3_vl_chat_template if family == "qwen3_vl" else qwen2_5_vl_chat_template


@pytest.fixture(scope="session")
def published_checkpoint(tmp_path_factory):
    """``published_checkpoint("qwen2_5_vl")`` -> a checkpoint dir laid out as the family's hub checkpoints are:
    random nano weights of its architecture, the nano tokenizer (of the family's tiny checkpoint where vlmr builds
    one) with the family's published chat template (no response parser, as on the hub) and its published
    processor files (tests/fixtures/published)."""
    import shutil

    from transformers import AutoTokenizer

    from vlmr.tiny_architectures import TINY_ARCHITECTURES
    from vlmr.tiny_model import build_tiny_model

    nano = tmp_path_factory.getbasetemp() / "tiny-nano-shared"  # shared with the other tests' nano fixtures
    if not (nano / "config.json").exists():
        build_tiny_model(nano, size="nano")

    def build(family: str) -> str:
        out = tmp_path_factory.getbasetemp() / f"published-{family}"
        if (out / "config.json").exists():
            return str(out)
        base = nano
        if family != "qwen2_5_vl" and family in TINY_ARCHITECTURES:
            base = tmp_path_factory.getbasetemp() / f"tiny-nano-{family}"  # shared with tests/test_family_commands.py
            if not (base / "config.json").exists():
                build_tiny_model(base, size="nano", family=family)
        tokenizer = AutoTokenizer.from_pretrained(base)
        tokenizer.chat_template = _published_template(family)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        model = _tiny_family_model(family, tokenizer, base)
        published = json.loads((PUBLISHED / family / "preprocessor_config.json").read_text(encoding="utf-8"))
        if "image_grid_pinpoints" in published:  # LLaVA-OneVision: the hub config.json holds the processor's grid
            model.config.image_grid_pinpoints = published["image_grid_pinpoints"]
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        config = json.loads((tmp / "tokenizer_config.json").read_text(encoding="utf-8"))
        config.pop("response_template")  # hub checkpoints ship no response parser
        (tmp / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        for path in (PUBLISHED / family).iterdir():
            shutil.copy(path, tmp / path.name)
        tmp.rename(out)
        return str(out)

    return build
