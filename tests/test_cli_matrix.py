"""Every command line against every kind of bad input, from one table.

Each case must end with exit status 2, exactly one ``error:`` line (that names what is wrong), no
traceback, and every file of the shared world byte-identical afterwards, with nothing added (no
half-written output, no lock left behind). Cases run in this process through ``cli.run``, as
``python -m`` does, and are refused before any model, JVM or corpus loads, so each costs milliseconds.
A new command joins the tables.

Placeholders in the arguments name the world's files: {model}, {index}, {topics}, {corpus}, {run},
{qrels}, {vectors}, {student}, {config}, {out} (a folder for outputs that must not appear), ...
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from disco_pyserini import cli
from disco_pyserini.sample import CONVERSATIONS

# pyseismic-lsr has no wheel for Python 3.12 (the Pyserini 2.x line): its damaged-index case runs where it is installed
SEISMIC = importlib.util.find_spec("seismic") is not None
DOCS = [{"id": f"d{i}", "contents": f"panda bamboo {i}", "vector": {"panda": 100 + i, f"t{i}": 50}} for i in range(8)]


def _main(command: str):
    import importlib

    module, _, sub = command.partition(" ")
    main = importlib.import_module(f"disco_pyserini.{module}" + ("" if module in ("demo", "chat", "pyserini_cli")
                                                                 else ".__main__")).main
    return main, ([sub] if sub else [])


@pytest.fixture(scope="session")
def world(tmp_path_factory, random_splade, sample_index) -> Path:
    """The inputs every case reads (built once): a model and its damaged copies, indexes of every engine and
    their damaged copies, topics, corpus, run, qrels, a student folder and a train config. The Lucene index is
    the session's sample index (other test files build it anyway)."""
    from disco_pyserini.index.bmp import build_bmp_index
    from disco_pyserini.index.seismic import build_seismic_index

    root = tmp_path_factory.mktemp("matrix")
    shutil.copytree(random_splade, root / "model")
    models = root / "models"
    for name in ("no-config", "bad-config", "truncated", "no-tokenizer", "no-weights"):
        shutil.copytree(random_splade, models / name)
    (models / "no-config" / "config.json").unlink()
    (models / "bad-config" / "config.json").write_bytes(b"{\"model_type\": \"bert\", \xff")
    weights = models / "truncated" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        (models / "no-tokenizer" / name).unlink(missing_ok=True)
    (models / "no-weights" / "model.safetensors").unlink()

    vectors = root / "vectors"
    vectors.mkdir()
    (vectors / "part-000-00000.jsonl").write_text("".join(json.dumps(doc) + "\n" for doc in DOCS))
    (vectors / "encoding.json").write_text(json.dumps({"format": "disco-pyserini/impact-v1",
                                                       "quantization_factor": 100, "encoder": "another/model"}))
    indexes = root / "indexes"
    shutil.copytree(sample_index / "index", indexes / "lucene")
    build_bmp_index(vectors, indexes / "bmp", progress=False)
    victims = [("lucene", "segments_*"), ("bmp", "index.bmp")]
    if SEISMIC:
        build_seismic_index(vectors, indexes / "seismic", n_postings=10, progress=False)
        victims.append(("seismic", "index.index.seismic"))
    for name, victim in victims:
        damaged = indexes / f"{name}-damaged"
        shutil.copytree(indexes / name, damaged)
        victim = next(damaged.glob(victim))
        victim.write_bytes(victim.read_bytes()[:victim.stat().st_size // 2])
    shutil.rmtree(indexes / "lucene")  # the cases search the sample index itself
    shutil.copytree(indexes / "bmp", indexes / "bad-metadata")
    (indexes / "bad-metadata" / "encoding.json").write_text("{not json")
    (indexes / "not-an-index").mkdir()
    (indexes / "not-an-index" / "notes.txt").write_text("mine")

    shutil.copy(CONVERSATIONS, root / "topics.jsonl")
    qids = [json.loads(line)["conversation_id"] for line in CONVERSATIONS.read_text().splitlines()][:3]
    (root / "corpus.tsv").write_text("".join(f"{doc['id']}\t{doc['contents']}\n" for doc in DOCS))
    (root / "run.trec").write_text("".join(f"{qid}_1 Q0 d{i} {i + 1} {10 - i} t\n" for qid in qids for i in range(3)))
    (root / "qrels.txt").write_text("".join(f"{qid}_1 0 d1 1\n" for qid in qids))
    (root / "rewrites.jsonl").write_text(json.dumps({"qid": f"{qids[0]}_1", "rewrite": "a rewrite"}) + "\n")
    (root / "existing.txt").write_text("the user's own file\n")
    (root / "table.md").write_text("| an old table |\n")
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (root / "latin1.txt").write_bytes("d1\tcaf\xe9 cr\xe8me\n".encode("latin-1"))
    (root / "topiocqa.json").write_text("[]")
    shutil.copytree(random_splade, root / "student")
    (root / "distill.jsonl").write_text('{"teachers": ["manual"]}\n')
    (root / "train.json").write_text(json.dumps({"distillation": str(root / "distill.jsonl"),
                                                 "corpus": str(root / "corpus.tsv"), "model": str(root / "model")}))
    (root / "demo").mkdir()
    (root / "demo" / "notes.txt").write_text("an earlier demo")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="session")
def world_bytes(world) -> dict[str, bytes]:
    return snapshot(world)


def invoke(command: str, argv: list[str], capsys) -> tuple[int, str]:
    main, sub = _main(command)
    capsys.readouterr()
    try:
        code = main(sub + argv) if command == "pyserini_cli" else cli.run(main, sub + argv)
    except SystemExit as exit_:  # argparse refuses a flag when it parses it
        code = exit_.code
    return code, capsys.readouterr().err


def check(world: Path, world_bytes: dict[str, bytes], command: str, argv: list[str], expected: str, capsys,
          env: dict[str, str] | None = None, monkeypatch=None) -> None:
    values = {name: str(world / file) for name, file in PLACES.items()}
    argv = [arg.format(**values) for arg in argv]
    expected = expected.format(**values)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    code, err = invoke(command, argv, capsys)
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 2, err[-3000:]
    assert len(errors) == 1 and errors[0].startswith("error: "), err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert expected in errors[0], errors[0]
    after = snapshot(world)
    assert after.keys() == world_bytes.keys(), sorted(set(after) ^ set(world_bytes))  # nothing added or removed
    assert after == world_bytes  # every input byte-identical


PLACES = {"model": "model", "index": "indexes/bmp", "bmp": "indexes/bmp", "seismic": "indexes/seismic",
          "vectors": "vectors", "topics": "topics.jsonl", "corpus": "corpus.tsv", "run": "run.trec",
          "qrels": "qrels.txt", "rewrites": "rewrites.jsonl", "existing": "existing.txt", "table": "table.md",
          "empty": "empty.txt", "binary": "binary.bin", "latin1": "latin1.txt", "student": "student",
          "config": "train.json", "distill": "distill.jsonl", "demo": "demo", "topiocqa": "topiocqa.json",
          "out": "out", "models": "models", "indexes": "indexes"}

# The arguments each command needs to get past argparse, with outputs that do not exist yet.
SEARCH = ["search", "--index", "{index}", "--topics", "{topics}", "--encoder", "{model}", "--device", "cpu"]
EVAL = ["eval", "--run", "{run}", "--qrels", "{qrels}"]
QRELS = ["eval qrels", "--dataset", "topiocqa", "--input", "{topiocqa}"]
DOCS_ = ["encode docs", "--encoder", "{model}", "--corpus", "{corpus}", "--device", "cpu"]
QUERIES = ["encode queries", "--encoder", "{model}", "--topics", "{topics}", "--device", "cpu"]
INDEX = ["index", "--input", "{vectors}"]
BUILD = ["train build", "--topics", "{topics}", "--qrels", "{qrels}", "--teacher-run", "{run}"]
TRAIN = ["train", "--config", "{config}"]
SPARSITY = ["train sparsity", "--encoder", "{model}", "--topics", "{topics}", "--corpus", "{corpus}"]
REWRITE = ["rewrite", "--llm", "{model}", "--topics", "{topics}"]
CHAT = ["chat", "--index", "{index}", "--encoder", "{model}"]
DEMO = ["demo"]
SERVE = ["serve", "--index", "{index}", "--encoder", "{model}", "--port", "0"]
MODELS = ["models", "get", "splade-tiny"]
REPRODUCE = ["reproduce", "--all", "--dataset", "sample", "--work-dir", "{out}/w"]

OUTPUT_CASES = {
    # existing output, no --overwrite
    "search/existing": (SEARCH + ["--output", "{existing}"], "--output exists; pass --overwrite"),
    "eval/existing": (EVAL + ["--output", "{table}"], "--output exists; pass --overwrite"),
    "eval-qrels/existing": (QRELS + ["--output", "{existing}"], "--output exists; pass --overwrite"),
    "encode-queries/existing": (QUERIES + ["--output", "{existing}"], "--output exists; pass --overwrite"),
    "encode-queries/existing-topics-output": (QUERIES + ["--output", "{out}/q.jsonl", "--topics-output",
                                                         "{existing}"], "--topics-output exists"),
    "encode-docs/other-encoding": (DOCS_ + ["--output", "{vectors}"], "holds vectors of another encoding"),
    "index/existing": (INDEX + ["--index", "{bmp}"], "--index exists; pass --overwrite"),
    "train-build/existing": (BUILD + ["--output", "{existing}"], "--output exists; pass --overwrite"),
    "train/existing": (TRAIN + ["--output-dir", "{student}"], "--output-dir exists; pass --overwrite"),
    "rewrite/not-ours": (REWRITE + ["--output", "{existing}"], "is not a rewrite file of ours"),
    "demo/existing": (DEMO + ["--workdir", "{demo}"], "--workdir exists; pass --overwrite"),
    "models/dir-not-a-model": (MODELS + ["--dir", "{demo}"], "is not a complete model folder of ours"),
    "reproduce/report-existing": (REPRODUCE + ["--generate-report", "{table}"],
                                  "--generate-report exists; pass --overwrite"),
    # an output that is, lies inside or contains an input: refused even with --overwrite
    "search/output-is-topics": (SEARCH + ["--output", "{topics}", "--overwrite"], "--output is the --topics input"),
    "search/output-inside-index": (SEARCH + ["--output", "{index}/run.trec", "--overwrite"],
                                   "--output is inside the --index input"),
    "search/output-is-rewrites": (SEARCH + ["--rewrites", "r={rewrites}", "--output", "{rewrites}", "--overwrite"],
                                  "--output is the --rewrites input"),
    "eval/output-is-run": (EVAL + ["--output", "{run}", "--overwrite"], "--output is the --run input"),
    "eval/output-is-qrels": (EVAL + ["--output", "{qrels}", "--overwrite"], "--output is the --qrels input"),
    "eval-qrels/output-is-input": (QRELS + ["--output", "{topiocqa}", "--overwrite"],
                                   "--output is the --input input"),
    "encode-docs/output-contains-corpus": (["encode docs", "--encoder", "{model}", "--corpus", "{vectors}/c.tsv",
                                            "--output", "{vectors}", "--overwrite"], "no such"),
    "encode-docs/output-is-model": (DOCS_ + ["--output", "{model}", "--overwrite"], "--output is the --encoder input"),
    "encode-queries/output-is-topics": (QUERIES + ["--output", "{topics}", "--overwrite"],
                                        "--output is the --topics input"),
    "index/index-is-input": (INDEX + ["--index", "{vectors}", "--overwrite"], "--index is the --input input"),
    "index/index-inside-input": (INDEX + ["--index", "{vectors}/index"], "--index is inside the --input input"),
    "index/shards-index-is-input": (INDEX + ["--shards", "2", "--index", "{vectors}", "--overwrite"],
                                    "--index is the --input input"),
    "index/overwrite-not-an-index": (INDEX + ["--index", "{indexes}/not-an-index", "--overwrite"],
                                     "holds files but is not an index"),
    "train-build/output-is-teacher-run": (BUILD + ["--output", "{run}", "--overwrite"],
                                          "--output is the --teacher-run input"),
    "train/output-is-model": (TRAIN + ["--output-dir", "{model}", "--overwrite"], "--output-dir is the model input"),
    "rewrite/output-is-topics": (REWRITE + ["--output", "{topics}", "--overwrite"], "--output is the --topics input"),
    # two outputs of one command on one path
    "encode-queries/same-outputs": (QUERIES + ["--output", "{out}/q.tsv", "--topics-output", "{out}/q.tsv"],
                                    "--output and --topics-output are the same path"),
    # an output that cannot be written
    "search/output-under-a-file": (SEARCH + ["--output", "{existing}/run.trec"], "is a file"),
    "index/index-is-a-file": (INDEX + ["--index", "{existing}", "--overwrite"], "--index is a file"),
    "models/dir-is-a-file": (MODELS + ["--dir", "{existing}", "--overwrite"], "--dir is a file"),
}

INPUT_CASES = {
    "search/topics-missing": (SEARCH + ["--topics", "{out}/none.jsonl", "--output", "{out}/r.trec"], "none.jsonl"),
    "search/topics-empty": (SEARCH + ["--topics", "{empty}", "--output", "{out}/r.trec"], "empty.txt"),
    "search/topics-binary": (SEARCH + ["--topics", "{binary}", "--output", "{out}/r.trec"], "binary.bin"),
    "search/topics-latin1": (SEARCH + ["--topics", "{latin1}", "--output", "{out}/r.trec"], "latin1.txt"),
    "eval/run-missing": (["eval", "--run", "{out}/none.trec", "--qrels", "{qrels}"], "none.trec"),
    "eval/run-empty": (["eval", "--run", "{empty}", "--qrels", "{qrels}"], "empty.txt"),
    "eval/run-binary": (["eval", "--run", "{binary}", "--qrels", "{qrels}"], "binary.bin"),
    "eval/qrels-latin1": (["eval", "--run", "{run}", "--qrels", "{latin1}"], "latin1.txt"),
    "eval-qrels/input-missing": (["eval qrels", "--dataset", "qrecc", "--input", "{out}/none.json", "--output",
                                  "{out}/q.txt"], "none.json"),
    "eval-qrels/input-binary": (["eval qrels", "--dataset", "qrecc", "--input", "{binary}", "--output",
                                 "{out}/q.txt"], "binary.bin"),
    "encode-docs/corpus-missing": (["encode docs", "--encoder", "{model}", "--corpus", "{out}/none.tsv", "--output",
                                    "{out}/v"], "none.tsv"),
    "encode-docs/corpus-empty": (["encode docs", "--encoder", "{model}", "--corpus", "{empty}", "--output",
                                  "{out}/v"], "empty.txt"),
    "encode-docs/corpus-binary": (["encode docs", "--encoder", "{model}", "--corpus", "{binary}", "--output",
                                   "{out}/v"], "binary.bin"),
    "encode-docs/corpus-latin1": (["encode docs", "--encoder", "{model}", "--corpus", "{latin1}", "--output",
                                   "{out}/v"], "latin1.txt"),
    "encode-queries/topics-binary": (["encode queries", "--encoder", "{model}", "--topics", "{binary}", "--output",
                                      "{out}/q.jsonl"], "binary.bin"),
    "index/input-missing": (["index", "--input", "{out}/none", "--index", "{out}/i"], "none"),
    "index/input-without-vectors": (["index", "--input", "{demo}", "--index", "{out}/i"], "no *.jsonl"),
    "train-build/topics-binary": (["train build", "--topics", "{binary}", "--qrels", "{qrels}", "--teacher-run",
                                   "{run}", "--output", "{out}/d.jsonl"], "binary.bin"),
    "train-build/teacher-run-latin1": (["train build", "--topics", "{topics}", "--qrels", "{qrels}",
                                        "--teacher-run", "{latin1}", "--output", "{out}/d.jsonl"], "latin1.txt"),
    "train/config-missing": (["train", "--config", "{out}/none.json"], "config file not found"),
    "train/config-binary": (["train", "--config", "{binary}"], "binary.bin"),
    "train/config-empty": (["train", "--config", "{empty}"], "empty.txt"),
    "train/config-latin1": (["train", "--config", "{latin1}"], "latin1.txt"),
    "rewrite/topics-missing": (["rewrite", "--llm", "{model}", "--topics", "{out}/none.jsonl", "--output",
                                "{out}/r.jsonl"], "none.jsonl"),
    "serve/index-not-an-index": (["serve", "--index", "{indexes}/not-an-index", "--encoder", "{model}", "--port",
                                  "0"], "not an index"),
    "serve/model-no-tokenizer": (["serve", "--index", "{index}", "--encoder", "{models}/no-tokenizer", "--port",
                                  "0", "--device", "cpu"], "no tokenizer files"),
    "reproduce/catalogue-binary": (["reproduce", "--list", "--catalogue", "{binary}"], "binary.bin"),
    "pyserini_cli/unknown-module": (["pyserini_cli", "pyserini.no.such.module"], "no module 'pyserini.no.such.module'"),
}

DAMAGE_CASES = {
    # damaged model folders
    **{f"search/model-{name}": (["search", "--index", "{index}", "--topics", "{topics}", "--encoder",
                                 f"{{models}}/{name}", "--output", "{out}/r.trec", "--device", "cpu"], message)
       for name, message in (("no-config", "no config.json"), ("bad-config", "not a valid model config"),
                             ("truncated", "truncated weights file"), ("no-tokenizer", "no tokenizer files"),
                             ("no-weights", "no weights"))},
    **{f"encode-docs/model-{name}": (["encode docs", "--encoder", f"{{models}}/{name}", "--corpus", "{corpus}",
                                      "--output", "{out}/v", "--device", "cpu"], message)
       for name, message in (("no-config", "no config.json"), ("truncated", "truncated weights file"),
                             ("no-tokenizer", "no tokenizer files"))},
    "encode-queries/model-bad-config": (["encode queries", "--encoder", "{models}/bad-config", "--topics", "{topics}",
                                         "--output", "{out}/q.jsonl"], "not a valid model config"),
    "train/model-truncated": (["train", "--config", "{config}", "--set", "model={models}/truncated",
                               "--output-dir", "{out}/s"], "truncated weights file"),
    "train-build/doc-encoder-no-tokenizer": (["train build", "--topics", "{topics}", "--qrels", "{qrels}", "--run",
                                              "{run}", "--corpus", "{corpus}", "--doc-encoder",
                                              "{models}/no-tokenizer", "--output", "{out}/d.jsonl"],
                                             "no tokenizer files"),
    "rewrite/llm-no-config": (["rewrite", "--llm", "{models}/no-config", "--topics", "{topics}", "--output",
                               "{out}/r.jsonl"], "no config.json"),
    # damaged indexes of every engine
    **{f"search/index-{name}": (["search", "--index", f"{{indexes}}/{name}", "--topics", "{topics}", "--encoder",
                                 "{model}", "--output", "{out}/r.trec", "--device", "cpu"], message)
       for name, message in (("lucene-damaged", "damaged Lucene index"), ("bmp-damaged", "damaged bmp index"),
                             ("bad-metadata", "damaged metadata, not JSON"), ("not-an-index", "not an index"))},
}
if SEISMIC:
    DAMAGE_CASES["search/index-seismic-damaged"] = (["search", "--index", "{indexes}/seismic-damaged", "--topics",
                                                     "{topics}", "--encoder", "{model}", "--output", "{out}/r.trec",
                                                     "--device", "cpu"], "damaged seismic index")

ENVIRONMENT_CASES = {
    "index/jvm-heap": (INDEX + ["--index", "{out}/i"], {"DISCO_JVM_HEAP": "lots"}, "DISCO_JVM_HEAP='lots'"),
    "search/jvm-options": (SEARCH + ["--output", "{out}/r.trec"], {"DISCO_JVM_OPTIONS": "-Xmx1g 'unbalanced"},
                           "DISCO_JVM_OPTIONS cannot be read"),
    "search/jvm-options-not-an-option": (SEARCH + ["--output", "{out}/r.trec"], {"DISCO_JVM_OPTIONS": "Xmx1g"},
                                         "not a JVM option"),
    "search/onnx-cache-is-a-file": (SEARCH + ["--output", "{out}/r.trec", "--encoder-backend", "onnx", "--index",
                                              "{bmp}"], {"DISCO_ONNX_CACHE": "{existing}/onnx"},
                                    "DISCO_ONNX_CACHE cannot be a folder"),
}

# Every numeric flag of every command: (command and its other arguments, flag, bad values).
ZERO, NEGATIVE, NAN, INF = "0", "-3", "nan", "inf"
NUMERIC_FLAGS = [
    (SEARCH + ["--output", "{out}/r.trec"], "--hits", (ZERO, NEGATIVE, NAN, INF)),
    (SEARCH + ["--output", "{out}/r.trec"], "--batch-size", (ZERO, NEGATIVE, NAN)),
    (SEARCH + ["--output", "{out}/r.trec"], "--threads", (ZERO, NEGATIVE)),
    (SEARCH + ["--output", "{out}/r.trec"], "--max-length", (ZERO, NEGATIVE, "100000")),
    (SEARCH + ["--output", "{out}/r.trec"], "--quantization-factor", (ZERO, NEGATIVE, NAN, INF)),
    (SEARCH + ["--output", "{out}/r.trec"], "--query-topk", (NEGATIVE, NAN)),
    (SEARCH + ["--output", "{out}/r.trec"], "--last-k", (NEGATIVE, INF)),
    (SEARCH + ["--output", "{out}/r.trec"], "--k1", (NEGATIVE, NAN, INF)),
    (SEARCH + ["--output", "{out}/r.trec"], "--b", (NEGATIVE, NAN, "1.5")),
    (SEARCH + ["--output", "{out}/r.trec"], "--bmp-alpha", (ZERO, NEGATIVE, NAN, "2")),
    (SEARCH + ["--output", "{out}/r.trec"], "--bmp-beta", (ZERO, NAN, INF)),
    (SEARCH + ["--output", "{out}/r.trec"], "--seismic-query-cut", (ZERO, NEGATIVE)),
    (SEARCH + ["--output", "{out}/r.trec"], "--seismic-heap-factor", (ZERO, NEGATIVE, NAN, INF)),
    (SEARCH + ["--output", "{out}/r.trec"], "--seismic-knn", (NEGATIVE, NAN)),
    (EVAL, "--rel", (NEGATIVE, NAN)),
    (EVAL, "--digits", (NEGATIVE, INF, "99")),
    (DOCS_ + ["--output", "{out}/v"], "--batch-size", (ZERO, NEGATIVE)),
    (DOCS_ + ["--output", "{out}/v"], "--max-length", (ZERO, "100000")),
    (DOCS_ + ["--output", "{out}/v"], "--quantization-factor", (ZERO, NEGATIVE, NAN, INF)),
    (DOCS_ + ["--output", "{out}/v"], "--shard-id", (NEGATIVE, "5")),
    (DOCS_ + ["--output", "{out}/v"], "--shard-num", (ZERO, NEGATIVE)),
    (DOCS_ + ["--output", "{out}/v"], "--docs-per-file", (ZERO, NEGATIVE, NAN)),
    (DOCS_ + ["--output", "{out}/v"], "--ray-actors", (ZERO,)),
    (DOCS_ + ["--output", "{out}/v"], "--ray-gpus-per-actor", (NEGATIVE, NAN, INF)),
    (QUERIES + ["--output", "{out}/q.jsonl"], "--quantization-factor", (ZERO, NAN)),
    (QUERIES + ["--output", "{out}/q.jsonl"], "--query-topk", (NEGATIVE,)),
    (INDEX + ["--index", "{out}/i"], "--threads", (ZERO, NEGATIVE)),
    (INDEX + ["--index", "{out}/i"], "--bmp-block-size", (ZERO, "1000")),
    (INDEX + ["--index", "{out}/i"], "--seismic-n-postings", (ZERO, NEGATIVE)),
    (INDEX + ["--index", "{out}/i"], "--seismic-centroid-fraction", (ZERO, NAN, "2")),
    (INDEX + ["--index", "{out}/i"], "--seismic-summary-energy", (ZERO, INF)),
    (INDEX + ["--index", "{out}/i"], "--seismic-max-fraction", (ZERO, NAN)),
    (INDEX + ["--index", "{out}/i"], "--seismic-knn", (NEGATIVE, INF)),
    (BUILD + ["--output", "{out}/d.jsonl"], "--score-scale", (ZERO, NEGATIVE, NAN, INF)),
    (BUILD + ["--output", "{out}/d.jsonl"], "--skip-top", (NEGATIVE,)),
    (BUILD + ["--output", "{out}/d.jsonl"], "--max-rank", (ZERO, NEGATIVE)),
    (BUILD + ["--output", "{out}/d.jsonl"], "--max-length", (ZERO,)),
    (BUILD + ["--output", "{out}/d.jsonl"], "--batch-size", (ZERO,)),
    (BUILD + ["--output", "{out}/d.jsonl"], "--rel-threshold", (NEGATIVE,)),
    (TRAIN + ["--output-dir", "{out}/s"], "--max-steps", (ZERO, NEGATIVE)),
    (TRAIN + ["--output-dir", "{out}/s"], "--learning-rate", (ZERO, NEGATIVE, NAN, INF)),
    (TRAIN + ["--output-dir", "{out}/s"], "--batch-size", (ZERO,)),
    (SPARSITY, "--max-docs", (ZERO, NEGATIVE)),
    (SPARSITY, "--max-length", (ZERO, "100000")),
    (SPARSITY, "--query-topk", (NEGATIVE,)),
    (REWRITE + ["--output", "{out}/r.jsonl"], "--batch-size", (ZERO, NEGATIVE)),
    (REWRITE + ["--output", "{out}/r.jsonl"], "--max-new-tokens", (ZERO,)),
    (REWRITE + ["--output", "{out}/r.jsonl"], "--temperature", (ZERO, NEGATIVE, NAN, INF)),
    (REWRITE + ["--output", "{out}/r.jsonl"], "--max-answer-chars", (NEGATIVE,)),
    (CHAT, "--hits", (ZERO, NEGATIVE)),
    (CHAT, "--terms", (ZERO,)),
    (DEMO + ["--workdir", "{out}/demo"], "--threads", (ZERO, NAN)),
    (SERVE, "--max-batch", (ZERO, NEGATIVE)),
    (SERVE, "--max-wait-ms", (NEGATIVE, NAN, INF)),
    (SERVE, "--max-in-flight", (ZERO,)),
    (SERVE, "--threads", (ZERO,)),
    (SERVE, "--max-length", (ZERO, "100000")),
    (SERVE, "--query-topk", (NEGATIVE,)),
    (SERVE, "--port", (NEGATIVE, "70000")),
    (SERVE, "--bmp-alpha", (ZERO,)),
    (CHAT, "--max-length", (ZERO,)),
    (INDEX + ["--index", "{out}/i"], "--shards", (ZERO, NEGATIVE)),
    (INDEX + ["--index", "{out}/i", "--shards", "2"], "--shard-id", (NEGATIVE, NAN)),
]
DEVICE_CASES = {
    "search/device-unknown": (SEARCH + ["--output", "{out}/r.trec", "--device", "banana"], "unknown device"),
    "encode-docs/device-unknown": (DOCS_[:-2] + ["--output", "{out}/v", "--device", "cuda:x"], "unknown device"),
    "encode-docs/fp16-on-cpu": (DOCS_ + ["--output", "{out}/v", "--dtype", "fp16"], "--dtype fp16 needs a CUDA"),
    "train-build/fp16-on-cpu": (["train build", "--topics", "{topics}", "--qrels", "{qrels}", "--run", "{run}",
                                 "--corpus", "{corpus}", "--doc-encoder", "{model}", "--device", "cpu", "--dtype",
                                 "fp16", "--output", "{out}/d.jsonl"], "--dtype fp16 needs a CUDA"),
    "rewrite/device-unknown": (REWRITE + ["--output", "{out}/r.jsonl", "--device", "gpu"], "unknown device"),
}


def _flag_cases():
    for argv, flag, values in NUMERIC_FLAGS:
        for value in values:
            yield pytest.param(argv + [flag, value], flag, id=f"{argv[0].replace(' ', '-')}/{flag}={value}")


@pytest.mark.parametrize("argv, expected", list(OUTPUT_CASES.values()), ids=list(OUTPUT_CASES))
def test_outputs(world, world_bytes, argv, expected, capsys):
    check(world, world_bytes, argv[0], argv[1:], expected, capsys)


@pytest.mark.parametrize("argv, expected", list(INPUT_CASES.values()), ids=list(INPUT_CASES))
def test_unreadable_inputs(world, world_bytes, argv, expected, capsys):
    check(world, world_bytes, argv[0], argv[1:], expected, capsys)


@pytest.mark.parametrize("argv, expected", list(DAMAGE_CASES.values()), ids=list(DAMAGE_CASES))
def test_damaged_models_and_indexes(world, world_bytes, argv, expected, capsys):
    check(world, world_bytes, argv[0], argv[1:], expected, capsys)


@pytest.mark.parametrize("argv, expected", _flag_cases())
def test_numeric_flags(world, world_bytes, argv, expected, capsys):
    check(world, world_bytes, argv[0], argv[1:], expected, capsys)


@pytest.mark.parametrize("argv, expected", list(DEVICE_CASES.values()), ids=list(DEVICE_CASES))
def test_devices_and_precisions(world, world_bytes, argv, expected, capsys):
    check(world, world_bytes, argv[0], argv[1:], expected, capsys)


@pytest.mark.parametrize("argv, env, expected", list(ENVIRONMENT_CASES.values()), ids=list(ENVIRONMENT_CASES))
def test_environment(world, world_bytes, argv, env, expected, capsys, monkeypatch):
    values = {name: str(world / file) for name, file in PLACES.items()}
    env = {key: value.format(**values) for key, value in env.items()}
    check(world, world_bytes, argv[0], argv[1:], expected, capsys, env, monkeypatch)


def test_every_command_is_in_the_tables():
    """A new command joins the tables: every CLI appears in them, every command that claims outputs in the output
    cases, and every command with a checked numeric flag in the flag cases."""
    package = Path(cli.__file__).parent
    sources = {path.parent.name: path.read_text() for path in package.glob("*/__main__.py")}
    sources.update({name: (package / f"{name}.py").read_text() for name in ("demo", "chat", "pyserini_cli")})
    tables = [argv for argv, _ in (*OUTPUT_CASES.values(), *INPUT_CASES.values(), *DAMAGE_CASES.values())]
    tables += [argv for argv, _, _ in NUMERIC_FLAGS]
    named = {argv[0].split()[0] for argv in tables}
    covered = {argv[0].split()[0] for argv, _ in OUTPUT_CASES.values()}
    flagged = {argv[0].split()[0] for argv, _, _ in NUMERIC_FLAGS}
    assert set(sources) <= named, set(sources) - named
    writers = {name for name, text in sources.items() if "claim_outputs" in text}
    assert writers <= covered, writers - covered
    numeric = {name for name, text in sources.items() if "cli.COUNT" in text or "cli.number(" in text
               or "cli.POSITIVE" in text or "cli.FRACTION" in text or "add_engine_args" in text}
    assert numeric <= flagged, numeric - flagged
    assert {"search", "eval", "encode", "index", "train", "rewrite", "demo", "models", "reproduce"} <= writers



def test_a_second_writer_of_one_output_is_refused_while_the_first_holds_it(tmp_path, capsys):
    from disco_pyserini.atomic import output_lock

    run = tmp_path / "run.trec"
    run.write_text("q1 Q0 d1 1 1 t\n")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("q1 0 d1 1\n")
    output = tmp_path / "table.md"
    with output_lock(output):  # another command writing the same output now
        code, err = invoke("eval", ["--run", str(run), "--qrels", str(qrels), "--output", str(output)], capsys)
    assert code == 2 and "another command is writing this --output now" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qrels.txt", "run.trec"]
    assert invoke("eval", ["--run", str(run), "--qrels", str(qrels), "--output", str(output)], capsys)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qrels.txt", "run.trec", "table.md"]  # the lock is gone
    code, err = invoke("eval", ["--run", str(run), "--qrels", str(qrels), "--output", str(output), "--overwrite"],
                       capsys)
    assert code == 0


def test_a_failed_first_run_leaves_nothing_that_blocks_the_rerun(world, tmp_path, capsys):
    """encode docs failing on a bad record leaves at most encoding.json, and the fixed rerun goes through."""
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("d1\tfine\nd 2\tspaced id\n")
    output = tmp_path / "vectors"
    argv = ["--encoder", str(world / "model"), "--corpus", str(corpus), "--output", str(output), "--device", "cpu"]
    code, err = invoke("encode docs", argv, capsys)
    assert code == 2 and "contains whitespace" in err
    assert not list(output.glob("part-*")) if output.exists() else True
    corpus.write_text("d1\tfine\nd2\tno longer spaced\n")
    assert invoke("encode docs", argv + ["--max-length", "64"], capsys)[0] == 0
    assert json.loads((output / "encoding.json").read_text())["max_length"] == 64


def test_overwrite_replaces_a_student_without_its_old_checkpoints(tmp_path):
    from disco_pyserini.train.__main__ import _clear_student

    student = tmp_path / "student"
    (student / "checkpoint-500").mkdir(parents=True)
    (student / "config.json").write_text("{}")
    _clear_student(student)
    assert student.is_dir() and not any(student.iterdir())
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    with pytest.raises(Exception, match="not a student"):
        _clear_student(mine)
    assert (mine / "notes.txt").read_text() == "precious"


def test_killed_index_builds_leave_no_input_view_behind(tmp_path):
    from disco_pyserini.index.build import input_staging
    from disco_pyserini.index.layout import remove_dead_temporaries

    dead = tmp_path / ".index.input-999999999-abc"  # a PID no process has
    (dead / "parts").mkdir(parents=True)
    alive = tmp_path / f".index.input-{__import__('os').getpid()}-xyz"
    alive.mkdir()
    remove_dead_temporaries(tmp_path / "index")
    assert not dead.exists() and alive.exists()
    with input_staging(tmp_path / "index") as view:
        assert view.name.startswith(f".index.input-{__import__('os').getpid()}-")
    with contextlib.suppress(OSError):
        alive.rmdir()
