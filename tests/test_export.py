"""Document export: JsonVectorCollection validity, integer impacts, sharding, resume and bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.encode.export import export_corpus, iter_vectors, shard_range
from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.errors import InputError
from tests.conftest import random_texts, write_jsonl


@pytest.fixture(scope="module")
def encoder(random_splade):
    return SpladeEncoder(str(random_splade), device="cpu", batch_size=4)


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_jsonl(tmp_path / "corpus.jsonl",
                       [{"id": f"d{i}", "contents": t} for i, t in enumerate(random_texts(23, seed=1))])


def test_export_writes_valid_integer_jsonl(encoder, corpus, tmp_path):
    stats = export_corpus(encoder, corpus, tmp_path / "out", factor=100, docs_per_file=10, progress=False)
    assert (stats.documents, stats.files) == (23, 3)
    lines = [json.loads(line) for p in sorted((tmp_path / "out").glob("part-*.jsonl")) for line in p.open()]
    assert [r["id"] for r in lines] == [f"d{i}" for i in range(23)]  # corpus order kept despite length sorting
    for record, doc in zip(lines, read_corpus(corpus)):
        assert record["contents"] == doc.text
        assert record["vector"] and all(type(w) is int and w > 0 for w in record["vector"].values())
        # integer impacts are round(100 * float weight) of the same text encoded alone
        floats = encoder.encode(doc.text)
        assert record["vector"] == {t: round(w * 100) for t, w in floats.items() if round(w * 100) > 0}
    meta = json.loads((tmp_path / "out" / "encoding.json").read_text())
    assert meta["quantization_factor"] == 100 and meta["format"] == "disco-pyserini/impact-v1"


def test_shards_partition_the_corpus(encoder, corpus, tmp_path):
    assert [shard_range(23, i, 3) for i in range(3)] == [(0, 7), (7, 15), (15, 23)]
    for shard in range(3):
        export_corpus(encoder, corpus, tmp_path / "sharded", factor=100, shard_id=shard, shard_num=3, progress=False)
    export_corpus(encoder, corpus, tmp_path / "whole", factor=100, progress=False)
    assert list(iter_vectors(tmp_path / "sharded")) == list(iter_vectors(tmp_path / "whole"))


def test_rerun_skips_finished_files_and_redoes_missing_ones(encoder, corpus, tmp_path):
    out = tmp_path / "out"
    export_corpus(encoder, corpus, out, factor=100, docs_per_file=10, progress=False)
    expected = list(iter_vectors(out))
    (out / "part-000-00001.jsonl").unlink()  # as if the job died while writing the second file
    stats = export_corpus(encoder, corpus, out, factor=100, docs_per_file=10, progress=False)
    assert (stats.documents, stats.skipped) == (10, 13)
    assert list(iter_vectors(out)) == expected


def test_mixing_quantisation_in_one_directory_is_refused(encoder, corpus, tmp_path):
    export_corpus(encoder, corpus, tmp_path / "out", factor=100, progress=False)
    with pytest.raises(InputError, match=r"another encoding \(quantization_factor 100 there, 50 now\)"):
        export_corpus(encoder, corpus, tmp_path / "out", factor=50, progress=False)


@pytest.mark.parametrize("content, message", [
    ('{"id": "a", "contents": "ok"}\n{"id": "b", "contents": \n', r"corpus.jsonl:2: malformed JSON"),
    ('{"id": "a", "contents": "ok"}\n{"id": "b", "contents": "  "}\n', r"corpus.jsonl:2: document 'b' has empty text"),
    ('{"id": "a", "body_text": "ok"}\n', r"corpus.jsonl:1: needs an id field"),
])
def test_bad_jsonl_corpus_lines_are_named(tmp_path, content, message):
    path = tmp_path / "corpus.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        list(read_corpus(path))


def test_tsv_corpus_and_missing_tab(tmp_path):
    path = tmp_path / "corpus.tsv"
    path.write_text("d1\tfirst text\nd2 no tab here\n")
    docs = read_corpus(path)
    assert next(docs) == ("d1", "first text")
    with pytest.raises(InputError, match=r"corpus.tsv:2: expected 'id<TAB>text'"):
        next(docs)


def test_cli_bad_input_exits_2_and_leaves_no_output(random_splade, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "a", "contents": "panda"}\nnot json\n')
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "disco_pyserini.encode", "docs", "--encoder", str(random_splade),
                             "--corpus", str(corpus), "--output", str(out), "--device", "cpu"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "corpus.jsonl:2: malformed JSON" in last
    assert not list(out.glob("part-*"))  # no half-written shard
    missing = subprocess.run([sys.executable, "-m", "disco_pyserini.encode", "docs", "--encoder", str(random_splade),
                              "--corpus", str(tmp_path / "nope.jsonl"), "--output", str(out)],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.jsonl: no such corpus file; check the path" in missing.stderr


def test_killed_export_resumes_to_the_uninterrupted_output(random_splade, tmp_path):
    """SIGKILL a real `encode docs` run once its first file is complete, re-run it, and compare."""
    import os
    import signal
    import time

    corpus = write_jsonl(tmp_path / "corpus.jsonl",
                         [{"id": f"d{i}", "contents": t} for i, t in enumerate(random_texts(400, seed=9))])
    command = [sys.executable, "-m", "disco_pyserini.encode", "docs", "--encoder", str(random_splade), "--corpus",
               str(corpus), "--device", "cpu", "--batch-size", "2", "--docs-per-file", "40"]
    subprocess.run(command + ["--output", str(tmp_path / "whole")], check=True, capture_output=True)
    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen(command + ["--output", str(interrupted)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (interrupted / "part-000-00001.jsonl").exists() and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = sorted(p.name for p in interrupted.glob("part-*.jsonl"))
    assert 2 <= len(done) < 10, "the run must have been killed midway"
    result = subprocess.run(command + ["--output", str(interrupted)], capture_output=True, text=True, check=True)
    assert f"({len(done) * 40} already done)" in result.stderr
    assert not list(interrupted.glob(".*.tmp"))
    assert list(iter_vectors(interrupted)) == list(iter_vectors(tmp_path / "whole"))


def test_corrupted_or_rechunked_files_are_redone(encoder, corpus, tmp_path):
    out = tmp_path / "out"
    export_corpus(encoder, corpus, out, factor=100, docs_per_file=10, progress=False)
    expected = list(iter_vectors(out))
    (out / "part-000-00000.jsonl").write_text('{"id": "d0", "vector": {}}\n' * 10)  # right length, wrong content
    stats = export_corpus(encoder, corpus, out, factor=100, docs_per_file=10, progress=False)
    assert (stats.documents, stats.skipped) == (10, 13)
    assert list(iter_vectors(out)) == expected
    export_corpus(encoder, corpus, out, factor=100, docs_per_file=20, progress=False)
    assert sorted(p.name for p in out.glob("part-*.jsonl")) == ["part-000-00000.jsonl", "part-000-00001.jsonl"]
    assert list(iter_vectors(out)) == expected
