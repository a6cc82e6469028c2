"""Every command on a tiny checkpoint of each model family beyond the default Qwen2.5-VL (whose commands the rest of
the suite runs): an ``vlmr infer`` trajectory with a tool call, an eval run, one SFT step and one GRPO step with
``zoom_in``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image

from vlmr.tiny_architectures import TINY_ARCHITECTURES

pytestmark = [pytest.mark.slow]
FAMILIES = sorted(set(TINY_ARCHITECTURES) - {"qwen2_5_vl"})
SIZE = 56  # px images: one tile (or the fewest tokens) per image


def scripted_call(family: str, bbox: list) -> str:
    """A first turn calling zoom_in on ``bbox`` in the family's tool format (GLM-4.5's argument pairs, Hermes JSON
    otherwise)."""
    if family == "glm4v":
        return f"<think>look</think>\n<tool_call>zoom_in\n<arg_key>bbox_2d</arg_key>\n<arg_value>{bbox}</arg_value>\n</tool_call>"
    return f"<think>look</think><tool_call>\n{json.dumps({'name': 'zoom_in', 'arguments': {'bbox_2d': bbox}})}\n</tool_call>"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """``tiny(family)``: the nano checkpoint of ``family``, built once."""
    from vlmr.tiny_model import build_tiny_model

    def build(family: str) -> str:
        out = tmp_path_factory.getbasetemp() / f"tiny-nano-{family}"
        if not (out / "config.json").exists():
            build_tiny_model(out, size="nano", family=family)
        return str(out)

    return build


@pytest.fixture(scope="module")
def counting_data(tmp_path_factory) -> str:
    """Two counting samples on 56x56 shape scenes."""
    from vlmr.data_pipelines.shapes import make_scene
    from vlmr.schema import DatasetWriter, Sample

    out = tmp_path_factory.mktemp("family-data") / "counting"
    with DatasetWriter(out) as w:
        for i in range(2):
            scene = make_scene(i, width=SIZE, height=SIZE, n_objects=2, min_size=10, max_size=18)
            path, rel = w.media_path(f"{i}.png")
            scene.image.save(path)
            w.add(Sample(id=f"count-{i}", task="counting", question="How many shapes are there?", images=[rel],
                         answer={"count": 2}, meta={"width": SIZE, "height": SIZE}))
    return str(out)


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("family", FAMILIES)
def test_init_tiny_cli_builds_the_family(family, tmp_path, capsys):
    from transformers import AutoConfig

    from vlmr.cli import main

    assert main(["model", "init-tiny", str(tmp_path / "m"), "--family", family, "--size", "nano"]) == 0
    assert f"built nano {family}" in " ".join(capsys.readouterr().out.split())
    assert json.loads((tmp_path / "m" / "vlmr_meta.json").read_text())["family"] == family
    assert AutoConfig.from_pretrained(tmp_path / "m").model_type == family


@pytest.mark.parametrize("family", FAMILIES)
def test_checkpoint_loads_as_the_family_with_its_placeholders_suppressed(tiny, family):
    from vlmr.families import get_family
    from vlmr.models import load_model_and_processor, model_family, vision_placeholder_token_ids

    model, processor = load_model_and_processor(tiny(family))
    assert model_family(model) == family
    suppressed = vision_placeholder_token_ids(processor, model.config)
    placeholders = processor.tokenizer.convert_tokens_to_ids(list(get_family(family).placeholder_tokens))
    assert set(placeholders) <= set(suppressed)
    assert processor.tokenizer.eos_token_id not in suppressed


@pytest.mark.parametrize("family", FAMILIES)
def test_infer_trajectory_with_a_tool_call(tiny, family, tmp_path, monkeypatch, capsys, script_first_turn):
    """`vlmr infer --tools zoom_in`: the real model's forward passes, its first turn's tokens scripted to a call."""
    from transformers import LogitsProcessorList

    from vlmr.cli import main
    from vlmr.formats import CoordinateSpace
    from vlmr.inference.backends import TransformersBackend

    backend = TransformersBackend.from_pretrained(tiny(family), max_new_tokens=80)
    # the top 96x32 px of a 96x64 image in the family's convention ([0, 0, 1000, 500] in 0-1000, [0, 0, 1, 0.5] in
    # 0-1, [0, 0, 96, 32] in pixels): the zoomed view is 3:1 only if the tool read the box as the family writes it
    bbox = CoordinateSpace.for_image(96, 64, family).from_pixels([0, 0, 96, 32])
    script = scripted_call(family, bbox)
    backend.generation["logits_processor"] = LogitsProcessorList([script_first_turn(backend.tokenizer, script)])
    monkeypatch.setattr("vlmr.inference.load_backend", lambda *a, **k: backend)
    image = tmp_path / "img.png"
    Image.new("RGB", (96, 64), "red").save(image)
    code = main(["infer", "--model", tiny(family), "--image", str(image), "--question", "How many?", "--task",
                 "counting", "--tools", "zoom_in", "--max-turns", "2", "--save-dir", str(tmp_path / "out")])
    assert code == 0
    record = json.loads((tmp_path / "out" / "trajectory.json").read_text())
    assert record["turns"] == 2 and record["error"] is None
    assert record["tool_calls"][0]["ok"] is True
    zoomed = Image.open(tmp_path / "out" / "tool_00.png")
    assert zoomed.size[0] / zoomed.size[1] == pytest.approx(96 / 32, rel=0.05)


@pytest.mark.parametrize("family", FAMILIES)
def test_eval_run(tiny, family, counting_data, tmp_path, capsys):
    from vlmr.cli import main
    from vlmr.families import get_family

    out = tmp_path / "eval"
    code = main(["eval", "run", "--benchmark", "dataset", "--data", counting_data, "--model", tiny(family),
                 "--out", str(out), "--max-new-tokens", "4"])
    assert code == 0
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(p["id"] for p in predictions) == ["count-0", "count-1"]
    scores = json.loads((out / "scores.json").read_text())
    assert scores["n"] == 2 and 0.0 <= scores["overall"]["accuracy"] <= 1.0
    # the family's convention, from the checkpoint's config.model_type
    assert f"coordinates read as: {get_family(family).convention} ({family})" in capsys.readouterr().out


@pytest.mark.parametrize("family", FAMILIES)
def test_eval_reads_the_pixel_limits_through_the_family(tiny, family, tmp_path):
    """Qwen's size, InternVL's tiles, GLM's size: eval's coordinate frame uses the checkpoint's own limits."""
    from transformers import AutoImageProcessor

    from vlmr.eval.runner import EvalConfig, resolve_coordinates
    from vlmr.families import get_family

    limits = get_family(family).pixel_limits(AutoImageProcessor.from_pretrained(tiny(family)))
    cfg = EvalConfig(benchmark="dataset", data=str(tmp_path), out=str(tmp_path), model=tiny(family))
    assert resolve_coordinates(cfg) == (family, *limits)
    assert None not in limits  # every family's tiny processor has its knob


def _train(method: str, model: str, data: str, out: Path, **fields) -> dict:
    from vlmr.config import TrainConfig
    from vlmr.train import train

    trainer = {"use_cpu": True, "report_to": [], "gradient_checkpointing": False, "max_steps": 1,
               "per_device_train_batch_size": 2, "learning_rate": 1e-3, "save_strategy": "no",
               "dataloader_num_workers": 0, "disable_tqdm": True}
    if method == "grpo":  # room for a scripted tool call (about 40 tokens) and a few more after its result
        trainer.update(num_generations=2, max_completion_length=64)
    else:  # a LLaVA-OneVision image alone is 1,485 tokens
        trainer.update(max_length=4096)
    cfg = TrainConfig.from_dict({"model": model, "output_dir": str(out), "datasets": [{"path": data}],
                                 "trainer": trainer, **fields})
    final = train(method, cfg)
    assert json.loads((final / "vlmr_meta.json").read_text())["trained_with"] == method
    return json.loads((out / "trainer_state.json").read_text())


@pytest.mark.parametrize("family", FAMILIES)
def test_sft_step(tiny, family, counting_data, tmp_path):
    state = _train("sft", tiny(family), counting_data, tmp_path / "sft")
    assert state["global_step"] == 1
    assert math.isfinite(state["log_history"][0]["loss"]) and state["log_history"][0]["loss"] > 0


@pytest.mark.parametrize("family", FAMILIES)
def test_sft_step_on_the_published_template(published_checkpoint, family, counting_data, tmp_path):
    """A hub checkpoint's own template (no tools): SFT trains with the published one where it has markers
    (LLaVA-OneVision), with trl's marked copy of it where trl has one (Gemma 3, SmolVLM), else with vlmr's marked
    template (InternVL, GLM-4.1V); the published one is saved."""
    from trl.chat_template_utils import gemma3_training_chat_template, smolvlm_training_chat_template

    from vlmr.chat_templates import tool_chat_template, training_chat_template
    from vlmr.models import load_model_and_processor

    _, processor = load_model_and_processor(published_checkpoint(family))
    expected = {"internvl": tool_chat_template("internvl"), "glm4v": tool_chat_template("glm4v"), "llava_onevision": None,
                "gemma3": gemma3_training_chat_template, "smolvlm": smolvlm_training_chat_template}[family]
    assert training_chat_template(processor, family) == expected
    state = _train("sft", published_checkpoint(family), counting_data, tmp_path / "sft")
    assert state["global_step"] == 1 and math.isfinite(state["log_history"][0]["loss"])
    published = (Path(published_checkpoint(family)) / "chat_template.jinja").read_text(encoding="utf-8")
    assert (tmp_path / "sft" / "final" / "chat_template.jinja").read_text(encoding="utf-8") == published


@pytest.mark.parametrize("family", FAMILIES)
def test_grpo_step_with_zoom_in(tiny, family, counting_data, tmp_path, monkeypatch):
    """Each rollout's first turn is scripted to a zoom_in call in the family's convention, ended by its end-of-turn
    token (every forward pass is the model's): trl's tool loop reads it with the family's parser and runs it."""
    import torch
    from transformers import AutoTokenizer, GenerationMixin

    from vlmr.formats import CoordinateSpace

    tokenizer = AutoTokenizer.from_pretrained(tiny(family))
    bbox = CoordinateSpace.for_image(SIZE, SIZE, family).from_pixels([0, 0, 40, 40])  # within the 56 px scene
    end = "<|observation|>" if family == "glm4v" else tokenizer.eos_token  # where the model stops for a result
    script = tokenizer.encode(scripted_call(family, bbox) + end, add_special_tokens=False)
    tool_result = tokenizer.convert_tokens_to_ids("<tool_response>")
    generate = GenerationMixin.generate

    def first_turn_scripted(self, input_ids=None, **kwargs):
        if (input_ids == tool_result).any():  # after the tool result: the model's own tokens
            return generate(self, input_ids=input_ids, **kwargs)
        return torch.cat([input_ids, torch.tensor([script] * input_ids.shape[0])], dim=1)

    monkeypatch.setattr(GenerationMixin, "generate", first_turn_scripted)
    state = _train("grpo", tiny(family), counting_data, tmp_path / "grpo", rewards=[{"name": "count"}],
                   tools={"counting": ["zoom_in"]}, max_tool_calls=1)
    log = state["log_history"][0]
    assert state["global_step"] == 1
    assert (log["tools/call_frequency"], log["tools/failure_frequency"]) == (1.0, 0.0)  # every rollout's call ran
    assert 0.0 <= log["rewards/count/mean"] <= 1.0


def test_grpo_runs_glm_tool_calls_through_trl(tiny, tmp_path):
    """trl's tool loop reads GLM-4.5-format calls with the family's parser, runs them (0-1000 boxes) and puts the
    results after the <|observation|> the model stopped on; the first turn of each rollout is scripted."""
    import numpy as np
    import torch
    from datasets import Dataset
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig, GRPOTrainer

    from vlmr.formats import CoordinateSpace
    from vlmr.tools import ToolLimits, make_environment

    model = AutoModelForImageTextToText.from_pretrained(tiny("glm4v"), dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(tiny("glm4v"))
    tokenizer = processor.tokenizer
    coord = CoordinateSpace.for_image(64, 64, "glm4v")
    boxes = [[0, 0, 600, 600], [0, 0, 1, 1], [100, 100, 900, 900], [300, 300, 1000, 1000]]
    scripts = [f"<think>check</think>\n<tool_call>zoom_in\n<arg_key>bbox_2d</arg_key>\n<arg_value>{box}</arg_value>\n"
               "</tool_call><|observation|>" for box in boxes]
    marker, generate, after_tools = tokenizer.convert_tokens_to_ids("<tool_response>"), model.generate, []

    def scripted(input_ids=None, **kwargs):  # rows without a tool result get their script; the rest really generate
        if (input_ids == marker).any():
            after_tools.extend(tokenizer.batch_decode(input_ids))
            return generate(input_ids=input_ids, **kwargs)
        rows = [tokenizer.encode(s, add_special_tokens=False) for s in scripts[: input_ids.size(0)]]
        width = max(map(len, rows))
        return torch.cat([input_ids, torch.tensor([r + [tokenizer.pad_token_id] * (width - len(r)) for r in rows])], 1)

    model.generate = scripted
    rng = np.random.default_rng(0)
    rows = [{"prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where is it?"}]}],
             "images": [Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))], "coord": coord.to_dict()}
            for _ in range(2)]
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=2, max_steps=1,
                      max_completion_length=192, report_to="none", save_strategy="no", use_cpu=True, bf16=False)
    trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **_: [1.0] * len(completions), args=args,
                          train_dataset=Dataset.from_list(rows), processing_class=processor,
                          environment_factory=make_environment(["zoom_in"], limits=ToolLimits(zoom_pixels=84 * 84),
                                                               convention="norm1000"))
    trainer.train()
    # trl shuffles rollouts: each box once. [0, 0, 600, 600] of 64x64 px is 0..38.4 -> 39x39 px; [0, 0, 1, 1] is
    # under a pixel; [100, 100, 900, 900] is 6.4..57.6 -> 52x52 px
    texts = sorted(h["text"].split(":")[0] for env in trainer.environments for h in env.history)
    assert texts == ["Error", "Zoomed into [0, 0, 600, 600]", "Zoomed into [100, 100, 900, 900]",
                     "Zoomed into [300, 300, 1000, 1000]"]
    # the tool result follows the model's own <|observation|>, once; a zoom shown at 84x84 px is 3x3 <|image|> tokens
    zoomed = [p for p in after_tools if "Zoomed into [0, 0, 600, 600]" in p]
    assert zoomed and all(p.count("<|observation|>") == 1 for p in after_tools)
    assert "</tool_call><|observation|>\n<tool_response>\n<|begin_of_image|>" + "<|image|>" * 9 + "<|end_of_image|>" in (
        zoomed[0])

@pytest.mark.parametrize(
    ("family", "tiles"),
    [
        # published grid: 56x56 fits 384x384 (1 tile + the whole image); 800x300 fits 1152x384 best (3 tiles + 1)
        ("llava_onevision", [2, 4]),
        # longest edge 2048: 56x56 -> 2048x2048, 4x4 tiles + the whole image; 112x56 -> 2048x1024, 4x2 + 1
        ("smolvlm", [17, 9]),
    ],
)
def test_sft_batch_of_images_with_different_tile_counts(published_checkpoint, family, tiles):
    """The SFT collator pads each example's tiles to the batch's most; the model drops the padding."""
    import torch

    from vlmr.chat_templates import training_chat_template
    from vlmr.models import load_model_and_processor
    from vlmr.train.collator import ToolConversationCollator

    model, processor = load_model_and_processor(published_checkpoint(family))
    sizes = {"llava_onevision": [(56, 56), (800, 300)], "smolvlm": [(56, 56), (112, 56)]}[family]
    rows = [{"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many?"}]},
                          {"role": "assistant", "content": [{"type": "text", "text": "<answer>2</answer>"}]}],
             "images": [Image.new("RGB", size, "red")]} for size in sizes]
    collator = ToolConversationCollator(processor, chat_template=training_chat_template(processor, family))
    alone = [collator([row]) for row in rows]
    assert [a["pixel_values"].shape[1] for a in alone] == tiles
    batch = collator(rows)
    assert batch["pixel_values"].shape[:2] == (2, max(tiles))  # LLaVA-OneVision: 2 images; SmolVLM: 2 examples
    with torch.no_grad():
        loss = model(**batch).loss
    assert math.isfinite(loss.item()) and loss.item() > 0

