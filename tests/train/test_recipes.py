"""Every shipped recipe (``configs/*.yaml``) trains one step as written, on a tiny checkpoint of its model's
family as published (its chat template and preprocessor settings), with the recipe's own rewards, tools,
task mix and trainer keys; only what needs a GPU or a download is replaced (:data:`CPU_STEP`).
Also SFT on the published Qwen2.5-VL template, with and without tools."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml
from release_fixtures import write_deepeyes, write_mini_o3_coldstart

from vlmr.chat_templates import RESPONSE_TEMPLATE, tool_chat_template
from vlmr.cli import main
from vlmr.config import load_yaml

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "configs").glob("*.yaml"))
LAUNCH = re.compile(r"vlmr train (sft|grpo)")
BUILD = re.compile(r"vlmr data build (\S+)(.*?)--out ([\w./-]+)")

# The hub ids the recipes train -> the family whose published template and processor the stand-in carries.
FAMILY_OF = {"Qwen/Qwen2.5-VL-3B-Instruct": "qwen2_5_vl", "Qwen/Qwen2.5-VL-7B-Instruct": "qwen2_5_vl"}
# Sources that need downloaded files -> the vlmr synthetic builder that yields the same task.
STAND_IN = {
    "refcoco": ["shapes", "--tasks", "grounding"],        # referring expressions -> grounding
    "reasonseg": ["shapes", "--tasks", "segmentation"],   # reasoning segmentation -> segmentation
    "chartqa": ["charts"],                                # chart_qa
    "charades_sta": ["video_synthetic"],                  # temporal_grounding (and the builder's other video tasks)
}
# Sources whose released files the tests write in their published layout (tests/data_pipelines/release_fixtures.py),
# so the recipe's own build command runs on them: source -> (the option naming the download, the writer).
RELEASED = {"deepeyes": ("--root", lambda folder: write_deepeyes(folder, bad_rows=False).parent),
            "mini_o3_coldstart": ("--root", lambda folder: write_mini_o3_coldstart(folder).parents[1])}
# Small media, so a step takes seconds (the image and clip sizes are the only data settings changed).
SMALL_MEDIA = {"shapes": ["--width", "112", "--height", "112"], "charts": ["--size", "112"], "video_synthetic": []}
# What one CPU step replaces, and why; everything else in the recipe runs as written.
CPU_STEP = {
    "dtype": "float32",                     # bf16 weights are for GPUs
    "trainer": {
        "bf16": False,                      # GPU
        "use_vllm": False,                  # vLLM generation (and its vllm_mode) needs a GPU
        "activation_checkpointing": False,  # saves GPU memory, costs CPU time
        "use_cpu": True,                    # no accelerator; also no DeepSpeed: the launch's accelerate config
                                            # (configs/accelerate/zero*.yaml) is not used, one process runs
        "max_steps": 1, "per_device_train_batch_size": 2, "gradient_accumulation_steps": 1,
        "num_generations": 2, "max_completion_length": 16,  # one small step instead of hundreds of large ones
        "save_strategy": "no", "report_to": [], "logging_steps": 1, "dataloader_num_workers": 0, "disable_tqdm": True,
    },
}
DROPPED_TRAINER_KEYS = ("vllm_mode", "save_steps")  # meaningless without vLLM / saving


def trainer_fields(method: str) -> set[str]:
    """The keys trl's config of ``method`` takes (CPU_STEP's GRPO-only keys leave an SFT recipe)."""
    from trl import GRPOConfig, SFTConfig

    return {f.name for f in dataclasses.fields(GRPOConfig if method == "grpo" else SFTConfig)}


def header(path: Path) -> str:
    return "\n".join(line.lstrip("# ") for line in path.read_text(encoding="utf-8").splitlines()
                     if line.startswith("#"))


def build_commands() -> dict[str, tuple[str, list[str]]]:
    """``--out`` dir -> (source, options) of every ``vlmr data build`` line in the recipe headers."""
    commands = {}
    for path in RECIPES:
        for source, options, out in BUILD.findall(header(path)):
            commands[out] = (source, options.split())
    return commands


def build_stand_in(data_dir: str, root: Path) -> str:
    """The recipe's dataset ``data_dir``, built small: by its header's own command if the source is synthetic,
    else by the synthetic stand-in for its source."""
    commands = build_commands()
    assert data_dir in commands, f"no recipe header says how to build {data_dir} (`vlmr data build ... --out {data_dir}`)"
    source, options = commands[data_dir]
    command = STAND_IN.get(source, [source, *options])
    if source in RELEASED:
        option, write = RELEASED[source]
        at = command.index(option) + 1
        command[at] = str(write(root / "released" / source))
    out = root / data_dir
    if not out.exists():
        code = main(["data", "build", *command, *SMALL_MEDIA.get(command[0], []), "--limit", "4", "--out", str(out)])
        assert code == 0, f"`vlmr data build {' '.join(command)}` failed"
    return str(out)


def cpu_step_config(recipe: Path, model: str, root: Path) -> dict:
    """The recipe with its model, data and GPU-only keys replaced as :data:`CPU_STEP` lists."""
    data = load_yaml(recipe.read_text(encoding="utf-8"))
    data["model"] = model
    data["output_dir"] = str(root / "run")
    data["dtype"] = CPU_STEP["dtype"]
    for spec in [*data["datasets"], *(d for stage in data.get("stages", []) for d in stage.get("datasets", []))]:
        spec["path"] = build_stand_in(spec["path"], root / "data")
    trainer = {**{k: v for k, v in data.get("trainer", {}).items() if k not in DROPPED_TRAINER_KEYS},
               **CPU_STEP["trainer"]}
    data["trainer"] = {k: v for k, v in trainer.items() if k in trainer_fields(LAUNCH.search(header(recipe)).group(1))}
    for reward in data.get("rewards", []):
        if isinstance(reward.get("segmenter"), dict):  # SAM 2 weights are a download
            reward["segmenter"] = "grabcut"
    return data


def test_every_recipe_names_a_family_with_a_stand_in():
    assert RECIPES
    for path in RECIPES:
        assert load_yaml(path.read_text(encoding="utf-8"))["model"] in FAMILY_OF, f"{path.name}: add its family"


@pytest.mark.parametrize("recipe", RECIPES, ids=[p.name for p in RECIPES])
def test_recipe_trains_one_step_on_its_published_family(recipe, published_checkpoint, tmp_path):
    data = cpu_step_config(recipe, "", tmp_path)
    family = FAMILY_OF[load_yaml(recipe.read_text(encoding="utf-8"))["model"]]
    data["model"] = published_checkpoint(family)
    config = tmp_path / recipe.name
    config.write_text(yaml.safe_dump(data), encoding="utf-8")

    method = LAUNCH.search(header(recipe)).group(1)
    assert main(["train", method, "--config", str(config)]) == 0
    final = tmp_path / "run" / "final"
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text(encoding="utf-8"))
    losses = [entry["loss"] for entry in state["log_history"] if "loss" in entry]
    assert state["global_step"] == 1 and len(losses) == 1 and losses[0] == losses[0]  # one finite step
    for spec in data.get("rewards", []):  # every reward of the recipe was computed on the step
        assert any(f"rewards/{spec['name']}/mean" in entry for entry in state["log_history"]), spec["name"]
    saved = json.loads((final / "tokenizer_config.json").read_text(encoding="utf-8"))
    if data.get("tools"):  # the tool template vlmr chose is the one saved
        assert (final / "chat_template.jinja").read_text(encoding="utf-8") == tool_chat_template(family)
        assert saved["response_template"] == RESPONSE_TEMPLATE


class TestSftOnThePublishedQwen25VLTemplate:
    def _train(self, tmp_path, published_checkpoint, tasks: str, tools: dict) -> Path:
        data = tmp_path / "data"
        assert main(["data", "build", "shapes", "--tasks", tasks, *SMALL_MEDIA["shapes"], "--limit", "2",
                     "--out", str(data)]) == 0
        config = tmp_path / "sft.yaml"
        from trl import SFTConfig

        sft_fields = {f.name for f in dataclasses.fields(SFTConfig)}
        trainer = {k: v for k, v in CPU_STEP["trainer"].items() if k in sft_fields}
        config.write_text(yaml.safe_dump({
            "model": published_checkpoint("qwen2_5_vl"), "output_dir": str(tmp_path / "run"),
            "datasets": [{"path": str(data)}], "tools": tools, "trainer": trainer}), encoding="utf-8")
        assert main(["train", "sft", "--config", str(config)]) == 0
        state = json.loads((tmp_path / "run" / "trainer_state.json").read_text(encoding="utf-8"))
        [loss] = [entry["loss"] for entry in state["log_history"] if "loss" in entry]
        assert 0 < loss < 100  # finite, and there were assistant tokens to learn (an empty mask gives 0.0)
        return tmp_path / "run" / "final"

    def test_with_tool_trajectories(self, tmp_path, published_checkpoint):
        final = self._train(tmp_path, published_checkpoint, "zoom", {"vqa": ["zoom_in"], "counting": ["zoom_in"],
                                                                      "grounding": ["zoom_in"]})
        assert (final / "chat_template.jinja").read_text(encoding="utf-8") == tool_chat_template("qwen2_5_vl")

    def test_without_tools_keeps_the_published_template(self, tmp_path, published_checkpoint):
        from trl.chat_template_utils import qwen2_5_vl_chat_template

        final = self._train(tmp_path, published_checkpoint, "grounding", {})
        assert (final / "chat_template.jinja").read_text(encoding="utf-8") == qwen2_5_vl_chat_template
