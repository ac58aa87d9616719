"""Real organiser files (vendored in tests/data) read as DiSCo reads them: counts, ids, formulations, responses,
history cuts, missing rewrites, BOMs and offline ir_datasets ids."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from disco_pyserini.encode.conversations import load_conversations
from disco_pyserini.errors import InputError
from disco_pyserini.topics import Exchange, Turn, detect_format, formulate, load_topics
from disco_pyserini.topics.cuts import cut_turn, default_cut

DATA = Path(__file__).parent / "data"
CAST2020 = DATA / "cast" / "2020" / "2020_manual_evaluation_topics_v1.0.json"
CAST2021 = DATA / "cast" / "2021" / "2021_manual_evaluation_topics_v1.0.json"
CAST2021_AUTO = DATA / "cast" / "2021" / "2021_automatic_evaluation_topics_v1.0.json"
CAST2022 = DATA / "cast" / "2022"
IKAT2023 = DATA / "ikat" / "2023" / "2023_test_topics.json"
IKAT2025 = DATA / "ikat" / "2025" / "2025_test_topics.json"


def by_id(path: Path) -> dict[str, Turn]:
    turns = list(load_topics(path))
    assert len({t.query_id for t in turns}) == len(turns)
    return {turn.query_id: turn for turn in turns}


@pytest.mark.parametrize("path, fmt, conversations, turns", [
    (CAST2021, "cast2021", 26, 239), (CAST2021_AUTO, "cast2021", 26, 239),
    (CAST2022 / "2022_evaluation_topics_tree_v1.0.json", "cast2022", 18, 205),
    (CAST2022 / "2022_evaluation_topics_flattened_duplicated_v1.0.json", "cast2022", 18, 205),
    (CAST2022 / "2022_automatic_evaluation_topics_tree_v1.0.json", "cast2022", 18, 205),
    (CAST2022 / "2022_automatic_evaluation_topics_flattened_duplicated_v1.0.json", "cast2022", 18, 205),
    (IKAT2023, "ikat", 25, 332), (IKAT2025, "ikat2025", 17, 188)])
def test_published_conversation_and_turn_counts(path, fmt, conversations, turns):
    assert detect_format(path) == fmt
    loaded = by_id(path)
    assert (len({t.topic_id for t in loaded.values()}), len(loaded)) == (conversations, turns)


def test_ids_match_the_turn_id_list_and_qrels():
    listed = json.loads((CAST2022 / "2022_evaluation_topics_turn_ids.json").read_text())
    expected = {f"{topic}_{turn}" for topic, turns in listed.items() for turn in turns}
    for name in ("2022_evaluation_topics_tree_v1.0.json", "2022_automatic_evaluation_topics_flattened_duplicated_v1.0.json"):
        assert by_id(CAST2022 / name).keys() == expected
    ptkb_qrels = {line.split()[0] for line in (DATA / "ikat" / "2023" / "ptkb_rel_nist").read_text().splitlines()}
    assert ptkb_qrels <= by_id(IKAT2023).keys()
    # CAsT 2021 qrels and iKAT 2025 runs use <number>_<turn>: 106_1, 1-1_2
    assert {"106_1", "106_9"} <= by_id(CAST2021).keys() and {"1-1_1", "1-1_2"} <= by_id(IKAT2025).keys()


def test_cast2021_canonical_passages_are_the_history_answers_cut_as_the_reference():
    turn = by_id(CAST2021)["106_5"]
    assert turn.manual_rewrite and turn.automatic_rewrite
    # 556 characters > 500: the reference CAsT preparation keeps the first 320, back to the last space
    expected = (
        "Wow, that's better than I thought.  What are common treatments? [SEP] It’s sometimes difficult to separate "
        "the two conditions and in this case it will be described as lobular neoplasia. Future breast cancer risk The "
        "vast majority of women diagnosed with ALH or LCIS will never get breast cancer. However, people diagnosed with "
        "either condition have a slightly higher risk than the general [SEP] What? No, I want to know about the "
        "deadliness of lobular carcinoma in situ. [SEP] In 1999, a student opened fire at W. R. Myers, killing one "
        "student and seriously wounding another. In 2000, LCI was locked down after two youths were arrested and two "
        "firearms were seized. Section::::Campus. [SEP] How deadly is it? [SEP] Even though this condition doesn’t "
        "spread, it’s important to keep an eye on it. Between 20% to 40% of women with this condition will develop a "
        "separate invasive breast cancer -- one that will grow outside its original location -- within the next 15 "
        "years. Most of the time, these later cancers begin in the milk ducts, rather than the lobules. How is lobular "
        "carcinoma in situ diagnosed? You often won’t have any symptoms with LCIS. [SEP] Once it breaks out, how "
        "likely is it to spread? [SEP] More research is needed. Types Breast cancer can be: Ductal carcinoma: This "
        "begins in the milk duct and is the most common type. Lobular carcinoma: This starts in the lobules. Invasive "
        "breast cancer is when the cancer cells break out from inside the lobules or ducts and invade nearby tissue, "
        "increasing the chance of spreading to other parts of the body. Non-invasive breast cancer is when the cancer "
        "is still inside its place of origin and has not broken out. [SEP] I just had a breast biopsy for cancer. What "
        "are the most common types?")
    assert default_cut("cast2021") == "cast"
    assert formulate(turn, "disco", cut="cast") == expected
    assert len(turn.history[3].response) == 556 and turn.history[3].response in formulate(turn, "disco")


def test_cast2022_automatic_rewrites_and_late_turn():
    tree = by_id(CAST2022 / "2022_automatic_evaluation_topics_tree_v1.0.json")
    flat = by_id(CAST2022 / "2022_automatic_evaluation_topics_flattened_duplicated_v1.0.json")
    assert formulate(tree["132_1-1"], "automatic") == formulate(flat["132_1-1"], "automatic")
    assert all(turn.automatic_rewrite for turn in tree.values())
    late = tree["132_1-5"]
    assert late.automatic_rewrite == ("Can you be more specific about the future problems caused by rising seas, "
                                      "growing deserts, and more frequent droughts?")
    assert formulate(late, "disco", cut="cast").startswith(
        "That’s rather vague. Can you be more specific? [SEP] Climate change is very likely having an impact now on "
        "our planet and its life, according to the latest instalment of a report published by the Intergovernmental "
        "Panel on Climate Change (IPCC). And the future problems caused by rising seas, growing deserts, and more "
        "frequent droughts all look set to affect the developing world more than rich countries, they add. [SEP] "
        "Interesting. What are the effects of these changes? [SEP] The COP26 event is a global")
    assert tree["132_1-5"].history == flat["132_1-5"].history


def test_ikat2025_turns_responses_and_ptkb():
    turns = by_id(IKAT2025)
    turn = turns["1-1_3"]
    assert turn.manual_rewrite and turn.ptkb[:2] == ("I want to stop doom scrolling.", "I like my local pizzeria.")
    assert formulate(turn, "disco") == (
        "How about the fruits I mentioned before? [SEP] Sure, here is a list of foods suitable for acid reflux and "
        "indigestion: non-citrus fruits (like watermelons, bananas, berries, apples, and pears), fresh vegetables "
        "(like cabbage and beets), lean meats (chicken and turkey), and oily fish (such as salmon and tuna). In "
        "addition, gingerroot tea, almond, chamomile tea, baking soda, and cider vinegar. Chewing gum helps increase "
        "saliva production and reduces acid in the esophagus. But avoid peppermint or spearmint gum. Drinking water "
        "can also help by diluting stomach acid and relieving symptoms. [SEP] Yes. [SEP] Hi, do you mean acid reflux "
        "of the stomach? [SEP] Hi there! Can you tell me some food good for acid reflux?")


def test_a_turn_without_rewrite_falls_back_with_one_warning_or_fails_with_strict():
    warnings = []
    loaded = load_conversations(IKAT2023, policy="manual", warn=warnings.append)
    assert loaded.without_rewrite == ("12-1_12",) and len(loaded.turns) == 332
    assert len(warnings) == 1 and "1 of 332 turns have no manual rewrite (12-1_12)" in warnings[0]
    turn = next(t for t in loaded.turns if t.query_id == "12-1_12")
    assert formulate(turn, "manual", fallback=True) == turn.utterance
    with pytest.raises(InputError, match="no manual rewrite"):
        formulate(turn, "manual")
    with pytest.raises(InputError, match=r"1 of 332 turns have no manual rewrite \(12-1_12\); supply"):
        load_conversations(IKAT2023, policy="manual", strict=True)
    assert load_conversations(IKAT2023, policy="disco", warn=warnings.append).without_rewrite == ()


def test_cast2020_canonical_responses_from_a_corpus_file(tmp_path):
    topic = tmp_path / "topic81.json"  # the real file's first topic
    topic.write_text(json.dumps(json.loads(CAST2020.read_text())[:1]))
    turns = by_id(topic)
    first, second = turns["81_1"].response_id, turns["81_2"].response_id
    long_answer = "word " * 120  # 600 characters: cut to 320, back to the last space
    corpus = tmp_path / "collection.tsv"
    corpus.write_text(f"{first}\tThe opener hums but the door does not move.\n{second}\t{long_answer.strip()}\n"
                      "OTHER_1\tunrelated\n")
    needed = {t.response_id for t in turns.values()}
    with pytest.raises(InputError, match=rf"{len(needed) - 2} response passage id\(s\) are not in .*collection.tsv"):
        load_conversations(topic, responses_from=corpus)
    with corpus.open("a") as handle:
        handle.writelines(f"{doc}\tanswer {doc}\n" for doc in sorted(needed - {first, second}))
    loaded = {t.query_id: t for t in load_conversations(topic, responses_from=corpus).turns}
    assert loaded["81_2"].history == (Exchange(turns["81_1"].utterance, "The opener hums but the door does not move.",
                                               first),)
    third = formulate(loaded["81_3"], "disco", cut="cast")
    assert third.split(" [SEP] ")[1] == ("word " * 64).rsplit(" ", 1)[0].strip()  # 320 characters, last word cut
    # no source of texts: one error naming both ways out; --history-responses none is the explicit opt-out
    with pytest.raises(InputError, match=r"name 209 canonical response passage\(s\) by id.*--responses-from "
                                         r"CORPUS_OR_INDEX.*--history-responses none"):
        load_conversations(CAST2020)
    warnings = []
    assert load_conversations(CAST2020, history_responses="none", warn=warnings.append
                              ).turns[1].history[0].response is None and not warnings


def test_history_cut_presets():
    turn = Turn("q", "t", "u" * 400, (Exchange("q" * 400, "a" * 600), Exchange("short", "b " * 300)))
    qrecc = cut_turn(turn, "qrecc")
    assert (len(qrecc.utterance), len(qrecc.history[0].utterance), len(qrecc.history[0].response)) == (320, 320, 500)
    assert qrecc.history[1].response == ("b " * 250).strip()
    cast = cut_turn(turn, "cast")  # no spaces: rsplit keeps the whole clipped text
    assert (len(cast.utterance), len(cast.history[0].response)) == (400, 320)
    assert cast.history[1].response == ("b " * 160).rsplit(" ", 1)[0]
    last = cut_turn(turn, "none", responses="last")
    assert [e.response for e in last.history] == [None, "b " * 300] and cut_turn(turn) is turn
    with pytest.raises(InputError, match="unknown history cut 'short'"):
        cut_turn(turn, "short")


def test_search_records_the_cut_and_fallbacks_in_the_run_metadata(sample_index, lexical_splade, tmp_path):
    from tests.conftest import search_sample

    run = tmp_path / "run.trec"
    search_sample(sample_index, lexical_splade, run, "--history-cut", "qrecc", "--policy", "raw")
    meta = json.loads((tmp_path / "run.trec.meta.json").read_text())
    assert meta["history_cut"] == "qrecc" and meta["policy"] == "raw" and meta["turns"] == 80
    assert meta["topics_format"] == "jsonl" and meta["encoder"] == str(lexical_splade)


def test_byte_order_mark_and_offline_ir_datasets(tmp_path, monkeypatch):
    bom = tmp_path / "topics.json"
    bom.write_bytes(b"\xef\xbb\xbf" + CAST2021.read_bytes())
    assert detect_format(bom) == "cast2021" and len(list(load_topics(bom))) == 239
    script = ("import ir_datasets, requests\n"
              "def offline(*a, **k): raise requests.exceptions.ConnectionError('no network')\n"
              "requests.Session.request = offline\nimport sys, runpy\n"
              "sys.argv = ['x', '--index', 'idx', '--topics', 'trec-cast/v1/2020', '--encoder', 'm', '--output', 'r']\n"
              "runpy.run_module('disco_pyserini.search', run_name='__main__')\n")
    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds"))
    (tmp_path / "idx").mkdir()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ir_datasets could not download the files of 'trec-cast/v1/2020'")
    assert str(tmp_path / "irds") in result.stderr


def test_train_build_records_the_cut_and_a_student_reads_conversations_the_same_way(tmp_path, random_splade):
    import shutil

    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.encode.trained import TRAINING_CONFIG
    from disco_pyserini.train.__main__ import main as train_main

    topics = tmp_path / "qrecc.json"
    records = json.loads((Path(__file__).parent / "fixtures" / "topics" / "qrecc_scai.json").read_text())
    records[1]["Context"][1] = "x" * 700  # an answer over QReCC's 500-character cut
    topics.write_text(json.dumps(records))
    (tmp_path / "qrels.txt").write_text("31_2 0 p1 1\n")
    (tmp_path / "run.trec").write_text("".join(f"31_2 Q0 p{i} {i} {20 - i} t\n" for i in range(1, 15)))
    output = tmp_path / "distill.jsonl"
    assert train_main(["build", "--topics", str(topics), "--qrels", str(tmp_path / "qrels.txt"), "--teacher-run",
                       str(tmp_path / "run.trec"), "--skip-top", "1", "--output", str(output)]) == 0
    head, record = (json.loads(line) for line in output.read_text().splitlines())
    assert head["history_cut"] == "qrecc" and head["history_responses"] == "all"  # QReCC's reference cut
    assert "x" * 500 in record["query"] and "x" * 501 not in record["query"]
    student = tmp_path / "student"
    shutil.copytree(random_splade, student)
    (student / TRAINING_CONFIG).write_text(json.dumps({"history_cut": "qrecc", "query_topk": None}))
    turn = next(t for t in load_topics(topics) if t.query_id == "31_2")
    assert DiscoQueryEncoder(str(student), device="cpu").query_text(turn) == record["query"]
    assert "x" * 700 in DiscoQueryEncoder(str(random_splade), device="cpu").query_text(turn)
