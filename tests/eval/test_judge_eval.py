"""``vlmr eval score --judge-api-base``: free-form answers of a vlmr dataset get judge_accuracy beside the rule's
accuracy, and scores.json names the judge."""

import json

from judge_server import scripted_judge
from release_fixtures import write_deepeyes

from vlmr.cli import main
from vlmr.data_pipelines.build import build_dataset
from vlmr.schema import load_samples


def test_eval_score_with_a_judge(tmp_path):
    write_deepeyes(tmp_path / "release", bad_rows=False)
    data = build_dataset("deepeyes", tmp_path / "ds", root=str(tmp_path / "release"), progress=False)
    ids = [s.id for s in load_samples(data)]
    predictions = tmp_path / "predictions.jsonl"
    # the references are "yes" and "The woman is to the left of the man who is holding the camera."
    predictions.write_text("".join(json.dumps({"id": i, "response": f"<think>...</think><answer>{a}</answer>"}) + "\n"
                                   for i, a in zip(ids, ["left", "right"], strict=True)))
    with scripted_judge({"left": "1", "right": "0"}) as (server, api_base):
        code = main(["eval", "score", "--benchmark", "dataset", "--data", str(data), "--predictions", str(predictions),
                     "--out", str(tmp_path / "run"), "--judge-api-base", api_base, "--judge-model", "judge-72b",
                     "--no-report"])
    assert code == 0 and len(server.prompts) == 2
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    # the rule (normalised exact match) finds neither short answer equal to the sentence; the judge takes "left"
    assert scores["overall"]["accuracy"] == 0.0 and scores["overall"]["judge_accuracy"] == 0.5
    assert scores["judge"] == {"api_base": api_base, "model": "judge-72b"}


def test_eval_sends_the_judge_requests_together(tmp_path):
    # each judge reply waits at a two-party barrier: only requests in flight together get past it (one at a
    # time, the first would wait out the barrier's timeout, fail with 500 and be scored by the fallback)
    import threading

    from vlmr.eval import get_benchmark
    from vlmr.eval.registry import ScoreContext
    from vlmr.eval.scoring import score_predictions
    from vlmr.rewards.judge import JudgeReward

    write_deepeyes(tmp_path / "release", bad_rows=False)
    data = build_dataset("deepeyes", tmp_path / "ds", root=str(tmp_path / "release"), progress=False)
    bench = get_benchmark("dataset")
    samples = bench.load(data)
    predictions = {s.id: {"id": s.id, "response": f"<answer>{a}</answer>"}
                   for s, a in zip(samples, ["left", "right"], strict=True)}
    barrier = threading.Barrier(2, timeout=10)

    def reply(prompt):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return 500
        return "1" if prompt.rstrip().endswith("Answer: left\nJudgement:") else "0"

    from eval_fixtures import ChatServer

    with ChatServer(reply) as server:
        judge = JudgeReward(api_base=server.url, model="judge", max_retries=0)
        result = score_predictions(bench, samples, predictions, ScoreContext(root=data, judge=judge))
    assert len(server.prompts) == 2 and judge.stats["judged"] == 2 and judge.stats["fallback"] == 0
    assert [row["judge_accuracy"] for row in result.rows] == [1.0, 0.0]
    # the judge is asked about each record's question, not the prompt's text around it
    asked = {p.rsplit("Question: ", 1)[-1].split("\nReference:", 1)[0] for p in server.prompts}
    assert asked == {s.question for s in samples}
