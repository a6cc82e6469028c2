"""Stage 1 of the tiny model's pretraining: the vision tower learns to see before any language model looks.

Real VLMs start from a vision encoder trained on its own; the tiny model's tower is trained here on synthetic
shape scenes with a throwaway linear head on each merged visual token (the tower's output, in the language
model's width), so that what the language model must later read is linearly present in the token:

* every token: the colour that covers most of its cell (or background), and its cell's own position;
* the token whose cell holds an object's centre: that object's colour, shape and absolute box
  (fractions of the image), and that it holds an object (so objects can be counted).

Shape and colour are supervised on the centre cell only: an 11-28 px shape on 14 px patches is seen only in
parts by the other cells, whose shape label is noise. A linear probe on the frozen tower
(:func:`probe_tower`) checks colour, count and box before the language model is trained on top of it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and torch are imported where used: the CLI reads VisionSpec at start-up
    import numpy as np

logger = logging.getLogger(__name__)

MERGED_CELL = 28  # px per side of one merged visual token (patch 14 x spatial merge 2)


@dataclass(frozen=True)
class VisionSpec:
    """How the tower is trained: scenes like the held-out ones (1-4 objects, default sizes) at ``width`` px."""

    steps: int = 600  # about 7 minutes on 2 CPU cores
    batch_size: int = 32
    learning_rate: float = 2e-3
    width: int = 112
    min_objects: int = 1
    max_objects: int = 4
    probe_scenes: int = 500  # the linear probes after training fit on this many scenes and score on as many more


def _labels():
    from vlmr.data_pipelines.shapes import COLORS, SHAPES

    return list(COLORS), list(SHAPES)


def cell_targets(scene, grid: int) -> dict[str, np.ndarray]:
    """Per merged cell (row-major, ``grid x grid``) targets of ``scene`` (a square ``ShapeScene``).

    ``color``: index of the colour covering most of the cell, ``len(COLORS)`` for background; ``center``: 1 where
    an object's centre lies (the larger object wins a shared cell); ``shape``/``object_color``: that object's
    labels (-100 elsewhere, ignored by the loss); ``box``: its xyxy box as fractions of the image;
    ``position``: the cell centre as fractions of the image.
    """
    import numpy as np

    colors, shapes = _labels()
    size, cell = scene.width, scene.width / grid
    color = np.full(grid * grid, len(colors), dtype=np.int64)
    cover = np.zeros(grid * grid)
    for obj in scene.objects:
        per_cell = obj.mask.reshape(grid, size // grid, grid, size // grid).sum(axis=(1, 3)).reshape(-1)
        wins = per_cell > np.maximum(cover, 0.15 * cell * cell)
        color[wins], cover[wins] = colors.index(obj.color), per_cell[wins]
    center = np.zeros(grid * grid, dtype=np.float32)
    shape = np.full(grid * grid, -100, dtype=np.int64)
    object_color = np.full(grid * grid, -100, dtype=np.int64)
    box = np.zeros((grid * grid, 4), dtype=np.float32)
    for obj in sorted(scene.objects, key=lambda o: o.area):  # larger objects last: they keep a shared cell
        cx, cy = obj.center
        k = min(grid - 1, int(cy / cell)) * grid + min(grid - 1, int(cx / cell))
        center[k], shape[k], object_color[k] = 1.0, shapes.index(obj.shape), colors.index(obj.color)
        box[k] = np.asarray(obj.box, dtype=np.float32) / size
    rows, cols = np.divmod(np.arange(grid * grid), grid)
    position = np.stack([(cols + 0.5) / grid, (rows + 0.5) / grid], axis=1).astype(np.float32)
    return {"color": color, "center": center, "shape": shape, "object_color": object_color, "box": box,
            "position": position}


def scenes(spec: VisionSpec, seed: int) -> Iterator:
    """Endless fresh scenes like the held-out ones (``seed`` picks the stream; no two streams share a scene)."""
    import numpy as np

    from vlmr.data_pipelines.shape_tasks import default_object_sizes
    from vlmr.data_pipelines.shapes import make_scene

    rng = np.random.default_rng(seed)
    while True:
        yield make_scene(int(rng.integers(2**31)), spec.width, spec.width, (spec.min_objects, spec.max_objects),
                         *default_object_sizes(spec.width))


def batch(processor, drawn: list, grid: int) -> tuple[dict, dict]:
    """Processor inputs of ``drawn`` scenes and their stacked cell targets (torch tensors)."""
    import numpy as np
    import torch

    inputs = processor.image_processor(images=[s.image for s in drawn], return_tensors="pt")
    targets = [cell_targets(s, grid) for s in drawn]
    return dict(inputs), {k: torch.from_numpy(np.concatenate([t[k] for t in targets])) for k in targets[0]}


def batches(processor, spec: VisionSpec, seed: int):
    """Endless training batches, drawn in a data-loader worker while the main process trains."""
    import itertools

    import torch

    class Batches(torch.utils.data.IterableDataset):
        def __iter__(self):
            stream = scenes(spec, seed)
            while True:
                yield batch(processor, list(itertools.islice(stream, spec.batch_size)), spec.width // MERGED_CELL)

    return iter(torch.utils.data.DataLoader(Batches(), batch_size=None, num_workers=1, prefetch_factor=4))


def cell_head(width: int):
    """The throwaway linear readouts on merged tokens of ``width`` features (see :func:`cell_targets`)."""
    import torch

    colors, shapes = _labels()
    return torch.nn.ModuleDict({
        "color": torch.nn.Linear(width, len(colors) + 1), "center": torch.nn.Linear(width, 1),
        "shape": torch.nn.Linear(width, len(shapes)), "object_color": torch.nn.Linear(width, len(colors)),
        "box": torch.nn.Linear(width, 4), "position": torch.nn.Linear(width, 2),
    })


def head_losses(head, tokens, targets) -> dict:
    """The head's losses on merged ``tokens`` (N, width) against :func:`cell_targets` (stacked)."""
    import torch.nn.functional as F

    centers = targets["center"] > 0
    return {
        "color": F.cross_entropy(head["color"](tokens), targets["color"]),
        "center": F.binary_cross_entropy_with_logits(head["center"](tokens).squeeze(-1), targets["center"]),
        "shape": F.cross_entropy(head["shape"](tokens), targets["shape"]),
        "object_color": F.cross_entropy(head["object_color"](tokens), targets["object_color"]),
        "box": F.smooth_l1_loss(head["box"](tokens[centers]), targets["box"][centers], beta=0.05) * 4,
        "position": F.smooth_l1_loss(head["position"](tokens), targets["position"], beta=0.05) * 4,
    }


def visual_tokens(visual, inputs):
    """Merged visual tokens (one row per 28x28 cell, images one after another) of processor ``inputs``."""
    return visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"]).pooler_output


def train_vision_tower(model, processor, spec: VisionSpec, seed: int = 0) -> dict[str, float]:
    """Train ``model``'s vision tower (patch embedding, blocks and merger) with :func:`cell_head` on fresh
    scenes; returns the last logged losses. The head is thrown away."""
    import torch
    from tqdm.auto import tqdm

    visual = model.model.visual
    torch.manual_seed(seed)
    head = cell_head(model.config.text_config.hidden_size)
    params = [*visual.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=spec.learning_rate, weight_decay=0.01)
    warmup = max(1, spec.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / spec.steps))))
    visual.train()
    stream, logged = batches(processor, spec, seed), {}
    for step in (bar := tqdm(range(spec.steps), desc="vision tower", mininterval=10)):
        inputs, targets = next(stream)
        losses = head_losses(head, visual_tokens(visual, inputs), targets)
        loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == spec.steps - 1:
            logged = {k: round(v.item(), 4) for k, v in losses.items()}
            bar.set_postfix(loss=round(loss.item(), 3))
            logger.info("vision tower step %d: %s", step, logged)
    visual.eval()
    return logged


def _features(model, processor, drawn: list, grid: int) -> np.ndarray:
    """Merged tokens of ``drawn`` scenes, (scenes, cells, width), without gradients."""
    import torch

    width = model.config.text_config.hidden_size
    with torch.no_grad():
        return torch.cat([visual_tokens(model.model.visual, batch(processor, drawn[i:i + 64], grid)[0])
                          .reshape(-1, grid * grid, width) for i in range(0, len(drawn), 64)]).numpy()


def _logistic_probe(x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Held-out accuracy of a multinomial logistic regression (standardised inputs, L2, L-BFGS)."""
    import numpy as np
    import torch

    mean, std = x_fit.mean(0), x_fit.std(0) + 1e-6
    xf, xt = (torch.tensor((x - mean) / std, dtype=torch.float32) for x in (x_fit, x_test))
    classes = np.unique(y_fit)
    yf = torch.tensor(np.searchsorted(classes, y_fit))
    linear = torch.nn.Linear(xf.shape[1], len(classes))
    optimizer = torch.optim.LBFGS(linear.parameters(), max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(linear(xf), yf) + 1e-3 * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        predicted = classes[linear(xt).argmax(1).numpy()]
    return float((predicted == y_test).mean())


def _ridge(x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Ridge regression predictions (closed form, with an intercept)."""
    import numpy as np

    mean_x, mean_y = x_fit.mean(0), y_fit.mean(0)
    xc = x_fit - mean_x
    weights = np.linalg.solve(xc.T @ xc + alpha * np.eye(xc.shape[1]), xc.T @ (y_fit - mean_y))
    return (x_test - mean_x) @ weights + mean_y


def probe_tower(model, processor, spec: VisionSpec, n: int = 2000, seed: int = 12345) -> dict[str, float]:
    """Linear probes on the frozen tower's merged tokens, fitted on ``n`` fresh scenes and scored on ``n`` more:
    the number of objects (1-4) from the tokens' mean and max, each object's colour and shape from its centre
    token, and the box of a one-object scene by ridge regression from its centre token (mean IoU)."""
    import numpy as np

    from vlmr.rewards.metrics import box_iou

    grid = spec.width // MERGED_CELL
    stream = scenes(spec, seed)
    drawn = [next(stream) for _ in range(2 * n)]
    feats = _features(model, processor, drawn, grid)
    test = np.arange(2 * n) >= n
    pooled = np.concatenate([feats.mean(axis=1), feats.max(axis=1)], axis=1)
    counts = np.array([len(s.objects) for s in drawn])
    count = _logistic_probe(pooled[~test], counts[~test], pooled[test], counts[test])
    tokens, held_out, colors, shapes, boxes, single = [], [], [], [], [], []
    for i, scene in enumerate(drawn):
        t = cell_targets(scene, grid)
        for k in np.flatnonzero(t["center"]):
            tokens.append(feats[i, k])
            held_out.append(test[i])
            colors.append(t["object_color"][k])
            shapes.append(t["shape"][k])
            boxes.append(t["box"][k])
            single.append(len(scene.objects) == 1)
    tokens, held_out, colors, shapes = (np.asarray(a) for a in (tokens, held_out, colors, shapes))
    boxes, single = np.asarray(boxes), np.asarray(single)
    color = _logistic_probe(tokens[~held_out], colors[~held_out], tokens[held_out], colors[held_out])
    shape = _logistic_probe(tokens[~held_out], shapes[~held_out], tokens[held_out], shapes[held_out])
    fit, scored = ~held_out & single, held_out & single
    predicted = _ridge(tokens[fit], boxes[fit], tokens[scored])
    iou = float(np.mean([box_iou(list(p), list(b)) for p, b in zip(predicted, boxes[scored], strict=True)]))
    return {"count_probe": round(count, 3), "color_probe": round(color, 3), "shape_probe": round(shape, 3),
            "box_probe_iou": round(iou, 3)}
