"""Pretraining the offline tiny model on synthetic shape scenes: ``vlmr model pretrain-tiny DIR``.

A randomly initialised tiny Qwen2.5-VL learns to see in LLaVA's stages, each on scenes drawn on the fly by
:mod:`vlmr.data_pipelines.shape_tasks` (no scene is seen twice):

1. **the vision tower alone** (:mod:`vlmr.train.vision_pretrain`): a throwaway linear head on each merged
   visual token reads colour, shape, objectness, the object's box and the token's own position, so what the
   language model must later read is linearly present in the token;
2. **alignment**, tower frozen: the language model (and the merger, at a tenth of its rate) learns from
   conversations that list each shape with its box (``detection``) and ask for one object, on one-object
   scenes first;
3. **instruction tuning**, tower still frozen: colour, count, box and small-target questions, these answered
   both directly and through a ``zoom_in`` trajectory.

Prompts and answers are exactly vlmr's (:func:`vlmr.train.sft.sft_row`: the answer format, coordinates in the
model's own convention, tool calls executed for real), half of them with vlmr's default system prompt, so the
checkpoint answers ``vlmr infer``, ``vlmr eval``, the demo and the quickstart as it was trained. Stages 2-3 are
trl's ``SFTTrainer`` over a streamed ``datasets.IterableDataset``; the scenes are drawn and tokenised in a
data-loader worker while the main process trains.

Why stages: trained end to end from a random start on next-token loss, the language model learns in its first
few dozen steps to ignore the image tokens, which carry no usable signal yet (measured on the ``small`` preset:
the answer logits' spread across images falls from 0.3 to 0.002 by step 50, and after 3,300 steps on mixed
tasks colour reaches 0.63, count 0.27 against a chance of 0.25, box IoU 0.01).
"""

from __future__ import annotations

import itertools
import logging
import os
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vlmr.train.vision_pretrain import VisionSpec

logger = logging.getLogger(__name__)

FAMILY = "qwen2_5_vl"
CARD = "PRETRAINED.md"  # beside the checkpoint: the command, seed, commit and held-out figures that made it
ZOOM_TOOLS = ["zoom_in"]


@dataclass(frozen=True)
class Stage:
    """One part of the curriculum: its share of the steps and the scenes it draws (sizes in px)."""

    share: float
    tasks: str
    min_objects: int
    max_objects: int
    min_size: int | None = None  # None: build_shapes' default, a tenth of the width
    max_size: int | None = None  # None: a quarter of the width


# Alignment on one object (finding it needs no lookup), then up to two, then ordinary scenes (the held-out
# distribution); a task listed twice is drawn twice as often.
CURRICULUM = (
    Stage(0.15, "detection,grounding,color", 1, 1),
    Stage(0.25, "detection,grounding,grounding,color,counting", 1, 2),
    Stage(0.60, "detection,grounding,grounding,color,counting,zoom", 1, 4),
)


@dataclass
class PretrainSpec:
    """Everything that decides a pretraining run (recorded beside the checkpoint)."""

    size: str = "small"
    seed: int = 0
    vision: VisionSpec = field(default_factory=VisionSpec)  # stage 1, the tower alone
    steps: int = 1500  # stages 2-3, the language model on the frozen tower (about 45 minutes on 2 CPU cores)
    batch_size: int = 16
    learning_rate: float = 2e-3  # language model; a random 2.5M-parameter model takes a high rate
    merger_lr_scale: float = 0.1  # the merger (the projector) adapts slowly: its output is what stage 1 trained
    warmup_steps: int = 20
    width: int = 112  # ordinary scenes: one 112 px image is 16 visual tokens
    zoom_width: int = 336  # small-target scenes: shown at 112 px, their target is ~2 px wide unless zoomed
    max_pixels: int = 112 * 112
    system_prompt_share: float = 0.5  # conversations with vlmr's default system prompt
    thought_dropout: float = 0.5
    curriculum: tuple[Stage, ...] = field(default=CURRICULUM)


def stage_steps(spec: PretrainSpec) -> list[int]:
    """Steps of each curriculum stage (the last one takes the rounding)."""
    counts = [round(stage.share * spec.steps) for stage in spec.curriculum[:-1]]
    return [*counts, spec.steps - sum(counts)]


def _samples(stage: Stage, spec: PretrainSpec, split: str, seed: int) -> Iterator:
    """Endless ``(Sample, images)`` of one stage; zoom scenes are drawn at ``zoom_width``."""
    from vlmr.data_pipelines.shape_tasks import build_shapes
    from vlmr.schema import Sample

    tasks = stage.tasks.split(",")
    plain = ",".join(t for t in tasks if t != "zoom")
    scenes = {"min_objects": stage.min_objects, "max_objects": stage.max_objects, "min_size": stage.min_size,
              "max_size": stage.max_size, "cot": True, "trajectories": True, "thought_dropout": spec.thought_dropout}
    streams = [build_shapes(seed=seed, limit=10**9, split=split, tasks=plain, width=spec.width,
                            height=spec.width, **scenes)]
    weights = [len(tasks) - ("zoom" in tasks)]  # each task its share, as build_shapes cycles through tasks
    if "zoom" in tasks:
        streams.append(build_shapes(seed=seed, limit=10**9, split=f"{split}-zoom", tasks="zoom",
                                    width=spec.zoom_width, height=spec.zoom_width, **scenes))
        weights.append(1)
    rng = random.Random(seed)
    while True:
        built = next(rng.choices(streams, weights)[0])
        sample = Sample.from_dict(built.record)
        yield sample, [built.media[Path(p).name] for p in sample.images]


def conversations(spec: PretrainSpec) -> Iterator[dict]:
    """The training stream: SFT rows (``messages``, ``images``, ``tools``) stage after stage.

    Zoom questions come in two forms: with ``zoom_in`` offered (the trajectory, tool executed)
    and without tools (the answer read from the full view), so the model can be asked both ways.
    """
    from vlmr.prompts import SYSTEM_PROMPT, coordinate_space
    from vlmr.tools.environment import make_environment
    from vlmr.train.sft import sft_row

    env_cls = make_environment(ZOOM_TOOLS)  # as `vlmr train sft` builds it
    rng = random.Random(spec.seed)
    for k, (stage, steps) in enumerate(zip(spec.curriculum, stage_steps(spec), strict=True)):
        for sample, images in itertools.islice(_samples(stage, spec, "pretrain", spec.seed * 100 + k),
                                               steps * spec.batch_size):
            space = coordinate_space(sample, FAMILY, None, spec.max_pixels)
            tools = ZOOM_TOOLS if isinstance(sample.cot, list) and rng.random() < 0.5 else None
            if isinstance(sample.cot, list) and tools is None:
                sample.cot = ""  # answered from the full view
            system = SYSTEM_PROMPT if rng.random() < spec.system_prompt_share else None
            yield sft_row(".", sample, space, tools, system, env_cls if tools else None, images=images)


def freeze_tower(model) -> None:
    """Freeze the vision tower's patch embedding and blocks; the merger (the projector) stays trainable."""
    for name, param in model.model.visual.named_parameters():
        param.requires_grad = name.startswith("merger.")


def _optimizer(model, spec: PretrainSpec):
    """AdamW over the trainable parameters, the merger on its own, lower learning rate (the trainer adds the
    schedule)."""
    import torch

    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    merger = [p for name, p in trainable if ".merger." in name]
    ids = {id(p) for p in merger}
    rest = [p for _, p in trainable if id(p) not in ids]
    groups = [{"params": rest, "lr": spec.learning_rate},
              {"params": merger, "lr": spec.learning_rate * spec.merger_lr_scale}]
    return torch.optim.AdamW(groups, lr=spec.learning_rate, weight_decay=0.0, betas=(0.9, 0.98))


def pretrain_tiny(out_dir: str | Path, spec: PretrainSpec | None = None, overwrite: bool = False) -> Path:
    """Build the tiny model, pretrain it on the scene stream and save it to ``out_dir``.

    Returns the checkpoint directory; its ``vlmr_meta.json`` records the spec under ``pretraining``.
    """
    import datasets
    import torch
    from trl import SFTConfig, SFTTrainer

    from vlmr.tiny_model import create_tiny_model, save_tiny_model
    from vlmr.tools.environment import make_environment
    from vlmr.train.collator import ToolConversationCollator
    from vlmr.train.sft import collator_tools
    from vlmr.train.vision_pretrain import probe_tower, train_vision_tower

    spec = spec or PretrainSpec()
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty; pass --overwrite or pick a new dir")
    # accelerate says at every log step that a streamed dataset has no length: true and harmless here
    logging.getLogger("accelerate").setLevel(logging.WARNING)
    workers = 1  # scenes are drawn and tokenised in one worker process while the main one trains
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - workers))
    model, processor = create_tiny_model(spec.size, seed=spec.seed, max_pixels=spec.max_pixels)
    vision_losses = train_vision_tower(model, processor, spec.vision, seed=spec.seed)
    vision_probe = probe_tower(model, processor, spec.vision, n=spec.vision.probe_scenes)
    logger.info("stage 1, linear probes on the frozen tower: %s", vision_probe)
    freeze_tower(model)
    model.train()
    stream = datasets.IterableDataset.from_generator(conversations, gen_kwargs={"spec": spec})
    tools = collator_tools({"vqa": ZOOM_TOOLS}, {"vqa": make_environment(ZOOM_TOOLS)})
    args = SFTConfig(
        output_dir=str(out.parent / f".{out.name}.trainer"), max_steps=spec.steps,
        per_device_train_batch_size=spec.batch_size, learning_rate=spec.learning_rate,
        lr_scheduler_type="cosine", warmup_steps=spec.warmup_steps, max_grad_norm=1.0, seed=spec.seed,
        use_cpu=True, dataloader_num_workers=workers, logging_steps=50, save_strategy="no", report_to=[],
        remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True},
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=stream, processing_class=processor,
                         data_collator=ToolConversationCollator(processor, tools),
                         optimizers=(_optimizer(model, spec), None))
    trainer.train()
    meta = {"pretraining": {**asdict(spec), "curriculum": [asdict(s) for s in spec.curriculum],
                            "vision_losses": vision_losses, "vision_probe": vision_probe}}
    return save_tiny_model(out, trainer.model.eval(), processor, spec.size, spec.seed, extra_meta=meta)


# figure -> (shape task, reward read, tools offered); the zoom question is asked twice, with and without zoom_in
REPORT = {
    "color_accuracy": ("color", "accuracy", None),
    "count_accuracy": ("counting", "count", None),
    "grounding_iou": ("grounding", "iou", None),
    "zoom_accuracy_with_tools": ("zoom", "accuracy", ZOOM_TOOLS),
    "zoom_accuracy_without_tools": ("zoom", "accuracy", None),
}


def heldout_rows(task: str, n: int, seed: int, spec: PretrainSpec, tools: list[str] | None = None) -> list[dict]:
    """``n`` prompt rows of fresh scenes (split ``heldout``: never drawn in training) like the last stage's."""
    from vlmr.dataset import prompt_row
    from vlmr.prompts import coordinate_space

    stage = spec.curriculum[-1]
    scenes = _samples(Stage(1.0, task, stage.min_objects, stage.max_objects, stage.min_size, stage.max_size),
                      spec, "heldout", seed)
    rows = []
    for sample, images in itertools.islice(scenes, n):
        space = coordinate_space(sample, FAMILY, None, spec.max_pixels)
        rows.append(prompt_row(".", sample, space, tools, None, images))
    return rows


def perception_report(checkpoint: str | Path, n: int = 64, seed: int = 0,
                      spec: PretrainSpec | None = None) -> dict[str, float]:
    """Greedy figures of ``checkpoint`` on ``n`` held-out questions per figure (see :data:`REPORT`):
    colour and count accuracy, mean grounding IoU, zoom-question accuracy with and without
    ``zoom_in`` and the tool-call rate with it. No system prompt (as the quickstart asks)."""
    from vlmr.inference import load_backend
    from vlmr.rewards import get_reward
    from vlmr.train.rollouts import roll_out

    spec = spec or PretrainSpec()
    backend = load_backend(model=str(checkpoint), max_new_tokens=96, temperature=0.0, batch_size=32)
    report = {}
    for figure, (task, reward, tools) in REPORT.items():
        rows = heldout_rows(task, n, seed, spec, tools)
        func = get_reward(reward)
        metrics = roll_out(backend, rows, {"vqa": tools} if tools else {}, [func],
                           max_turns=2 if tools else 1).metrics({})
        report[figure] = round(metrics[func.__name__], 3)
        if tools:
            report["zoom_tool_call_rate"] = round(metrics["tool_call_rate"], 3)
    return report


def source_commit() -> str | None:
    """The git commit of the vlmr source that runs (``+dirty`` with uncommitted changes), if it is a checkout."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def write_card(out_dir: str | Path, spec: PretrainSpec, report: dict[str, float], record: dict) -> Path:
    """``PRETRAINED.md`` and ``pretrain_report.json`` beside the checkpoint: how it was made and what it sees."""
    import json

    out = Path(out_dir)
    (out / "pretrain_report.json").write_text(json.dumps({**record, "heldout": report}, indent=2) + "\n",
                                              encoding="utf-8")
    rows = "\n".join(f"| {name} | {value:.3f} |" for name, value in report.items())
    probes = ", ".join(f"{name} {value:.3f}" for name, value in record["vision_probe"].items())
    stages = "\n".join(f"| {s.share:.2f} | {s.tasks} | {s.min_objects}-{s.max_objects} | "
                       f"{s.min_size or 'default'}-{s.max_size or 'default'} |" for s in spec.curriculum)
    card = f"""# Pretrained tiny model (`{spec.size}` preset, {record['num_parameters']:,} parameters)

Made by `{record['command']}`
(vlmr commit `{record['commit']}`, seed {spec.seed}, {spec.steps} steps of {spec.batch_size} conversations,
{record['minutes']:.1f} min on {record['machine']}).

Stage 1, the vision tower alone ({spec.vision.steps} steps of {spec.vision.batch_size} scenes): linear probes on
its frozen merged tokens ({spec.vision.probe_scenes} fresh scenes to fit, as many to score;
`vlmr.train.vision_pretrain.probe_tower`): {probes}.

Stages 2-3, the language model on the frozen tower. Held-out figures, greedy, {record['report_n']} fresh scenes per row, no system prompt
(`vlmr.train.pretrain.perception_report`):

| figure | value |
|---|---|
{rows}

Curriculum (share of the steps, tasks, objects per scene, object size in px at {spec.width} px):

| share | tasks | objects | size |
|---|---|---|---|
{stages}
"""
    path = out / CARD
    path.write_text(card, encoding="utf-8")
    return path


def run_pretraining(out_dir: str | Path, spec: PretrainSpec, report_n: int = 64, overwrite: bool = False) -> dict:
    """Pretrain, then write the held-out report and the card beside the checkpoint; returns the report."""
    import json
    import platform
    import time

    commit = source_commit()  # the code that trains, before anyone edits the checkout
    start = time.perf_counter()
    out = pretrain_tiny(out_dir, spec, overwrite=overwrite)
    minutes = (time.perf_counter() - start) / 60
    report = perception_report(out, n=report_n, seed=spec.seed, spec=spec)
    meta = json.loads((out / "vlmr_meta.json").read_text(encoding="utf-8"))
    record = {
        "command": f"vlmr model pretrain-tiny DIR --size {spec.size} --vision-steps {spec.vision.steps} --steps {spec.steps} "
                   f"--batch-size {spec.batch_size} --seed {spec.seed} --report-n {report_n}",
        "commit": commit, "minutes": round(minutes, 1), "num_parameters": meta["num_parameters"],
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), load average {os.getloadavg()[0]:.1f}",
        "report_n": report_n, "vision_probe": meta["pretraining"]["vision_probe"],
    }
    write_card(out, spec, report, record)
    return report
