"""Every measure equals trec_eval's (pytrec_eval), ties included: a property test over random runs full of ties."""
from __future__ import annotations

import subprocess
import sys

import pytest
import pytrec_eval
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disco_pyserini.eval.metrics import evaluate
from disco_pyserini.eval.runs import trec_eval_order

# ours -> (pytrec_eval measure, result key, cutoff applied to the run before pytrec_eval, graded?)
MEASURES = {
    "MRR": ("recip_rank", "recip_rank", None, False),
    "MRR@10": ("recip_rank", "recip_rank", 10, False),
    "MRR@3": ("recip_rank", "recip_rank", 3, False),
    "nDCG@3": ("ndcg_cut.3", "ndcg_cut_3", None, True),
    "nDCG@10": ("ndcg_cut.10", "ndcg_cut_10", None, True),
    "R@5": ("recall.5", "recall_5", None, False),
    "R@100": ("recall.100", "recall_100", None, False),
    "P@3": ("P.3", "P_3", None, False),
    "AP": ("map", "map", None, False),
    "Success@5": ("success.5", "success_5", None, False),
}

QUERIES = [f"q{i}" for i in range(6)]
DOCS = [f"d{i}" for i in range(12)] + ["D1", "d10x", "é"]  # ids whose string order matters for ties


def cut(run: dict[str, dict[str, float]], k: int | None) -> dict[str, dict[str, float]]:
    """The run cut at ``k`` after trec_eval's ordering (score descending, docid descending)."""
    if k is None:
        return run
    return {qid: {doc: docs[doc] for doc in trec_eval_order(docs)[:k]} for qid, docs in run.items()}


def trec_eval_means(qrels, run, rel: int) -> dict[str, float]:
    """trec_eval -c: the mean over every judged query, 0 for those missing from the run."""
    means = {}
    for ours, (name, key, k, graded) in MEASURES.items():
        evaluator = (pytrec_eval.RelevanceEvaluator(qrels, {name}) if graded else
                     pytrec_eval.RelevanceEvaluator(qrels, {name}, relevance_level=rel))
        scores = evaluator.evaluate(cut(run, k))
        means[ours] = sum(scores.get(q, {}).get(key, 0.0) for q in qrels) / len(qrels)
    return means


scores = st.sampled_from([1.0, 2.0, 2.0, 3.0, 7.5])  # few distinct values: many ties
runs = st.dictionaries(st.sampled_from(QUERIES), st.dictionaries(st.sampled_from(DOCS), scores, min_size=1),
                       max_size=len(QUERIES))
qrels_st = st.dictionaries(st.sampled_from(QUERIES[:5]), st.dictionaries(st.sampled_from(DOCS),
                                                                         st.integers(0, 3), min_size=1),
                           min_size=1)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs, qrels_st, st.sampled_from([1, 2]))
def test_every_measure_equals_trec_eval_under_ties(run, qrels, rel):
    result = evaluate({"r": run}, qrels, metrics=list(MEASURES), rel=rel)
    assert result.summary.loc["r"].to_dict() == pytest.approx(trec_eval_means(qrels, run, rel), abs=1e-9)


def test_tied_run_ranks_by_docid_descending_like_trec_eval(tmp_path):
    run = tmp_path / "t.trec"
    run.write_text("".join(f"q1 Q0 d{i} {i} 1.0 t\n" for i in range(1, 6)))
    qrels = tmp_path / "t.qrels"
    qrels.write_text("q1 0 d1 1\n")
    result = subprocess.run([sys.executable, "-m", "disco_pyserini.eval", "--run", str(run), "--qrels", str(qrels),
                             "--metrics", "MRR@10", "AP", "--per-query"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["t,q1,MRR@10,0.2", "t,q1,AP,0.2"]
    assert trec_eval_order({"d1": 1.0, "d2": 1.0, "d10": 1.0, "d9": 2.0}) == ["d9", "d2", "d10", "d1"]
