"""Generation backends for the agent loop: a local transformers model or an OpenAI-compatible server.

Both turn ``(messages, tool_schemas)`` into one assistant turn that stops after
``</tool_call>`` or at end of turn; the loop (:mod:`vlmr.inference.loop`) does the rest.
"""

from __future__ import annotations

import base64
import concurrent.futures
import io
import json
import logging
import os
import weakref
from typing import Any

from PIL import Image

from vlmr.formats import CoordinateSpace, get_family
from vlmr.inference.loop import Generation
from vlmr.tools.parsing import tool_call_from_openai

logger = logging.getLogger(__name__)

STOP = "</tool_call>"


def _images_in(messages: list[dict]) -> tuple[list[Image.Image], list[list[Image.Image]]]:
    """Images and videos (lists of frames) in the order their parts appear."""
    images, videos = [], []
    for message in messages:
        if not isinstance(message.get("content"), list):
            continue
        for part in message["content"]:
            if part.get("type") == "image":
                images.append(part["image"])
            elif part.get("type") == "video":
                videos.append(part["video"])
    return images, videos


class TransformersBackend:
    """A local model: batched ``model.generate`` with vision placeholders suppressed.

    Args:
        model: a loaded vision-language model.
        processor: its processor (left padding is set here).
        max_new_tokens: tokens per turn.
        temperature: 0 for greedy decoding.
        top_p: nucleus sampling threshold (when sampling).
        batch_size: conversations per ``generate`` call.
        family: coordinate family; default from ``config.model_type``.
    """

    def __init__(self, model, processor, max_new_tokens: int = 512, temperature: float = 0.0, top_p: float = 1.0,
                 batch_size: int = 8, family: str | None = None):
        from vlmr.models import model_family, vision_placeholder_token_ids

        self.model, self.processor = model, processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.tokenizer.padding_side = "left"
        self.family = family or model_family(model)
        self.renders_tools = False  # set by the first turn with tools (vlmr.chat_templates.prepare_for_tools)
        self._views: dict[int, Image.Image] = {}  # id of an original image -> its resized view (model_view)
        get_family(self.family)
        self.batch_size = batch_size
        self.generation = {"max_new_tokens": max_new_tokens, "do_sample": temperature > 0,
                           "suppress_tokens": vision_placeholder_token_ids(processor, model.config)}
        if temperature > 0:
            self.generation.update(temperature=temperature, top_p=top_p)

    @classmethod
    def from_pretrained(cls, name_or_path: str, device: str | None = None, dtype: str = "auto",
                        min_pixels: int | None = None, max_pixels: int | None = None, **generation: Any):
        """Load ``name_or_path`` (local dir or hub id) with :func:`vlmr.models.load_model_and_processor`."""
        from vlmr.models import load_model_and_processor

        model, processor = load_model_and_processor(name_or_path, dtype=dtype, device=device,
                                                    min_pixels=min_pixels, max_pixels=max_pixels)
        return cls(model, processor, **generation)

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """The image as this model's processor resizes it."""
        from vlmr.models import pixel_limits

        return CoordinateSpace.for_image(width, height, self.family, *pixel_limits(self.processor, self.family))

    def model_view(self, image: Image.Image) -> Image.Image:
        """``image`` at the size this model's processor gives it, resized once per image object (bicubic,
        as the processor resamples) and reused at every later turn of the conversation, so a 7680x4320
        HR-Bench 8K original is not resized again at each turn. Messages, tools and trajectories keep the
        original. A processor that does not size images by area (no pixel limits) gets the image as is.
        """
        from vlmr.models import pixel_limits

        view = self._views.get(id(image))
        if view is not None or pixel_limits(self.processor)[1] is None:
            return view if view is not None else image
        space = self.coordinate_space(*image.size)
        size = (space.input_width, space.input_height)
        if size == image.size:
            return image
        view = self._views[id(image)] = image.resize(size, Image.Resampling.BICUBIC)
        weakref.finalize(image, self._views.pop, id(image), None)  # forget the view with its original
        return view

    def generate(self, conversations: list[tuple[list[dict], list[dict]]]) -> list[Generation]:
        """One turn per conversation, ``batch_size`` at a time."""
        out: list[Generation] = []
        for i in range(0, len(conversations), self.batch_size):
            out += self._generate(conversations[i : i + self.batch_size])
        return out

    def _generate(self, batch: list[tuple[list[dict], list[dict]]]) -> list[Generation]:
        import torch

        if not self.renders_tools and any(schemas for _, schemas in batch):
            from vlmr.chat_templates import prepare_for_tools
            from vlmr.models import model_family

            prepare_for_tools(self.processor, model_family(self.model))
            self.renders_tools = True
        texts, images, videos = [], [], []
        for messages, schemas in batch:
            texts.append(self.processor.apply_chat_template(messages, tools=schemas or None,
                                                            add_generation_prompt=True, tokenize=False))
            im, vid = _images_in(messages)
            images.append([self.model_view(image) for image in im])  # per conversation: Gemma 3 and SmolVLM need it
            videos += vid
        inputs = self.processor(text=texts, images=images if any(images) else None, videos=videos or None,
                                padding=True, return_tensors="pt").to(self.model.device)
        with torch.no_grad():
            output = self.model.generate(**inputs, **self.generation, stop_strings=[STOP], tokenizer=self.tokenizer,
                                         pad_token_id=self.tokenizer.pad_token_id)
        new = output[:, inputs["input_ids"].shape[1] :]  # (B, T_new)
        results = []
        for row, prompt, mask, (_, schemas) in zip(new.tolist(), inputs["input_ids"], inputs["attention_mask"], batch,
                                                   strict=True):
            ids = self._trim(row)
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            prefix = prompt[mask.bool()].tolist()
            results.append(Generation(text, self._parse(ids, schemas, prefix), len(prefix), len(ids)))
        return results

    def _trim(self, ids: list[int]) -> list[int]:
        """Generated ids up to and including the first end-of-turn token (padding dropped)."""
        eos = self.model.generation_config.eos_token_id
        stops = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        for k, token in enumerate(ids):
            if token in stops:
                return ids[: k + 1]
        pad = self.tokenizer.pad_token_id
        while ids and ids[-1] == pad:
            ids = ids[:-1]
        return ids

    def _parse(self, ids: list[int], schemas: list[dict], prefix: list[int]):
        """Tool calls read with the tokenizer's response template, or None (then the loop's text parser reads them)."""
        if not schemas or getattr(self.tokenizer, "response_template", None) is None:
            return None
        try:
            parsed = self.tokenizer.parse_response(ids, prefix=prefix, tools=schemas)
        except Exception as e:  # malformed output: the forgiving text parser explains it to the model
            logger.debug("response template could not parse the output (%s); using the text parser", e)
            return None
        calls = [tool_call_from_openai(c) for c in parsed.get("tool_calls") or []]
        return calls or None


def _data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def to_openai_messages(messages: list[dict]) -> list[dict]:
    """vlmr messages -> OpenAI chat messages (images as data URLs, tool calls with ids, video as frames)."""
    out, call_ids = [], []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            parts = []
            for part in content:
                if part.get("type") == "image":
                    parts.append({"type": "image_url", "image_url": {"url": _data_url(part["image"])}})
                elif part.get("type") == "video":
                    parts += [{"type": "image_url", "image_url": {"url": _data_url(f)}} for f in part["video"]]
                elif part.get("type") == "text":
                    parts.append({"type": "text", "text": part["text"]})
            content = parts
        converted: dict[str, Any] = {"role": message["role"], "content": content}
        if message.get("tool_calls"):
            call_ids = [f"call_{len(out)}_{k}" for k in range(len(message["tool_calls"]))]
            converted["tool_calls"] = [
                {"id": cid, "type": "function",
                 "function": {"name": c["function"]["name"], "arguments": json.dumps(c["function"]["arguments"])}}
                for cid, c in zip(call_ids, message["tool_calls"], strict=True)
            ]
        if message["role"] == "tool":
            converted["tool_call_id"] = call_ids.pop(0) if call_ids else "call_unknown"
            converted["name"] = message.get("name", "")
        out.append(converted)
    return out


class OpenAIBackend:
    """Any OpenAI-compatible chat server (vLLM, SGLang, ``transformers serve``, hosted APIs).

    vlmr's one client of such servers: the agent loop, teacher distillation and LLM answer
    extraction all send their requests through :meth:`chat`.

    Args:
        api_base: server URL, e.g. ``http://localhost:8000/v1``.
        model: model name on the server (default: the first one it lists).
        api_key: key if the server needs one (default: ``$OPENAI_API_KEY``, else ``EMPTY`` for local servers).
        max_new_tokens: tokens per turn.
        temperature: sampling temperature (0 = greedy).
        top_p: nucleus sampling threshold.
        concurrency: requests in flight at once.
        timeout: seconds per request.
        family: coordinate family of the served model (``generic`` = original-image pixels).
        stop_at_tool_call: send ``stop=["</tool_call>"]``. ``transformers serve`` (5.23) fails with
            HTTP 500 on stop strings for vision-language processors; set False there (the loop then
            reads the first tool call and ignores what follows it).
        max_retries: the client's own retries of a failed request (connection errors, 429, 5xx).
    """

    def __init__(self, api_base: str, model: str | None = None, api_key: str | None = None, max_new_tokens: int = 512,
                 temperature: float = 0.0, top_p: float = 1.0, concurrency: int = 8, timeout: float = 300.0,
                 family: str = "generic", stop_at_tool_call: bool = True, max_retries: int = 1):
        try:
            from openai import OpenAI
        except ImportError as e:
            raise ImportError("talking to an OpenAI-compatible server needs the openai client: "
                              "pip install 'vlmr[dev]' or openai") from e
        get_family(family)
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.client = OpenAI(base_url=api_base, api_key=api_key, timeout=timeout, max_retries=max_retries)
        self.model = model or self._first_model(api_base)
        self.family = family
        self.concurrency = concurrency
        self.sampling = {"max_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p}
        if stop_at_tool_call:
            self.sampling["stop"] = [STOP]

    def _first_model(self, api_base: str) -> str:
        try:
            return self.client.models.list().data[0].id
        except Exception as e:  # unreachable server, no /models endpoint, empty list
            raise ValueError(f"could not list the models of {api_base} ({type(e).__name__}: {e}); pass the model name") from e

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """The image in the served family's convention (pixel limits of the family's defaults)."""
        return CoordinateSpace.for_image(width, height, self.family)

    def generate(self, conversations: list[tuple[list[dict], list[dict]]]) -> list[Generation]:
        """One turn per conversation, ``concurrency`` requests at a time; failures become ``error``."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda conv: self._one(*conv), conversations))

    def chat(self, messages: list[dict], schemas: list[dict] | None = None) -> Any:
        """One chat completion of OpenAI-format ``messages`` with this backend's sampling; raises on failure."""
        kwargs: dict[str, Any] = dict(self.sampling)
        if schemas:
            kwargs["tools"] = schemas
        return self.client.chat.completions.create(model=self.model, messages=messages, **kwargs)

    def _one(self, messages: list[dict], schemas: list[dict]) -> Generation:
        try:
            response = self.chat(to_openai_messages(messages), schemas)
        except Exception as e:  # network or server error: recorded on the trajectory
            logger.warning("chat completion failed: %s: %s", type(e).__name__, e)
            return Generation("", error=f"{type(e).__name__}: {e}")
        choice = response.choices[0]
        text = choice.message.content or ""
        calls = [tool_call_from_openai(c) for c in choice.message.tool_calls or []] or None
        if calls:  # servers strip the call markup from content; put it back so `response` shows it
            text += "".join(
                f'<tool_call>\n{json.dumps({"name": c.name, "arguments": c.arguments})}\n</tool_call>' for c in calls
            )
        elif "<tool_call>" in text and STOP not in text and choice.finish_reason == "stop":
            text += STOP  # the server removed the stop string
        usage = response.usage
        return Generation(text, calls, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0)


def load_backend(model: str | None = None, api_base: str | None = None, **generation: Any):
    """A backend: an OpenAI-compatible server if ``api_base`` is given, else ``model`` loaded locally.

    ``generation`` holds backend options (``max_new_tokens``, ``temperature``, ``batch_size``,
    ``device``, ``max_pixels``, ``concurrency``, ``family``, ...).
    """
    if api_base:
        return OpenAIBackend(api_base, model=model, **generation)
    if not model:
        raise ValueError("give a model (local checkpoint dir or hub id) or an api_base of an OpenAI-compatible server")
    return TransformersBackend.from_pretrained(model, **generation)
