"""DiscoQueryEncoder: conversation inputs, DiSCo formulation, quantisation and validation."""
from __future__ import annotations

import pytest

from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.errors import InputError
from disco_pyserini.topics import Exchange, Turn


@pytest.fixture(scope="module")
def encoder(random_splade):
    from disco_pyserini.encode.query import DiscoQueryEncoder

    return DiscoQueryEncoder(str(random_splade), device="cpu")


def test_is_a_pyserini_query_encoder(encoder):
    from disco_pyserini.jvm import import_pyserini

    assert isinstance(encoder, import_pyserini("pyserini.encode").QueryEncoder)


def test_conversation_forms_build_the_disco_input(encoder):
    turn = Turn("c1_3", "c1", "what does it eat?",
                (Exchange("tell me about pandas", "pandas live in china"), Exchange("where do they live?", "forests")))
    expected = "what does it eat? [SEP] forests [SEP] where do they live? [SEP] pandas live in china [SEP] tell me about pandas"
    assert encoder.query_text(turn) == expected
    as_dict = {"utterance": "what does it eat?", "history": [
        {"utterance": "tell me about pandas", "response": "pandas live in china"},
        {"utterance": "where do they live?", "response": "forests"}]}
    assert encoder.query_text(as_dict) == expected
    assert encoder.query_text(["tell me about pandas", "what does it eat?"]) == \
        "what does it eat? [SEP] tell me about pandas"
    assert encoder.query_text("a plain rewrite") == "a plain rewrite"


def test_encode_quantises_the_float_vector_with_the_factor(encoder, random_splade):
    text = "what does it eat? [SEP] tell me about pandas"
    floats = SpladeEncoder(str(random_splade), device="cpu").encode(text)
    ints = encoder.encode(["tell me about pandas", "what does it eat?"])
    assert ints == {t: round(w * 100) for t, w in floats.items() if round(w * 100) > 0}
    assert encoder.encode_batch([text, "tell me about pandas"])[0] == ints


def test_long_history_is_truncated_keeping_the_current_turn(random_splade):
    from disco_pyserini.encode.query import DiscoQueryEncoder

    short = DiscoQueryEncoder(str(random_splade), device="cpu", max_length=12)
    history = [f"old question {i} about forest river bank money" for i in range(50)]
    tokens = short.splade.tokenizer(short.query_text(history + ["panda bamboo"]), truncation=True, max_length=12)
    assert len(tokens["input_ids"]) == 12
    kept = short.splade.tokenizer.decode(tokens["input_ids"], skip_special_tokens=True)
    assert kept.startswith("panda bamboo old")  # newest first: the current turn, then the newest history
    # the oldest history cannot influence the vector: it lies beyond the 12-token window
    assert short.encode(history + ["panda bamboo"]) == short.encode(["changed"] + history[1:] + ["panda bamboo"])


def test_pre_encoded_vectors_pass_through_or_are_rejected(encoder):
    assert encoder.encode({"panda": 120, "china": 3.0, "zero": 0}) == {"panda": 120, "china": 3}
    with pytest.raises(InputError, match="not an integer"):
        encoder.encode({"panda": 0.7})
    with pytest.raises(InputError, match="negative"):
        encoder.encode({"panda": -2})


@pytest.mark.parametrize("query", [[], ["earlier", "   "], {"utterance": "", "history": []}, "  "])
def test_empty_conversations_are_errors(encoder, query):
    with pytest.raises(InputError, match="empty"):
        encoder.encode(query)


def test_unknown_policy_and_missing_rewrite(random_splade, encoder):
    from disco_pyserini.encode.query import DiscoQueryEncoder

    with pytest.raises(InputError, match="unknown query formulation 'nope'"):
        DiscoQueryEncoder(str(random_splade), device="cpu", policy="nope")
    manual = DiscoQueryEncoder(str(random_splade), device="cpu", policy="manual")
    with pytest.raises(InputError, match="c1_2 has no manual rewrite"):
        manual.encode(Turn("c1_2", "c1", "and then?"))
    assert manual.query_text(Turn("c1_2", "c1", "and then?", manual_rewrite="and then pandas?")) == "and then pandas?"


def test_top_k_keeps_the_largest_weights(random_splade):
    import numpy as np

    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.encode.splade import SparseVector

    vector = SparseVector(np.array([2, 5, 7, 9]), np.array([0.5, 2.0, 0.5, 1.0], dtype=np.float32))
    pruned = vector.top_k(3)  # the tie at 0.5 goes to the smaller id; ids stay ascending
    assert pruned.ids.tolist() == [2, 5, 9] and pruned.weights.tolist() == [0.5, 2.0, 1.0]
    assert vector.top_k(None) is vector and vector.top_k(10) is vector

    text = "what does it eat? [SEP] tell me about pandas"
    full = DiscoQueryEncoder(str(random_splade), device="cpu").encode(text)
    pruning = DiscoQueryEncoder(str(random_splade), device="cpu", top_k=5)
    top = pruning.encode(text)
    # Ranked by float weight: several terms can share one quantised impact.
    floats = pruning.splade.encode(text)
    assert len(top) == 5 and top == {term: full[term] for term in sorted(floats, key=floats.get, reverse=True)[:5]}
    with pytest.raises(InputError, match="top_k must be >= 0"):
        DiscoQueryEncoder(str(random_splade), device="cpu", top_k=-1)
