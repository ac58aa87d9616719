"""Impact index + search: exact scores, Pyserini interoperability, CLI behaviour and errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from disco_pyserini.encode.export import export_corpus, iter_vectors
from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.errors import InputError
from disco_pyserini.index import build_index
from disco_pyserini.search import ImpactSearcher
from tests.conftest import random_texts, search_sample, write_jsonl

CONVERSATIONS = [
    {"conversation_id": "c1", "turns": [
        {"turn_id": "1", "utterance": "tell me about the panda bear", "response": "it lives in china forest"},
        {"turn_id": "2", "utterance": "what does it eat?", "response": "bamboo"},
        {"turn_id": "3", "utterance": "is it large?"}]},
    {"conversation_id": "c2", "turns": [
        {"turn_id": "1", "utterance": "tokyo train city"},
        {"turn_id": "2", "utterance": "how fast is it?"}]},
]


@pytest.fixture(scope="module")
def random_index(tmp_path_factory, random_splade) -> Path:
    root = tmp_path_factory.mktemp("random_index")
    corpus = write_jsonl(root / "corpus.jsonl",
                         [{"id": f"d{i}", "contents": t} for i, t in enumerate(random_texts(60, seed=7))])
    export_corpus(SpladeEncoder(str(random_splade), device="cpu"), corpus, root / "vectors", factor=100,
                  progress=False, metadata={"encoder": str(random_splade)})
    build_index(root / "vectors", root / "index", threads=2)
    write_jsonl(root / "topics.jsonl", CONVERSATIONS)
    return root


@pytest.fixture(scope="module")
def query_encoder(random_splade):
    from disco_pyserini.encode.query import DiscoQueryEncoder

    return DiscoQueryEncoder(str(random_splade), device="cpu")


def test_scores_are_sums_of_integer_impact_products(random_index, query_encoder):
    docs = dict(iter_vectors(random_index / "vectors"))
    searcher = ImpactSearcher(random_index / "index")
    assert searcher.num_docs == 60
    for conversation in (["tell me about the panda bear", "what does it eat?"], "tokyo train", ["fast red car"]):
        query = query_encoder.encode(conversation)
        hits = searcher.search(query, k=60)
        expected = {d: sum(w * vec.get(t, 0) for t, w in query.items()) for d, vec in docs.items()}
        assert {h.docid: h.score for h in hits} == {d: s for d, s in expected.items() if s > 0}
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_lucene_impact_searcher_accepts_disco_query_encoder(random_index, query_encoder):
    from disco_pyserini.jvm import import_pyserini

    lucene = import_pyserini("pyserini.search.lucene")
    # min_idf=-1 keeps terms that occur in every document (Pyserini drops idf <= min_idf, 0 by default)
    theirs = lucene.LuceneImpactSearcher(str(random_index / "index"), query_encoder=query_encoder, min_idf=-1)
    ours = ImpactSearcher(random_index / "index")
    conversation = ["tell me about the panda bear", "what does it eat?"]
    their_hits = [(h.docid, h.score) for h in theirs.search(conversation, k=10)]
    assert their_hits == [tuple(h) for h in ours.search(query_encoder.encode(conversation), k=10)]
    batch = theirs.batch_search(["tokyo train", "fast red car"], ["q1", "q2"], k=5, threads=2)
    assert [h.docid for h in batch["q2"]] == [h.docid for h in ours.search(query_encoder.encode("fast red car"), 5)]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)


def test_search_cli_and_pyserini_cli_on_pre_encoded_queries_agree(random_index, random_splade, tmp_path):
    ours = tmp_path / "ours.txt"
    result = run_cli("disco_pyserini.search", "--index", str(random_index / "index"), "--topics",
                     str(random_index / "topics.jsonl"), "--encoder", str(random_splade), "--output", str(ours),
                     "--hits", "20", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    lines = ours.read_text().splitlines()
    assert len(lines) == 5 * 20 and lines[0].split()[:4] == ["c1_1", "Q0", lines[0].split()[2], "1"]
    assert {line.split()[0] for line in lines} == {"c1_1", "c1_2", "c1_3", "c2_1", "c2_2"}
    encoded, topics_tsv = tmp_path / "queries.jsonl", tmp_path / "queries.tsv"
    result = run_cli("disco_pyserini.encode", "queries", "--encoder", str(random_splade), "--topics",
                     str(random_index / "topics.jsonl"), "--output", str(encoded), "--topics-output", str(topics_tsv),
                     "--device", "cpu")
    assert result.returncode == 0, result.stderr
    first = json.loads(encoded.read_text().splitlines()[2])
    assert first["qid"] == "c1_3" and first["contents"].startswith("is it large? [SEP] bamboo [SEP] what does it eat?")
    theirs = tmp_path / "theirs.txt"
    result = run_cli("disco_pyserini.pyserini_cli", "pyserini.search.lucene", "--impact", "--index",
                     str(random_index / "index"), "--topics", str(topics_tsv), "--encoder", str(encoded),
                     "--output", str(theirs), "--hits", "20", "--min-idf", "-1")
    assert result.returncode == 0, result.stderr

    def rows(path: Path) -> list[tuple]:
        return sorted(tuple(line.split()[:5]) for line in path.read_text().splitlines())

    assert rows(theirs) == rows(ours)


def test_known_document_ranks_first(sample_index, lexical_splade):
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.encode.corpus import read_corpus
    from disco_pyserini.sample import CORPUS

    encoder = DiscoQueryEncoder(str(lexical_splade), device="cpu")
    searcher = ImpactSearcher(sample_index / "index")
    docs = list(read_corpus(CORPUS))[:40:4]
    for doc in docs:  # a passage's own text retrieves it first
        assert searcher.search(encoder.encode(doc.text), k=1)[0].docid == doc.doc_id


def test_quantisation_mismatch_is_refused(random_index, random_splade, tmp_path):
    result = run_cli("disco_pyserini.search", "--index", str(random_index / "index"), "--topics",
                     str(random_index / "topics.jsonl"), "--encoder", str(random_splade), "--output",
                     str(tmp_path / "run.txt"), "--quantization-factor", "50")
    assert result.returncode == 2 and "built with --quantization-factor 100 but queries would use 50;" in result.stderr
    assert not (tmp_path / "run.txt").exists()


def test_empty_conversation_turn_is_named_and_no_run_is_written(random_index, random_splade, tmp_path):
    topics = write_jsonl(tmp_path / "topics.jsonl", [CONVERSATIONS[0], {"conversation_id": "c9", "turns": [
        {"turn_id": "1", "utterance": "hello"}, {"turn_id": "2", "utterance": "  "}]}])
    result = run_cli("disco_pyserini.search", "--index", str(random_index / "index"), "--topics", str(topics),
                     "--encoder", str(random_splade), "--output", str(tmp_path / "run.txt"))
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and "topics.jsonl:2" in error and "empty" in error
    assert not (tmp_path / "run.txt").exists()


def test_index_rejects_float_weights_and_existing_index(random_index, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "docs.jsonl").write_text('{"id": "a", "vector": {"x": 3}}\n{"id": "b", "vector": {"x": 2.9}}\n')
    with pytest.raises(InputError, match=r"docs.jsonl:2: .*'x' is 2.9, not an integer"):
        build_index(bad, tmp_path / "idx")
    assert not (tmp_path / "idx").exists()
    with pytest.raises(InputError, match="index already exists"):
        build_index(random_index / "vectors", random_index / "index")
    with pytest.raises(InputError, match="not a Lucene index"):
        ImpactSearcher(tmp_path)


def test_index_rejects_duplicate_ids_across_files(tmp_path):
    vectors = tmp_path / "vectors"
    vectors.mkdir()
    (vectors / "part-000-00000.jsonl").write_text('{"id": "a", "vector": {"x": 3}}\n{"id": "b", "vector": {"y": 1}}\n')
    (vectors / "part-001-00000.jsonl").write_text('{"id": "c", "vector": {"x": 1}}\n{"id": "b", "vector": {"z": 2}}\n')
    with pytest.raises(InputError, match=r"part-001-00000.jsonl:2: duplicate document id 'b' "
                                         r"\(first at part-000-00000.jsonl:2\)"):
        build_index(vectors, tmp_path / "idx")
    assert not (tmp_path / "idx").exists()


def test_bm25_baseline_matches_pyserini_lucene_searcher(tmp_path):
    from disco_pyserini.index import build_bm25_index
    from disco_pyserini.jvm import import_pyserini
    from disco_pyserini.sample import CONVERSATIONS, CORPUS
    from disco_pyserini.search import Bm25Searcher
    from disco_pyserini.topics import formulate, load_topics

    stats = build_bm25_index(CORPUS, tmp_path / "bm25", threads=2)
    assert stats.documents == sum(1 for _ in CORPUS.open())
    run = tmp_path / "run.txt"
    result = run_cli("disco_pyserini.search", "--bm25", "--index", str(tmp_path / "bm25"), "--topics",
                     str(CONVERSATIONS), "--policy", "concat", "--output", str(run), "--hits", "10")
    assert result.returncode == 0, result.stderr
    ours = {}
    for line in run.read_text().splitlines():
        qid, _, docid, _, score, tag = line.split()
        ours.setdefault(qid, []).append((docid, round(float(score), 4)))
        assert tag == "bm25-concat"
    reference = import_pyserini("pyserini.search.lucene").LuceneSearcher(str(tmp_path / "bm25"))
    reference.set_bm25(0.9, 0.4)
    turns = list(load_topics(CONVERSATIONS))
    for turn in turns[:10]:
        text = formulate(turn, "concat").replace("[SEP]", " ")
        assert ours[turn.query_id] == [(h.docid, round(h.score, 4)) for h in reference.search(text, k=10)]
    searcher = Bm25Searcher(tmp_path / "bm25")
    assert searcher.doc_text(ours[turns[0].query_id][0][0])  # raw passages are stored for display


def test_llm_rewrite_files_are_searched_as_a_named_source(tmp_path):
    from disco_pyserini.index import build_bm25_index
    from disco_pyserini.sample import CONVERSATIONS, CORPUS
    from disco_pyserini.topics import load_topics

    build_bm25_index(CORPUS, tmp_path / "bm25", threads=2)
    rewrites = tmp_path / "llm.tsv"
    rewrites.write_text("".join(f"{t.query_id}\t{t.manual_rewrite}\n" for t in load_topics(CONVERSATIONS)))
    common = ["disco_pyserini.search", "--bm25", "--index", str(tmp_path / "bm25"), "--topics", str(CONVERSATIONS)]
    manual = run_cli(*common, "--policy", "manual", "--output", str(tmp_path / "manual.txt"))
    llm = run_cli(*common, "--rewrites", f"llm={rewrites}", "--policy", "rewrite:llm",
                  "--output", str(tmp_path / "llm.txt"))
    assert manual.returncode == 0 and llm.returncode == 0, llm.stderr
    def untagged(path: Path) -> list[str]:
        return [line.rsplit(" ", 1)[0] for line in path.read_text().splitlines()]

    assert untagged(tmp_path / "llm.txt") == untagged(tmp_path / "manual.txt")
    # no rewrite file: the raw utterances are searched, with one warning; --strict refuses
    missing = run_cli(*common, "--policy", "rewrite:llm", "--output", str(tmp_path / "none.txt"))
    run_cli(*common, "--policy", "raw", "--output", str(tmp_path / "raw.txt"))
    assert missing.returncode == 0 and missing.stderr.count("80 of 80 turns have no llm rewrite") == 1
    assert untagged(tmp_path / "none.txt") == untagged(tmp_path / "raw.txt")
    strict = run_cli(*common, "--policy", "rewrite:llm", "--strict", "--output", str(tmp_path / "strict.txt"))
    assert strict.returncode == 2 and "80 of 80 turns have no llm rewrite" in strict.stderr
    assert not (tmp_path / "strict.txt").exists()


def test_duplicate_turn_ids_are_refused_and_runs_keep_topic_order(sample_index, lexical_splade, tmp_path):
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.search.pipeline import SearchOptions, search_topics
    from disco_pyserini.topics.load import load_turns

    run = tmp_path / "run.trec"
    search_topics(sample_index / "index", CONVERSATIONS, run,
                  SearchOptions(str(lexical_splade), hits=5, batch_size=8, device="cpu", progress=False))
    qids = list(dict.fromkeys(line.split()[0] for line in run.read_text().splitlines()))
    # Batches are encoded in length order; the run still follows the topics file.
    assert qids == [turn.query_id for turn in load_turns(CONVERSATIONS)]
    first = CONVERSATIONS.read_text().splitlines()[0]
    twice = write_jsonl(tmp_path / "twice.jsonl", [json.loads(first), json.loads(first)])
    with pytest.raises(InputError, match="query id 'c121_1' occurs twice"):
        load_turns(twice)


def test_length_sorted_batches_group_similar_lengths_and_cover_every_index():
    from disco_pyserini.encode.batching import length_sorted_batches

    batches = list(length_sorted_batches([50, 3, 200, 7, 3, 120, 9], 3))
    assert batches == [[1, 4, 3], [6, 0, 5], [2]]


def test_query_topk_flag_prunes_search_and_encoded_queries(sample_index, lexical_splade, tmp_path):
    from disco_pyserini.encode.__main__ import main as encode_main
    from disco_pyserini.sample import CONVERSATIONS

    runs = {k: search_sample(sample_index, lexical_splade, tmp_path / f"top{k}.trec", "--query-topk", k)
            for k in ("0", "1")}
    assert runs["0"] != runs["1"]
    encoded = tmp_path / "queries.jsonl"
    assert encode_main(["queries", "--encoder", str(lexical_splade), "--topics", str(CONVERSATIONS), "--output",
                        str(encoded), "--device", "cpu", "--query-topk", "2"]) == 0
    vectors = [json.loads(line)["vector"] for line in encoded.read_text().splitlines()]
    assert len(vectors) == 80 and max(map(len, vectors)) == 2
