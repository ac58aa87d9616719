"""``encode docs --ray``: a local 2-CPU Ray cluster gives the single-process export's output, resumes it,
and reports a bad record as the usual one-line error."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from disco_pyserini.encode.export import export_corpus, iter_vectors  # noqa: E402
from disco_pyserini.encode.ray_export import Pool, export_corpus_ray, plan_pool  # noqa: E402
from disco_pyserini.encode.splade import SpladeEncoder  # noqa: E402
from disco_pyserini.errors import InputError  # noqa: E402
from disco_pyserini.sample import CORPUS  # noqa: E402

DOCS_PER_FILE = 300  # the sample's 1,260 passages: 5 part files for 2 actors


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module (starting Ray takes seconds): 2 CPUs, no GPU."""
    ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def options(lexical_splade) -> dict:
    return {"model_name_or_path": str(lexical_splade), "batch_size": 16, "max_length": 256}


@pytest.fixture(scope="module")
def single_process(tmp_path_factory, options) -> Path:
    out = tmp_path_factory.mktemp("single") / "vectors"
    encoder = SpladeEncoder(options["model_name_or_path"], device="cpu", batch_size=options["batch_size"])
    export_corpus(encoder, CORPUS, out, factor=100, docs_per_file=DOCS_PER_FILE, progress=False,
                  metadata={"encoder": "tiny"})
    return out


def _export(options, out: Path, corpus: Path = CORPUS, **kwargs):
    return export_corpus_ray(options, corpus, out, factor=100, docs_per_file=DOCS_PER_FILE, progress=False,
                             metadata={"encoder": "tiny"}, actors=2, gpus_per_actor=0, **kwargs)


def test_two_actors_write_the_single_process_vectors_and_resume(cluster, options, single_process, tmp_path):
    out = tmp_path / "vectors"
    stats = _export(options, out)
    assert (stats.documents, stats.skipped, stats.files) == (1260, 0, 5)
    expected = dict(iter_vectors(single_process))
    assert len(expected) == 1260 and dict(iter_vectors(out)) == expected  # same ids, same integer vectors
    # here the part boundaries are the same too, so the files are byte for byte the single process's
    names = sorted(p.name for p in single_process.iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    assert all((out / name).read_bytes() == (single_process / name).read_bytes() for name in names)

    # resume: a lost part, a part with other documents, a killed writer's temporary
    (out / "part-000-00001.jsonl").unlink()
    (out / "part-000-00003.jsonl").write_text('{"id": "x", "vector": {}}\n')
    (out / ".part-000-00002.jsonl.abc.tmp").write_text("half")
    stats = _export(options, out)
    assert (stats.documents, stats.skipped, stats.files) == (600, 660, 5)
    assert list(iter_vectors(out)) == list(iter_vectors(single_process))
    assert not list(out.glob(".*"))


def test_bad_record_in_a_worker_is_one_error_line_and_leaves_no_output(cluster, lexical_splade, tmp_path, capfd):
    from disco_pyserini import cli
    from disco_pyserini.encode.__main__ import main

    lines = CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(lines[:299]) + '{"id": "bad", "contents": \n' + "".join(lines[299:]), encoding="utf-8")
    out = tmp_path / "vectors"
    # one part file of 1,261 documents, whose reader meets the bad record
    status = cli.run(main, ["docs", "--encoder", str(lexical_splade), "--corpus", str(corpus), "--output", str(out),
                            "--docs-per-file", "2000", "--ray", "--ray-actors", "2", "--ray-gpus-per-actor", "0"])
    err = capfd.readouterr().err
    assert status == 2
    assert err.strip().splitlines()[-1] == (f"error: {corpus}:300: malformed JSON: Expecting value (column 27); "
                                            "fix or remove the line")
    assert "Traceback" not in err
    assert not out.exists()  # a failed first encoding leaves nothing that would block the rerun


def test_an_encoder_error_inside_the_actors_is_one_error_line(cluster, options, tmp_path):
    # raised by each actor's SpladeEncoder constructor, which Ray would otherwise report as a dead actor
    with pytest.raises(InputError, match="the onnx backend runs fp32 on the CPU"):
        _export({**options, "backend": "onnx", "dtype": "bf16"}, tmp_path / "vectors")
    assert sorted(p.name for p in (tmp_path / "vectors").iterdir()) == ["encoding.json"]


def test_an_output_directory_a_worker_does_not_see_is_refused(options, tmp_path):
    """An actor on a node without the shared --output would write its parts to its own disk: it refuses."""
    import pyarrow as pa

    from disco_pyserini.encode.ray_export import CHUNK_SCHEMA, ChunkEncoder

    actor = ChunkEncoder(options, "cpu", 1, tmp_path / "elsewhere", 0, 100.0, True)  # no encoding.json there
    row = {"chunk": [0], "documents": [1], "done": [False], "ids": [["d1"]], "texts": [["panda"]], "error": [None]}
    (result,) = actor(pa.table(row, schema=CHUNK_SCHEMA)).to_pylist()
    assert "--output must be on a filesystem every node sees" in json.loads(result["error"])["message"]
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("name", ["corpus.tsv", "corpus.tsv.gz"])
def test_read_tasks_seek_to_their_chunk_and_read_what_one_reader_reads(tmp_path, name):
    """Each read task of a plain corpus seeks to its chunk (a titled TSV's header still decides the layout);
    a gzipped corpus is one sequential task. Either way: the single reader's documents, chunk by chunk."""
    import gzip

    from disco_pyserini.encode.corpus import read_corpus
    from disco_pyserini.encode.ray_export import CorpusChunks, _read_chunks, plan_chunks

    text = "id\ttext\ttitle\n" + "".join(f"p{i}\tpassage ünï {i}\r\tTitle {i}\n" for i in range(23))
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    chunks = plan_chunks(path, 0, 24, 5)  # 24 lines: the header, then 23 passages in 5-passage chunks as export's
    assert [(c.start, c.stop) for c in chunks] == [(1, 6), (6, 11), (11, 16), (16, 21), (21, 24)]
    groups = CorpusChunks(path, chunks, tmp_path, 0).groups()
    assert len(groups) == (1 if name.endswith(".gz") else 5)
    rows = [row for group in groups for table in _read_chunks(str(path), group, tmp_path, 0)
            for row in table.to_pylist()]
    expected = list(read_corpus(path))
    assert [d.doc_id for d in expected][:2] == ["p0", "p1"] and expected[0].text == "Title 0. passage ünï 0\r"
    assert [(i, t) for row in rows for i, t in zip(row["ids"], row["texts"])] == [tuple(d) for d in expected]
    assert [row["ids"] for row in rows] == [[d.doc_id for d in expected[i:i + 5]] for i in range(0, 23, 5)]
    assert [row["documents"] for row in rows] == [5, 5, 5, 5, 3]


def test_pool_defaults_and_impossible_pools(cluster):
    assert plan_pool(None, None, 5) == Pool(actors=1, gpus=0.0, cpus=2.0)  # one actor per node, all its CPUs
    assert plan_pool(2, None, 5) == Pool(actors=2, gpus=0.0, cpus=1.0)
    assert plan_pool(2, 0, 1) == Pool(actors=1, gpus=0.0, cpus=2.0)  # no more actors than chunks
    with pytest.raises(InputError, match="cluster's 0 GPUs; lower --ray-actors, or pass --ray-gpus-per-actor 0"):
        plan_pool(None, 1, 5)
    with pytest.raises(InputError, match="--ray-actors 3 is more than the Ray cluster's 2 CPUs"):
        plan_pool(3, 0, 5)


def test_without_ray_the_flag_says_how_to_install_it(monkeypatch, lexical_splade, tmp_path):
    import disco_pyserini.encode
    from disco_pyserini.encode.__main__ import main

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "disco_pyserini.encode.ray_export")
    monkeypatch.delattr(disco_pyserini.encode, "ray_export")
    with pytest.raises(InputError, match=r'--ray needs Ray Data: pip install "disco-pyserini\[ray\]"'):
        main(["docs", "--encoder", str(lexical_splade), "--corpus", str(CORPUS), "--output", str(tmp_path), "--ray"])


def test_help_and_package_import_do_not_import_ray():
    code = ("import sys, runpy, disco_pyserini; sys.argv = ['x', 'docs', '--help']\ntry: "
            "runpy.run_module('disco_pyserini.encode', run_name='__main__')\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('ray', 'pyarrow', 'torch') if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--ray-gpus-per-actor" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]"
