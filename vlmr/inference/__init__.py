"""Inference with tools: one agent loop (:func:`run_batch`) over pluggable backends.

    from vlmr.inference import AgentRequest, load_backend, run_batch
    backend = load_backend("path/to/checkpoint")                # or load_backend(api_base="http://host:8000/v1")
    [traj] = run_batch(backend, [AgentRequest(messages, images=[img], tools=["zoom_in"])], max_turns=4)
    traj.response, traj.tool_images, traj.n_completion_tokens

Used by ``vlmr infer``, ``vlmr eval``, the demo and teacher distillation, with the same tool
environments as GRPO; :mod:`vlmr.inference.request` builds the one-question requests of infer and the demo.
"""

from vlmr.inference.backends import OpenAIBackend, TransformersBackend, load_backend, to_openai_messages
from vlmr.inference.loop import AgentRequest, Backend, Generation, Trajectory, fill_images, run_batch

__all__ = [
    "AgentRequest",
    "Backend",
    "Generation",
    "OpenAIBackend",
    "Trajectory",
    "TransformersBackend",
    "fill_images",
    "load_backend",
    "run_batch",
    "to_openai_messages",
]
