"""Training callbacks: completion samples with their images, saved every N steps; the tool-rate alarm."""

from __future__ import annotations

import html
import json
import logging
import math
from pathlib import Path

from transformers import TrainerCallback

from vlmr.config import TrainConfig
from vlmr.rewards import completion_text
from vlmr.trl_compat import completion_log

logger = logging.getLogger(__name__)


def prompt_images(prompt) -> list:
    """PIL images inside a logged conversational prompt (trl puts them in the image parts)."""
    if not isinstance(prompt, list):
        return []
    return [part["image"] for message in prompt if isinstance(message, dict)
            for part in (message.get("content") if isinstance(message.get("content"), list) else [])
            if isinstance(part, dict) and part.get("type") == "image" and hasattr(part.get("image"), "save")]


def prompt_text(prompt) -> str:
    """The last user turn's text of a logged prompt."""
    if isinstance(prompt, str):
        return prompt
    for message in reversed(prompt or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type") == "text")
    return ""


class SampleTableCallback(TrainerCallback):
    """Every ``every`` steps, write ``samples/step_XXXXX/`` with the logged completions, their
    rewards and first prompt image (``index.html`` to look at, ``samples.jsonl`` to grep).

    Reads the completion log trl keeps of every step (:func:`vlmr.trl_compat.completion_log`);
    runs on the main process only.
    """

    max_rows = 16

    def __init__(self, output_dir: str, every: int):
        self.output_dir = Path(output_dir) / "samples"
        self.every = every
        self.trainer = None  # set by attach(); trl's callbacks receive no trainer reference

    def attach(self, trainer) -> None:
        """Give the callback the trainer whose completion log it reads."""
        self.trainer = trainer

    def on_log(self, args, state, control, **kwargs):
        if not state.is_world_process_zero or not self.every or state.global_step % self.every:
            return
        logs = completion_log(self.trainer)
        if not logs or not logs.get("completion"):
            return
        self.write(state.global_step, logs)

    def write(self, step: int, logs: dict) -> Path:
        """Write the last ``max_rows`` logged completions as ``samples/step_XXXXX/``."""
        out = self.output_dir / f"step_{step:05d}"
        out.mkdir(parents=True, exist_ok=True)
        completions = list(logs["completion"])[-self.max_rows:]
        prompts = list(logs.get("prompt") or [])[-len(completions):]
        rewards = {name: list(values)[-len(completions):] for name, values in logs["rewards"].items()}
        rows, cells = [], []
        for i, completion in enumerate(completions):
            text = completion_text(completion)
            row_rewards = {name: None if math.isnan(values[i]) else values[i]  # NaN: reward not applicable
                           for name, values in rewards.items() if i < len(values)}
            prompt = prompts[i] if i < len(prompts) else None
            images = prompt_images(prompt)
            image_html = ""
            if images:
                images[0].save(out / f"{i:02d}.png")
                image_html = f'<img src="{i:02d}.png" width="160">'
            rows.append({"prompt": prompt_text(prompt), "completion": text, "rewards": row_rewards,
                         "image": f"{i:02d}.png" if images else None})
            cells.append(f"<tr><td>{image_html}</td><td>{html.escape(prompt_text(prompt))}</td>"
                         f"<td><pre>{html.escape(text)}</pre></td><td>{html.escape(json.dumps(row_rewards))}</td></tr>")
        (out / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        (out / "index.html").write_text(
            f"<h3>step {step}</h3><table border=1><tr><th>image</th><th>question</th><th>completion</th>"
            f"<th>rewards</th></tr>{''.join(cells)}</table>", encoding="utf-8")
        return out


def offered_tool_call_rate(environments) -> float | None:
    """Share of the rollouts offered tools (their environment has some) that called at least one;
    ``None`` when no rollout was offered a tool."""
    offered = [env for env in environments or [] if getattr(env, "tool_names", ())]
    return sum(bool(env.history) for env in offered) / len(offered) if offered else None


CONTROLS = ("a curiosity reward on the group's tool-call rate (rewards: [{name: curiosity, tasks: [...]}], "
            "Pixel-Reasoner); leaving over-turn and cut rollouts out of the loss (mask_over_turn: true, "
            "trainer.mask_truncated_completions: true; Mini-o3); a tool bonus paid only on correct answers "
            "(rewards: [{name: tool_use}], DeepEyes); more tool trajectories in the SFT cold start")


class ToolRateAlarm(TrainerCallback):
    """Warn once when the tool-call rate of rollouts offered tools stays below ``floor`` for ``steps`` steps in a row.

    The rate is read after each step from the rollouts' tool environments (trl's ``trainer.environments``, one per
    rollout of the step's generation batch): a policy dropping its tools ("tool calls go to 0", DeepEyes #55, #78,
    #83, #100) is reported while there is time to act, with the controls vlmr has against it.
    """

    def __init__(self, floor: float = 0.05, steps: int = 20):
        self.floor = floor
        self.steps = steps
        self.rates: list[float] = []  # one per step with rollouts offered tools
        self.below = 0  # consecutive steps below the floor
        self.warned = False
        self.trainer = None  # set by attach()

    def attach(self, trainer) -> None:
        """Give the callback the trainer whose rollout environments it reads."""
        self.trainer = trainer

    def on_step_end(self, args, state, control, **kwargs):
        rate = offered_tool_call_rate(getattr(self.trainer, "environments", None))
        if rate is None:
            return
        self.rates.append(rate)
        self.below = self.below + 1 if rate < self.floor else 0
        if self.below >= self.steps and not self.warned and state.is_world_process_zero:
            self.warned = True
            logger.warning(
                "tool-rate alarm at step %d: the rollouts offered tools called one in under %.0f%% of cases for %d "
                "steps in a row (last %.3f); the policy is dropping its tools. Controls: %s.",
                state.global_step, 100 * self.floor, self.below, rate, CONTROLS)


def default_callbacks(cfg: TrainConfig) -> list[TrainerCallback]:
    """The callbacks every vlmr run gets (the tool-rate alarm when the run has tools and it is on)."""
    callbacks: list[TrainerCallback] = [SampleTableCallback(cfg.output_dir, cfg.sample_every)]
    if cfg.tools and cfg.tool_rate_alarm is not None:
        callbacks.append(ToolRateAlarm(**cfg.tool_rate_alarm))
    return callbacks


def attach_callbacks(trainer) -> None:
    """Hand the trainer to callbacks that need it (after ``Trainer`` construction)."""
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, SampleTableCallback | ToolRateAlarm):
            callback.attach(trainer)
