"""The terminal chat: conversation state, commands and what is shown per turn."""
from __future__ import annotations

import io

from disco_pyserini.chat import converse, top_terms


def test_top_terms_marks_expansion_terms():
    assert top_terms({"panda": 300, "bamboo": 120, "eat": 200}, "what does it eat", 2) == "+panda:300 eat:200"


def test_chat_resolves_the_pronoun_from_history_and_resets(sample_index, lexical_splade):
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.search import ImpactSearcher

    searcher = ImpactSearcher(sample_index / "index")
    encoder = DiscoQueryEncoder(str(lexical_splade), device="cpu")
    lines = io.StringIO("What is the habitat of the tenolo?\nWhat is its diet?\n/history\n/reset\n"
                        "What is its diet?\n/quit\nnever read\n")
    out = io.StringIO()
    assert converse(searcher, encoder, lines, out, hits=1) == 3
    shown = out.getvalue().splitlines()
    turns = [i for i, line in enumerate(shown) if line.startswith("[turn")]
    assert [shown[i].split("]")[0] for i in turns] == ["[turn 1", "[turn 2", "[turn 1"]
    assert "tenolo" in shown[turns[1]] and "tenolo" in shown[turns[1] + 1]  # "its" resolved through the history
    assert "  2. What is its diet?" in shown and "(new conversation)" in shown
    # each turn's top passage is its answer in the history, as CAsT 2020's canonical responses
    answer = shown[turns[0] + 1].split(") ", 1)[1]
    assert shown[shown.index("  1. What is the habitat of the tenolo?") + 1] == f"     answer: {answer}"
    assert "tenolo" not in shown[turns[2]]  # after /reset the history is gone
