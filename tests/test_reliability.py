"""Regression tests for bad input, data loss and half-written output (each fails without its fix)."""
from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disco_pyserini.atomic import atomic_write
from disco_pyserini.errors import InputError
from disco_pyserini.sample import CONVERSATIONS


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})


def one_line_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and expected in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_outputs_get_the_umask_permissions_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "new.txt") as handle:
            handle.write("x")
        assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644
        os.chmod(tmp_path / "new.txt", 0o640)  # a replaced file keeps its own permissions
        with atomic_write(tmp_path / "new.txt") as handle:
            handle.write("y")
        assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640
    finally:
        os.umask(old)


@pytest.mark.parametrize("content", ['[{"number": 1}]', "c1_1\tWhat does the giraffe eat?"])
def test_rewrite_refuses_an_output_that_is_not_ours_and_leaves_it_untouched(tmp_path, content):
    output = tmp_path / "existing"
    output.write_text(content)  # a JSON file, or a TSV whose last line has no newline
    result = run_cli("disco_pyserini.rewrite", "--llm", "no/such-llm", "--topics", str(CONVERSATIONS),
                     "--output", str(output))
    one_line_error(result, "is not a rewrite file of ours")
    assert output.read_text() == content


def test_missing_local_model_and_unreachable_hub_fail_fast(tmp_path):
    (tmp_path / "disco-demo").mkdir()
    started = time.perf_counter()
    typo = run_cli("disco_pyserini.encode", "queries", "--encoder", "disco-demo/modle", "--topics",
                   str(CONVERSATIONS), "--output", "q.jsonl", cwd=tmp_path)
    one_line_error(typo, "disco-demo/modle: no such encoder folder; for a hub encoder check the name or network")
    offline = run_cli("disco_pyserini.rewrite", "--llm", "someone/some-llm", "--topics", str(CONVERSATIONS),
                      "--output", str(tmp_path / "r.jsonl"))
    one_line_error(offline, "'someone/some-llm'")
    assert time.perf_counter() - started < 60  # was 48 s for each
    assert not (tmp_path / "q.jsonl").exists() and not (tmp_path / "r.jsonl").exists()


TSV_ROWS = st.lists(st.tuples(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True),
                             st.text(alphabet=st.sampled_from("ab é€\r\t\x85\u2028"), min_size=1, max_size=12)),
                   min_size=1, max_size=8, unique_by=lambda row: row[0])


@settings(max_examples=200, deadline=None)
@given(TSV_ROWS)
def test_tsv_corpus_lines_are_split_on_newline_only(tmp_path_factory, rows):
    """A stray \\r, \\x85 or U+2028 in a text is part of it: the documents are exactly the lines written."""
    from disco_pyserini.encode.corpus import count_lines, read_corpus

    path = tmp_path_factory.mktemp("tsv") / "corpus.tsv"
    rows = [(doc_id, text) for doc_id, text in rows if text.strip() and not text.endswith("\r")]
    path.write_bytes("".join(f"{doc_id}\t{text}\n" for doc_id, text in rows).encode("utf-8"))
    assert count_lines(path) == len(rows)
    assert [(doc.doc_id, doc.text) for doc in read_corpus(path)] == rows


@pytest.mark.parametrize("case", ["latin1", "truncated-gz", "directory", "spaced-id"])
def test_unreadable_corpora_are_one_line_errors(tmp_path, case):
    import gzip

    from disco_pyserini.encode.corpus import count_lines, read_corpus

    path = tmp_path / "corpus.tsv"
    if case == "latin1":
        path.write_bytes("d1\tfine\nd2\tcaf\xe9\n".encode("latin-1"))
        expected = "corpus.tsv:2: not UTF-8"
    elif case == "truncated-gz":
        path = tmp_path / "corpus.tsv.gz"
        path.write_bytes(gzip.compress(b"d1\ttext\n" * 5000)[:-30])
        expected = "broken gzip data"
    elif case == "directory":
        path = tmp_path
        expected = "is a directory"
    else:
        path.write_text("d1\tfine\nd 2\tspaced id\n")
        expected = "corpus.tsv:2: document id 'd 2' contains whitespace"
    with pytest.raises(InputError, match=expected):
        count_lines(path)
        list(read_corpus(path))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=8))
def test_run_writer_round_trips_or_refuses_ids(tmp_path_factory, qid):
    """Any id either comes back unchanged through eval's run reader, or is refused before anything is written."""
    from disco_pyserini.eval.runs import read_run
    from disco_pyserini.search.run_file import write_run
    from disco_pyserini.search.searcher import Hit

    path = tmp_path_factory.mktemp("run") / "run.trec"
    try:
        write_run([(qid, [Hit(qid + "d", 2.5), Hit("other", 1.0)])], path, tag="t")
    except InputError:
        assert not path.exists()
        return
    assert read_run(path) == {qid: {qid + "d": 2.5, "other": 1.0}}


def test_whitespace_in_query_ids_and_run_tags_is_refused(tmp_path):
    from disco_pyserini.search.run_file import write_run
    from disco_pyserini.topics.load import load_turns

    topics = tmp_path / "topics.jsonl"
    topics.write_text('{"conversation_id": "c 1", "turns": [{"utterance": "hello"}]}\n')
    with pytest.raises(InputError, match="query id 'c 1_1' contains whitespace"):
        load_turns(topics)
    with pytest.raises(InputError, match="run tag 'my run'"):
        write_run([], tmp_path / "run.trec", tag="my run")


@pytest.fixture(scope="module")
def encoded(tmp_path_factory, random_splade):
    """A finished export of a small corpus (and the CLI arguments that made it)."""
    from disco_pyserini.encode.__main__ import main

    root = tmp_path_factory.mktemp("encoded")
    corpus = root / "corpus.tsv"
    corpus.write_text("".join(f"d{i}\tpanda bamboo {i} china forest\n" for i in range(30)))
    args = ["docs", "--encoder", str(random_splade), "--corpus", str(corpus), "--output", str(root / "out"),
            "--device", "cpu", "--docs-per-file", "10"]
    assert main(args) == 0
    return root, args


def _parts(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("change, message", [
    (["--docs-per-file", "0"], "--docs-per-file: must be >= 1"),
    (["--batch-size", "0"], "--batch-size: must be >= 1"),
    (["--docs-per-file", "-5"], "--docs-per-file: must be >= 1"),
    (["--max-length", "128"], "another encoding (max_length 256 there, 128 now)"),
    (["--quantization-factor", "50"], "another encoding (quantization_factor 100.0 there, 50.0 now)"),
    (["--no-contents"], "another encoding (store_contents True there, False now)"),
    ("other-corpus", "another encoding (another corpus file: 970 bytes there, 27 now)"),
    ("empty-corpus", "the corpus holds no document"),
])
def test_encoding_into_a_finished_folder_never_loses_it(encoded, tmp_path, change, message, capsys):
    from disco_pyserini.cli import run
    from disco_pyserini.encode.__main__ import main

    root, args = encoded
    before = _parts(root / "out")
    args = list(args)
    if isinstance(change, str):
        other = tmp_path / "corpus.tsv"
        other.write_text("" if change == "empty-corpus" else "x1\tanother corpus entirely\n")
        args[args.index("--corpus") + 1] = str(other)
    else:
        args += change
    capsys.readouterr()
    with contextlib.suppress(SystemExit):  # flags are refused when parsed, with argparse's exit
        assert run(main, args) == 2
    assert message in capsys.readouterr().err
    assert _parts(root / "out") == before


def test_overwrite_replaces_another_encoding_and_same_settings_resume(encoded, tmp_path, capsys):
    import shutil

    from disco_pyserini.encode.__main__ import main
    from disco_pyserini.encode.export import iter_vectors

    root, args = encoded
    out = tmp_path / "out"
    shutil.copytree(root / "out", out)
    args = [*args[:args.index("--output") + 1], str(out), *args[args.index("--output") + 2:]]
    capsys.readouterr()
    assert main(args) == 0 and "encoded 0 documents (30 already done)" in capsys.readouterr().err
    relative = [*args[:2], "./" + os.path.relpath(args[2]), *args[3:]]  # ./model and model: the same encoder
    assert main(relative) == 0
    assert main([*args, "--max-length", "128", "--overwrite"]) == 0
    assert "encoded 30 documents (0 already done)" in capsys.readouterr().err
    assert json_load(out / "encoding.json")["max_length"] == 128 and len(list(iter_vectors(out))) == 30


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_encode_output_that_cannot_be_a_folder(encoded, tmp_path, where):
    root, args = encoded
    target = tmp_path / "taken"
    target.write_text("mine")
    output = target if where == "file" else target / "vectors"
    args = [*args[:args.index("--output") + 1], str(output), *args[args.index("--output") + 2:]]
    result = run_cli("disco_pyserini.encode", *args)
    one_line_error(result, "--output is a file" if where == "file" else "taken is a file")
    assert target.read_text() == "mine"


def json_load(path: Path):
    import json

    return json.loads(path.read_text())


def test_a_line_separator_inside_a_rewrite_is_text(tmp_path):
    from disco_pyserini.topics.rewrites import read_rewrites

    path = tmp_path / "rewrites.jsonl"
    path.write_text('{"qid": "q1", "rewrite": "first\u2028part"}\n{"qid": "q2", "rewrite": "two"}\n', encoding="utf-8")
    assert read_rewrites(path) == {"q1": "first\u2028part", "q2": "two"}
    tsv = tmp_path / "rewrites.tsv"
    tsv.write_text("q1\tcarriage\rreturn\nq2\tok\n", encoding="utf-8")
    assert read_rewrites(tsv) == {"q1": "carriage\rreturn", "q2": "ok"}


def _vectors(folder: Path, records: list[dict]) -> Path:
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-000-00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "encoding.json").write_text(json.dumps({"format": "disco-pyserini/impact-v1",
                                                      "quantization_factor": 100}))
    return folder


DOCS = [{"id": f"d{i}", "contents": f"text {i}", "vector": {"panda": 100 + i, f"t{i}": 50}} for i in range(5)]


@pytest.mark.parametrize("target", ["input", "inside-input", "other-files", "a-file"])
def test_index_overwrite_never_deletes_what_is_not_an_index(tmp_path, target):
    from disco_pyserini.index import build_index

    vectors = _vectors(tmp_path / "vectors", DOCS)
    index = {"input": vectors, "inside-input": vectors / "index", "other-files": tmp_path / "mine",
             "a-file": tmp_path / "file"}[target]
    if target == "other-files":
        index.mkdir()
        (index / "notes.txt").write_text("precious")
    elif target == "a-file":
        index.write_text("precious")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    message = {"input": "overlap", "inside-input": "overlap", "other-files": "is not an index",
               "a-file": "--index is a file"}[target]
    with pytest.raises(InputError, match=message):
        build_index(vectors, index, overwrite=True)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_index_leaves_encoding_json_out_refuses_mangling_weights_and_counts_empty_vectors(tmp_path, capsys):
    from disco_pyserini.index import build_index
    from disco_pyserini.search import ImpactSearcher

    records = DOCS + [{"id": "empty", "contents": "", "vector": {}}]
    stats = build_index(_vectors(tmp_path / "vectors", records), tmp_path / "index")
    assert stats.documents == 5  # not 6: encoding.json is no document, the empty vector is counted and named
    assert "1 document(s) have no term (first: empty); no engine can retrieve them" in capsys.readouterr().err
    assert ImpactSearcher(tmp_path / "index").num_docs == 5
    # built once more over it: the old index is recognised and replaced
    assert build_index(tmp_path / "vectors", tmp_path / "index", overwrite=True).documents == 5
    for bad, message in (({"two words": 3}, "contains whitespace"), ({"big": 2**31}, "over Lucene's 2147483647")):
        _vectors(tmp_path / "bad", [{"id": "d1", "contents": "", "vector": bad}])
        with pytest.raises(InputError, match=message):
            build_index(tmp_path / "bad", tmp_path / "bad-index")


def test_killed_index_build_takes_java_with_it_and_the_next_build_cleans_up(tmp_path):
    import signal

    records = [{"id": f"d{i}", "contents": "", "vector": {f"t{j}": j + 1 for j in range(i % 300)}}
               for i in range(60_000)]
    vectors = _vectors(tmp_path / "vectors", records)
    command = [sys.executable, "-m", "disco_pyserini.index", "--input", str(vectors), "--index",
               str(tmp_path / "index"), "--threads", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})

    def java_children() -> list[int]:
        found = []
        for status in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                cmdline = status.read_bytes().split(b"\0")
            except OSError:
                continue
            if b"io.anserini.index.IndexCollection" in cmdline and str(tmp_path).encode() in b" ".join(cmdline):
                found.append(int(status.parent.name))
        return found

    deadline = time.time() + 120
    while not java_children() and time.time() < deadline:
        time.sleep(0.2)
    assert java_children(), "Anserini never started"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.time() + 30
    while java_children() and time.time() < deadline:
        time.sleep(0.2)
    assert not java_children(), "Anserini outlived the killed index command"
    assert list(tmp_path.glob(".index.tmp-*"))  # what the killed build left ...
    small = _vectors(tmp_path / "small", DOCS)
    from disco_pyserini.index import build_index

    build_index(small, tmp_path / "index")
    assert not list(tmp_path.glob(".index.tmp-*"))  # ... the next build cleans


def test_wrong_index_kind_long_queries_and_bad_search_flags(tmp_path, sample_index, lexical_splade):
    from disco_pyserini.index import build_bm25_index
    from disco_pyserini.sample import CORPUS
    from disco_pyserini.search import Bm25Searcher, ImpactSearcher

    build_bm25_index(CORPUS, tmp_path / "bm25")
    with pytest.raises(InputError, match="this is a BM25 index, not an impact one; search it with --bm25"):
        ImpactSearcher(tmp_path / "bm25")
    with pytest.raises(InputError, match="this is an impact index, not a BM25 one; drop --bm25"):
        Bm25Searcher(sample_index / "index")
    impact = ImpactSearcher(sample_index / "index")
    terms = {f"t{i}": 1 for i in range(5000)} | {"diet": 100}  # far past Lucene's 1,024 clauses
    assert impact.search(terms, 5)
    words = " ".join(["diet"] + [f"w{i}" for i in range(10_000)])
    assert Bm25Searcher(tmp_path / "bm25").search(words, 5)
    common = ["disco_pyserini.search", "--index", str(sample_index / "index"), "--topics", str(CONVERSATIONS),
              "--encoder", str(lexical_splade)]
    one_line_error(run_cli(*common, "--output", str(tmp_path / "r.trec"), "--hits", "0"), "--hits: must be >= 1")
    one_line_error(run_cli(*common, "--output", str(tmp_path)), "--output is a directory")


def test_bm25_index_refuses_duplicate_ids(tmp_path):
    from disco_pyserini.index import build_bm25_index

    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("d1\tone\nd2\ttwo\nd1\tagain\n")
    with pytest.raises(InputError, match="document id 'd1' appears twice"):
        build_bm25_index(corpus, tmp_path / "bm25")
    assert not (tmp_path / "bm25").exists()


@pytest.mark.parametrize("setting, message", [
    ("batch_size=ten", "batch_size must be a whole number, got 'ten'"),
    ("losses=5", "losses must be a mapping of text to a number, got 5"),
    ('query_topk="5"', "query_topk must be a whole number or null, got '5'"),
    ("negatives=-3", "negatives must be >= 0, got -3"),
    ("output_dir=OUT", "is a file; give a folder for the student"),
])
def test_train_config_with_wrong_types_is_one_line(tmp_path, setting, message):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    setting = setting.replace("OUT", str(taken))
    result = run_cli("disco_pyserini.train", "--set", "distillation=d.jsonl", "--set", "corpus=c.tsv", "--set",
                     "model=m", "--set", setting, cwd=tmp_path)
    one_line_error(result, message)
    assert taken.read_text() == "mine"
