"""Regression tests for bad input, data loss and half-written output (each fails without its fix)."""
from __future__ import annotations

import os
import re
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
    (["--docs-per-file", "0"], "--docs-per-file must be >= 1"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--docs-per-file", "-5"], "--docs-per-file must be >= 1"),
    (["--max-length", "128"], "another encoding (max_length 256 there, 128 now)"),
    (["--quantization-factor", "50"], "another encoding (quantization_factor 100.0 there, 50.0 now)"),
    (["--no-contents"], "another encoding (store_contents True there, False now)"),
    ("other-corpus", "another encoding (another corpus file: 970 bytes there, 27 now)"),
    ("empty-corpus", "the corpus holds no document"),
])
def test_encoding_into_a_finished_folder_never_loses_it(encoded, tmp_path, change, message):
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
    with pytest.raises(InputError, match=re.escape(message)):
        main(args)
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
