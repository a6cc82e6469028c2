"""High-resolution images in the agent loop: resized once for the model, cropped from the original."""

from __future__ import annotations

import numpy as np
from PIL import Image

from vlmr.formats import CoordinateSpace
from vlmr.inference import AgentRequest, run_batch
from vlmr.inference.loop import Generation

ZOOM = '<think>look</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}</tool_call>'


class ResizingBackend:
    """A backend that shows the model a 4x smaller image (as a processor budget would) and records what it saw."""

    family = "qwen2_vl"  # norm1000 coordinates

    def __init__(self, script):
        self.script = list(script)
        self.views = 0
        self.seen: list[list[tuple[int, int]]] = []

    def coordinate_space(self, width, height):
        return CoordinateSpace.for_image(width, height, self.family)

    def model_view(self, image):
        self.views += 1
        return image.resize((image.width // 4, image.height // 4))

    def generate(self, conversations):
        out = []
        for messages, _ in conversations:
            self.seen.append([p["image"].size for m in messages if isinstance(m["content"], list)
                              for p in m["content"] if p.get("type") == "image"])
            out.append(Generation(self.script.pop(0), n_prompt_tokens=10, n_completion_tokens=5))
        return out


def test_prompt_image_resized_once_and_crops_from_the_original():
    original = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8))
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]}]
    backend = ResizingBackend([ZOOM, ZOOM, "<answer>x</answer>"])
    [traj] = run_batch(backend, [AgentRequest(messages, [original], tools=["zoom_in"])], max_turns=3)
    assert backend.views == 1  # one resize for three turns
    assert [turn[0] for turn in backend.seen] == [(100, 50)] * 3  # every turn shows the same resized image
    # norm1000 [0, 0, 500, 500] is the 200x100 px top-left quarter of the 400x200 original, enlarged 4x;
    # a crop of the 100x50 view would be 50x25 px (200x100 once enlarged)
    assert [im.size for im in traj.tool_images] == [(800, 400), (800, 400)]


def test_transformers_backend_view_has_the_processor_grid_of_the_original(tmp_path):
    import torch

    from vlmr.inference.backends import TransformersBackend
    from vlmr.tiny_model import build_tiny_model

    torch.set_num_threads(1)
    backend = TransformersBackend.from_pretrained(str(build_tiny_model(tmp_path / "nano", size="nano")))
    original = Image.fromarray(np.random.default_rng(1).integers(0, 255, (900, 1600, 3), dtype=np.uint8))
    view = backend.model_view(original)
    space = backend.coordinate_space(*original.size)
    assert view.size == (space.input_width, space.input_height) and view.size != original.size
    grids = [backend.processor.image_processor(images=[im], return_tensors="pt")["image_grid_thw"].tolist()
             for im in (original, view)]
    assert grids[0] == grids[1]  # the model gets the same number of patches either way
    assert backend.model_view(view) is view  # already at its size: not resized again
