"""Stage 1 of the tiny model's pretraining: the vision tower's per-token targets, training and probes."""

import numpy as np
import pytest
from PIL import Image

from vlmr.data_pipelines.shapes import COLORS, SHAPES, ShapeObject, ShapeScene
from vlmr.train.vision_pretrain import VisionSpec, cell_targets


def _square(color: str, shape: str, x1: int, y1: int, x2: int, y2: int) -> ShapeObject:
    mask = np.zeros((112, 112), dtype=bool)
    mask[y1:y2, x1:x2] = True
    return ShapeObject(shape, color, [x1, y1, x2, y2], mask, x2 - x1)


def test_cell_targets_of_a_hand_drawn_scene():
    # 112 px, 4 x 4 merged cells of 28 px. A red square fills cell 0 exactly; a blue 10 x 10 "circle" lies
    # inside cell (row 2, col 2): 100 px, under 15 % of the cell's 784, so that cell stays background colour.
    red = _square("red", "square", 0, 0, 28, 28)
    blue = _square("blue", "circle", 60, 60, 70, 70)
    scene = ShapeScene(Image.new("RGB", (112, 112)), [red, blue], seed=0)
    t = cell_targets(scene, 4)
    background = len(COLORS)
    assert t["color"].tolist() == [0] + [background] * 15  # red is COLORS' first
    assert np.flatnonzero(t["center"]).tolist() == [0, 10]  # centres (13.5, 13.5) and (64.5, 64.5)
    assert t["shape"][[0, 10]].tolist() == [SHAPES.index("square"), SHAPES.index("circle")]
    assert t["object_color"][[0, 10]].tolist() == [0, 2]
    assert (t["shape"][[1, 2, 5, 15]] == -100).all()  # no centre there: ignored by the loss
    assert t["box"][0].tolist() == [0.0, 0.0, 0.25, 0.25]
    assert t["box"][10].tolist() == pytest.approx([60 / 112, 60 / 112, 70 / 112, 70 / 112])
    assert t["position"][5].tolist() == [0.375, 0.375]  # row 1, col 1
    assert t["position"][3].tolist() == [0.875, 0.125]  # row 0, col 3: (x, y)


def test_the_larger_object_keeps_a_shared_centre_cell():
    small = _square("green", "star", 2, 2, 8, 8)  # centre (4.5, 4.5): cell 0
    large = _square("white", "pentagon", 10, 10, 20, 20)  # centre (14.5, 14.5): cell 0 too
    scene = ShapeScene(Image.new("RGB", (112, 112)), [large, small], seed=0)
    t = cell_targets(scene, 4)
    assert t["center"].sum() == 1 and t["shape"][0] == SHAPES.index("pentagon")


def test_a_few_steps_teach_the_tower_colour_and_the_language_stages_freeze_all_but_the_merger():
    """Forty steps of 16 scenes on the nano preset: the per-token colour loss falls from chance (ln 9 = 2.2)."""
    from vlmr.tiny_model import create_tiny_model
    from vlmr.train.pretrain import freeze_tower
    from vlmr.train.vision_pretrain import train_vision_tower

    model, processor = create_tiny_model("nano", seed=0, max_pixels=112 * 112)
    losses = train_vision_tower(model, processor, VisionSpec(steps=40, batch_size=16))
    assert set(losses) == {"color", "center", "shape", "object_color", "box", "position"}
    assert losses["color"] < 1.2
    freeze_tower(model)
    trainable = {name.split(".")[0] for name, p in model.model.visual.named_parameters() if p.requires_grad}
    assert trainable == {"merger"}
    assert all(p.requires_grad for p in model.model.language_model.parameters())


def test_the_probes_read_what_is_linearly_there_and_nothing_more():
    from vlmr.train.vision_pretrain import _logistic_probe, _ridge

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 8))
    labels = (x @ rng.normal(size=(8, 4))).argmax(1)  # four classes, linearly separable by construction
    assert _logistic_probe(x[:200], labels[:200], x[200:], labels[200:]) >= 0.9
    noise = rng.integers(0, 4, size=400)  # labels unrelated to x: chance, a quarter
    assert _logistic_probe(x[:200], noise[:200], x[200:], noise[200:]) < 0.4
    targets = x @ rng.normal(size=(8, 4)) + 0.5
    assert _ridge(x[:200], targets[:200], x[200:], alpha=1e-6) == pytest.approx(targets[200:], abs=1e-4)
