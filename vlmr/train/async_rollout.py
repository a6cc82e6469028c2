"""Tool rollouts in which every trajectory advances on its own.

trl's tool loop treats each tool turn as a barrier for the whole batch: generate for everyone,
run every tool call (synchronous tools one after another across trajectories), regenerate for
those that called one. Here each trajectory is one coroutine: as soon as its turn ends, its
tool calls run in a bounded thread pool, and generation takes whichever trajectories are ready
while the others still wait on their tools. The per-trajectory rules (what a tool message
becomes in tokens, when a sequence is too long, how a turn is parsed) are the caller's, through
:class:`Turns`; :func:`vlmr.trl_compat.async_tool_call_loop` gives trl's, so the loss sees what
trl's own loop would give it.

Two ways to generate: :class:`Batcher` re-batches the ready trajectories into one call (the local
model, or colocated vLLM), :class:`PerRequest` sends each trajectory alone, concurrently (a vLLM
server, which batches requests as they come). Faults stay inside their trajectory: a tool that hangs past
``tool_timeout_s``, raises or returns something that is not text or content blocks gives the
model an error message as its result; a generation request that fails with a connection error
is retried.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from PIL import Image

logger = logging.getLogger(__name__)

Generated = tuple[list[int], "list[float] | None"]  # one turn's token ids and their log-probabilities (or None)


@dataclass
class RolloutOptions:
    """How trajectories share the tool pool and the generator."""

    tool_workers: int = field(default=16, metadata={"help": "Tool calls running at once (threads)."})
    tool_timeout_s: float = field(default=60.0, metadata={
        "help": "A tool call still running after this many seconds ends its turn with an error message."})
    batch_wait_s: float = field(default=0.05, metadata={
        "help": "Once one trajectory is ready to generate, wait at least this long for those still in tools."})
    batch_patience: float = field(default=1.0, metadata={
        "help": "... and at most this fraction of the previous generation call's time: a second call would cost "
                "about as much, so waiting longer for stragglers cannot pay off."})
    retries: int = field(default=3, metadata={"help": "Retries of a generation request that failed to connect."})

    def __post_init__(self):
        if self.tool_workers < 1:
            raise ValueError(f"tool_workers={self.tool_workers}; use 1 or more")
        if self.tool_timeout_s <= 0 or min(self.batch_wait_s, self.batch_patience, self.retries) < 0:
            raise ValueError(f"tool_timeout_s={self.tool_timeout_s} must be > 0, batch_wait_s={self.batch_wait_s}, "
                             f"batch_patience={self.batch_patience} and retries={self.retries} >= 0")


LOOPS = ("auto", "async", "trl")


def rollout_options(spec: dict[str, Any], auto: bool = True) -> RolloutOptions | None:
    """The options of a config's ``rollout:`` section; ``None`` when trl's own loop runs.

    ``auto``: whether ``loop: auto`` picks this loop (the caller knows where it is tested equal to trl's).
    Raises ValueError (unknown key, unknown loop, bad value).
    """
    spec = dict(spec)
    loop = spec.pop("loop", "auto")
    if loop not in LOOPS:
        raise ValueError(f"rollout.loop is {loop!r}; choose one of {list(LOOPS)}")
    known = [f.name for f in fields(RolloutOptions)]
    unknown = sorted(set(spec) - set(known))
    if unknown:
        raise ValueError(f"unknown rollout key(s) {unknown}; known keys: {['loop', *known]}")
    options = RolloutOptions(**spec)
    return None if loop == "trl" or (loop == "auto" and not auto) else options


@dataclass
class Trajectory:
    """One rollout as trl's tool loop keeps it: ids, messages, masks, images and counts."""

    index: int  # position in the batch
    prompt_ids: list[int]
    completion_ids: list[int]
    messages: list[dict]  # the prompt, growing by each assistant turn and its tool results
    completions: list[dict]  # the assistant turns and tool results (what rewards read)
    tools: dict[str, Callable]  # synchronous tools by name
    async_tools: dict[str, Callable]  # coroutine functions by name
    images: list | None = None  # the prompt's images
    logprobs: list[float] | None = None
    tool_mask: list[int] = field(default_factory=list)  # 1: model token, 0: tool result token
    tool_images: list[Image.Image] = field(default_factory=list)
    calls: int = 0
    failures: int = 0
    turns: int = 0

    def __post_init__(self):
        self.tool_mask = self.tool_mask or [1] * len(self.completion_ids)

    def all_images(self) -> list | None:
        """Prompt images then tool images (``None`` when there are none)."""
        images = list(self.images or []) + self.tool_images
        return images or None


class Turns(Protocol):
    """The per-trajectory rules of the trainer whose loop is replaced."""

    max_turns: int
    max_completion_length: int

    def suffix_ids(self, tool_messages: list[dict]) -> list[int]:
        """Token ids of the tool messages plus the next generation prompt."""

    def too_long(self, trajectory: Trajectory, ids: list[int]) -> bool:
        """Whether ``ids`` (prompt + completion + tool suffix) is past the budget: the tool results are dropped."""

    def generate(self, batch: list[tuple[Trajectory, list[int]]]) -> list[Generated]:
        """One turn for each (trajectory, input ids)."""

    def parse(self, trajectory: Trajectory, ids: list[int], prefix: list[int]) -> dict:
        """The assistant message of a generated turn (``tool_calls`` in it when it called tools)."""


# ---- tools ------------------------------------------------------------------------------------------------------


def tool_content(result: Any) -> str | list[dict]:
    """What the model sees of a tool's return value: content blocks as they are, anything else as text.

    Raises ValueError for a list that is not text/image content blocks (it would break the processor later).
    """
    if not isinstance(result, list):
        return str(result)
    for part in result:
        kind = part.get("type") if isinstance(part, dict) else None
        if not ((kind == "text" and isinstance(part.get("text"), str))
                or (kind == "image" and isinstance(part.get("image"), Image.Image))):
            raise ValueError(f"the tool returned a content list with an invalid {kind or type(part).__name__} part; "
                             "expected text parts holding a string and image parts holding a PIL image")
    return result


class ToolPool:
    """Runs a trajectory's tool calls in a bounded thread pool, each call under a time limit.

    A call past its limit is abandoned, not stopped (Python cannot kill a thread): it keeps a worker until
    it returns, and a tool that never returns keeps the process from exiting. Tools that wait on something
    remote should carry their own timeout as well.
    """

    def __init__(self, options: RolloutOptions, async_loop: asyncio.AbstractEventLoop | None = None):
        self.options = options
        self.async_loop = async_loop  # where coroutine tools run (trl keeps one loop for them)
        self.executor = concurrent.futures.ThreadPoolExecutor(options.tool_workers, thread_name_prefix="vlmr-tool")

    def close(self) -> None:
        """Stop taking calls; a call that hangs keeps its thread, nothing waits for it."""
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, trajectory: Trajectory, calls: list[dict]) -> list[tuple[str, Any]]:
        """``(name, content)`` per call, in trl's order (synchronous tools first, then coroutines)."""
        results, coroutines, timed_out = [], [], None
        for call in calls:
            trajectory.calls += 1
            call = call if isinstance(call, dict) else {"type": type(call).__name__}
            function = call.get("function") if isinstance(call.get("function"), dict) else {}
            name, arguments = str(function.get("name") or call.get("name") or "unknown"), function.get("arguments")
            error = None
            if call.get("type") != "function":
                error = f"Unsupported tool call type: {call.get('type')}"
            elif not isinstance(arguments, dict):
                error = f"the arguments of {name} must be a JSON object, got {arguments!r}"
            elif timed_out:  # the timed-out call may still be changing the environment
                error = f"not run: {timed_out} did not finish within {self.options.tool_timeout_s:g} s"
            elif name in trajectory.async_tools:
                coroutines.append((name, trajectory.async_tools[name], arguments))
                continue
            elif name not in trajectory.tools:
                error = f"Tool {name} not found."
            else:
                content, error = await self._sync(trajectory.tools[name], arguments, name)
                timed_out = name if error and error.startswith("timeout") else None
            if error is None:
                results.append((name, content))
            else:
                trajectory.failures += 1
                results.append((name, str({"error": error})))
        outcomes = await asyncio.gather(*(self._async(function, arguments, name)
                                          for name, function, arguments in coroutines))
        for (name, _, _), (content, error) in zip(coroutines, outcomes, strict=True):
            trajectory.failures += error is not None
            results.append((name, content if error is None else str({"error": error})))
        return results

    async def _sync(self, function: Callable, arguments: dict, name: str) -> tuple[Any, str | None]:
        future = asyncio.get_running_loop().run_in_executor(self.executor, lambda: function(**arguments))
        return await self._settle(future, name)

    async def _async(self, function: Callable, arguments: dict, name: str) -> tuple[Any, str | None]:
        try:
            coroutine = function(**arguments)
        except Exception as e:  # bad arguments fail at the call, before any await
            return None, str(e)
        if self.async_loop is None:
            return await self._settle(asyncio.ensure_future(coroutine), name)
        return await self._settle(asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.async_loop)),
                                  name)

    async def _settle(self, future: asyncio.Future, name: str) -> tuple[Any, str | None]:
        try:
            result = await asyncio.wait_for(future, self.options.tool_timeout_s)
            return tool_content(result), None
        except TimeoutError:
            return None, (f"timeout: {name} did not finish within {self.options.tool_timeout_s:g} s; "
                          "try again with other arguments or answer without it")
        except Exception as e:
            return None, str(e)


# ---- generation -------------------------------------------------------------------------------------------------


def _retrying(generate: Callable[[], Any], retries: int, what: str) -> Any:
    """``generate()``, retried after a connection error (a dropped request) up to ``retries`` times."""
    for attempt in range(retries + 1):
        try:
            return generate()
        except OSError as e:  # requests' and urllib's connection errors, timeouts, resets
            if attempt == retries:
                raise
            logger.warning("%s failed (%s); retry %d of %d", what, e, attempt + 1, retries)
            time.sleep(min(0.1 * 2 ** attempt, 2.0))


class Batcher:
    """Generates for the ready trajectories together, one call at a time (a local model's ``generate``).

    A call starts when every running trajectory is ready, or once the first ready one has waited
    ``max(batch_wait_s, batch_patience * the previous call's time)``: a call costs about as much for one
    trajectory as for all, so a short wait for a turn's stragglers saves a call, and waiting longer than
    a call would take never does (the ski-rental rule: with ``batch_patience=1`` a turn costs at most twice
    what it would with hindsight).
    """

    def __init__(self, turns: Turns, options: RolloutOptions):
        self.turns, self.options = turns, options
        self.executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="vlmr-generate")
        self.queue: list[tuple[Trajectory, list[int], asyncio.Future]] = []
        self.arrived = asyncio.Event()
        self.running = 0  # trajectories between two generations (in tools, or about to ask)
        self.last_call_s = 0.0  # how long the previous generation call took

    async def generate(self, trajectory: Trajectory, ids: list[int]) -> Generated:
        future = asyncio.get_running_loop().create_future()
        self.queue.append((trajectory, ids, future))
        self.running -= 1
        self.arrived.set()
        return await future  # serve() counts it as running again when it settles the future

    async def serve(self) -> None:
        """Run until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            await self.arrived.wait()
            deadline = loop.time() + max(self.options.batch_wait_s, self.options.batch_patience * self.last_call_s)
            while self.running > 0 and loop.time() < deadline:  # some are still in tools
                self.arrived.clear()
                try:
                    await asyncio.wait_for(self.arrived.wait(), deadline - loop.time())
                except TimeoutError:
                    break
            batch, self.queue = self.queue, []
            self.arrived.clear()
            if not batch:  # woken by the last trajectories finishing: nothing to generate
                continue
            # The batch is running again from the moment its results are settled, so a trajectory that queued
            # during the call waits (within the deadline) for them to come back instead of generating alone.
            self.running += len(batch)
            try:
                request = functools.partial(self.turns.generate, [(t, ids) for t, ids, _ in batch])
                started = loop.time()
                outputs = await loop.run_in_executor(
                    self.executor, _retrying, request, self.options.retries, "generation")
                self.last_call_s = loop.time() - started
            except Exception as e:
                for _, _, future in batch:
                    future.set_exception(e)
                continue
            for (_, _, future), output in zip(batch, outputs, strict=True):
                future.set_result(output)

    def finished(self) -> None:
        """A trajectory stopped calling tools: nobody waits for it any more."""
        self.running -= 1
        self.arrived.set()

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class PerRequest:
    """Generates for each trajectory alone as soon as it is ready, ``concurrency`` requests at once (a server)."""

    def __init__(self, turns: Turns, options: RolloutOptions, concurrency: int = 64):
        self.turns, self.options = turns, options
        self.executor = concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="vlmr-request")

    async def generate(self, trajectory: Trajectory, ids: list[int]) -> Generated:
        request = functools.partial(self.turns.generate, [(trajectory, ids)])
        (output,) = await asyncio.get_running_loop().run_in_executor(
            self.executor, _retrying, request, self.options.retries, "generation request")
        return output

    async def serve(self) -> None:
        await asyncio.Event().wait()  # nothing to schedule: requests go out as they come

    def finished(self) -> None:
        pass

    def close(self) -> None:
        self.executor.shutdown(wait=True)


# ---- the loop ---------------------------------------------------------------------------------------------------


async def _advance(trajectory: Trajectory, turns: Turns, tools: ToolPool, generator: Batcher | PerRequest) -> None:
    """trl's tool loop for one trajectory: tools, suffix, length check, next turn, mask, parse."""
    calls = trajectory.completions[0].get("tool_calls") if trajectory.completions else None
    while calls and trajectory.turns < turns.max_turns:
        kept = len(trajectory.completions), len(trajectory.tool_images), len(trajectory.messages)
        trajectory.messages.append(trajectory.completions[-1])
        tool_messages = []
        for name, content in await tools.run(trajectory, calls):
            message = {"role": "tool", "name": name, "content": content}
            if isinstance(content, list):
                trajectory.tool_images += [part["image"] for part in content if part["type"] == "image"]
            tool_messages.append(message)
        trajectory.messages += tool_messages
        trajectory.completions += tool_messages
        prefix = trajectory.prompt_ids + trajectory.completion_ids + turns.suffix_ids(tool_messages)
        if turns.too_long(trajectory, prefix):  # the results are dropped and the rollout ends as it is
            del trajectory.completions[kept[0]:], trajectory.tool_images[kept[1]:], trajectory.messages[kept[2]:]
            return
        ids, logprobs = await generator.generate(trajectory, prefix)
        prompt_length = len(trajectory.prompt_ids)
        room = turns.max_completion_length - (len(prefix) - prompt_length)
        ids = ids[:max(room, 0)]  # generated text never holds image tokens: a plain cut is safe
        tool_length = len(prefix) - prompt_length - len(trajectory.completion_ids)
        trajectory.tool_mask += [0] * tool_length + [1] * len(ids)
        if trajectory.logprobs is not None:
            trajectory.logprobs += [0.0] * tool_length + list(logprobs or [])[:len(ids)]
        trajectory.completion_ids = prefix[prompt_length:] + ids
        message = turns.parse(trajectory, ids, prefix) if ids else {}
        if message:
            trajectory.completions.append(message)
        calls = message.get("tool_calls")
        trajectory.turns += 1


def run_trajectories(trajectories: list[Trajectory], turns: Turns, options: RolloutOptions,
                     per_request: bool = False, async_loop: asyncio.AbstractEventLoop | None = None,
                     last_call_s: float = 0.0) -> float:
    """Advance every trajectory until it stops calling tools; returns the wall time in seconds.

    ``per_request``: one generation request per trajectory (:class:`PerRequest`) instead of re-batching.
    ``async_loop``: the event loop coroutine tools must run on (default: this rollout's own).
    ``last_call_s``: how long the generation call that produced the current turns took (the batcher's
    patience before its own first call).
    """
    start = time.perf_counter()
    _run(_all(trajectories, turns, options, per_request, async_loop, last_call_s))
    return time.perf_counter() - start


async def _all(trajectories, turns, options, per_request, async_loop, last_call_s) -> None:
    tools = ToolPool(options, async_loop)
    generator = PerRequest(turns, options) if per_request else Batcher(turns, options)
    generator.running, generator.last_call_s = len(trajectories), last_call_s

    async def one(trajectory: Trajectory) -> None:
        try:
            await _advance(trajectory, turns, tools, generator)
        finally:
            generator.finished()

    server = asyncio.create_task(generator.serve())
    try:
        await asyncio.gather(*(one(t) for t in trajectories))
    finally:
        server.cancel()
        tools.close()
        generator.close()


def _run(coroutine: Coroutine) -> None:
    """Run ``coroutine`` to the end from synchronous code, also when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as thread:  # e.g. inside Jupyter: a fresh loop elsewhere
        thread.submit(asyncio.run, coroutine).result()
