"""The agent loop: mechanics with a scripted backend, then the transformers backend on the tiny model."""

import numpy as np
import pytest
import torch
from PIL import Image

from vlmr.formats import CoordinateSpace
from vlmr.inference import AgentRequest, Generation, TransformersBackend, fill_images, run_batch
from vlmr.tools import ToolCall

ZOOM = '<think>look closer</think><tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}\n</tool_call>'
PROMPT = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many dots?"}]}]


def gradient(width=200, height=100):
    y, x = np.mgrid[0:height, 0:width]
    return Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8))


class ScriptedBackend:
    """Replies from a script per request (by position in the first batch); records each batch size."""

    family = "qwen2_vl"  # norm1000 coordinates

    def __init__(self, scripts, fail=False):
        self.scripts = [list(s) for s in scripts]
        self.batches = []
        self.fail = fail

    def coordinate_space(self, width, height):
        return CoordinateSpace.for_image(width, height, self.family)

    def generate(self, conversations):
        if self.fail:
            raise RuntimeError("CUDA out of memory")
        self.batches.append(len(conversations))
        out = []
        for messages, _ in conversations:
            script = self.scripts[messages[0]["content"][1]["text"].count("!")]  # request id = number of "!"
            out.append(Generation(script.pop(0), n_prompt_tokens=100, n_completion_tokens=10))
        return out


def request(n_bang=0, tools=("zoom_in",), **kw):
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many?" + "!" * n_bang}]}]
    return AgentRequest(messages, [gradient()], tools=list(tools) if tools else None, **kw)


class TestLoopMechanics:
    def test_tool_call_then_answer(self):
        backend = ScriptedBackend([[ZOOM, "<think>3</think><answer>3</answer>"]])
        [traj] = run_batch(backend, [request()])
        assert [m["role"] for m in traj.messages] == ["user", "assistant", "tool", "assistant"]
        assistant, tool = traj.messages[1], traj.messages[2]
        assert assistant["content"] == "<think>look closer</think>"
        assert assistant["tool_calls"] == [{"type": "function", "function": {"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}}]
        # norm1000 [0, 0, 500, 500] of 200x100 -> 100x50 px region, enlarged 4x (max_zoom)
        assert [p["type"] for p in tool["content"]] == ["image", "text"]
        assert tool["content"][0]["image"].size == (400, 200)
        assert [im.size for im in traj.tool_images] == [(400, 200)]
        assert traj.tool_calls[0]["name"] == "zoom_in" and traj.tool_calls[0]["ok"]
        assert traj.final_text == "<think>3</think><answer>3</answer>"
        assert traj.response == ZOOM + "\n<think>3</think><answer>3</answer>"
        assert (traj.turns, traj.n_prompt_tokens, traj.n_completion_tokens, traj.error) == (2, 100, 20, None)
        assert traj.seconds > 0

    def test_answer_with_a_call_ends_the_episode(self):
        [traj] = run_batch(ScriptedBackend([[ZOOM + "<answer>2</answer>"]]), [request()])
        assert traj.turns == 1 and traj.tool_calls == [] and traj.tool_images == []

    def test_max_turns_stops_before_running_the_call(self):
        [traj] = run_batch(ScriptedBackend([[ZOOM, ZOOM, ZOOM]]), [request()], max_turns=2)
        assert traj.turns == 2 and len(traj.tool_calls) == 1
        assert traj.messages[-1] == {"role": "assistant", "content": ZOOM}

    def test_unreadable_call_and_unknown_tool_get_error_messages(self):
        script = ["<tool_call>zoom please</tool_call>", '<tool_call>{"name": "fly", "arguments": {}}</tool_call>', "<answer>1</answer>"]
        [traj] = run_batch(ScriptedBackend([script]), [request()])
        tool_texts = [m["content"][0]["text"] for m in traj.messages if m["role"] == "tool"]
        assert tool_texts[0].startswith("Error: could not read the tool call as JSON: 'zoom please'")
        assert tool_texts[1] == "Error: unknown tool 'fly'; available tools: ['zoom_in']."
        assert traj.turns == 3 and traj.error is None

    def test_bad_arguments_come_back_as_text(self):
        bad = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 1, 1]}}</tool_call>'
        [traj] = run_batch(ScriptedBackend([[bad, "<answer>0</answer>"]]), [request()])
        assert traj.messages[2]["content"] == [{"type": "text", "text": "Error: bbox_2d [0, 0, 1, 1] is 0x0 px; the smallest region is 28x28 px. Use a larger box."}]
        assert traj.tool_calls[0]["ok"] is False

    def test_request_without_tools_never_runs_calls(self):
        [traj] = run_batch(ScriptedBackend([[ZOOM]]), [request(tools=None)])
        assert traj.turns == 1 and traj.tool_calls == []

    def test_batch_shrinks_as_requests_finish(self):
        backend = ScriptedBackend([["<answer>1</answer>"], [ZOOM, ZOOM, "<answer>2</answer>"], [ZOOM, "<answer>3</answer>"]])
        trajs = run_batch(backend, [request(0), request(1), request(2)])
        assert backend.batches == [3, 2, 1]
        assert [t.turns for t in trajs] == [1, 3, 2]
        assert [t.final_text for t in trajs] == ["<answer>1</answer>", "<answer>2</answer>", "<answer>3</answer>"]

    def test_env_row_coord_is_used_as_given(self):
        row = {"images": [gradient()], "coord": {"convention": "pixel", "width": 200, "height": 100}}
        [traj] = run_batch(ScriptedBackend([[ZOOM, "<answer>1</answer>"]]), [request(env_row=row)])
        # pixel convention: [0, 0, 500, 500] is clipped to the whole 200x100 image (not norm1000's top-left quarter)
        assert [im.size for im in traj.tool_images] == [(800, 400)]

    def test_backend_failure_is_recorded_not_raised(self):
        trajs = run_batch(ScriptedBackend([[]], fail=True), [request(), request()])
        assert [t.error for t in trajs] == ["RuntimeError: CUDA out of memory"] * 2

    def test_max_turns_is_validated(self):
        with pytest.raises(ValueError, match="max_turns must be >= 1, got 0"):
            run_batch(ScriptedBackend([]), [], max_turns=0)


class TestFillImages:
    def test_placeholders_filled_in_order(self):
        a, b = Image.new("RGB", (4, 4)), Image.new("RGB", (8, 8))
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "x"}, {"type": "image"}]}]
        filled = fill_images(messages, [a, b])
        assert filled[0]["content"][0]["image"] is a and filled[0]["content"][2]["image"] is b
        assert "image" not in messages[0]["content"][0]  # the request is not modified

    @pytest.mark.parametrize("n_images, message", [(0, "more {'type': 'image'} placeholders than images"), (3, "2 more image")])
    def test_count_mismatch(self, n_images, message):
        with pytest.raises(ValueError, match=message):
            fill_images(PROMPT, [Image.new("RGB", (4, 4))] * n_images)

    def test_paths_open_and_arrow_none_keys_drop(self, tmp_path):
        path = tmp_path / "a.png"
        gradient(8, 4).save(path)
        messages = [{"role": "user", "tool_calls": None,
                     "content": [{"type": "image", "text": None}, {"type": "text", "text": "x"}]}]
        [message] = fill_images(messages, [str(path)])
        assert "tool_calls" not in message and message["content"][1] == {"type": "text", "text": "x"}
        assert set(message["content"][0]) == {"type", "image"} and message["content"][0]["image"].size == (8, 4)


class TestMediaRequest:
    def test_image_request_row_and_space(self):
        from vlmr.inference.request import media_request

        image = gradient()
        req, space = media_request(ScriptedBackend([]), "Where?", "grounding", ["zoom_in"], image=image,
                                   env={"volume": {"path": "ct.nii"}})
        assert space == CoordinateSpace(200, 100, "norm1000", 196, 112)  # qwen2_vl: 28 px patches
        assert req.env_row == {"volume": {"path": "ct.nii"}, "images": [image], "coord": space.to_dict()}
        assert req.images == [image] and req.tools == ["zoom_in"]
        assert [p["type"] for p in req.messages[-1]["content"]] == ["image", "text"]

    def test_video_frames_carry_their_times(self, tmp_path):
        from vlmr.data_pipelines.video import write_synthetic_video
        from vlmr.inference.request import media_request

        path = tmp_path / "clip.mp4"
        write_synthetic_video(path, np.random.default_rng(0), fps=10, seconds=2.0)  # 20 frames, 160x120
        req, space = media_request(ScriptedBackend([]), "When?", "temporal_grounding",
                                   video={"path": str(path), "sample_fps": 2.0, "max_frames": 4})
        content = req.messages[-1]["content"]
        # 2 s at 2 fps = 4 frames over indices 0..19 (linspace 0, 6.33, 12.67, 19 rounded): as in training
        assert [p.get("text", p["type"]) for p in content[:8]] == ["<0.0s>", "image", "<0.6s>", "image",
                                                                    "<1.3s>", "image", "<1.9s>", "image"]
        assert len(req.images) == 4 and req.images[0].size == (160, 120) and space.width == 160
        assert req.env_row["video"] == {"path": str(path.resolve()), "sample_fps": 2.0, "max_frames": 4}

    def test_neither_image_nor_video_is_refused(self):
        from vlmr.inference.request import media_request

        with pytest.raises(ValueError, match="give an image or a video"):
            media_request(ScriptedBackend([]), "When?", "temporal_grounding")


# ---------------------------------------------------------------- the real model
@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from vlmr.tiny_model import build_tiny_model

    path = tmp_path_factory.getbasetemp() / "tiny-nano-shared"
    return path if (path / "config.json").exists() else build_tiny_model(path, size="nano")


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    torch.set_num_threads(1)
    return TransformersBackend.from_pretrained(str(tiny_model_dir), max_new_tokens=12, batch_size=4)


@pytest.mark.slow
class TestTransformersBackend:
    def test_plain_generation_counts_tokens(self, backend):
        trajs = run_batch(backend, [AgentRequest(PROMPT, [gradient(96, 64)]), AgentRequest(PROMPT, [gradient(64, 64)])])
        for traj in trajs:
            assert traj.error is None and traj.turns == 1
            assert 0 < traj.n_completion_tokens <= 12
        # 96x64 -> 84x56 input = 3x2 merged patches = 6 image tokens; 64x64 -> 56x56 = 4
        assert trajs[0].n_prompt_tokens - trajs[1].n_prompt_tokens == 2

    def test_vision_placeholders_are_suppressed(self, backend):
        pad = backend.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        assert pad in backend.generation["suppress_tokens"]
        assert backend.tokenizer.eos_token_id not in backend.generation["suppress_tokens"]

    def test_response_template_parses_tool_calls(self, backend):
        ids = backend.tokenizer.encode(ZOOM + "<|im_end|>", add_special_tokens=False)
        prefix = backend.tokenizer.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False)
        assert backend._parse(ids, [{"type": "function", "function": {"name": "zoom_in"}}], prefix) == [
            ToolCall("zoom_in", {"bbox_2d": [0, 0, 500, 500]})
        ]

    def test_stops_at_tool_call_runs_it_and_the_model_sees_the_tool_image(self, backend, monkeypatch,
                                                                          script_first_turn):
        from transformers import LogitsProcessorList

        script = '<think>look</think><tool_call>\n{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 42, 28]}}\n</tool_call> then more words'
        monkeypatch.setitem(backend.generation, "logits_processor", LogitsProcessorList([script_first_turn(backend.tokenizer, script)]))
        monkeypatch.setitem(backend.generation, "max_new_tokens", 60)
        grids = []
        hook = backend.model.model.visual.register_forward_pre_hook(  # the vision tower: every image encoded
            lambda module, args, kwargs: grids.append(kwargs["grid_thw"].tolist()), with_kwargs=True
        )
        try:
            [traj] = run_batch(backend, [AgentRequest(PROMPT, [gradient(96, 64)], tools=["zoom_in"])], max_turns=2)
        finally:
            hook.remove()
        assert traj.error is None and traj.turns == 2
        first = traj.messages[1]
        assert first["content"] == "<think>look</think>"  # generation stopped at </tool_call>: no "then more words"
        assert "then more words" not in traj.response.split("\n")[0]
        assert first["tool_calls"][0]["function"] == {"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 42, 28]}}
        # resized convention: the model sees 96x64 as 84x56, so [0, 0, 42, 28] is the 48x32 px top-left; zoom 4x
        assert [im.size for im in traj.tool_images] == [(192, 128)]
        # prefill of turn 1: the prompt image (2x3 grid of 28 px patches pairs -> t=1, h=4, w=6);
        # prefill of turn 2: the prompt image plus the 192x128 tool image (resized to 196x140 -> 10x14)
        assert grids == [[[1, 4, 6]], [[1, 4, 6], [1, 10, 14]]]
