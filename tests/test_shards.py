"""Sharded indexes: built whole or shard by shard, searched as one (here and on Ray), equal to one index over every
document where the engine is exact; missing, duplicated and incompatible shards are one error line."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from disco_pyserini import cli
from disco_pyserini.search.searcher import Hit
from tests.conftest import REPO, search_sample, write_jsonl


def index_cli(*args: str) -> int:
    from disco_pyserini.index.__main__ import main

    return cli.run(main, ["--threads", "2", *args])


def split_vectors(source: Path, into: Path, files: int, encode_shards: int) -> Path:
    """``source``'s vectors rewritten as ``files`` part files, numbered as ``encode docs --shard-num
    encode_shards`` numbers them (contiguous document ranges)."""
    lines = [line for path in sorted(source.glob("part-*.jsonl")) for line in path.read_text().splitlines(True)]
    into.mkdir()
    per_shard = files // encode_shards
    for i in range(files):
        shard, chunk = divmod(i, per_shard)
        chunk_lines = lines[len(lines) * i // files:len(lines) * (i + 1) // files]
        (into / f"part-{shard:03d}-{chunk:05d}.jsonl").write_text("".join(chunk_lines))
    encoding = json.loads((source / "encoding.json").read_text())
    (into / "encoding.json").write_text(json.dumps({**encoding, "shard_num": encode_shards}))
    return into


def trec_order(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (h.score, h.docid), reverse=True)


def assert_same_run(single: list[Hit], merged: list[Hit], k: int) -> None:
    """The merged hits are the single index's in trec_eval's order; at the k-th score, which tied documents made the
    cut may differ (neither engine cuts ties by id), but never their count or score."""
    assert [h.score for h in merged] == [h.score for h in single]
    if len(single) < k:  # every matching document returned: the very same list
        assert merged == trec_order(single)
    elif single:
        above = [h for h in trec_order(single) if h.score > single[-1].score]
        assert merged[:len(above)] == above


@pytest.fixture(scope="module")
def vectors(sample_index, tmp_path_factory) -> dict[str, Path]:
    """The sample's vectors as 2 encode shards of 2 part files each, and as one encoding of 5 part files."""
    root = tmp_path_factory.mktemp("shard_vectors")
    return {"encoded-2": split_vectors(sample_index / "vectors", root / "encoded-2", 4, 2),
            "whole": split_vectors(sample_index / "vectors", root / "whole", 5, 1)}


@pytest.fixture(scope="module")
def sharded(vectors, tmp_path_factory) -> Path:
    """Lucene in 2 shards (one per encode shard, built in parallel) and BMP in 3 (runs of part files)."""
    root = tmp_path_factory.mktemp("sharded")
    assert index_cli("--input", str(vectors["encoded-2"]), "--index", str(root / "lucene"), "--shards", "2",
                     "--store-raw") == 0
    assert index_cli("--input", str(vectors["whole"]), "--index", str(root / "bmp"), "--shards", "3",
                     "--backend", "bmp") == 0
    return root


@pytest.fixture(scope="module")
def queries(lexical_splade) -> list[dict[str, int]]:
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.topics.load import load_turns

    return DiscoQueryEncoder(str(lexical_splade), device="cpu").encode_batch(load_turns(CONVERSATIONS))


def test_manifest_names_the_shards_and_what_they_were_built_from(sharded, vectors, sample_index):
    manifest = json.loads((sharded / "lucene" / "shards.json").read_text())
    assert manifest["backend"] == "lucene" and manifest["shards"] == 2 and manifest["documents"] == 1260
    assert manifest["partition"] == "encode-shards" and manifest["encode_shards"] == 2
    assert [p["files"] for p in manifest["parts"]] == [["part-000-00000.jsonl", "part-000-00001.jsonl"],
                                                       ["part-001-00000.jsonl", "part-001-00001.jsonl"]]
    assert {p["input"] for p in manifest["parts"]} == {str(vectors["encoded-2"].resolve())}
    encoding = json.loads((sample_index / "vectors" / "encoding.json").read_text())
    assert manifest["encoding"]["encoder"] == encoding["encoder"]
    bmp = json.loads((sharded / "bmp" / "shards.json").read_text())
    assert bmp["partition"] == "chunks" and [len(p["files"]) for p in bmp["parts"]] == [1, 2, 2]
    assert sum(p["documents"] for p in bmp["parts"]) == 1260
    assert sorted(p.name for p in (sharded / "lucene").iterdir()) == ["shard-000", "shard-001", "shards.json"]


@pytest.mark.parametrize("backend", ["lucene", "bmp"])
def test_merged_shards_equal_one_index_over_every_document(sharded, sample_index, queries, backend):
    from disco_pyserini.search import open_searcher

    single, shards = open_searcher(sample_index / "index"), open_searcher(sharded / backend)
    assert type(shards).__name__ == "ShardedSearcher" and shards.num_docs == single.num_docs == 1260
    qids = [f"q{i}" for i in range(len(queries))]
    for k in (10, 2000):  # 2000: every matching document, so the whole ranking is compared
        expected = single.batch_search(queries, qids, k)
        found = shards.batch_search(queries, qids, k, threads=2)
        for qid, query in zip(qids, queries):
            assert_same_run(expected[qid], found[qid], k)
            assert shards.search(query, k) == found[qid]


def test_search_cli_on_the_manifest_writes_the_single_index_run(sharded, sample_index, lexical_splade, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "index").symlink_to(sharded / "lucene")
    run = search_sample(tmp_path / "one", lexical_splade, tmp_path / "sharded.trec", "--hits", "2000")
    single = search_sample(sample_index, lexical_splade, tmp_path / "single.trec", "--hits", "2000")
    rows = [line.split() for line in single.splitlines()]
    by_qid: dict[str, list] = {}
    for qid, _, docid, _, score, tag in rows:
        by_qid.setdefault(qid, []).append((float(score), docid, tag))
    expected = [f"{qid} Q0 {docid} {rank} {score:.6f} {tag}\n" for qid, hits in by_qid.items()
                for rank, (score, docid, tag) in enumerate(sorted(hits, reverse=True), 1)]
    assert run == "".join(expected)  # the whole run, ranked as trec_eval ranks the single index's


def test_shards_built_one_at_a_time_join_when_the_last_is_built(vectors, sharded, tmp_path, capsys):
    out = tmp_path / "joined"
    assert index_cli("--input", str(vectors["encoded-2"]), "--index", str(out), "--shards", "2", "--shard-id", "1",
                     "--store-raw") == 0
    assert not (out / "shards.json").exists()
    from disco_pyserini.search import open_searcher

    with pytest.raises(Exception, match="not joined"):
        open_searcher(out)
    assert index_cli("--input", str(vectors["encoded-2"]), "--index", str(out), "--shards", "2", "--shard-id", "0",
                     "--store-raw") == 0
    assert json.loads((out / "shards.json").read_text()) == json.loads((sharded / "lucene" / "shards.json").read_text())
    (out / "shards.json").unlink()  # as after copying shards built on other machines into one folder
    assert index_cli("--index", str(out), "--join") == 0
    assert "joined 2 lucene shards (1260 documents)" in capsys.readouterr().out
    text = open_searcher(out).doc_text("d0001")
    assert text is not None and text == open_searcher(sharded / "lucene").doc_text("d0001")


def error_line(capsys, status: int) -> str:
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]  # after the progress bars of what ran before the error
    assert last.startswith("error: ") and "error:" not in err.strip()[:-len(last)], err
    return last


def test_missing_duplicated_and_incompatible_shards_are_one_line(sharded, vectors, lexical_splade, tmp_path,
                                                                 capsys):
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.search.__main__ import main as search_main

    def search(index: Path) -> str:
        return error_line(capsys, cli.run(search_main, ["--index", str(index), "--topics", str(CONVERSATIONS),
                                                        "--encoder",
                                                        str(lexical_splade), "--output", str(tmp_path / "r.trec")]))

    def copy(name: str) -> Path:
        shutil.copytree(sharded / "lucene", tmp_path / name, symlinks=True)
        return tmp_path / name

    missing = copy("missing")
    shutil.rmtree(missing / "shard-001")
    assert search(missing).endswith("missing shard(s) 1 of 2; build them with 'python -m disco_pyserini.index "
                                    "--shards 2 --shard-id 1' (or copy them here)")
    duplicated = copy("duplicated")
    shutil.copytree(duplicated / "shard-001", duplicated / "shard-001-copy")
    assert "duplicate shard 1 (also shard-001); remove one" in search(duplicated)

    other_backend = copy("other-backend")
    status = index_cli("--input", str(vectors["encoded-2"]), "--index", str(other_backend), "--shards", "2",
                       "--shard-id", "1", "--backend", "bmp", "--overwrite")
    assert "backend 'bmp' here but 'lucene' in shard-000" in error_line(capsys, status)
    assert json.loads((other_backend / "shard-001" / "backend.json").read_text())["backend"] == "lucene"  # kept
    shutil.rmtree(other_backend / "shard-001")  # a bmp shard-001 put in place by hand
    assert index_cli("--input", str(vectors["encoded-2"]), "--index", str(tmp_path / "bmp-shards"), "--shards", "2",
                     "--shard-id", "1", "--backend", "bmp") == 0
    shutil.copytree(tmp_path / "bmp-shards" / "shard-001", other_backend / "shard-001")
    assert "backend 'bmp' here but 'lucene' in shard-000" in search(other_backend)

    requantised = tmp_path / "requantised"
    shutil.copytree(vectors["encoded-2"], requantised)
    encoding = json.loads((requantised / "encoding.json").read_text())
    (requantised / "encoding.json").write_text(json.dumps({**encoding, "quantization_factor": 50}))
    other_factor = copy("other-factor")
    status = index_cli("--input", str(requantised), "--index", str(other_factor), "--shards", "2", "--shard-id", "1",
                       "--overwrite")
    assert "another encoding than shard-000's (quantization_factor 50 here, 100" in error_line(capsys, status)

    other_split = copy("other-split")  # shard 1 of a 3-way split of the same vectors
    status = index_cli("--input", str(vectors["encoded-2"]), "--index", str(other_split), "--shards", "3",
                       "--shard-id", "1", "--overwrite")
    assert error_line(capsys, status).startswith("error: ")
    status = index_cli("--input", str(vectors["whole"]), "--index", str(tmp_path / "too-many"), "--shards", "6")
    assert "the vectors are 5 part file(s), fewer than --shards 6" in error_line(capsys, status)
    assert not (tmp_path / "too-many").exists()
    status = index_cli("--input", str(vectors["encoded-2"]), "--index", str(sharded / "lucene"), "--shards", "2")
    assert error_line(capsys, status).endswith("--index exists; pass --overwrite to replace it, or choose another "
                                               "--index")
    assert "BM25 scores use each index's own statistics" in error_line(capsys, index_cli(
        "--bm25", "--input", "corpus.tsv", "--index", str(tmp_path / "bm25"), "--shards", "2"))


def test_encode_shards_missing_from_the_vectors_are_named(vectors, tmp_path, capsys):
    partial = tmp_path / "partial"
    shutil.copytree(vectors["encoded-2"], partial)
    for path in partial.glob("part-001-*"):
        path.unlink()
    status = index_cli("--input", str(partial), "--index", str(tmp_path / "index"), "--shards", "2")
    assert error_line(capsys, status).endswith("index shard 1 needs the part files of encode shard(s) 1 "
                                               "(part-001-*.jsonl), which are not here; encode them first (encode "
                                               "docs --shard-id 1 --shard-num 2)")
    # the machine that encoded shard 0 builds index shard 0 from its own part files
    assert index_cli("--input", str(partial), "--index", str(tmp_path / "index"), "--shards", "2", "--shard-id",
                     "0") == 0
    assert json.loads((tmp_path / "index" / "shard-000" / "shard.json").read_text())["documents"] == 630


def test_encode_records_its_shard_count_and_refuses_another(lexical_splade, tmp_path, capsys):
    from disco_pyserini.encode.__main__ import main as encode_main

    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"id": f"d{i}", "contents": "panda bamboo"} for i in range(4)])
    out = tmp_path / "vectors"
    base = ["docs", "--encoder", str(lexical_splade), "--corpus", str(corpus), "--output", str(out), "--device", "cpu"]
    assert cli.run(encode_main, [*base, "--shard-id", "1", "--shard-num", "2"]) == 0
    assert json.loads((out / "encoding.json").read_text())["shard_num"] == 2
    status = cli.run(encode_main, [*base, "--shard-id", "0", "--shard-num", "3"])
    assert "shard_num 2 there, 3 now" in error_line(capsys, status)


# --- the real model ---

def test_real_model_slice_in_three_encode_shards_equals_one_index(splade_tiny, tmp_path):
    """A real SPLADE encodes 300 sample passages as 3 encode shards; 3 index shards give one index's run."""
    from disco_pyserini.encode.__main__ import main as encode_main
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.index import build_index
    from disco_pyserini.sample import CONVERSATIONS, CORPUS
    from disco_pyserini.search import open_searcher
    from disco_pyserini.topics.load import load_turns

    corpus = tmp_path / "slice.jsonl"
    corpus.write_text("".join(CORPUS.read_text().splitlines(True)[:300]))
    for shard in range(3):
        assert cli.run(encode_main, ["docs", "--encoder", str(splade_tiny), "--corpus", str(corpus), "--output",
                                     str(tmp_path / "vectors"), "--device", "cpu", "--shard-id", str(shard),
                                     "--shard-num", "3", "--docs-per-file", "60"]) == 0
    build_index(tmp_path / "vectors", tmp_path / "single", threads=2)
    assert index_cli("--input", str(tmp_path / "vectors"), "--index", str(tmp_path / "sharded"), "--shards", "3") == 0
    queries = DiscoQueryEncoder(str(splade_tiny), device="cpu").encode_batch(load_turns(CONVERSATIONS)[:40])
    qids = [str(i) for i in range(len(queries))]
    single, shards = open_searcher(tmp_path / "single"), open_searcher(tmp_path / "sharded")
    for k in (10, 300):
        expected, found = single.batch_search(queries, qids, k), shards.batch_search(queries, qids, k)
        for qid in qids:
            assert_same_run(expected[qid], found[qid], k)


# --- Ray: one actor per shard on a local 2-CPU cluster ---
# In a child process: Ray's native signal handlers, installed in a process that already runs a JVM (this one searches
# Lucene shards), can turn the JVM's own SIGSEGVs into a crash. search --ray's driver runs no JVM.

RAY_CHILD = """
import json, logging, sys
import ray
from disco_pyserini.errors import InputError
from disco_pyserini.search import open_searcher
from disco_pyserini.search.__main__ import main

sharded, queries_file, encoder, conversations, run = sys.argv[1:]
queries = json.loads(open(queries_file).read())
qids = [f"q{i}" for i in range(len(queries))]
ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False,
         logging_level=logging.ERROR)
out = {}
searcher = open_searcher(sharded + "/lucene", ray=True)
out["actors"], out["num_docs"] = len(searcher.actors), searcher.num_docs
out["first"] = searcher.batch_search(queries, qids, 10, threads=2)
ray.kill(searcher.actors[1], no_restart=False)  # its process dies: Ray restarts it and the search is retried
out["after_kill"] = searcher.batch_search(queries, qids, 10)
out["text"] = searcher.doc_text("d0001")
searcher.close()
assert main(["--index", sharded + "/bmp", "--topics", conversations, "--encoder", encoder, "--output", run,
             "--hits", "10", "--device", "cpu", "--ray"]) == 0
out["kept"] = ray.is_initialized()  # the caller's cluster is used and kept
try:
    open_searcher(sharded + "/moved", ray=True)
except InputError as error:
    out["moved"] = str(error)
print(json.dumps(out))
"""


def test_ray_actors_give_the_local_sharded_run_and_survive_a_lost_actor(sharded, queries, lexical_splade, tmp_path):
    pytest.importorskip("ray")
    import subprocess
    import sys

    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.search import open_searcher

    shutil.copytree(sharded / "bmp", sharded / "moved", dirs_exist_ok=True)
    shutil.rmtree(sharded / "moved" / "shard-002")  # as if it lived on a machine outside the cluster
    (tmp_path / "queries.json").write_text(json.dumps(queries))
    child = subprocess.run([sys.executable, "-c", RAY_CHILD, str(sharded), str(tmp_path / "queries.json"),
                            str(lexical_splade), str(CONVERSATIONS), str(tmp_path / "ray.trec")],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.returncode == 0, child.stderr[-3000:]
    found = json.loads(child.stdout.splitlines()[-1])
    qids = [f"q{i}" for i in range(len(queries))]
    local = open_searcher(sharded / "lucene")
    expected = {qid: [list(hit) for hit in hits] for qid, hits in local.batch_search(queries, qids, 10).items()}
    assert (found["actors"], found["num_docs"]) == (2, 1260)
    assert found["first"] == found["after_kill"] == expected
    assert found["text"] is not None and found["text"] == local.doc_text("d0001")
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "index").symlink_to(sharded / "bmp")
    local_run = search_sample(tmp_path / "one", lexical_splade, tmp_path / "local.trec")
    assert (tmp_path / "ray.trec").read_text() == local_run
    assert found["kept"]
    assert "moved/shard-002: on no node of the Ray cluster (1 nodes); shards must be" in found["moved"]


def test_ray_needs_a_sharded_index(sharded):
    from disco_pyserini.errors import InputError
    from disco_pyserini.search import open_searcher

    with pytest.raises(InputError, match="--ray searches a sharded index"):
        open_searcher(sharded.parent, ray=True)
    open_searcher(sharded / "lucene").close()  # this process now runs a JVM
    with pytest.raises(InputError, match="this process already runs a JVM"):
        open_searcher(sharded / "bmp", ray=True)
