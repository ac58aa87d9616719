"""Topic loaders (real CAsT files and small fixtures), format detection, rewrites and formulation policies."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disco_pyserini.errors import InputError
from disco_pyserini.topics import (FORMATS, POLICIES, Exchange, Turn, attach_rewrites, detect_format, formulate,
                                   load_topics)

DATA = Path(__file__).parent / "data"
CAST = DATA / "cast"
QRELS = Path(__file__).resolve().parents[1] / "qrels"
CAST2019 = CAST / "2019" / "evaluation_topics_v1.0.json"
CAST2019_RESOLVED = CAST / "2019" / "evaluation_topics_annotated_resolved_v1.0.tsv"
CAST2020_MANUAL = CAST / "2020" / "2020_manual_evaluation_topics_v1.0.json"
CAST2020_AUTO = CAST / "2020" / "2020_automatic_evaluation_topics_v1.0.json"
CAST2022_TREE = CAST / "2022" / "2022_evaluation_topics_tree_v1.0.json"
CAST2022_FLAT = CAST / "2022" / "2022_evaluation_topics_flattened_duplicated_v1.0.json"
FIXTURES = Path(__file__).parent / "fixtures" / "topics"



def by_id(turns) -> dict[str, Turn]:
    turns = list(turns)
    ids = [turn.query_id for turn in turns]
    assert len(ids) == len(set(ids)), "query ids must be unique"
    return {turn.query_id: turn for turn in turns}


def qrels_ids(path: Path) -> set[str]:
    return {line.split()[0] for line in path.read_text().splitlines() if line.strip()}


# --- real CAsT files -------------------------------------------------------------------------------------------

def test_cast2019_turns_rewrites_and_qrels_ids():
    turns = by_id(load_topics(CAST2019))
    assert len(turns) == 479
    assert len({turn.topic_id for turn in turns.values()}) == 50
    assert qrels_ids(QRELS / "cast2019.qrels.txt") <= turns.keys()
    turn = turns["31_2"]
    assert turn.utterance == "Is it treatable?"
    assert turn.manual_rewrite == "Is throat cancer treatable?"  # from the resolved TSV next to the JSON
    assert turns["31_4"].utterance == "What are its symptoms?"  # surrounding whitespace stripped
    assert [e.utterance for e in turns["31_3"].history] == ["What is throat cancer?", "Is it treatable?"]
    assert all(turn.manual_rewrite and "\r" not in turn.manual_rewrite for turn in turns.values())
    assert turns["80_10"].manual_rewrite == "What was the impact of the Lewis and Clark expedition?"


def test_cast2019_resolved_tsv_found_next_to_json_or_passed(tmp_path):
    alone = tmp_path / "evaluation_topics_v1.0.json"
    shutil.copy(CAST2019, alone)
    assert all(turn.manual_rewrite is None for turn in load_topics(alone))
    passed = by_id(load_topics(alone, resolved=CAST2019_RESOLVED))
    assert passed["31_2"].manual_rewrite == "Is throat cancer treatable?"


def test_cast2020_manual_and_automatic_files():
    manual = by_id(load_topics(CAST2020_MANUAL))
    assert len(manual) == 216
    assert qrels_ids(QRELS / "cast2020.qrels.txt") <= manual.keys()
    turn = manual["81_2"]
    assert turn.utterance == "Now it stopped working. Why?"
    assert turn.manual_rewrite == "Now my garage door opener stopped working. Why?"
    assert turn.automatic_rewrite == "Why did garage door opener stop working?"
    # the canonical response is named by id (its text is in the collection: --responses-from)
    assert turn.history == (Exchange("How do you know when your garage door opener is going bad?", None,
                                     "MARCO_5498474"),)
    assert turn.response_id == "MARCO_3942603"
    automatic = by_id(load_topics(CAST2020_AUTO))
    assert automatic.keys() == manual.keys()
    assert automatic["81_2"].manual_rewrite is None
    assert automatic["81_2"].automatic_rewrite == "Why did garage door opener stop working?"
    assert automatic["81_2"].history[0].response_id == "MARCO_8752370"  # the automatic canonical result


def test_cast2022_tree_history_follows_parent_links():
    turns = by_id(load_topics(CAST2022_TREE))
    raw = {node["number"]: node for node in json.loads(CAST2022_TREE.read_text())[0]["turn"]}  # topic 132
    assert len(turns) == 205
    assert "132_1-1" in turns and turns["132_1-1"].history == ()
    # 2-1's parent is the System node 1-4: its path is 1-1, 1-2, 1-3, 1-4, never 1-5 .. 1-8.
    branch = turns["132_2-1"]
    assert branch.history == (Exchange(raw["1-1"]["utterance"], raw["1-2"]["response"]),
                              Exchange(raw["1-3"]["utterance"], raw["1-4"]["response"]))
    assert branch.manual_rewrite == raw["2-1"]["manual_rewritten_utterance"]
    assert branch.response == raw["2-2"]["response"]
    # 3-1 hangs off 2-10: its history switches from branch 1 to branch 2 after 1-4.
    deep = [exchange.utterance for exchange in turns["132_3-1"].history]
    assert deep == [raw[n]["utterance"] for n in ("1-1", "1-3", "2-1", "2-3", "2-5", "2-7", "2-9")]


def test_cast2022_flattened_matches_tree():
    tree, flat = by_id(load_topics(CAST2022_TREE)), by_id(load_topics(CAST2022_FLAT))
    assert flat.keys() == tree.keys()
    assert all(flat[qid].history == tree[qid].history for qid in tree)
    assert all(flat[qid].manual_rewrite == tree[qid].manual_rewrite for qid in tree)


@pytest.mark.parametrize("path, name", [(CAST2019, "cast2019"), (CAST2020_MANUAL, "cast2020"),
                                        (CAST2020_AUTO, "cast2020"), (CAST2022_TREE, "cast2022"),
                                        (CAST2022_FLAT, "cast2022")])
def test_detects_cast_formats(path, name):
    assert detect_format(path) == name


# --- fixtures for the other formats ----------------------------------------------------------------------------

def test_ikat_fixture():
    turns = by_id(load_topics(FIXTURES / "ikat2023.json"))
    assert list(turns) == ["1-1_1", "1-1_2", "1-1_3", "1-2_1", "1-2_2"]
    turn = turns["1-1_3"]
    assert turn.topic_id == "1-1"
    assert turn.utterance == "Which of them fits my budget?"
    assert turn.manual_rewrite.startswith("Which of Delft, Eindhoven and Amsterdam")
    assert turn.ptkb[2] == "I cannot afford tuition above 5,000 euros a year." and len(turn.ptkb) == 3
    assert turn.history[1] == Exchange("Yes, and I would rather not move abroad.",
                                       "Delft, Eindhoven and Amsterdam offer strong computer science programmes.")
    assert turns["1-2_1"].history == () and len(turns["1-2_1"].ptkb) == 2


def test_topiocqa_all_history_question_is_split():
    turns = by_id(load_topics(FIXTURES / "topiocqa_all_history.json"))
    assert list(turns) == ["1_1", "1_2", "1_3", "2_1"]
    turn = turns["1_3"]
    assert turn.utterance == "was it nominated for any award"
    assert turn.response == "Yes, two Grammy awards"
    assert turn.history == (Exchange("who is the lead singer of rage against the machine", "Zack de la Rocha"),
                            Exchange("when was it formed", "1991"))
    assert turns["2_1"].history == ()


def test_topiocqa_original_questions_rebuild_history_per_conversation():
    turns = by_id(load_topics(FIXTURES / "topiocqa_original.json", format="topiocqa"))
    assert turns["7_2"].history == (Exchange("when was the eiffel tower built", "1887 to 1889"),)
    assert turns["8_1"].history == ()


def test_qrecc_fixture():
    turns = by_id(load_topics(FIXTURES / "qrecc.json"))
    assert list(turns) == ["12_1", "12_2", "12_3"]
    turn = turns["12_3"]
    assert turn.manual_rewrite == "Is altitude sickness common on Mount Kilimanjaro?"
    assert turn.response is None  # empty answer
    assert [e.response for e in turn.history] == ["Mount Kilimanjaro, at 5,895 metres.",
                                                  "Most routes take six to eight days."]


def test_qrecc_scai_fields_and_first_turn_rewrite():
    assert detect_format(FIXTURES / "qrecc_scai.json") == "qrecc"
    turns = by_id(load_topics(FIXTURES / "qrecc_scai.json"))
    assert list(turns) == ["31_1", "31_2", "31_3", "32_1"]
    first = turns["31_1"]  # as the DiSCo reference: the first turn's utterance is its rewrite (QuAC hides the topic)
    assert first.utterance == "What happened to Anna Vissi in 1983?" == first.manual_rewrite
    assert first.automatic_rewrite == "What happened in 1983?"  # Transformer_rewrite
    turn = turns["31_3"]
    assert turn.utterance == "Where was the album recorded?"
    assert turn.manual_rewrite == "Where was Anna Vissi's album Na 'Hes Kardia recorded?"
    assert turn.response == "In Athens, with her husband Nikos Karvelas producing."
    # history from Context, raw (the original first question, not its rewrite), blank answers kept as None
    assert turn.history == (Exchange("What happened in 1983?", "In 1983 Vissi released the album Na 'Hes Kardia."),
                            Exchange("Did she tour?"))
    assert turns["31_2"].response is None
    raw = by_id(load_topics(FIXTURES / "qrecc_scai.json", first_turn_rewrite=False))
    assert raw["31_1"].utterance == "What happened in 1983?"


def test_qrecc_original_first_turn_uses_its_rewrite(tmp_path):
    rows = json.loads((FIXTURES / "qrecc.json").read_text())
    rows[0]["Question"] = "How tall is it?"
    path = tmp_path / "qrecc_test.json"
    path.write_text(json.dumps(rows))
    turns = by_id(load_topics(path))
    assert turns["12_1"].utterance == "What is the tallest mountain in Africa?"  # its Rewrite
    assert turns["12_2"].utterance == "How long does it take to climb?"  # later turns keep their question


def test_jsonl_fixture():
    turns = by_id(load_topics(FIXTURES / "conversations.jsonl"))
    assert list(turns) == ["c1_1", "c1_2", "c2_1", "custom-7"]
    assert turns["c1_2"].history == (Exchange("What is a sourdough starter?", "A fermented mix of flour and water."),)
    assert turns["c1_2"].rewrite("mistral") == "How to maintain a sourdough starter?"
    assert turns["custom-7"].topic_id == "c2" and turns["custom-7"].ptkb == ("I am vegan.",)
    assert turns["custom-7"].automatic_rewrite == "Protein-rich vegan breakfast without soy"


@pytest.mark.parametrize("name, expected", [("ikat2023.json", "ikat"), ("topiocqa_all_history.json", "topiocqa"),
                                            ("topiocqa_original.json", "topiocqa"), ("qrecc.json", "qrecc"),
                                            ("conversations.jsonl", "jsonl")])
def test_detects_fixture_formats(name, expected):
    assert detect_format(FIXTURES / name) == expected


def test_raw_topiocqa_records_are_detected_and_read_like_qrecc(tmp_path):
    path = tmp_path / "topiocqa_dev.json"
    path.write_text(json.dumps([{"Conversation_no": 3, "Turn_no": 2, "Question": "when?", "Answer": "1990",
                                 "Topic": "X", "Context": ["what is x", "a band"], "Gold_passage": {}}]))
    assert detect_format(path) == "topiocqa"
    (turn,) = load_topics(path)
    assert turn.query_id == "3_2" and turn.history == (Exchange("what is x", "a band"),)


def test_ir_datasets_ids_go_through_ir_datasets(monkeypatch):
    ir_datasets = pytest.importorskip("ir_datasets")
    query = SimpleNamespace
    queries = [query(query_id="81_1", raw_utterance="first? ", topic_number=81, turn_number=1,
                     manual_rewritten_utterance="first?", automatic_rewritten_utterance="first?"),
               query(query_id="81_2", raw_utterance="second?", topic_number=81, turn_number=2,
                     manual_rewritten_utterance="second one?", automatic_rewritten_utterance="2nd?"),
               query(query_id="82_1", raw_utterance="other?", topic_number=82, turn_number=1,
                     manual_rewritten_utterance="", automatic_rewritten_utterance="other?")]
    dataset = SimpleNamespace(has_queries=lambda: True, queries_iter=lambda: iter(queries))
    monkeypatch.setattr(ir_datasets, "load", lambda dataset_id: dataset if dataset_id == "trec-cast/v1/2020" else {}[0])
    turns = by_id(load_topics("trec-cast/v1/2020"))
    assert turns["81_2"].history == (Exchange("first?"),) and turns["81_2"].manual_rewrite == "second one?"
    assert turns["82_1"].history == () and turns["82_1"].manual_rewrite is None
    with pytest.raises(InputError, match="unknown ir_datasets id 'trec-cast/v9'"):
        load_topics("trec-cast/v9")


# --- errors ----------------------------------------------------------------------------------------------------

def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_json_names_file_and_line(tmp_path):
    path = write(tmp_path, "topics.json", '[\n  {"number": 1,\n   "turn": [{"number": 1 "raw_utterance": "x"}]}\n]\n')
    with pytest.raises(InputError) as error:
        list(load_topics(path, format="cast2020"))
    assert str(error.value).startswith(f"{path}:3: invalid JSON")
    with pytest.raises(InputError, match=rf"^{path}:3: invalid JSON"):
        load_topics(path)  # detection reports it too


def test_invalid_jsonl_line_names_file_and_line(tmp_path):
    good = '{"conversation_id": "a", "turns": [{"utterance": "hi"}]}'
    path = write(tmp_path, "c.jsonl", f"{good}\n{{\"conversation_id\": \"b\", \"turns\": [\n")
    turns = load_topics(path)
    assert next(turns).query_id == "a_1"  # streamed: line 1 is read before line 2 fails
    with pytest.raises(InputError, match=rf"^{path}:2: invalid JSON"):
        next(turns)


@pytest.mark.parametrize("line, message", [
    ('{"conversation_id": "a", "turns": [{"utterance": "  "}]}', "empty utterance at conversation a turn 1"),
    ('{"conversation_id": "a", "turns": []}', "empty conversation at conversation a"),
    ('{"conversation_id": "a", "turns": [{"response": "x"}]}', "missing required key 'utterance'"),
    ('{"turns": [{"utterance": "x"}], "conversation_id": null}', "missing required key 'conversation_id'"),
])
def test_bad_jsonl_conversations(tmp_path, line, message):
    path = write(tmp_path, "c.jsonl", '{"conversation_id": "ok", "turns": [{"utterance": "fine"}]}\n' + line + "\n")
    with pytest.raises(InputError) as error:
        list(load_topics(path, format="jsonl"))
    assert str(error.value).startswith(f"{path}:2: ") and message in str(error.value)


@pytest.mark.parametrize("fmt, record, message", [
    ("cast2020", {"number": 5, "turn": [{"number": 1}]}, "missing required key 'raw_utterance' in topic 5 turn 1"),
    ("cast2020", {"number": 5, "turn": [{"number": 1, "raw_utterance": ""}]}, "empty utterance at topic 5 turn 1"),
    ("cast2022", {"number": 5, "turn": [{"number": "1-1", "participant": "User", "utterance": "a"},
                                        {"number": "1-2", "participant": "User", "parent": "9-9", "utterance": "b"}]},
     "parent '9-9' of topic 5 turn 1-2 is missing"),
    ("cast2022", {"turn": None}, "missing required key 'number' in a topic"),  # found by the loader fuzz pass
    ("cast2022", {"number": 5, "turn": [3]}, "expected a JSON list of turn objects"),
    ("ikat", {"number": "5-1", "ptkb": {}, "turns": []}, "empty conversation at topic 5-1"),
    ("ikat", {"number": "5-1", "ptkb": {}, "turns": [{"utterance": "x"}]}, "missing required key 'turn_id'"),
    ("qrecc", {"Conversation_no": 1, "Turn_no": 1, "Question": " "}, "empty utterance at conversation 1 turn 1"),
    ("topiocqa", {"conv_id": 1, "turn_id": 2, "question": "q1 [SEP] q2 [SEP] a2 [SEP] q3"}, "must alternate"),
])
def test_bad_json_records(tmp_path, fmt, record, message):
    path = write(tmp_path, "t.json", json.dumps([record]))
    with pytest.raises(InputError) as error:
        list(load_topics(path, format=fmt))
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_unknown_or_undetectable_formats(tmp_path):
    with pytest.raises(InputError, match="unknown topic format 'trec'; pass --topics-format one of cast2019"):
        load_topics(FIXTURES / "qrecc.json", format="trec")
    path = write(tmp_path, "odd.json", '[{"id": 1, "text": "x"}]')
    with pytest.raises(InputError, match="unknown topic format; pass --topics-format one of .*jsonl"):
        load_topics(path)
    with pytest.raises(InputError, match="empty JSON list"):
        load_topics(write(tmp_path, "empty.json", " []\n"))
    with pytest.raises(InputError, match="the file is empty"):
        load_topics(write(tmp_path, "blank.jsonl", "\n\n"))
    with pytest.raises(InputError, match="file not found"):
        load_topics(tmp_path / "missing.json")
    with pytest.raises(InputError, match="missing required key 'turns' in topic"):
        list(load_topics(write(tmp_path, "cast.json", '[{"number": 1, "turn": []}]'), format="ikat"))


# --- rewrites --------------------------------------------------------------------------------------------------

def test_attach_tsv_rewrites_to_cast():
    turns = by_id(attach_rewrites(load_topics(CAST2020_MANUAL), FIXTURES / "rewrites.tsv", "llm"))
    assert formulate(turns["81_2"], "rewrite:llm") == "why did my garage door opener stop working"
    with pytest.raises(InputError, match="query 81_3 has no rewrite from source 'llm'"):
        formulate(turns["81_3"], "rewrite:llm")


def test_attach_jsonl_rewrites_replaces_same_name():
    turns = by_id(attach_rewrites(load_topics(FIXTURES / "conversations.jsonl"), FIXTURES / "rewrites.jsonl",
                                  "mistral"))
    assert turns["c1_1"].rewrites == (("mistral", "sourdough starter definition"),)
    assert turns["c1_2"].rewrites == (("mistral", "keep sourdough starter alive"),)
    assert turns["c2_1"].rewrites == ()


@pytest.mark.parametrize("text, message", [
    ("81_1\tone\n81_1\ttwo\n", r":2: query id '81_1' appears twice"),
    ("81_1\tone\n81_2 no tab\n", r":2: expected 'query_id<TAB>rewrite'"),
    ('{"qid": "81_1"}\n', r":1: expected \{\"qid\""),
])
def test_bad_rewrite_files(tmp_path, text, message):
    path = write(tmp_path, "rw.txt", text)
    with pytest.raises(InputError, match=message):
        list(attach_rewrites([], path, "llm"))


def test_reserved_rewrite_names():
    with pytest.raises(InputError, match="must be non-empty"):
        attach_rewrites([], FIXTURES / "rewrites.tsv", "manual")


# --- formulation policies --------------------------------------------------------------------------------------

TURN = Turn("t_3", "t", "q3", (Exchange("q1", "a1"), Exchange("q2")), manual_rewrite="m3", automatic_rewrite="auto3",
            rewrites=(("llama", "l3"),))


@pytest.mark.parametrize("policy, options, expected", [
    ("disco", {}, "q3 [SEP] q2 [SEP] a1 [SEP] q1"),
    ("disco", {"max_answer_chars": 1, "max_question_chars": 1, "sep": "|"}, "q3 | q | a | q"),
    ("utterances", {}, "q3 [SEP] q2 [SEP] q1"),
    ("last-k", {"k": 1}, "q3 [SEP] q2"),
    ("last-k", {"k": 0}, "q3"),
    ("last-k", {"k": 5}, "q3 [SEP] q2 [SEP] a1 [SEP] q1"),
    ("concat", {}, "q1 [SEP] a1 [SEP] q2 [SEP] q3"),
    ("concat", {"sep": "||"}, "q1 || a1 || q2 || q3"),
    ("raw", {}, "q3"),
    ("manual", {}, "m3"),
    ("automatic", {}, "auto3"),
    ("rewrite:llama", {}, "l3"),
    ("rewrite:manual", {}, "m3"),
])
def test_policies(policy, options, expected):
    assert formulate(TURN, policy, **options) == expected


def test_default_policy_is_disco_and_registry_is_complete():
    assert formulate(TURN) == POLICIES["disco"](TURN)
    assert set(POLICIES) == {"disco", "utterances", "last-k", "concat", "raw", "manual", "automatic"}
    assert set(FORMATS) >= {"cast2019", "cast2020", "cast2022", "ikat", "topiocqa", "qrecc", "jsonl"}


@pytest.mark.parametrize("policy, message", [
    ("manual", "query u_1 has no manual rewrite"),
    ("automatic", "query u_1 has no automatic rewrite"),
    ("rewrite:mistral", "query u_1 has no rewrite from source 'mistral'"),
    ("rewrite:", "unknown formulation policy 'rewrite:'"),
    ("bm25", "unknown formulation policy 'bm25'"),
])
def test_policy_errors(policy, message):
    with pytest.raises(InputError, match=message):
        formulate(Turn("u_1", "u", "hello"), policy)


def test_last_k_rejects_negative_k():
    with pytest.raises(InputError, match="k >= 0"):
        formulate(TURN, "last-k", k=-1)


text = st.text(alphabet="abc xyz", min_size=1, max_size=8).filter(str.strip)


@settings(max_examples=50, deadline=None, database=None)
@given(history=st.lists(st.tuples(text, st.none() | text), max_size=6), utterance=text, k=st.integers(0, 8))
def test_policy_properties(history, utterance, k):
    turn = Turn("p_1", "p", utterance, tuple(Exchange(q, a) for q, a in history))
    current = utterance.strip()
    assert formulate(turn).split(" [SEP] ")[0] == current
    assert formulate(turn, "concat").split(" [SEP] ")[-1] == current
    assert formulate(turn, "concat").split(" [SEP] ") == list(reversed(formulate(turn).split(" [SEP] ")))
    assert formulate(turn, "utterances").count("[SEP]") == len(history)
    if k >= len(history):
        assert formulate(turn, "last-k", k=k) == formulate(turn)
