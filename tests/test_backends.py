"""BMP and Seismic backends: the same vectors as the Lucene index, the same runs where the engine is exact."""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from disco_pyserini import cli
from disco_pyserini.errors import InputError
from disco_pyserini.search.options import engine_args
from tests.conftest import search_sample, write_jsonl

pytest.importorskip("bmp")
pytest.importorskip("seismic")

# Seismic is approximate: on the sample's DiSCo queries its top 10 must hold at least this share of Lucene's top 10
# (tie-aware: a hit counts when its exact score reaches Lucene's 10th score). Measured on the sample world, whose
# creatures' passages nearly tie: 0.995 with block summaries keeping 80% of their mass (the test index), 0.88 at
# Seismic's default 40%.
SEISMIC_MIN_OVERLAP = 0.95


def index_cli(*args: str) -> int:
    from disco_pyserini.index.__main__ import main

    return cli.run(main, ["--threads", "2", *args])


@pytest.fixture(scope="module")
def fast_indexes(sample_index, tmp_path_factory) -> Path:
    """The sample's vectors indexed by BMP and Seismic, beside the session's Lucene index."""
    root = tmp_path_factory.mktemp("fast_indexes")
    for backend, knobs in (("bmp", ()), ("seismic", ("--seismic-summary-energy", "0.8"))):
        assert index_cli("--backend", backend, "--input", str(sample_index / "vectors"), "--index",
                         str(root / backend), "--store-raw", *knobs) == 0
    (root / "lucene").symlink_to(sample_index / "index")
    return root


@pytest.fixture(scope="module")
def sample_queries(lexical_splade) -> list[dict[str, int]]:
    """The sample conversations as DiSCo query vectors."""
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.topics.load import load_turns

    return DiscoQueryEncoder(str(lexical_splade), device="cpu").encode_batch(load_turns(CONVERSATIONS))


def long_queries(vectors_dir: Path, count: int = 30, seed: int = 0) -> list[dict[str, int]]:
    """Long heavy queries (100+ terms, weights up to 400): BMP re-quantises them coarsely and must re-query."""
    from disco_pyserini.encode.export import iter_vectors

    rng = random.Random(seed)
    docs = [vector for _, vector in iter_vectors(vectors_dir)]
    terms = sorted({term for vector in docs for term in vector})
    queries = []
    for _ in range(count):
        query = {t: w for vector in rng.sample(docs, 4) for t, w in vector.items() if rng.random() < 0.7}
        query.update({t: rng.randint(1, 400) for t in rng.sample(terms, 100)})
        queries.append(query)
    return queries


def same_top_k(expected, found, k: int) -> None:
    """Same scores rank by rank; the same documents above the k-th score (ties at the cut may differ)."""
    assert [h.score for h in found] == [h.score for h in expected]
    if expected:
        kth = expected[-1].score
        assert {h.docid for h in found if h.score > kth} == {h.docid for h in expected if h.score > kth}


def test_bmp_exact_gives_lucenes_top_k_scores(fast_indexes, sample_index, sample_queries):
    from disco_pyserini.search import open_searcher

    lucene, bmp = open_searcher(fast_indexes / "lucene"), open_searcher(fast_indexes / "bmp")
    assert type(bmp).__name__ == "BmpSearcher" and bmp.num_docs == lucene.num_docs
    queries = sample_queries + long_queries(sample_index / "vectors")
    for k in (1, 10, 100, 1000):
        for query in queries:
            same_top_k(lucene.search(query, k), bmp.search(query, k), k)


def brute_force(vectors: list[tuple[str, dict[str, int]]], query: dict[str, int], k: int) -> list[float]:
    scores = sorted((sum(w * query.get(t, 0) for t, w in vector.items()) for _, vector in vectors), reverse=True)
    return [s for s in scores if s > 0][:k]


def test_bmp_stays_exact_beyond_its_8_and_16_bit_limits(tmp_path):
    """Impacts above 255 (BMP stores 8 bits), documents whose sums overflow 16 bits, a last block BMP would skip,
    and queries so coarsely re-quantised (32 levels for weights up to 1000) that 1,001 candidates do not prove
    the top 1000."""
    rng = np.random.default_rng(3)
    vectors = []
    for i in range(2603):  # not a multiple of the block size; every 500th document is long and heavy
        terms = rng.choice(400, size=300 if i % 500 == 7 else rng.integers(3, 25), replace=False)
        low = 1500 if i % 500 == 7 else 1
        vectors.append((f"doc{i}", {f"t{t}": int(rng.integers(low, 2000)) for t in terms}))
    (tmp_path / "vectors").mkdir()
    write_jsonl(tmp_path / "vectors" / "part-000-00000.jsonl",
                [{"id": d, "contents": "", "vector": v} for d, v in vectors])
    assert index_cli("--backend", "bmp", "--input", str(tmp_path / "vectors"), "--index", str(tmp_path / "bmp"),
                     "--bmp-block-size", "8") == 0
    info = json.loads((tmp_path / "bmp" / "backend.json").read_text())
    top = max(w for _, vector in vectors for w in vector.values())
    assert info["doc_scale"] < 255 / top and info["max_doc_sum"] <= 65535
    from disco_pyserini.search.bmp import BmpSearcher

    searcher = BmpSearcher(tmp_path / "bmp", overfetch=1.0)  # 1,001 candidates for k = 1000: must re-query
    for i in range(10):
        # even: BMP's 32 levels flatten every weight but one to 1 or 2; odd: heavy enough to overflow 16 bits
        query = {f"t{t}": int(rng.integers(1, 1000 if i % 2 else 60)) for t in rng.choice(420, 150, replace=False)}
        query[next(iter(query))] = 1000
        for k in (3, 50, 1000):
            assert [h.score for h in searcher.search(query, k)] == brute_force(vectors, query, k)


def test_bmp_approximate_settings_return_exact_scores_for_what_they_find(fast_indexes, sample_queries):
    from disco_pyserini.search import EngineOptions, open_searcher

    lucene = open_searcher(fast_indexes / "lucene")
    pruned = open_searcher(fast_indexes / "bmp", options=EngineOptions(bmp_alpha=0.5, bmp_beta=0.5))
    for query in sample_queries[:20]:
        exact = {h.docid: h.score for h in lucene.search(query, 1000)}
        hits = pruned.search(query, 10)
        assert hits and all(exact[h.docid] == h.score for h in hits)


def test_seismic_top10_overlaps_lucene(fast_indexes, sample_queries):
    from disco_pyserini.search import open_searcher

    lucene, seismic = open_searcher(fast_indexes / "lucene"), open_searcher(fast_indexes / "seismic")
    overlaps = []
    for query in sample_queries:
        expected, found = lucene.search(query, 10), seismic.search(query, 10)
        exact = {h.docid: h.score for h in lucene.search(query, 1000)}
        assert all(exact[h.docid] == h.score for h in found)  # Seismic's scores are the exact dot products
        overlaps.append(sum(h.score >= expected[-1].score for h in found) / len(expected))
    assert np.mean(overlaps) >= SEISMIC_MIN_OVERLAP


def test_batch_search_equals_search(fast_indexes, sample_queries):
    from disco_pyserini.search import open_searcher

    qids = [f"q{i}" for i in range(len(sample_queries))]
    for backend in ("bmp", "seismic"):
        searcher = open_searcher(fast_indexes / backend)
        batch = searcher.batch_search(sample_queries + [{"never-seen-term": 5}], qids + ["empty"], 10, threads=2)
        assert batch["empty"] == []
        assert all(batch[qid] == searcher.search(query, 10) for qid, query in zip(qids, sample_queries))


def test_search_cli_writes_lucenes_run_with_bmp_and_infers_the_backend(fast_indexes, lexical_splade, tmp_path):
    runs = {}
    for backend in ("lucene", "bmp", "seismic"):
        root = tmp_path / backend
        root.mkdir()
        (root / "index").symlink_to(fast_indexes / backend)
        runs[backend] = search_sample(root, lexical_splade, tmp_path / f"{backend}.trec")  # backend inferred
    assert runs["bmp"].count("\n") == runs["lucene"].count("\n") > 0
    scores = {b: [line.split()[::4] for line in run.splitlines()] for b, run in runs.items()}  # qid, score
    assert scores["bmp"] == scores["lucene"]
    assert runs["seismic"].splitlines()[0].split()[0] == runs["lucene"].splitlines()[0].split()[0]
    explicit = search_sample(tmp_path / "bmp", lexical_splade, tmp_path / "explicit.trec", "--backend", "bmp",
                             "--bmp-alpha", "1", "--bmp-beta", "1")
    assert explicit == runs["bmp"]


def test_index_records_its_backend_and_copies_encoding(fast_indexes, sample_index):
    from disco_pyserini.index.layout import detect_backend

    for backend in ("lucene", "bmp", "seismic"):
        index = fast_indexes / backend
        assert detect_backend(index) == backend
        assert json.loads((index / "encoding.json").read_text()) == \
            json.loads((sample_index / "vectors" / "encoding.json").read_text())
    assert (fast_indexes / "bmp" / "docids.txt").read_text().splitlines()[0] == "d0001"


def test_lucene_index_without_backend_file_is_still_recognised(fast_indexes, tmp_path):
    from disco_pyserini.index.layout import detect_backend

    old = tmp_path / "old"
    shutil.copytree(fast_indexes / "lucene", old)
    (old / "backend.json").unlink()
    assert detect_backend(old) == "lucene"


def test_chat_shows_passages_from_a_bmp_index(fast_indexes, lexical_splade):
    import io

    from disco_pyserini.chat import converse
    from disco_pyserini.serve.retriever import Retriever

    out = io.StringIO()
    retriever = Retriever(fast_indexes / "bmp", str(lexical_splade), device="cpu")
    try:
        converse(retriever, io.StringIO("What is the habitat of the tenolo?\n"), out, hits=1)
    finally:
        retriever.close()
    assert "the habitat of the tenolo" in out.getvalue().splitlines()[1].lower()


def one_line_error(capsys, code: int) -> str:
    """The error line (after any progress bar output); no traceback."""
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "panicked" not in err
    last = err.splitlines()[-1]
    assert last.startswith("error: ")
    return last


def test_bad_input_gets_one_line_and_exit_2(fast_indexes, sample_index, lexical_splade, tmp_path, capsys,
                                            monkeypatch):
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.search.__main__ import main as search_main

    def search(index: Path, *options: str) -> int:
        return cli.run(search_main, ["--index", str(index), "--topics", str(CONVERSATIONS), "--encoder",
                                     str(lexical_splade), "--output", str(tmp_path / "run.trec"), "--device", "cpu",
                                     *options])

    assert "this is a bmp index, not lucene" in one_line_error(capsys, search(fast_indexes / "bmp", "--backend",
                                                                                 "lucene"))
    assert "this is a lucene index, not seismic" in one_line_error(
        capsys, search(fast_indexes / "lucene", "--backend", "seismic"))
    assert "use --encoder-backend onnx" in one_line_error(capsys, search(fast_indexes / "bmp", "--backend", "onnx"))
    broken = tmp_path / "broken"
    shutil.copytree(fast_indexes / "bmp", broken)
    (broken / "docids.txt").unlink()
    assert "docids.txt: missing mapping file" in one_line_error(capsys, search(broken))
    assert not (tmp_path / "run.trec").exists()

    import builtins

    real_import = builtins.__import__

    def without_engines(name, *args, **kwargs):
        if name.split(".")[0] in ("bmp", "seismic"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_engines)
    monkeypatch.setattr("importlib.import_module", lambda name: without_engines(name))
    assert 'pip install "disco-pyserini[fast]"' in one_line_error(capsys, search(fast_indexes / "seismic"))
    assert "needs the bmp package" in one_line_error(
        capsys, index_cli("--backend", "bmp", "--input", str(sample_index / "vectors"), "--index",
                          str(tmp_path / "never")))
    assert not (tmp_path / "never").exists()


def test_failed_builds_leave_nothing_behind(tmp_path, capsys):
    vectors = tmp_path / "vectors"
    vectors.mkdir()
    write_jsonl(vectors / "part-000-00000.jsonl", [{"id": "a", "vector": {"x": 3}}, {"id": "b", "vector": {"x": 0.5}}])
    for backend in ("bmp", "seismic"):
        err = one_line_error(capsys, index_cli("--backend", backend, "--input", str(vectors), "--index",
                                               str(tmp_path / backend)))
        assert "part-000-00000.jsonl:2:" in err and "not an integer" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors"]
    write_jsonl(vectors / "part-000-00000.jsonl", [{"id": "a", "vector": {"x": 3}}, {"id": "a", "vector": {}}])
    assert "duplicate document id 'a'" in one_line_error(
        capsys, index_cli("--backend", "bmp", "--input", str(vectors), "--index", str(tmp_path / "bmp")))
    assert index_cli("--backend", "seismic", "--bm25", "--input", str(vectors), "--index", str(tmp_path / "x")) == 2


def test_existing_index_needs_overwrite(fast_indexes, sample_index, capsys):
    assert "pass --overwrite" in one_line_error(capsys, index_cli(
        "--backend", "bmp", "--input", str(sample_index / "vectors"), "--index", str(fast_indexes / "bmp")))


def test_help_stays_light():
    import subprocess
    import sys

    for module in ("disco_pyserini.index", "disco_pyserini.search", "disco_pyserini.chat"):
        code = (f"import sys, runpy; sys.argv = ['x', '--help']\ntry: runpy.run_module('{module}', "
                "run_name='__main__')\nexcept SystemExit: pass\n"
                "heavy = [m for m in ('torch', 'jnius', 'bmp', 'seismic') if m in sys.modules]\n"
                "assert not heavy, heavy")
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_input_error_names_unknown_backend_values():
    import argparse

    args = argparse.Namespace(backend="elastic", bmp_alpha=1.0, bmp_beta=1.0, seismic_query_cut=50,
                              seismic_heap_factor=0.8, seismic_knn=0)
    with pytest.raises(InputError, match="unknown --backend 'elastic'"):
        engine_args(args)
