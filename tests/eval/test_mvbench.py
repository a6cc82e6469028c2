"""MVBench on its release layout (json/<task>.json + video/<task folder>/) and the official check.

Expected outcomes are derived by hand from ``check_ans`` in OpenGVLab/Ask-Anything
video_chat2/mvbench.ipynb: the prediction's first space-separated word, lower-cased, with
its dots removed, must be a substring of the ground truth's ``(x)`` (or contain it). The
notebook prefixes every model output with "(" and keeps its first line; vlmr applies the check
to the answer's first line as written, and calls an answer whose first word has no letter
wrong. lmms-eval's ``mcq_acc`` (tasks/mvbench/utils.py) takes ``X. text`` as X, else the first
standalone letter a-e after its punctuation handling, and divides by the non-empty answers.
"""

from __future__ import annotations

import json

import pytest
from eval_fixtures import MVBENCH_ROWS, write_video
from test_eval_metrics import score

from vlmr.data_pipelines.build import build_dataset
from vlmr.data_pipelines.releases.video_mcq import MVBENCH_TASKS
from vlmr.eval import get_benchmark
from vlmr.eval.benchmarks.video_mcq import lmms_eval_letter, mvbench_check
from vlmr.eval.registry import ScoreContext
from vlmr.schema import load_samples


@pytest.mark.parametrize(("answer", "letter", "expected"), [
    ("(B) Tidied up the blanket.", "B", True),  # "(b)" in "(b)"
    ("B", "B", True),  # "b" in "(b)"
    ("b.", "B", True),  # dots removed -> "b"
    ("B)", "B", True),  # "b)" in "(b)"
    ("(B", "B", True),  # "(b" in "(b)"
    ("Tidied up the blanket.", "B", False),  # the text of option B: "tidied" names no option
    ("walk", "B", False),
    ("(A) Ate the medicine.", "B", False),
    ("A or B", "B", False),  # the first option named is A
    ("A or B", "A", True),
    ("The answer is (B)", "B", False),  # only the first word counts
    ("", "B", False),  # deviation: the official "(" prefix would make this right
    ("(", "B", False),  # deviation, same reason
    ("Best option: (B)", "B", False),  # "best": the official pred would be "(best"
    ("(B).\nBecause the person tidied up.", "B", True),  # first line "(B)." -> "(b)"
    ("\n(B)", "B", True),  # stripped before the first line is taken
    ("(B)(C)", "C", True),  # "(c)" in "(b)(c)": the official substring rule
    ("bed", "B", False),
    ("C.", "C", True),
])
def test_official_check(answer, letter, expected):
    assert mvbench_check(answer, letter) is expected


@pytest.mark.parametrize(("answer", "expected"), [
    ("B. walk", "B"),  # ^([A-E])\.\s*(.+)$
    ("I think it is a cat", "A"),  # first standalone a-e: the article "a"
    ("(C)", "C"),  # "(" and ")" become spaces -> "c"
    ("(A) Ate the medicine.", "A"),  # ")" removed (") " occurs), "(" a space, final "." dropped -> "a ate ..."
    ("walk", "walk"),  # no letter: the processed text itself
])
def test_lmms_eval_reading(answer, expected):
    assert lmms_eval_letter(answer) == expected


class TestScoring:
    def test_official_and_lmms_eval_accuracy(self, bench_data):
        # action_sequence (gt A): "(A) Ate the medicine." official right, lmms-eval A right;
        # action_antonym (gt C): "Piling something up" (option C's text) wrong in both;
        # episodic_reasoning (gt A): "" wrong, not counted by lmms-eval.
        # official 1/3; lmms-eval 1 correct / 2 non-empty = 0.5.
        result = score("mvbench", bench_data("mvbench"), {"action_sequence-00000": "<answer>(A) Ate the medicine.</answer>",
                                                           "action_antonym-00000": "<answer>Piling something up</answer>",
                                                           "episodic_reasoning-00000": ""})
        assert result.overall == {"accuracy": pytest.approx(1 / 3), "accuracy_lmms_eval": 0.5}
        assert result.breakdown["mvbench_task"]["action_sequence"]["accuracy"] == 1.0
        assert result.rows[0]["_pred_choice"] == "A"

    def test_ground_truth_scores_one_and_empty_zero(self, bench_data):
        data = bench_data("mvbench")
        samples = get_benchmark("mvbench").load(data)
        truth = score("mvbench", data, {s.id: f"<answer>{s.choices['ABCD'.index(s.answer['choice'])]}</answer>"
                                        for s in samples})
        assert truth.overall == {"accuracy": 1.0, "accuracy_lmms_eval": 1.0}
        assert score("mvbench", data, {}).overall == {"accuracy": 0.0, "accuracy_lmms_eval": 0.0}


class TestRelease:
    def test_layout_rows_and_paths(self, bench_data):
        data = bench_data("mvbench")
        samples = get_benchmark("mvbench").load(data)
        assert len(samples) == sum(len(r) for r in MVBENCH_ROWS.values())  # rows loaded = rows in the files
        by_task = {s.meta["mvbench_task"]: s for s in samples}
        antonym, raw = by_task["action_antonym"], MVBENCH_ROWS["action_antonym"][0]
        assert antonym.question == f"Question: {raw['question']}"
        assert antonym.choices == [f"({c}) {t}" for c, t in zip("ABC", raw["candidates"], strict=True)]
        assert antonym.answer["choice"] == "C"  # "Piling something up" is the third candidate
        assert antonym.video == {"path": "video/ssv2_video/166583.webm"}  # not a bounded task
        assert by_task["action_sequence"].video == {"path": "video/star/Charades_v1_480/ZS9XR.mp4", "start": 0.5,
                                                    "end": 4.5}
        assert by_task["episodic_reasoning"].video == {
            "path": "video/tvqa/frames_fps3_hq/castle_s01e01_seg02_clip_00", "start": 1.0, "end": 3.0, "fps": 3.0}

    def test_json_folder_and_single_task_file(self, bench_data):
        data = bench_data("mvbench")
        bench = get_benchmark("mvbench")
        assert len(bench.load(data / "json")) == 3 and bench.media_root(data / "json") == data
        [one] = bench.load(data / "json" / "action_sequence.json")
        assert bench.media_root(data / "json" / "action_sequence.json") == data
        assert one.video["path"] == "video/star/Charades_v1_480/ZS9XR.mp4"

    def test_frame_folder_sampled_within_bounds(self, bench_data):
        # 12 frames at 3 fps, bound [1, 3] s: frames 3..9 (ceil(1*3), floor(3*3)); 7 frames at 1 fps is
        # 2.3, raised to the 4-frame minimum: linspace(3, 9, 4) = 3, 5, 7, 9 -> 1.0, 1.667, 2.333, 3.0 s
        data = bench_data("mvbench")
        bench = get_benchmark("mvbench")
        sample = next(s for s in bench.load(data) if s.meta["mvbench_task"] == "episodic_reasoning")
        conversation = bench.conversation(sample, ScoreContext(root=data).root, None)
        frames, times = conversation.images, conversation.frame_times
        assert times == [1.0, 1.667, 2.333, 3.0] and len(frames) == 4
        assert frames[0].getpixel((0, 0))[0] == pytest.approx(4 * 20, abs=8)  # 00004.jpg is frame index 3

    def test_all_twenty_tasks_and_data0613(self, tmp_path):
        assert len(MVBENCH_TASKS) == 20
        (tmp_path / "json").mkdir()
        for task in MVBENCH_TASKS:
            row = {"video": f"{task}.mp4", "question": "Q?", "candidates": ["x", "y"], "answer": "y"}
            (tmp_path / "json" / f"{task}.json").write_text(json.dumps([row]))
        write_video(tmp_path / "video/data0613/star/Charades_v1_480/action_sequence.mp4")
        samples = get_benchmark("mvbench").load(tmp_path)
        assert [s.meta["mvbench_task"] for s in samples] == list(MVBENCH_TASKS)  # the official task order
        assert samples[0].video["path"] == "video/data0613/star/Charades_v1_480/action_sequence.mp4"
        assert samples[-1].video["path"] == "video/clevrer/video_validation/counterfactual_inference.mp4"

    def test_bad_row_skipped_and_counted(self, tmp_path):
        (tmp_path / "json").mkdir()
        rows = [{"video": "a.mp4", "question": "Q?", "candidates": ["x", "y"], "answer": "z"},
                {"video": "b.mp4", "question": "Q?", "candidates": ["x", "y"], "answer": "x"}]
        (tmp_path / "json" / "action_count.json").write_text(json.dumps(rows))
        bench = get_benchmark("mvbench")
        assert [s.id for s in bench.load(tmp_path)] == ["action_count-00001"]
        assert dict(bench.skipped) == {"answer is not one of the candidates": 1}


def test_build_from_release_layout(bench_data, tmp_path):
    data = bench_data("mvbench")
    out = build_dataset("video_mcq", tmp_path / "mv", annotations=str(data), progress=False)
    samples = load_samples(out)
    assert [s.meta["mvbench_task"] for s in samples] == ["action_sequence", "action_antonym"]
    assert samples[0].choices[0] == "(A) Ate the medicine." and samples[0].video["start"] == 0.5
    assert "skipped 1: frame-folder clip needs --extract_frames true" in (out / "README.md").read_text()
    samples = load_samples(build_dataset("video_mcq", tmp_path / "mv2", annotations=str(data), extract_frames=True,
                                         max_frames=4, progress=False))
    # the TVQA frame folder, bound [1, 3] s at 3 fps: the frames of test_frame_folder_sampled_within_bounds
    # at 2 fps: 7 frames -> 4.67 -> 4 frames, linspace(3, 9, 4)
    assert samples[2].meta["frame_times"] == [1.0, 1.667, 2.333, 3.0] and len(samples[2].images) == 4


def test_malformed_rows_never_fatal(tmp_path):
    (tmp_path / "json").mkdir()
    rows = ["not a row", {"video": "a.mp4", "question": "Q?", "candidates": "xy", "answer": "x"},
            {"video": "b.mp4", "question": "Q?", "candidates": ["x", "y"], "answer": "x"}]
    (tmp_path / "json" / "action_count.json").write_text(json.dumps(rows))
    bench = get_benchmark("mvbench")
    assert [s.id for s in bench.load(tmp_path)] == ["action_count-00002"]
    assert sum(bench.skipped.values()) == 2
