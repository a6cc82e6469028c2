"""Roll prompt rows out through the agent loop and score them with reward functions.

One implementation for everything that asks "what does this model answer, and what is it
worth": the difficulty filter before GRPO (sampled rollouts of the live model), the
quickstart's held-out tables and the tiny model's pretraining report (greedy or sampled
answers of a checkpoint). Rows are GRPO/eval prompt rows (:func:`vlmr.train.data.prompt_rows`):
each runs with its task's tools in the same environment classes GRPO uses.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from PIL import Image

from vlmr.conversation import ENV_COLUMNS, REWARD_COLUMNS
from vlmr.media.image import open_rgb


@dataclass
class Rollouts:
    """Each row ``repeats`` times (copies adjacent), the trajectories, and every reward's values.

    ``values[name][i]`` is reward ``name`` of completion ``i`` (``None``: not applicable).
    """

    rows: list[dict]
    repeats: int
    trajectories: list
    values: dict[str, list[float | None]]

    def total(self, weights: dict[str, float]) -> list[float]:
        """Weighted reward sum per completion (a reward that does not apply counts 0)."""
        totals = [0.0] * len(self.trajectories)
        for name, weight in weights.items():
            totals = [t + weight * (v or 0.0) for t, v in zip(totals, self.values[name], strict=True)]
        return totals

    def by_row(self, per_completion: list[float]) -> list[list[float]]:
        """``per_completion`` cut into one list of ``repeats`` values per row."""
        k = self.repeats
        return [per_completion[i * k:(i + 1) * k] for i in range(len(self.rows))]

    def select(self, keep) -> Rollouts:
        """The rollouts of the rows for which ``keep(row)`` is true."""
        k = self.repeats
        chosen = [i for i, row in enumerate(self.rows) if keep(row)]
        flat = [i * k + j for i in chosen for j in range(k)]
        return Rollouts([self.rows[i] for i in chosen], k, [self.trajectories[i] for i in flat],
                        {name: [values[i] for i in flat] for name, values in self.values.items()})

    def metrics(self, weights: dict[str, float]) -> dict[str, float]:
        """Mean weighted reward, each reward's mean over the completions it applies to, tool-call rate."""
        out = {"reward": statistics.fmean(self.total(weights))}
        for name, values in self.values.items():
            applicable = [v for v in values if v is not None]
            out[name] = statistics.fmean(applicable) if applicable else 0.0
        out["tool_call_rate"] = statistics.fmean(bool(t.tool_calls) for t in self.trajectories)
        return out


def roll_out(backend, rows: list[dict], tools: dict[str, list[str]], funcs: list, max_turns: int,
             repeats: int = 1) -> Rollouts:
    """Answer every row ``repeats`` times with ``backend`` (tools per task from ``tools``) and score
    each answer with every reward in ``funcs`` (trl signature, named by ``__name__``)."""
    from vlmr.inference import AgentRequest, run_batch

    requests = []
    for row in rows:
        images = [im if isinstance(im, Image.Image) else open_rgb(im) for im in row["images"]]
        env_row = {**{key: row.get(key) for key in ENV_COLUMNS}, "images": images}  # what GRPO's environment gets
        requests += [AgentRequest(row["prompt"], images, env_row, tools.get(row["task"]))] * repeats
    trajectories = run_batch(backend, requests, max_turns=max_turns)
    completions = [t.response for t in trajectories]
    columns = {key: [row.get(key) for row in rows for _ in range(repeats)] for key in REWARD_COLUMNS}
    values = {func.__name__: list(func(completions, **columns)) for func in funcs}
    return Rollouts(rows, repeats, trajectories, values)
