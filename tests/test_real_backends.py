"""BMP and Seismic on real SPLADE vectors: the 2,000 vendored WordNet glosses and real CAsT turns, by splade-tiny.

The other backend tests use a lexical toy model; here the impacts are a trained SPLADE's (skewed, clustered), the
queries DiSCo's long conversational inputs, and BMP runs with and without document reordering.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_backends import index_cli, one_line_error, same_top_k

pytest.importorskip("bmp")
pytest.importorskip("seismic")

DATA = Path(__file__).parent / "data"
GLOSSES = DATA / "wordnet" / "corpus.jsonl"  # the WordNet judged task's glosses (tests/data/README.md)
TOPICS = DATA / "cast" / "2021" / "2021_manual_evaluation_topics_v1.0.json"
TURNS = 60
SEISMIC_MIN_RECALL = 0.95
KNN = 10  # neighbours stored per document in the k-NN graph index


@pytest.fixture(scope="module")
def real_slice(splade_tiny, tmp_path_factory) -> tuple[Path, list[dict[str, int]]]:
    """The glosses encoded and indexed by Lucene, BMP (collection order and bisection order) and Seismic (without
    and with a k-NN graph)."""
    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.index import build_index
    from disco_pyserini.topics.load import load_turns

    root = tmp_path_factory.mktemp("real_slice")
    export_corpus(SpladeEncoder(str(splade_tiny), device="cpu", batch_size=64), GLOSSES, root / "vectors",
                  factor=100, progress=False, store_contents=False)
    build_index(root / "vectors", root / "lucene", threads=2)
    for name, options in (("bmp", ()), ("bmp-bisection", ("--reorder", "bisection")), ("seismic", ()),
                          ("seismic-knn", ("--seismic-knn", str(KNN)))):
        backend = name.split("-")[0]
        assert index_cli("--backend", backend, "--input", str(root / "vectors"), "--index", str(root / name),
                         *options) == 0
    turns = load_turns(TOPICS)[:TURNS]
    queries = DiscoQueryEncoder(str(splade_tiny), device="cpu").encode_batch(turns)
    assert min(len(q) for q in queries) > 10 and np.mean([len(q) for q in queries]) > 100  # DiSCo-length inputs
    return root, queries


class Calls:
    """Records how many candidates each call asks of the wrapped BMP engine."""

    def __init__(self, engine):
        self.engine, self.wanted = engine, []

    def search(self, query, k, alpha, beta):
        self.wanted.append(k)
        return self.engine.search(query, k, alpha, beta)


@pytest.mark.parametrize("name", ["bmp", "bmp-bisection"])
def test_bmp_exact_gives_lucenes_top_scores_on_real_vectors(real_slice, name):
    from disco_pyserini.search.backends import open_searcher

    root, queries = real_slice
    lucene, bmp = open_searcher(root / "lucene"), open_searcher(root / name)
    calls = bmp._engine = Calls(bmp._engine)
    try:
        for k in (10, 100):
            for query in queries:
                same_top_k(lucene.search(query, k), bmp.search(query, k), k)
    finally:
        lucene.close()
    # k = 10 asks BMP for a few dozen candidates, not the 1,001 that a positive threshold seed used to force
    assert np.median(calls.wanted[:len(queries)]) < 200


def test_bmp_starts_each_k_from_its_own_recent_needs_and_forgets_one_hard_query(real_slice):
    from disco_pyserini.search.backends import open_searcher

    root, queries = real_slice
    bmp = open_searcher(root / "bmp")
    calls = bmp._engine = Calls(bmp._engine)
    try:
        for query in queries[:20]:
            bmp.search(query, 10)
        first = len(calls.wanted)
        bmp.search(queries[0], 100)
        # k = 100 starts from the overfetch (2 per hit), whatever the k = 10 searches needed
        assert calls.wanted[first] == 200
        # one query that needed 100 candidates per hit: the next k = 10 search starts at the recent median,
        # not at 1,000 candidates (the rule before kept the largest need for good)
        before = max(bmp._needed[10])
        bmp._needed[10].append(100.0)
        first = len(calls.wanted)
        bmp.search(queries[1], 10)
        assert calls.wanted[first] <= 10 * before < 1000
    finally:
        bmp.close()


def test_bisection_reorders_rows_and_keeps_the_doc_id_mapping(real_slice):
    import json

    root, _ = real_slice
    plain = (root / "bmp" / "docids.txt").read_text().splitlines()
    moved = (root / "bmp-bisection" / "docids.txt").read_text().splitlines()
    original = np.load(root / "bmp-bisection" / "original_rows.npy")
    assert sorted(original.tolist()) == list(range(len(plain))) and (original != np.arange(len(plain))).any()
    assert moved == [plain[row] for row in original.tolist()]
    assert json.loads((root / "bmp-bisection" / "backend.json").read_text())["reorder"] == "bisection"


def test_bisection_puts_documents_that_share_terms_in_the_same_blocks(real_slice):
    """The sum over terms of the blocks holding them (what BMP's upper bounds scan) shrinks after reordering."""
    root, _ = real_slice

    def term_blocks(index: Path) -> int:
        indptr = np.load(index / "forward.indptr.npy")
        terms = np.load(index / "forward.terms.npy").astype(np.int64)
        blocks = np.repeat(np.arange(len(indptr) - 1) // 32, np.diff(indptr))
        return len(np.unique(blocks * (int(terms.max()) + 1) + terms))

    # 2,000 glosses in 63 blocks: 0.89 of the collection order's count here (the gain grows with the collection)
    assert term_blocks(root / "bmp-bisection") < 0.93 * term_blocks(root / "bmp")


def test_seismic_defaults_keep_recall_on_real_vectors(real_slice):
    from disco_pyserini.search.backends import open_searcher

    root, queries = real_slice
    lucene, seismic = open_searcher(root / "lucene"), open_searcher(root / "seismic")
    recalls = []
    try:
        for query in queries:
            expected = lucene.search(query, 10)
            found = seismic.search(query, 10)
            if expected:
                recalls.append(sum(h.score >= expected[-1].score for h in found) / len(expected))
    finally:
        lucene.close()
    assert np.mean(recalls) >= SEISMIC_MIN_RECALL


def test_seismic_knn_refinement_only_adds_better_documents_on_real_vectors(real_slice):
    from disco_pyserini.search.backends import open_searcher
    from disco_pyserini.search.options import EngineOptions

    root, queries = real_slice
    assert (root / "seismic-knn" / "backend.json").read_text().count('"knn": 10') == 1
    lucene = open_searcher(root / "lucene")
    # an aggressive setting, so that the graph has documents to add: two query terms, heavy block skipping
    plain, refined = (open_searcher(root / "seismic-knn", options=EngineOptions(
        seismic_query_cut=2, seismic_heap_factor=1.0, seismic_knn=n)) for n in (0, KNN))
    recalls = {"plain": [], "refined": []}
    try:
        for query in queries:
            expected = lucene.search(query, 10)
            found = {"plain": plain.search(query, 10), "refined": refined.search(query, 10)}
            # the neighbours are scored exactly and join the same heap: each rank's score can only rise
            assert len(found["refined"]) >= len(found["plain"])
            assert all(a.score >= b.score for a, b in zip(found["refined"], found["plain"]))
            exact = {hit.docid: hit.score for hit in lucene.search(query, 1000)}
            assert all(hit.score == pytest.approx(exact[hit.docid]) for hit in found["refined"] if hit.docid in exact)
            for name, hits in found.items():
                recalls[name].append(sum(h.score >= expected[-1].score for h in hits) / len(expected))
    finally:
        lucene.close()
    assert np.mean(recalls["refined"]) > np.mean(recalls["plain"]) + 0.05  # 0.20 -> 0.35 here


def test_seismic_knn_beyond_the_graph_is_refused(real_slice, splade_tiny, capsys, tmp_path):
    from disco_pyserini import cli
    from disco_pyserini.search.__main__ import main as search_main

    root, _ = real_slice
    for index, stored in (("seismic", 0), ("seismic-knn", KNN)):
        code = cli.run(search_main, ["--index", str(root / index), "--topics", str(TOPICS), "--encoder",
                                     str(splade_tiny), "--output", str(tmp_path / "run.trec"), "--device", "cpu",
                                     "--seismic-knn", str(KNN + 1)])
        line = one_line_error(capsys, code)
        assert f"--seismic-knn {KNN + 1} needs an index built with 'index --seismic-knn {KNN + 1}'" in line
        assert f"this one stores {stored} neighbours per document" in line
    assert not (tmp_path / "run.trec").exists()


def test_reorder_is_refused_for_other_engines(tmp_path, capsys):
    assert "--reorder applies to --backend bmp, not seismic" in one_line_error(capsys, index_cli(
        "--backend", "seismic", "--reorder", "bisection", "--input", str(tmp_path), "--index", str(tmp_path / "x")))
    assert not (tmp_path / "x").exists()
