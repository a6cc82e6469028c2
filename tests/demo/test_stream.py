"""Live events of one episode: streamed text, finished turns, tool results, the final trajectory."""

import torch
from PIL import Image

from vlmr.demo.stream import stream_episode
from vlmr.formats import CoordinateSpace
from vlmr.inference import AgentRequest, Generation


class CharTokenizer:
    """Token id = character code."""

    def decode(self, ids, **kwargs):
        return "".join(chr(i) for i in ids)


class FakeLocal:
    """Shaped like the loop's transformers backend: a ``generation`` dict that reaches ``model.generate``."""

    family = "generic"
    tokenizer = CharTokenizer()

    def __init__(self):
        self.generation = {"max_new_tokens": 8}
        self.counter = {"turn": 0}  # shared with the per-turn copies the observer makes

    def coordinate_space(self, width, height):
        return CoordinateSpace(width, height, "pixel")

    def generate(self, conversations):
        self.counter["turn"] += 1
        streamer = self.generation["streamer"]
        streamer.put(torch.tensor([[1, 2, 3]]))  # the prompt: skipped
        text = (
            '<tool_call>{"name": "crop", "arguments": {"bbox_2d": [0, 0, 32, 32]}}</tool_call>'
            if self.counter["turn"] == 1 else "the answer is <answer>2</answer>"
        )
        for word in text.split(" "):
            streamer.put(torch.tensor([[ord(c) for c in word + " "]]))
        streamer.end()
        return [Generation(text)]


def _request(tools=("crop",)):
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many?"}]}]
    return AgentRequest(messages, [Image.new("RGB", (64, 48), "red")], tools=list(tools))


def test_local_model_text_streams_and_tool_results_are_reported():
    backend = FakeLocal()
    events = list(stream_episode(backend, _request(), max_turns=3))
    kinds = [e.kind for e in events]
    assert kinds[-1] == "done" and kinds.count("turn") == 2 and kinds.count("tool") == 1
    second_turn_text = [e.text for e in events[kinds.index("tool") + 1 :] if e.kind == "text"]
    assert "".join(second_turn_text) == "the answer is <answer>2</answer> "  # word by word, as generated
    [tool] = [e for e in events if e.kind == "tool"]
    assert (tool.name, tool.arguments, tool.text) == ("crop", {"bbox_2d": [0, 0, 32, 32]},
                                                      "Cropped region [0, 0, 32, 32] (32x32 px). The crop is image 1: "
                                                      "pass image_index=1 to look closer at it; without image_index, "
                                                      "coordinates refer to the input image.")
    assert tool.images[0].size == (32, 32)
    assert events[-1].trajectory.final_text == "the answer is <answer>2</answer>"
    assert backend.generation == {"max_new_tokens": 8}  # the shared backend is never modified


def test_server_backend_reports_whole_turns():
    class Server:
        family = "generic"

        def coordinate_space(self, width, height):
            return CoordinateSpace(width, height, "pixel")

        def generate(self, conversations):
            return [Generation("<answer>3</answer>")]

    events = list(stream_episode(Server(), _request(tools=())))
    assert [(e.kind, e.text) for e in events[:-1]] == [("turn", "<answer>3</answer>")]


def test_a_broken_request_ends_with_an_error_not_a_hang():
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "?"}]}]
    events = list(stream_episode(FakeLocal(), AgentRequest(messages, [Image.new("RGB", (8, 8))])))
    assert [e.kind for e in events] == ["done"]
    assert events[0].trajectory.error.startswith("ValueError: the request has more {'type': 'image'} placeholders")

