"""ScanQA scoring (benchmark ``scene3d``) against ATR-DBI/ScanQA scripts/score.py, by hand.

``evals_json``: Top1 (EM) is 1 when the answer string is in ``ref_answers`` (exact, no
normalisation). ``eval_pycoco``: PTB-tokenise references and answers, then pycocoevalcap's
Bleu(4), Meteor, Rouge, Cider over the whole set. Hand values below for the corpus
A = ("brown cabinet" | "brown cabinet with tv sitting in it"), B = ("light brown" | "light brown", "brown"):

* BLEU-1: 4 of 4 unigrams match; hypothesis length 4, closest reference lengths 7 + 2 = 9;
  brevity penalty exp(1 - 9/4) = 0.286505, so BLEU-1 = 0.286505.
* BLEU-4: bigrams 2/2; no 3- or 4-grams, each scored (0 + 1e-15) / (0 + 1e-9) = 1e-6 by
  pycocoevalcap's smoothing: (1 * 1 * 1e-6 * 1e-6) ** 0.25 * 0.286505 = 2.86505e-4.
* ROUGE-L (beta 1.2, max precision and max recall over the references): A: P = 2/2,
  R = 2/7, F = 2.44 * P * R / (R + 1.44 * P) = 0.403974; B: P = R = 1, F = 1; mean 0.701987.
"""

from __future__ import annotations

import math

import pytest
from eval_fixtures import SCANQA_ROWS, build_scene3d
from test_eval_metrics import score

from vlmr.eval import get_benchmark
from vlmr.eval.caption_metrics import caption_metrics, java_missing_note
from vlmr.eval.registry import ScoreContext

REFS = dict((qid, answers) for qid, _, answers in SCANQA_ROWS)


@pytest.fixture(scope="module")
def scene3d_samples(tmp_path_factory):
    bench = get_benchmark("scene3d")
    return bench, {s.id: s for s in bench.load(build_scene3d(tmp_path_factory.mktemp("scene3d")))}


@pytest.mark.parametrize(("qid", "answer", "em", "em_normalised"), [
    ("q0", "brown cabinet with tv sitting in it", 1.0, 1.0),
    ("q0", "Brown cabinet with TV sitting in it", 0.0, 1.0),  # official EM is case-sensitive
    ("q0", "brown cabinet with tv sitting in it.", 0.0, 1.0),  # trailing period
    ("q0", "", 0.0, 0.0),
    ("q1", "brown", 1.0, 1.0),  # the second reference
    ("q1", "light brown", 1.0, 1.0),
    ("q1", "the brown", 0.0, 1.0),  # article dropped by the normalisation only
    ("q1", "dark brown", 0.0, 0.0),
    ("q1", "<think>the table is light</think><answer>light brown</answer>", 1.0, 1.0),  # the answer part
    ("q1", " light brown ", 1.0, 1.0),  # the answer part is stripped (ScanQA's answers never carry spaces)
    ("q1", "Light Brown", 0.0, 1.0),
    ("q1", "light  brown", 0.0, 1.0),  # spaces squeezed by the normalisation
    ("q1", "brown, light", 0.0, 0.0),  # "brown light" is no reference
    ("q0", "cabinet", 0.0, 0.0),
    ("q1", "2", 0.0, 0.0),
])
def test_exact_match_any_reference(scene3d_samples, qid, answer, em, em_normalised):
    bench, samples = scene3d_samples
    row = bench.process_results(samples[qid], {"id": qid, "response": answer}, ScoreContext())
    assert (row["exact_match"], row["exact_match_normalised"]) == (em, em_normalised)
    assert row["_refs"] == REFS[qid]


def test_corpus_metrics_by_hand():
    metrics, _ = caption_metrics(["brown cabinet", "light brown"],
                                 [["brown cabinet with tv sitting in it"], ["light brown", "brown"]])
    assert metrics["bleu_1"] == pytest.approx(math.exp(1 - 9 / 4), rel=1e-6)
    assert metrics["bleu_4"] == pytest.approx(1e-3 * math.exp(1 - 9 / 4), rel=1e-3)
    assert metrics["rouge_l"] == pytest.approx((2.44 * (2 / 7) / (2 / 7 + 1.44) + 1) / 2, rel=1e-6)
    assert metrics["cider"] > 0
    if java_missing_note() is None:
        assert 0 < metrics["meteor"] < 1


def test_benchmark_scores_ground_truth_and_empty(bench_data, monkeypatch):
    monkeypatch.setattr("vlmr.eval.caption_metrics.shutil.which", lambda name: None)  # no JVM start: fast
    data = bench_data("scene3d")
    truth = score("scene3d", data, {qid: answers[0] for qid, answers in REFS.items()})
    assert truth.overall["exact_match"] == 1.0 and truth.overall["bleu_1"] == pytest.approx(1.0, abs=1e-6)
    assert truth.overall["rouge_l"] == pytest.approx(1.0) and truth.overall["cider"] > 1
    empty = score("scene3d", data, {})
    assert {k: empty.overall[k] for k in ("exact_match", "bleu_1", "bleu_4", "rouge_l", "cider")} == \
        pytest.approx({"exact_match": 0.0, "bleu_1": 0.0, "bleu_4": 0.0, "rouge_l": 0.0, "cider": 0.0}, abs=1e-9)
    assert set(truth.breakdown["source"]) == {"scanqa"}


def test_without_java_meteor_is_reported_missing(bench_data, monkeypatch):
    monkeypatch.setattr("vlmr.eval.caption_metrics.shutil.which", lambda name: None)
    result = score("scene3d", bench_data("scene3d"), {"q0": "brown cabinet", "q1": "light brown"})
    assert "meteor" not in result.overall
    assert result.overall["bleu_1"] == pytest.approx(math.exp(1 - 9 / 4), rel=1e-6)  # same tokens in Python
    assert result.warnings == ["2 of 2 samples: METEOR not computed: java not found (scripts/setup_java.sh installs "
                               "a headless JRE)"]
