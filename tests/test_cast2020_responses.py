"""CAsT 2020 histories carry the canonical responses by default: from the searched index's stored texts, else an
explicit source, else one error naming both ways out."""
from __future__ import annotations

import json

import pytest

from disco_pyserini.cli import run
from disco_pyserini.sample import CONVERSATIONS, CORPUS

QID = "121_3"


def _passages() -> dict[str, str]:
    return {record["id"]: record["contents"] for record in map(json.loads, CORPUS.read_text().splitlines())}


@pytest.fixture(scope="module")
def cast2020(tmp_path_factory):
    """The sample's first conversation as a CAsT 2020 topics file: each answer named by its passage id only."""
    conversation = json.loads(CONVERSATIONS.read_text().splitlines()[0])
    ids = {text: doc for doc, text in _passages().items()}
    turns = [{"number": int(turn["turn_id"]), "raw_utterance": turn["utterance"],
              "manual_rewritten_utterance": turn["manual_rewrite"],
              "manual_canonical_result_id": ids[turn["response"]]} for turn in conversation["turns"]]
    path = tmp_path_factory.mktemp("cast2020") / "2020_manual_evaluation_topics_v1.0.json"
    path.write_text(json.dumps([{"number": 121, "turn": turns}]))
    return path, conversation["turns"]


@pytest.fixture(scope="module")
def plain_index(sample_index, tmp_path_factory):
    """The sample vectors indexed without --store-raw: no passage texts."""
    from disco_pyserini.index import build_index

    index = tmp_path_factory.mktemp("plain") / "index"
    build_index(sample_index / "vectors", index, threads=2)
    return index


def _search(index, topics, encoder, output, *flags):
    from disco_pyserini.search.__main__ import main

    return run(main, ["--index", str(index), "--topics", str(topics), "--encoder", str(encoder), "--output",
                      str(output), "--hits", "10", "--device", "cpu", *flags])


def _hits(run_file, qid=QID):
    return [(line.split()[2], float(line.split()[4])) for line in run_file.read_text().splitlines()
            if line.split()[0] == qid]


def test_search_puts_the_canonical_passages_from_the_index_into_the_history(sample_index, lexical_splade, cast2020,
                                                                            tmp_path):
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.search import ImpactSearcher

    topics, turns = cast2020
    output = tmp_path / "run.trec"
    assert _search(sample_index / "index", topics, lexical_splade, output) == 0
    meta = json.loads((tmp_path / "run.trec.meta.json").read_text())
    assert meta["responses_from"] == str(sample_index / "index") and meta["history_responses"] == "all"
    # DiSCo's input for turn 3: newest first, each earlier answer the text of its canonical passage
    formulated = " [SEP] ".join([turns[2]["utterance"], turns[1]["response"], turns[1]["utterance"],
                                 turns[0]["response"], turns[0]["utterance"]])
    searcher = ImpactSearcher(sample_index / "index")
    try:
        vector = DiscoQueryEncoder(str(lexical_splade), device="cpu").encode(formulated)
        expected = [(hit.docid, hit.score) for hit in searcher.search(vector, 10)]
    finally:
        searcher.close()
    assert _hits(output) == expected


def test_an_index_without_texts_is_one_error_naming_the_ways_out(sample_index, plain_index, lexical_splade, cast2020,
                                                                 tmp_path, capsys):
    topics, _ = cast2020
    output = tmp_path / "run.trec"
    assert _search(plain_index, topics, lexical_splade, output) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {plain_index}: the topics name 4 canonical response passage(s) by id")
    assert "--responses-from CORPUS_OR_INDEX" in error and "--history-responses none" in error
    assert error.count("\n") == 1 and not output.exists()
    # the two ways out: the collection (same run as over the index with texts), or no answers (another run)
    assert _search(plain_index, topics, lexical_splade, output, "--responses-from", str(CORPUS)) == 0
    assert _search(sample_index / "index", topics, lexical_splade, tmp_path / "stored.trec") == 0
    assert _hits(output) == _hits(tmp_path / "stored.trec")
    assert _search(plain_index, topics, lexical_splade, tmp_path / "none.trec", "--history-responses", "none") == 0
    assert _hits(tmp_path / "none.trec") != _hits(output)
    assert json.loads((tmp_path / "none.trec.meta.json").read_text())["responses_from"] is None
    # a policy that reads no answers needs no texts
    assert _search(plain_index, topics, lexical_splade, tmp_path / "manual.trec", "--policy", "manual") == 0


def test_encode_queries_and_train_build_need_a_source_of_texts(cast2020, lexical_splade, tmp_path, capsys):
    from disco_pyserini.encode.__main__ import main as encode_main
    from disco_pyserini.train.__main__ import main as train_main

    topics, turns = cast2020
    base = ["queries", "--encoder", str(lexical_splade), "--topics", str(topics), "--device", "cpu",
            "--output", str(tmp_path / "q.jsonl"), "--topics-output", str(tmp_path / "q.tsv")]
    assert run(encode_main, base) == 2
    assert "--history-responses none" in capsys.readouterr().err and not (tmp_path / "q.jsonl").exists()
    assert run(encode_main, [*base, "--responses-from", str(CORPUS)]) == 0
    texts = dict(line.split("\t") for line in (tmp_path / "q.tsv").read_text().splitlines())
    assert texts["121_2"] == f"{turns[1]['utterance']} [SEP] {turns[0]['response']} [SEP] {turns[0]['utterance']}"
    (tmp_path / "qrels.txt").write_text("121_2 0 d1172 2\n")
    (tmp_path / "teacher.trec").write_text("".join(f"121_2 Q0 d{i:04d} {i} {20 - i} t\n" for i in range(1, 15)))
    build = ["build", "--topics", str(topics), "--qrels", str(tmp_path / "qrels.txt"), "--teacher-run",
             str(tmp_path / "teacher.trec"), "--skip-top", "1", "--output", str(tmp_path / "distill.jsonl")]
    assert run(train_main, build) == 2
    assert "--responses-from" in capsys.readouterr().err
    assert run(train_main, [*build, "--history-responses", "none"]) == 0
    head, record = (json.loads(line) for line in (tmp_path / "distill.jsonl").read_text().splitlines())
    assert head["history_responses"] == "none" and record["query"] == f"{turns[1]['utterance']} [SEP] " \
                                                                      f"{turns[0]['utterance']}"


def test_texts_from_a_bmp_or_seismic_folder_and_refusal_without_them(tmp_path):
    from disco_pyserini.encode.passages import passage_texts, stores_texts
    from disco_pyserini.errors import InputError

    index = tmp_path / "index.bmp"
    index.mkdir()
    (index / "backend.json").write_text(json.dumps({"backend": "bmp", "documents": 3, "store_raw": True}))
    (index / "docids.txt").write_text("a\nb\nc\n")
    (index / "contents.jsonl").write_text("".join(json.dumps(t) + "\n" for t in ("first", "second", "third")))
    assert stores_texts(index) and passage_texts(index, {"c", "a", "z"}) == {"a": "first", "c": "third"}
    (index / "contents.jsonl").unlink()
    assert stores_texts(index) is False
    with pytest.raises(InputError, match=r"index.bmp: this index stores no passage texts .*--responses-from"):
        passage_texts(index, {"a"})


def test_chat_over_an_index_without_texts_names_the_ways_out(plain_index, lexical_splade, capsys):
    from disco_pyserini.chat import main

    assert run(main, ["--index", str(plain_index), "--encoder", str(lexical_splade)]) == 2
    error = capsys.readouterr().err
    assert "stores no passage texts" in error and "--history-responses none" in error and error.count("\n") == 1
