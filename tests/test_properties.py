"""Property-based tests (hypothesis): quantisation, formulation, JSONL round-trip, and a fuzz pass
over the topic loaders."""
from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disco_pyserini.errors import InputError
from disco_pyserini.quantize import check_integer_vector, quantize, quantize_arrays
from disco_pyserini.topics import FORMATS, Exchange, Turn, formulate, load_topics

weights = st.floats(min_value=0, max_value=50, allow_nan=False, width=32)
terms = st.text(min_size=1, max_size=12)
tokens = terms.filter(lambda term: len(term.split()) == 1 and term == term.strip())  # what Anserini keeps as one term
factors = st.sampled_from([1.0, 25.0, 51.2, 100.0, 1000.0])
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(str.strip)


@given(st.dictionaries(tokens, weights, max_size=40), factors)
def test_quantisation_is_round_half_even_of_the_scaled_weight(vector, factor):
    ints = quantize(vector, factor)
    assert all(type(w) is int and w > 0 for w in ints.values())
    assert ints == {t: round(float(w) * factor) for t, w in vector.items() if round(float(w) * factor) > 0}
    keep, values = quantize_arrays(np.array(list(vector.values()), dtype=np.float32), factor)
    assert dict(zip(np.array(list(vector), dtype=object)[keep].tolist(), values.tolist())) == ints
    assert check_integer_vector(ints) == ints  # quantised vectors always pass the index-time check


@given(terms, st.integers(min_value=0, max_value=2**32))
def test_index_time_check_refuses_what_lucene_would_mangle(term, weight):
    """A term Anserini would split on whitespace, or a weight past Java's int range, is refused, never altered."""
    mangled = len(term.split()) != 1 or term != term.strip() or weight > 2**31 - 1
    try:
        checked = check_integer_vector({term: weight})
    except InputError:
        assert mangled
    else:
        assert not mangled and checked == ({term: weight} if weight else {})


@given(st.dictionaries(terms, weights, min_size=1, max_size=20), st.dictionaries(terms, weights, max_size=20), factors)
def test_quantised_dot_product_tracks_the_float_one(query, doc, factor):
    q, d = quantize(query, factor), quantize(doc, factor)
    exact = sum(w * doc.get(t, 0.0) for t, w in query.items()) * factor ** 2
    approx = sum(w * d.get(t, 0) for t, w in q.items())
    # each weight moves by at most half a unit, or is dropped when below half a unit
    bound = sum(0.5 * (factor * doc.get(t, 0) + factor * w + 1) for t, w in query.items() if t in doc)
    assert abs(exact - approx) <= bound + 1e-6 * max(1.0, exact)


@given(st.dictionaries(tokens, st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers()),
                       min_size=1, max_size=5))
def test_integer_check_accepts_exactly_non_negative_integers_below_2_31(vector):
    valid = all(float(w) == int(w) and 0 <= w < 2**31 for w in vector.values())
    try:
        checked = check_integer_vector(vector)
    except InputError:
        assert not valid
    else:
        assert valid and checked == {t: int(w) for t, w in vector.items() if w}


conversations = st.lists(st.tuples(words, st.one_of(st.none(), words)), min_size=0, max_size=8)


@given(words, conversations)
def test_disco_input_is_newest_first_and_keeps_every_part(utterance, history):
    turn = Turn("c_1", "c", utterance, tuple(Exchange(u, r) for u, r in history))
    text = formulate(turn, "disco")
    parts = text.split(" [SEP] ")
    assert parts[0] == utterance.strip() or "[SEP]" in utterance
    expected = [utterance.strip()]
    for u, r in reversed(history):
        expected += ([r.strip()] if r else []) + [u.strip()]
    if not any("[SEP]" in p for p in expected):
        assert parts == expected
    assert formulate(turn, "raw") == utterance.strip()
    assert formulate(turn, "last-k", k=len(history)) == text
    assert formulate(turn, "utterances").split(" [SEP] ")[0] == parts[0]


@given(st.lists(st.fixed_dictionaries({"id": words, "vector": st.dictionaries(tokens, st.integers(1, 10**6))}),
                max_size=10))
def test_jsonl_export_lines_round_trip(records):
    for record in records:
        line = json.dumps({"id": record["id"], "contents": "", "vector": record["vector"]}, ensure_ascii=False)
        assert "\n" not in line
        back = json.loads(line)
        assert back["id"] == record["id"] and check_integer_vector(back["vector"]) == record["vector"]


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                               st.sampled_from(["number", "turn", "turns", "utterance", "raw_utterance", "conv_id",
                                                "turn_id", "conversation_id", "ptkb", "Conversation_no", "Question",
                                                "parent", "response", "question", "answer"]), inner, max_size=5),
                           max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(json_values.map(json.dumps), st.binary(max_size=60).map(lambda b: b.decode("latin-1"))),
       st.sampled_from([None, *FORMATS]), st.booleans())
def test_topic_loaders_never_crash_on_garbage(tmp_path_factory, content, format, as_jsonl):
    """Any file either loads as turns or fails with a one-line InputError; nothing else escapes."""
    if format == "ir_datasets":
        return
    path = tmp_path_factory.mktemp("fuzz") / ("topics.jsonl" if as_jsonl else "topics.json")
    path.write_text(content, encoding="utf-8")
    try:
        turns = list(load_topics(path, format))
    except InputError as error:
        assert "\n" not in str(error)
    else:
        assert all(isinstance(t, Turn) and t.utterance.strip() and t.query_id for t in turns)
