"""LLM answer extraction against a local OpenAI-compatible server (loopback only), with its cache."""

from __future__ import annotations

import pytest
from eval_fixtures import ChatServer

from vlmr.eval import get_benchmark
from vlmr.eval.extractor import LLMExtractor
from vlmr.eval.registry import ScoreContext


@pytest.fixture
def server():
    with ChatServer("B") as s:
        yield s


class TestLLMExtractor:
    def test_no_client_until_first_call(self, tmp_path):
        extractor = LLMExtractor("http://127.0.0.1:9/v1", "judge", cache_path=tmp_path / "c.jsonl")
        assert extractor._client is None and not (tmp_path / "c.jsonl").exists()

    def test_mathvista_falls_back_to_llm_and_caches(self, server, bench_data, tmp_path):
        bench = get_benchmark("mathvista")
        data = bench_data("mathvista")
        sample = next(s for s in bench.load(data) if s.id == "1")
        cache = tmp_path / "cache.jsonl"
        ctx = ScoreContext(root=data, extractor=LLMExtractor(server.url, "judge", cache_path=cache))
        response = "<answer>the second one looks right to me</answer>"  # no letter, no choice text
        row = bench.process_results(sample, {"response": response}, ctx)
        assert row["_extracted"] == "B" and row["accuracy"] == 1.0
        prompt = server.prompts[0]
        assert prompt.startswith("Please read the following example.")  # the official few-shot prompt
        assert prompt.endswith(f"{sample.question}\n\n{response}\n\nExtracted answer: ")
        # a fresh extractor with the same cache answers without a request
        ctx2 = ScoreContext(root=data, extractor=LLMExtractor(server.url, "judge", cache_path=cache))
        assert bench.process_results(sample, {"response": response}, ctx2)["accuracy"] == 1.0
        assert len(server.prompts) == 1 and ctx2.extractor.n_requests == 0

    def test_rules_first_no_request(self, server, bench_data):
        bench = get_benchmark("mathvista")
        data = bench_data("mathvista")
        sample = next(s for s in bench.load(data) if s.id == "2")
        ctx = ScoreContext(root=data, extractor=LLMExtractor(server.url, "judge"))
        assert bench.process_results(sample, {"response": "<answer>-3</answer>"}, ctx)["accuracy"] == 1.0
        assert server.prompts == []

    def test_unreachable_server_gives_empty(self):
        extractor = LLMExtractor("http://127.0.0.1:9/v1", "judge")
        extractor._client_or_create().client.max_retries = 0
        assert extractor("anything") == ""
