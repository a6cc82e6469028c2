"""V* Bench on its release layouts (test_questions.jsonl, per-image JSON, VLMEvalKit TSV) and its scorer.

Expected values follow penghao-wu/vstar vstar_bench_eval.py: per category (direct_attributes,
relative_position) the mean of per-question correctness, and ``np.mean(all_acc)`` pooled over all
questions for the overall figure.
"""

from __future__ import annotations

from highres_fixtures import (
    VSTAR_ROWS,
    VSTAR_SPATIAL_ANNOTATION,
    b64_png,
    build_vstar,
    build_vstar_folders,
    write_tsv,
)
from test_eval_metrics import score

from vlmr.data_pipelines.releases.vstar import split_text
from vlmr.eval import get_benchmark


class TestLoad:
    def test_jsonl_release_rows_become_samples(self, tmp_path):
        samples = get_benchmark("vstar").load(build_vstar(tmp_path))
        assert len(samples) == len(VSTAR_ROWS) == 2
        first = samples[0]
        assert first.id == "0" and first.images == ["direct_attributes/sa_4690.jpg"]
        assert first.question == "What is the material of the glove?"
        assert first.choices == ["A. rubber", "B. cotton", "C. kevlar", "D. leather"]
        assert first.answer == {"choice": "A"} and first.meta == {"width": 96, "height": 72,
                                                                  "category": "direct_attributes"}
        assert samples[1].answer == {"choice": "C"} and samples[1].choices[2] == "C. blue"

    def test_per_image_json_layout_puts_the_first_option_at_a_fixed_letter(self, tmp_path):
        sample, spatial = get_benchmark("vstar").load(build_vstar_folders(tmp_path))
        assert sample.id == "direct_attributes/sa_4690"
        # the annotation lists the correct option ("rubber") first; the order drawn from the file name
        # keeps it at A and swaps kevlar and leather (the same every run)
        assert sample.choices == ["A. rubber", "B. cotton", "C. leather", "D. kevlar"]
        assert sample.answer == {"choice": "A"}
        # relative_position: two options; wherever the drawn order puts the first (correct) one, the answer names it
        assert spatial.id == "relative_position/sa_41869" and spatial.meta["category"] == "relative_position"
        assert spatial.question == "Is the cyclist on the left or right side of the sculpture?"
        assert sorted(c[3:] for c in spatial.choices) == sorted(VSTAR_SPATIAL_ANNOTATION["options"])
        correct = spatial.choices["AB".index(spatial.answer["choice"])]
        assert correct[3:] == "The cyclist is on the right side of the sculpture."

    def test_vlmevalkit_tsv(self, tmp_path, monkeypatch):
        monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
        path = write_tsv(tmp_path / "VStarBench.tsv", ["index", "image", "question", "A", "B", "C", "D", "answer",
                                                       "category"],
                         [["0", b64_png(), "What is the material of the glove?", "rubber", "cotton", "kevlar",
                           "leather", "A", "direct_attributes"]])
        bench = get_benchmark("vstar")
        (sample,) = bench.load(path)
        assert sample.choices[3] == "D. leather" and (tmp_path / "cache" / sample.images[0]).is_file()
        assert bench.media_root(path) == tmp_path / "cache"

    def test_missing_image_is_skipped_and_counted(self, tmp_path):
        data = build_vstar(tmp_path)
        (data / "direct_attributes" / "sa_86101.jpg").unlink()
        bench = get_benchmark("vstar")
        assert [s.id for s in bench.load(data)] == ["0"]
        assert dict(bench.skipped) == {"image file not found": 1}

    def test_hub_text_without_instruction(self):
        # lmms-lab/vstar-bench's text stops after the options
        assert split_text("What is the material of the glove?\n(A) rubber\n(B) cotton") == (
            "What is the material of the glove?", ["A. rubber", "B. cotton"])


class TestScore:
    def test_category_and_pooled_accuracy(self, tmp_path):
        # q0 (gt A) answered A: right; q1 (gt C) answered "(B) red": wrong -> attribute 1/2, pooled 1/2
        result = score("vstar", build_vstar(tmp_path), {"0": "<answer>A</answer>", "1": "<answer>(B) red</answer>"})
        assert result.overall == {"accuracy": 0.5, "attribute": 0.5}
        assert result.breakdown["category"]["direct_attributes"]["accuracy"] == 0.5

    def test_overall_pools_questions_not_categories(self):
        # 1 attribute question right, 2 spatial questions of which 1 right: pooled 2/3, not (1 + 0.5) / 2
        rows = [{"accuracy": 1.0, "_category": "direct_attributes"},
                {"accuracy": 0.0, "_category": "relative_position"},
                {"accuracy": 1.0, "_category": "relative_position"}]
        out = get_benchmark("vstar").aggregate(rows)
        assert out == {"accuracy": 2 / 3, "attribute": 1.0, "spatial": 0.5}


def test_hub_copy(tmp_path, monkeypatch):
    # lmms-lab/vstar-bench: text without the instruction line, question_id as text, the image embedded
    import datasets
    from eval_fixtures import png_bytes, write_hub_snapshot

    monkeypatch.setenv("VLMR_MEDIA_CACHE", str(tmp_path / "cache"))
    snapshot = write_hub_snapshot(tmp_path / "hub", {
        "image": datasets.Image(), "text": datasets.Value("string"), "label": datasets.Value("string"),
        "category": datasets.Value("string"), "question_id": datasets.Value("string")},
        {"test": {"image": [png_bytes()], "label": ["A"], "category": ["direct_attributes"], "question_id": ["0"],
                  "text": ["What is the material of the glove?\n(A) rubber\n(B) cotton\n(C) kevlar\n(D) leather"]}})
    (sample,) = get_benchmark("vstar").load(snapshot)
    assert sample.id == "0" and sample.choices[3] == "D. leather" and sample.answer == {"choice": "A"}
    assert (tmp_path / "cache" / sample.images[0]).is_file()
