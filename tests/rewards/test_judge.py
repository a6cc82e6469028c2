"""The ``judge`` reward: verdict parsing, hostile replies from a scripted OpenAI-compatible server, the
cache, the fallback, and the real tiny model behind ``transformers serve`` (also mid-GRPO, killed)."""

from __future__ import annotations

import pytest
from judge_server import scripted_judge

from vlmr.rewards import get_reward
from vlmr.rewards.judge import DEFAULT_TEMPLATE, JudgeReward, parse_verdict

QUESTION = "What colour is the bus?"


def judge_at(api_base: str, **params) -> JudgeReward:
    # each scripted server has its own port, so the process-wide cache never carries verdicts between tests
    return JudgeReward(api_base=api_base, model="judge", max_retries=1, timeout=5, **params)


class TestParseVerdict:
    @pytest.mark.parametrize("reply, verdict", [
        ("1", 1.0),                              # the digit alone, as asked
        ("0", 0.0),
        ("Judgement: 1", 1.0),                   # DeepEyes' own few-shot format
        ("judgment: 0.", 0.0),                   # American spelling, trailing dot
        ("**Judgement**: 1", 1.0),               # markdown bold
        ("False", 0.0),                          # a word verdict
        ("", None),                              # empty
        ("The two answers describe the same colour.", None),  # prose without a verdict
        ("7", None),                             # a number outside the 0/1 scale
        ("Judgement: 10", None),
        ("Judgement: -1", None),
        ("1 or 0", None),                        # both
    ])
    def test_replies(self, reply, verdict):
        assert parse_verdict(reply) == verdict


class TestScriptedServer:
    def test_hostile_replies_fall_back_to_accuracy_and_are_counted(self):
        replies = {"red": "1", "blue": "", "green": "They are close enough, I think.", "Red": "7",
                   "crimson": "Judgement: 1"}
        with scripted_judge(replies) as (server, api_base):
            judge = judge_at(api_base)
            answers = ["red", "blue", "green", "Red", "crimson"]
            rewards = judge([f"<think>I look.</think><answer>{a}</answer>" for a in answers],
                            answer=[{"text": "red"}] * 5, question=[QUESTION] * 5)
        # the judge's verdict where it gave one (crimson = red by the judge); accuracy's elsewhere:
        # blue != red (0), green != red (0), "Red" == "red" after normalisation (1)
        assert rewards == [1.0, 0.0, 0.0, 1.0, 1.0]
        assert judge.stats["judged"] == 2 and judge.stats["fallback"] == 3
        assert judge.stats["fallback: reply without a 0/1 verdict"] == 3
        assert len(server.prompts) == 5  # one request per distinct answer, sent together
        assert any(p.endswith(f"Question: {QUESTION}\nReference: red\nAnswer: crimson\nJudgement:")
                   for p in server.prompts)

    def test_cache_asks_each_triple_once_and_reports_the_hit_rate(self):
        logged = {}
        with scripted_judge({"red": "1", "blue": "0"}) as (server, api_base):
            judge = judge_at(api_base)
            batch = ["<answer>red</answer>", "<answer>blue</answer>", "<answer>red</answer>", "<answer>red</answer>"]
            columns = {"answer": [{"text": "red"}] * 4, "question": [QUESTION] * 4,
                       "log_metric": lambda name, value: logged.__setitem__(name, value)}
            assert judge(batch, **columns) == [1.0, 0.0, 1.0, 1.0]
            first = len(server.prompts)
            assert judge(batch, **columns) == [1.0, 0.0, 1.0, 1.0]
        assert first == 2 and len(server.prompts) == 2  # two distinct triples; the second batch asked nothing
        assert logged["judge/cache_hit_rate"] == 1.0 and logged["judge/fallback_share"] == 0.0
        assert logged["judge/latency_seconds"] >= 0.0

    def test_server_errors_are_retried(self):
        with scripted_judge({"navy": [500, "1"]}) as (server, api_base):
            judge = judge_at(api_base)
            assert judge(["<answer>navy</answer>"], answer=[{"text": "dark blue"}], question=[QUESTION]) == [1.0]
        assert len(server.prompts) == 2 and judge.stats["fallback"] == 0

    def test_long_and_empty_answers_score_zero_without_asking(self):
        with scripted_judge({}) as (server, api_base):
            judge = judge_at(api_base, max_answer_chars=20)
            rewards = judge(["<answer>" + "red " * 10 + "</answer>", "<think>hmm</think><answer></answer>"],
                            answer=[{"text": "red"}] * 2, question=[QUESTION] * 2)
        assert rewards == [0.0, 0.0] and server.prompts == []

    def test_no_reference_is_not_applicable(self):
        judge = judge_at("http://127.0.0.1:9/v1")
        assert judge(["<answer>x</answer>"], answer=[{"boxes": [[0, 0, 1, 1]]}]) == [None]

    def test_question_from_the_prompt_when_there_is_no_question_column(self):
        with scripted_judge({"red": "1"}) as (server, api_base):
            judge = judge_at(api_base)
            prompt = [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Colour of the van?"}]}]
            assert judge(["<answer>red</answer>"], answer=[{"text": "red"}], prompts=[prompt]) == [1.0]
        assert "Question: Colour of the van?\n" in server.prompts[0]


class TestFallbackWhenDown:
    def test_refused_connection_falls_back_and_the_server_is_left_alone(self):
        judge = judge_at("http://127.0.0.1:9/v1", down_for=60)
        assert judge(["<answer>red</answer>", "<answer>blue</answer>"], answer=[{"text": "red"}] * 2,
                     question=[QUESTION] * 2) == [1.0, 0.0]
        requests = judge.stats["requests"]
        assert judge(["<answer>teal</answer>"], answer=[{"text": "red"}], question=[QUESTION]) == [0.0]
        assert judge.stats["requests"] == requests  # down: not asked again within down_for
        assert judge.stats["fallback"] == 3 and judge.stats["fallback: server down"] == 1


class TestParameters:
    def test_prompt_file_needs_its_placeholders(self, tmp_path):
        bad = tmp_path / "judge.txt"
        bad.write_text("Is {answer} right?")
        with pytest.raises(ValueError, match=r"lacks \['\{reference\}'\]"):
            JudgeReward(prompt_file=str(bad))
        good = tmp_path / "judge2.txt"
        good.write_text("Q {question} R {reference} A {answer} ->")
        assert JudgeReward(prompt_file=str(good)).template.startswith("Q {question}")

    def test_registered_picklable_and_validated(self):
        import pickle

        judge = get_reward("judge", api_base="http://127.0.0.1:9/v1", model="judge")
        assert judge.__name__ == "judge" and pickle.loads(pickle.dumps(judge)).model == "judge"
        with pytest.raises(ValueError, match="concurrency >= 1"):
            JudgeReward(concurrency=0)
        with pytest.raises(ValueError, match="not 'judge' itself"):
            JudgeReward(fallback="judge")
        assert "{question}" in DEFAULT_TEMPLATE and "{reference}" in DEFAULT_TEMPLATE

    def test_tool_use_with_judge_reuses_the_verdicts(self):
        with scripted_judge({"red": "1"}) as (server, api_base):
            judge = judge_at(api_base)
            tool_use = get_reward("tool_use", bonus=1.2, correct_reward="judge",
                                  correct_params={"api_base": api_base, "model": "judge"})
            completion = ('<think>zoom</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 9, 9]}}'
                          '</tool_call><answer>red</answer>')
            columns = {"answer": [{"text": "scarlet"}], "question": [QUESTION]}
            assert judge([completion], **columns) == [1.0]
            assert tool_use([completion], **columns) == [1.2]
        assert len(server.prompts) == 1  # tool_use's judge found the verdict in the shared cache


@pytest.fixture(scope="module")
def nano_model(tmp_path_factory) -> str:
    from vlmr.tiny_model import build_tiny_model

    path = tmp_path_factory.getbasetemp() / "tiny-nano-shared"
    return str(path if (path / "config.json").exists() else build_tiny_model(path, size="nano"))


@pytest.mark.slow
class TestTinyModelServer:
    """The real server: the tiny model behind ``transformers serve`` (a random model: its replies are noise)."""

    def test_requests_reach_the_server_and_the_second_batch_hits_the_cache(self, nano_model, transformers_serve,
                                                                         tmp_path):
        with transformers_serve(nano_model, tmp_path) as api_base:
            judge = JudgeReward(api_base=api_base, model=nano_model, concurrency=2, timeout=60, max_retries=0)
            columns = {"answer": [{"text": "red"}] * 2, "question": [QUESTION] * 2}
            first = judge(["<answer>red</answer>", "<answer>Blue</answer>"], **columns)
            assert judge.stats["requests"] == 2 and judge.stats["fallback: request failed (APIConnectionError)"] == 0
            # a random model rarely says 0 or 1: each answer is judged or falls back, never lost
            assert judge.stats["judged"] + judge.stats["fallback"] == 2 and all(r in (0.0, 1.0) for r in first)
            judged = judge.stats["judged"]
            second = judge(["<answer>red</answer>", "<answer>Blue</answer>"], **columns)
            if judged == 2:  # both verdicts were cached
                assert second == first and judge.stats["requests"] == 2
            assert judge.stats["cache_hits"] == judged
