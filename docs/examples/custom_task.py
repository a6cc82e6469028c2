"""Your own data, reward, tool and benchmark in vlmr, end to end (runs offline on a CPU).

    python docs/examples/custom_task.py OUT_DIR

1. writes a dataset in the vlmr record schema from your own annotations (here: a few
   generated images with a "which side is the dot on?" question); ``build_dots`` is the
   same data as a data source for ``vlmr data build``,
2. a reward, 3. a tool, 4. a benchmark,
5. trains the tiny offline model for a few GRPO steps with that reward from a config dict.

From a YAML config or the command line, name each piece by its import path (this file is
the module ``custom_task`` when ``docs/examples`` is on ``PYTHONPATH``): ``vlmr data build
custom_task:build_dots``, ``rewards: [{name: "custom_task:SideReward"}]``, ``tools: {vqa:
["custom_task:dark_share"]}``, ``vlmr eval run --benchmark custom_task:DotsBench``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

from vlmr.config import TrainConfig
from vlmr.data_pipelines.build import Built, shard_records
from vlmr.eval import Benchmark, register_benchmark
from vlmr.rewards import Reward, register_reward
from vlmr.rewards.parse import split_think_answer
from vlmr.schema import DatasetWriter, Sample, load_samples
from vlmr.tools.registry import ToolResult, register_tool
from vlmr.tools.validation import pixel_box

QUESTION = "Is the dot on the left or the right?"


def dot_image(i: int) -> tuple[Image.Image, str]:
    """Sample ``i``'s 56x56 white image with a black dot, and the side the dot is on."""
    side = "left" if i % 2 == 0 else "right"
    image = Image.new("RGB", (56, 56), "white")
    x, y = (10 if side == "left" else 40), 4 + (3 * (i // 2)) % 44
    ImageDraw.Draw(image).ellipse([x, y, x + 8, y + 8], fill="black")
    return image, side


# 1. A dataset: one record per sample, media under media/, ground truth in original pixels.
def write_dataset(out: Path, n: int = 16) -> Path:
    with DatasetWriter(out, overwrite=True) as writer:
        for i in range(n):
            image, side = dot_image(i)
            path, rel = writer.media_path(f"{i}.png")
            image.save(path)
            writer.add(Sample(id=f"dot-{i}", task="vqa", question=QUESTION,
                              images=[rel], answer={"text": side}, meta={"width": 56, "height": 56}))
    return out


def build_dots(*, n: int = 16, seed: int = 0, limit: int | None = None, split: str = "train", shard: int = 0,
               num_shards: int = 1):
    """The same samples as a data source: ``vlmr data build custom_task:build_dots --out DIR [--n 16]``."""

    def record(i: int, _) -> Built:
        image, side = dot_image(i)
        return Built({"id": f"dot-{i}", "task": "vqa", "question": QUESTION, "images": [f"media/{i}.png"],
                      "answer": {"text": side}, "meta": {"width": 56, "height": 56, "split": split}},
                     {f"{i}.png": image})

    yield from shard_records(range(n), record, limit=limit, shard=shard, num_shards=num_shards)


# 2. A reward: score one completion against one answer; None where it does not apply.
@register_reward("side")
class SideReward(Reward):
    """1 if the answer names the correct side, else 0."""

    def score(self, prediction, answer=None, **context):
        if not answer or answer.get("text") not in ("left", "right"):
            return None
        _, final = split_think_answer(prediction)
        return float((final or "").strip().lower() == answer["text"])


# 3. A tool: type hints and docstring are the schema the model sees; bad arguments become a message.
@register_tool("image")
def dark_share(self, bbox_2d: list[float]) -> ToolResult:
    """Measure how much of a region of the image is dark.

    Args:
        bbox_2d: The region as [x1, y1, x2, y2] (top-left and bottom-right corners), {coords}.
    """
    image = self._image()
    box = pixel_box(bbox_2d, self._coords(), image.size)
    histogram = image.convert("L").crop(box).histogram()  # pixel count per grey level 0..255
    return ToolResult(f"{sum(histogram[:128]) / sum(histogram):.0%} of the region is dark.")


# 4. A benchmark: load the release into samples, score one response.
@register_benchmark("dots")
class DotsBench(Benchmark):
    """Which side is the dot on: accuracy of the answer word (the ``side`` reward)."""

    task = "vqa"

    def load(self, path):
        return load_samples(path)

    def process_results(self, sample, prediction, ctx):
        return {"accuracy": SideReward().score(prediction["response"], sample.answer) or 0.0}


# 5. Train: the same config a YAML file would hold.
def main(out_dir: str) -> Path:
    from vlmr.tiny_model import build_tiny_model
    from vlmr.train import train

    out = Path(out_dir)
    model = build_tiny_model(out / "model", size="nano", seed=0, overwrite=True)
    data = write_dataset(out / "dots")
    cfg = TrainConfig.from_dict({
        "model": str(model), "output_dir": str(out / "grpo"), "datasets": [{"path": str(data)}],
        "rewards": [{"name": "side", "weight": 1.0}, {"name": "format", "weight": 0.5}],
        "trainer": {"use_cpu": True, "max_steps": 2, "per_device_train_batch_size": 4, "num_generations": 4,
                    "max_completion_length": 16, "activation_checkpointing": False, "report_to": []},
    })
    return train("grpo", cfg)


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "runs/custom_task"))
