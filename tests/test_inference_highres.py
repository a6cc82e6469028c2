"""High-resolution images on the local backend: resized once per image for the model, originals kept."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from PIL import Image

from vlmr.inference import AgentRequest, run_batch

ZOOM = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 28, 28]}}</tool_call>'


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    import torch

    from vlmr.inference.backends import TransformersBackend
    from vlmr.tiny_model import build_tiny_model

    torch.set_num_threads(1)
    return TransformersBackend.from_pretrained(str(build_tiny_model(tmp_path_factory.mktemp("m") / "nano",
                                                                    size="nano")), max_new_tokens=4)


def noise(width, height, seed=1):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8))


def test_view_has_the_processor_grid_of_the_original_and_is_made_once(backend):
    original = noise(1600, 900)
    view = backend.model_view(original)
    space = backend.coordinate_space(*original.size)
    assert view.size == (space.input_width, space.input_height) and view.size != original.size
    grids = [backend.processor.image_processor(images=[im], return_tensors="pt")["image_grid_thw"].tolist()
             for im in (original, view)]
    assert grids[0] == grids[1]  # the model gets the same patches either way
    assert backend.model_view(original) is view  # the next turn reuses it
    assert backend.model_view(view) is view  # already at its size
    del original
    gc.collect()
    assert backend._views == {}  # the view goes with its original


def test_turns_reuse_the_view_and_the_trajectory_keeps_the_original(backend, monkeypatch):
    resized = []
    real_resize = Image.Image.resize

    def counting_resize(self, size, *args, **kwargs):
        if self.size == (1600, 900):
            resized.append(size)
        return real_resize(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", counting_resize)
    real_generate = type(backend).generate
    first = {"done": False}

    def zoom_then_model(self, conversations):  # the first turn calls zoom_in, later turns are the model's
        out = real_generate(self, conversations)
        if not first["done"]:
            first["done"] = True
            out[0].text, out[0].tool_calls = ZOOM, None
        return out

    monkeypatch.setattr(type(backend), "generate", zoom_then_model)
    original = noise(1600, 900, seed=2)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]}]
    [traj] = run_batch(backend, [AgentRequest(messages, [original], tools=["zoom_in"])], max_turns=2)
    assert traj.turns == 2 and len(resized) == 1  # two turns, one resize of the 1600x900 original
    assert traj.messages[0]["content"][0]["image"] is original  # what the user gave, not the model's view
