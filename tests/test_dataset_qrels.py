"""TopiOCQA and QReCC qrels built from made-up files of each release's shape: ids agree with the topic loaders
and the corpus reader, turns without gold passages are handled as the DiSCo reference does, `--qrels NAME` finds
them."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from disco_pyserini import cli
from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.errors import InputError
from disco_pyserini.eval.__main__ import main
from disco_pyserini.eval.dataset_qrels import qrecc_qrels, topiocqa_qrels
from disco_pyserini.topics import load_topics
from tests.test_corpus import WIKI_SEGMENTS

FIXTURES = Path(__file__).parent / "fixtures" / "topics"
SEP = " [SEP] "

# (conversation, turn, question, answer, gold tsv id or None): 1_2 is unanswerable, 2_1 has no gold passage.
TURNS = [(1, 1, "who was aaron", "A prophet", "1"),
         (1, 2, "did he have a sister", "UNANSWERABLE", "2"),
         (1, 3, "what film is about dunkirk", "Dunkirk (2017)", "14979882"),
         (2, 1, "what is a sonnet", "A poem", None)]


def dpr_records() -> list[dict]:
    """TopiOCQA's DPR all_history retriever file (data/retriever/all_history/dev.json)."""
    rows, history = [], []
    for conversation, turn, question, answer, gold in TURNS:
        history = history if turn > 1 else []
        positives = [{"title": "T [SEP] S", "text": "passage", "score": 1000, "passage_id": gold}] if gold else []
        rows.append({"conv_id": conversation, "turn_id": turn, "dataset": "topiocqa",
                     "question": SEP.join(history + [question]), "answers": [answer], "positive_ctxs": positives,
                     "negative_ctxs": [], "hard_negative_ctxs": []})
        history = history + [question, answer]
    return rows


def original_records() -> list[dict]:
    """TopiOCQA's dataset JSON (topiocqa_dev.json): Gold_passage ids carry DPR's "wiki:" prefix."""
    rows, context = [], []
    for conversation, turn, question, answer, gold in TURNS:
        context = context if turn > 1 else []
        passage = {"id": f"wiki:{gold}", "title": "T [SEP] S", "text": "passage"} if gold else {}
        rows.append({"Conversation_no": conversation, "Turn_no": turn, "Question": question, "Answer": answer,
                     "Topic": "T", "Topic_section": "S", "Rationale": "", "is_nq": False, "Context": list(context),
                     "Additional_answers": [], "Gold_passage": passage})
        context = context + [question, answer]
    return rows


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def query_ids(path: Path) -> list[str]:
    return [turn.query_id for turn in load_topics(path)]


@pytest.mark.parametrize("shape", [dpr_records, original_records])
def test_topiocqa_ids_match_loaders_and_corpus(tmp_path, shape):
    path = write(tmp_path / "dev.json", shape())
    gold = topiocqa_qrels(path)
    # as the reference: the first positive of every turn, unanswerable ones included; tsv ids, no "wiki:" prefix
    assert gold.judgments == [("1_1", "1"), ("1_2", "2"), ("1_3", "14979882")]
    assert (gold.turns, gold.judged, gold.without_gold, gold.unanswerable) == (4, 3, 1, 1)
    assert [qid for qid, _ in gold.judgments] == query_ids(path)[:3]  # the topic loader's ids
    corpus = tmp_path / "full_wiki_segments.tsv"
    corpus.write_text(WIKI_SEGMENTS)
    assert {doc_id for _, doc_id in gold.judgments} <= {doc.doc_id for doc in read_corpus(corpus)}


def test_topiocqa_row_ids_are_file_positions(tmp_path):
    rows = dpr_records()
    rows[0]["positive_ctxs"] = []  # a skipped row keeps its number: rows are numbered as in the reference's files
    gold = topiocqa_qrels(write(tmp_path / "dev.json", rows), query_ids="row")
    assert gold.judgments == [("1", "2"), ("2", "14979882")]


def test_qrecc_scai_truth_passages(tmp_path):
    path = FIXTURES / "qrecc_scai.json"
    gold = qrecc_qrels(path)
    wayback = "http://web.archive.org/web/20190101000000id_/https://en.wikipedia.org/wiki/"
    assert gold.judgments == [("31_1", f"{wayback}Anna_Vissi_p2"),
                              ("31_3", f"{wayback}Anna_Vissi_p3"), ("31_3", f"{wayback}Na_%27Hes_Kardia_p0"),
                              ("32_1", "https://www.example.org/hallelujah_p0")]  # duplicates once
    assert (gold.turns, gold.judged, gold.without_gold) == (4, 3, 1)  # 31_2 has none: unjudged, as the reference
    assert {qid for qid, _ in gold.judgments} <= set(query_ids(path))
    # the passage collection's shape (collection-paragraph/*/*.jsonl): its ids are the corpus ids encode docs writes
    collection = tmp_path / "qrecc_passages.jsonl"
    collection.write_text("".join(json.dumps({"id": doc_id, "contents": "text"}) + "\n"
                                  for doc_id in sorted({doc_id for _, doc_id in gold.judgments} | {"other_p0"})))
    assert {doc_id for _, doc_id in gold.judgments} <= {doc.doc_id for doc in read_corpus(collection)}
    rows = qrecc_qrels(path, query_ids="row").judgments  # the reproduction numbers only the turns it keeps
    assert [qid for qid, _ in rows] == ["0", "1", "1", "2"]
    # the QReCC files with passages that SCAI-QReCC adapted call the field "Passages"
    renamed = [{("Passages" if k == "Truth_passages" else k): v for k, v in row.items()}
               for row in json.loads(path.read_text())]
    assert qrecc_qrels(write(tmp_path / "qrecc-test.json", renamed)).judgments == gold.judgments


@pytest.mark.parametrize("build, rows, message", [
    (qrecc_qrels, None, "the apple/ml-qrecc release names no gold passages"),
    (qrecc_qrels, original_records(), "this is a TopiOCQA file; pass --dataset topiocqa"),
    (topiocqa_qrels, None, "not a TopiOCQA dataset file; it looks like QReCC: pass --dataset qrecc"),
    (topiocqa_qrels, [{"id": 1}], "not a TopiOCQA file"),
    (topiocqa_qrels, dpr_records() + dpr_records()[:1], "query id '1_1' occurs in two records"),
    (topiocqa_qrels, [{"conv_id": 1, "turn_id": 1, "positive_ctxs": [{"text": "x"}]}],
     "missing key 'passage_id' in the first positive of conversation 1 turn 1"),
    (topiocqa_qrels, [{"conv_id": 1, "turn_id": 1, "positive_ctxs": []}], "none of the 1 turns has a gold passage"),
    (qrecc_qrels, [{"Conversation_no": 1, "Turn_no": 1, "Truth_passages": ["a url_p0"]}], "contains whitespace"),
    (qrecc_qrels, [{"Conversation_no": 1, "Truth_passages": []}], "missing key 'Turn_no' in conversation 1"),
    (qrecc_qrels, {"Conversation_no": 1}, "expected a JSON list of turn records"),
])
def test_bad_inputs_are_one_line_errors(tmp_path, build, rows, message):
    path = FIXTURES / "qrecc.json" if rows is None else write(tmp_path / "in.json", rows)
    with pytest.raises(InputError, match=message):
        build(path)


def test_cli_writes_by_name_refuses_overwrite_and_eval_finds_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DISCO_QRELS_DIR", str(tmp_path / "qrels"))
    dev = write(tmp_path / "dev.json", dpr_records())
    argv = ["qrels", "--dataset", "topiocqa", "--input", str(dev)]
    assert cli.run(main, argv) == 0
    out = capsys.readouterr().out
    assert "topiocqa: 3 judgments for 3 of 4 turns; unanswerable turns, kept with their gold passage" in out
    assert "reference: 1; turns without a gold passage, not judged: 1 ->" in out and "--qrels topiocqa" in out
    written = tmp_path / "qrels" / "topiocqa.qrels.txt"
    assert written.read_text() == "1_1 0 1 1\n1_2 0 2 1\n1_3 0 14979882 1\n"
    assert cli.run(main, argv) == 2  # never replaced silently
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert cli.run(main, argv + ["--query-ids", "row"]) == 2  # row ids never go under the name runs are scored by
    assert cli.run(main, argv + ["--overwrite"]) == 0
    capsys.readouterr()
    run = tmp_path / "topiocqa.splade.trec"
    run.write_text("1_1 Q0 1 1 9.0 r\n1_2 Q0 7 1 9.0 r\n1_2 Q0 2 2 8.0 r\n")  # 1_3 missing: scores 0
    # relevance 1 qrels under TopiOCQA's convention (binary measures at relevance >= 1)
    assert cli.run(main, ["--run", str(run), "--qrels", "topiocqa", "--metrics", "MRR@10"]) == 0
    table = capsys.readouterr().out
    assert "| topiocqa.splade | 0.500 |" in table  # (1 + 1/2 + 0) / 3 judged turns
    assert "topiocqa: 3 judged queries" in table and "relevance >= 1" in table


def test_cli_qrecc_message_counts_turns_without_passages(tmp_path, capsys):
    output = tmp_path / "qrecc_test.qrels"
    assert cli.run(main, ["qrels", "--dataset", "qrecc", "--input", str(FIXTURES / "qrecc_scai.json"),
                          "--output", str(output), "--query-ids", "row"]) == 0
    assert "4 judgments for 3 of 4 turns; turns without gold passages, not judged" in capsys.readouterr().out
    assert output.read_text().splitlines()[0].startswith("0 0 http://web.archive.org/")
    shutil.copy(FIXTURES / "qrecc.json", tmp_path / "qrecc_test.json")
    assert cli.run(main, ["qrels", "--dataset", "qrecc", "--input", str(tmp_path / "qrecc_test.json"),
                          "--output", str(tmp_path / "o.qrels")]) == 2
    assert "names no gold passages" in capsys.readouterr().err and not (tmp_path / "o.qrels").exists()


def test_topiocqa_walkthrough_ids_line_up_from_files_to_table(tmp_path, monkeypatch, capsys, lexical_splade):
    """The README's TopiOCQA commands on the bundled sample recast in TopiOCQA's shapes: qrels, encode, index,
    search, eval by name. Every judged turn is in the run and the gold passages are found, so no id is lost."""
    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.index import build_index
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, QRELS
    from disco_pyserini.search.__main__ import main as search

    monkeypatch.setenv("DISCO_QRELS_DIR", str(tmp_path / "qrels"))
    tsv_id = {}  # d0001 -> "1": TopiOCQA's numeric ids
    with open(tmp_path / "full_wiki_segments.tsv", "w", encoding="utf-8") as corpus:
        corpus.write("id\ttext\ttitle\n")
        for line in CORPUS.read_text().splitlines():
            doc = json.loads(line)
            tsv_id[doc["id"]] = str(int(doc["id"][1:]))
            corpus.write(f"{tsv_id[doc['id']]}\t{doc['contents']}\tSample [SEP] Passage\n")
    best = {}
    for qid, _, doc, rel in (line.split() for line in QRELS.read_text().splitlines()):
        if int(rel) == 2:
            best.setdefault(qid, tsv_id[doc])
    rows = []
    for conversation in map(json.loads, CONVERSATIONS.read_text().splitlines()):
        history = []
        for turn in conversation["turns"]:
            qid = f"{conversation['conversation_id']}_{turn['turn_id']}"
            positives = [{"title": "t", "text": "p", "passage_id": best[qid]}] if qid in best else []
            rows.append({"conv_id": conversation["conversation_id"], "turn_id": turn["turn_id"],
                         "question": SEP.join(history + [turn["utterance"]]), "answers": [turn["response"]],
                         "positive_ctxs": positives})
            history += [turn["utterance"], turn["response"]]
    dev = write(tmp_path / "dev.json", rows)

    assert cli.run(main, ["qrels", "--dataset", "topiocqa", "--input", str(dev)]) == 0
    encoder = SpladeEncoder(str(lexical_splade), device="cpu", batch_size=64)
    export_corpus(encoder, tmp_path / "full_wiki_segments.tsv", tmp_path / "vectors", factor=100, progress=False,
                  metadata={"encoder": str(lexical_splade)})
    build_index(tmp_path / "vectors", tmp_path / "index", threads=2)
    run = tmp_path / "topiocqa.splade.disco.tiny-lexical.trec"
    assert search(["--index", str(tmp_path / "index"), "--topics", str(dev), "--encoder", str(lexical_splade),
                   "--output", str(run), "--hits", "100", "--device", "cpu"]) == 0
    assert {line.split()[2] for line in run.read_text().splitlines()} <= set(tsv_id.values())
    capsys.readouterr()
    assert cli.run(main, ["--run", str(run), "--qrels", "topiocqa", "--metrics", "R@100", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert len((tmp_path / "qrels" / "topiocqa.qrels.txt").read_text().splitlines()) == len(best) == 80
    assert "missing" not in captured.err  # every judged turn is in the run, under the same id
    assert float(captured.out.splitlines()[1].split(",")[-1]) > 0.5  # the gold passages are retrieved by their ids
