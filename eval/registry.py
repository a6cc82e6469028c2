"""Benchmark interface and registry.

A benchmark turns an official release (JSON, JSONL, LabelMe folder, ...) into vlmr
:class:`~vlmr.schema.Sample` records, renders the text the model reads, scores one
response, and aggregates per-sample scores into the official numbers. The four hooks
follow lmms-eval's task shape (``doc_to_visual`` / ``doc_to_text`` / ``process_results``
/ ``aggregate``) so anyone who has written an lmms-eval task can write one here.

Adding a benchmark is one small module::

    from vlmr.eval import Benchmark, register_benchmark

    @register_benchmark("my_count")
    class MyCount(Benchmark):
        task = "counting"
        def load(self, path): ...            # -> list[Sample]
        def process_results(self, sample, prediction, ctx): ...   # -> {"acc": 1.0}

and ``vlmr eval run --benchmark my_pkg.my_module:MyCount`` (or its registered name once
the module is imported). Nothing here reads files or opens clients at import time.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from vlmr.conversation import Conversation, FramePolicy, build_conversation
from vlmr.data_pipelines.releases.rows import each_row
from vlmr.eval.predictions import PredictionsFile, load_predictions
from vlmr.formats import CoordinateSpace
from vlmr.prompts import coordinate_space
from vlmr.registry import lookup, register_class
from vlmr.schema import Sample, resolve_media

logger = logging.getLogger(__name__)

# Modules of the built-in benchmarks, imported the first time the registry is queried.
BUILTIN_MODULES = (
    "vlmr.eval.benchmarks.mathvista",
    "vlmr.eval.benchmarks.reasonseg",
    "vlmr.eval.benchmarks.refcoco",
    "vlmr.eval.benchmarks.chartqa",
    "vlmr.eval.benchmarks.counting",
    "vlmr.eval.benchmarks.video_mcq",
    "vlmr.eval.benchmarks.charades",
    "vlmr.eval.benchmarks.medical",
    "vlmr.eval.benchmarks.dataset_dir",
    "vlmr.eval.benchmarks.vstar",
    "vlmr.eval.benchmarks.hrbench",
    "vlmr.eval.benchmarks.pope",
    "vlmr.eval.benchmarks.mme_realworld",
    "vlmr.eval.benchmarks.treebench",
    "vlmr.eval.benchmarks.visualprobe",
)

_REGISTRY: dict[str, type[Benchmark]] = {}


@dataclass(frozen=True)
class MetricRule:
    """A reported metric and the scoring rule it follows, shown in ``scores.json`` and ``report.md``.

    Attributes:
        metric: key of the metric in ``overall``.
        rule: whose rule it is and what it does (``"official eval_your_results.py: ..."``).
    """

    metric: str
    rule: str


@dataclass
class ScoreContext:
    """What scoring needs beyond one sample and its response.

    Attributes:
        root: directory the sample's media paths are relative to.
        family: model family (a ``vlmr.families`` name) whose coordinate convention
            the responses use; decides how predicted boxes map back to original pixels.
        convention: force a convention (``pixel``, ``resized``, ``norm1000``, ``norm1``)
            instead of the family's.
        min_pixels / max_pixels: the model's image budget (changes the ``resized`` frame).
        extractor: optional LLM answer extractor (created lazily by the caller).
        judge: optional :class:`vlmr.rewards.judge.JudgeReward` that also scores free-form answers.
        segmenter: optional box/point -> mask model for segmentation benchmarks.
        options: benchmark-specific switches (e.g. ``{"iou_comparison": ">"}``).
    """

    root: Path = Path(".")
    family: str = "qwen2_5_vl"
    convention: str | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    extractor: Any = None
    judge: Any = None
    segmenter: Any = None
    options: dict[str, Any] = field(default_factory=dict)

    def space_for(self, sample: Sample) -> CoordinateSpace | None:
        """Coordinate space of the sample's image (size from ``meta`` width/height)."""
        return coordinate_space(sample, self.family, self.min_pixels, self.max_pixels, convention=self.convention)

    def describe_convention(self) -> str:
        """The convention responses are read in, for reports (e.g. ``resized (qwen2_5_vl)``)."""
        from vlmr.formats import get_family

        return f"{self.convention or get_family(self.family).convention} ({self.family})"


class Benchmark:
    """Base class of every benchmark; subclasses override ``load`` and ``process_results``.

    Class attributes:
        name: registry name (set by :func:`register_benchmark`).
        task: vlmr schema task of the samples (selects the answer instruction of the prompt).
        primary_metric: the headline metric (sorts the worst-case gallery, leads reports).
        headline: the metrics the paper's official script reports, each with the rule it follows
            (default: ``primary_metric``).
        alternatives: the same quantity under another harness's rule (e.g. lmms-eval's), reported
            beside the headline so a number can be matched to the table it came from.
        breakdown_keys: ``sample.meta`` keys whose values split the scores into groups;
            a list-valued key puts a sample in several groups (MathVista ``skills``).
        uses_segmenter: the runner builds ``ScoreContext.segmenter`` (``--segmenter``).
        frame_defaults: the benchmark's own frame policy (e.g. ``{"fps": 1.0}``); options override it.
    """

    name: ClassVar[str] = ""
    task: ClassVar[str] = "vqa"
    primary_metric: ClassVar[str] = "accuracy"
    headline: ClassVar[tuple[MetricRule, ...]] = ()
    alternatives: ClassVar[tuple[MetricRule, ...]] = ()
    breakdown_keys: ClassVar[tuple[str, ...]] = ()
    uses_segmenter: ClassVar[bool] = False  # turns predicted boxes/points into masks (ScoreContext.segmenter)
    frame_defaults: ClassVar[dict[str, Any]] = {}  # the benchmark's frame policy (FramePolicy fields)

    def __init__(self, **options: Any):
        self.options = options
        self.skipped: Counter[str] = Counter()  # rows load() left out, by reason (reported in scores.json)

    # ------------------------------------------------------------------ loading
    def load(self, path: str | Path) -> list[Sample]:
        """Read the official release at ``path`` into samples (full split, file order)."""
        raise NotImplementedError(f"{type(self).__name__} must implement load(path)")

    def skip(self, reason: str) -> None:
        """Count a release row that cannot become a sample (missing image, bad field); never fatal."""
        if not self.skipped[reason]:
            logger.warning("%s: skipping rows: %s", self.name or type(self).__name__, reason)
        self.skipped[reason] += 1

    def samples_from(self, rows: Iterable[Any], make: Callable[[int, Any], Sample | list[Sample] | None]
                     ) -> list[Sample]:
        """``make(index, row)`` of every row, in order; a row it cannot read (a missing or malformed
        field) is skipped and counted, never fatal. ``make`` returns a sample, several, or ``None``
        (a row it skipped itself)."""
        return each_row(rows, make, self.skip)

    def headline_rules(self) -> tuple[MetricRule, ...]:
        """The declared headline, or the primary metric under the rule the docstring names."""
        return self.headline or (MetricRule(self.primary_metric, "as the benchmark's docstring states"),)

    def media_root(self, path: str | Path) -> Path:
        """Directory the samples' media paths are relative to: the data dir, or for a Hub copy
        the media cache its images are saved into (:mod:`vlmr.data_pipelines.releases.hub`)."""
        from vlmr.data_pipelines.releases.hub import hub_media_dir, is_hub_copy

        if is_hub_copy(path):
            return hub_media_dir()
        path = Path(path)
        return path if path.is_dir() else path.parent

    def read_predictions(self, path: str | Path) -> PredictionsFile:
        """The predictions of a file (``predictions.jsonl``: its rows by id, and the lines skipped or
        repeated; a benchmark may also read its official result-file format)."""
        return load_predictions(path)

    def prepare_scoring(self, samples: list[Sample], predictions: dict[str, dict[str, Any]], ctx: ScoreContext
                        ) -> None:
        """Work scoring can do for all samples at once before :meth:`process_results` scores them one
        by one (e.g. a judge's requests, sent concurrently); none by default."""

    # ------------------------------------------------------------------ prompting
    def doc_to_visual(self, sample: Sample, root: Path) -> list[Any]:
        """The sample's own images (PIL, RGB), in prompt order (what segmenters and reports draw on)."""
        from vlmr.media.image import open_rgb

        return [open_rgb(resolve_media(root, rel)) for rel in sample.images]

    def doc_to_text(self, sample: Sample) -> str:
        """The question text of the prompt (before the task's answer instruction)."""
        return sample.question

    def frame_policy(self) -> FramePolicy:
        """How a video becomes frames: the options ``fps``, ``max_frames``, ``min_pixels``,
        ``max_pixels`` over :attr:`frame_defaults` (training's policy unless a benchmark states its own)."""
        return FramePolicy.from_options(self.options, **self.frame_defaults)

    def conversation(
        self, sample: Sample, root: Path, space: CoordinateSpace | None, tools: Sequence[str] | None = None
    ) -> Conversation:
        """What the inference loop receives for one sample: the one conversation builder with this
        benchmark's question text (:meth:`doc_to_text`) and frame policy; images decoded."""
        from vlmr.media.image import open_rgb

        images = [open_rgb(resolve_media(root, rel)) for rel in sample.images]
        return build_conversation(sample, root, space, list(tools or []) or None, frames=self.frame_policy(),
                                  images=images, question=self.doc_to_text(sample))

    # ------------------------------------------------------------------ scoring
    def postprocess(self, sample: Sample, response: str, ctx: ScoreContext) -> dict[str, Any]:
        """Extra fields stored with a prediction at run time (e.g. ``mask_rle``); none by default."""
        return {}

    def process_results(self, sample: Sample, prediction: dict[str, Any], ctx: ScoreContext) -> dict[str, Any]:
        """Per-sample scores ``{metric: float}`` for one prediction ``{"id", "response", ...}``.

        Keys starting with ``_`` carry extras for reports (extracted answer, predicted boxes
        in pixels) and are not aggregated.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement process_results")

    def aggregate(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """Combine per-sample scores: :func:`aggregate_rows` (means, RMSE, cIoU)."""
        return aggregate_rows(rows)

    def groups(self, sample: Sample) -> dict[str, list[str]]:
        """``{breakdown key: [group, ...]}`` the sample belongs to."""
        out: dict[str, list[str]] = {}
        for key in self.breakdown_keys:
            value = sample.meta.get(key)
            if value is None or value == "":
                continue
            out[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        return out

    def breakdown(self, samples: Sequence[Sample], rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict]]:
        """``{key: {group: aggregate + n}}`` over :attr:`breakdown_keys`."""
        grouped: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for sample, row in zip(samples, rows, strict=True):
            for key, values in self.groups(sample).items():
                for value in values:
                    grouped[key][value].append(row)
        return {
            key: {g: {**self.aggregate(r), "n": len(r)} for g, r in sorted(by_group.items())}
            for key, by_group in grouped.items()
        }


def mean_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean of each numeric, non-underscore key over the rows that have it.

    >>> mean_metrics([{"acc": 1.0, "_x": "a"}, {"acc": 0.0}, {"acc": 1.0, "mae": 2.0}])
    {'acc': 0.6666666666666666, 'mae': 2.0}
    """
    sums: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key.startswith("_") or not isinstance(value, int | float) or isinstance(value, bool):
                continue
            if math.isfinite(value):
                sums.setdefault(key, []).append(float(value))
    return {k: sum(v) / len(v) for k, v in sums.items()}


def aggregate_rows(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Means of the per-sample metrics, plus the two that are not means of samples:

    * ``rmse`` = sqrt(mean ``squared_error``) (replaces ``squared_error``);
    * ``ciou`` = sum of ``_intersection`` / sum of ``_union`` (ReasonSeg cumulative IoU,
      with LISA's 1e-10 guard against an empty union).

    >>> aggregate_rows([{"squared_error": 4.0}, {"squared_error": 0.0}])
    {'rmse': 1.4142135623730951}
    >>> round(aggregate_rows([{"_intersection": 1, "_union": 4}, {"_intersection": 3, "_union": 4}])["ciou"], 6)
    0.5
    """
    out = mean_metrics(rows)
    if "squared_error" in out:
        out["rmse"] = math.sqrt(out.pop("squared_error"))
    if any("_union" in row for row in rows):
        inter = sum(row.get("_intersection", 0) for row in rows)
        union = sum(row.get("_union", 0) for row in rows)
        out["ciou"] = inter / (union + 1e-10)
    return out


def register_benchmark(name: str) -> Callable[[type[Benchmark]], type[Benchmark]]:
    """Class decorator registering a :class:`Benchmark` subclass under ``name``."""
    return lambda cls: register_class(_REGISTRY, name, cls, "benchmark")


def _import_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def list_benchmarks() -> list[str]:
    """Names of all registered benchmarks (built-ins included)."""
    _import_builtins()
    return sorted(_REGISTRY)


def get_benchmark(name: str, **options: Any) -> Benchmark:
    """Instantiate the benchmark ``name``; ``pkg.module:Class`` imports a user's module first.

    >>> get_benchmark("chartqa").primary_metric
    'relaxed_accuracy'
    """
    _import_builtins()
    cls = lookup(_REGISTRY, name, "benchmark", check=(_is_benchmark_class, "a Benchmark subclass"))
    return cls(**options)


def _is_benchmark_class(obj: Any) -> bool:
    return inspect.isclass(obj) and issubclass(obj, Benchmark)
