"""Registry of dataset sources: ``vlmr data build NAME`` -> the builder function.

Builders are imported lazily ("module:function"), so listing sources is instant and a
source's optional dependencies load only when it is built. A builder of your own is named
by its import path: ``vlmr data build my_pkg.sources:build_mine --out DIR``.
"""

from __future__ import annotations

from collections.abc import Callable

from vlmr.registry import lookup

SOURCES: dict[str, str] = {
    "video_synthetic": "vlmr.data_pipelines.video:build_video_synthetic",
    "charades_sta": "vlmr.data_pipelines.video:build_charades_sta",
    "activitynet_captions": "vlmr.data_pipelines.video:build_activitynet_captions",
    "video_mcq": "vlmr.data_pipelines.video:build_video_mcq",
    "medical_phantom": "vlmr.data_pipelines.medical:build_medical_phantom",
    "medical_scans": "vlmr.data_pipelines.medical:build_medical_scans",
    "vqa_rad": "vlmr.data_pipelines.medical:build_vqa_rad",
    "slake": "vlmr.data_pipelines.medical:build_vqa_rad",  # one reader; the records say which dataset
    "scene3d_synthetic": "vlmr.data_pipelines.scene3d:build_scene3d_synthetic",
    "scanrefer": "vlmr.data_pipelines.scene3d:build_scanrefer",
    "scanqa": "vlmr.data_pipelines.scene3d:build_scanqa",
    "shapes": "vlmr.data_pipelines.shape_tasks:build_shapes",
    "charts": "vlmr.data_pipelines.charts:build_charts",
    "coco": "vlmr.data_pipelines.coco:build_coco",
    "refcoco": "vlmr.data_pipelines.refcoco:build_refcoco",
    "reasonseg": "vlmr.data_pipelines.reasonseg:build_reasonseg",
    "chartqa": "vlmr.data_pipelines.chartqa:build_chartqa",
    "folder": "vlmr.data_pipelines.folder:build_folder",
    "distill": "vlmr.data_pipelines.distill:build_distill",
    **{name: f"vlmr.data_pipelines.highres:build_{name}" for name in (
        "vstar", "hrbench", "hrbench4k", "hrbench8k", "pope", "mme_realworld", "mme_realworld_lite", "treebench",
        "visualprobe")},
    "deepeyes": "vlmr.data_pipelines.deepeyes:build_deepeyes",
    "mini_o3_coldstart": "vlmr.data_pipelines.mini_o3:build_mini_o3_coldstart",
    "chain_of_focus": "vlmr.data_pipelines.chain_of_focus:build_chain_of_focus",
    "thyme_sft": "vlmr.data_pipelines.thyme:build_thyme_sft",
    "thyme_rl": "vlmr.data_pipelines.thyme:build_thyme_rl",
    "pixel_reasoner_rl": "vlmr.data_pipelines.pixel_reasoner:build_pixel_reasoner_rl",
}


def list_sources() -> list[str]:
    """Names accepted by ``vlmr data build``."""
    return sorted(SOURCES)


def get_builder(name: str) -> Callable:
    """The builder generator function of source ``name`` (a registered name or an import path)."""
    return lookup(SOURCES, name, "data source", check=(callable, "a builder function"))
