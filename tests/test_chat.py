"""The terminal chat: conversation state, commands and what is shown per turn."""
from __future__ import annotations

import io

import pytest

from disco_pyserini.chat import converse, format_terms


def test_format_terms_marks_expansion_terms():
    assert format_terms({"panda": 300, "bamboo": 120, "eat": 200}, "what does it eat", 2) == "+panda:300 eat:200"


@pytest.fixture(scope="module")
def retriever(sample_index, lexical_splade):
    from disco_pyserini.serve.retriever import Retriever

    retriever = Retriever(sample_index / "index", str(lexical_splade), device="cpu")
    yield retriever
    retriever.close()


def test_chat_resolves_the_pronoun_from_history_and_resets(retriever):
    lines = io.StringIO("What is the habitat of the tenolo?\nWhat is its diet?\n/history\n/reset\n"
                        "What is its diet?\n/quit\nnever read\n")
    out = io.StringIO()
    assert converse(retriever, lines, out, hits=1) == 3
    shown = out.getvalue().splitlines()
    turns = [i for i, line in enumerate(shown) if line.startswith("[turn")]
    assert [shown[i].split("]")[0] for i in turns] == ["[turn 1", "[turn 2", "[turn 1"]
    assert "tenolo" in shown[turns[1]] and "tenolo" in shown[turns[1] + 1]  # "its" resolved through the history
    assert "  2. What is its diet?" in shown and "(new conversation)" in shown
    # each turn's top passage is its answer in the history, as CAsT 2020's canonical responses
    answer = shown[turns[0] + 1].split(") ", 1)[1]
    assert shown[shown.index("  1. What is the habitat of the tenolo?") + 1] == f"     answer: {answer}"
    assert "tenolo" not in shown[turns[2]]  # after /reset the history is gone


def test_unknown_command_lists_the_commands_instead_of_searching(retriever):
    out = io.StringIO()
    assert converse(retriever, io.StringIO("/help\n/history\n"), out) == 0
    assert out.getvalue().splitlines() == ["unknown command /help; commands: /reset (new conversation), /history, "
                                           "/quit", "  (empty)"]


def test_a_turn_that_finds_nothing_says_so(retriever):
    out = io.StringIO()
    assert converse(retriever, io.StringIO("qqqqzzzz xxxyyy\n"), out) == 1
    assert "no passage matched" in out.getvalue()


def test_chat_hides_the_loading_weights_bar(sample_index, lexical_splade, monkeypatch, capsys):
    from transformers.utils import logging as hf_logging

    from disco_pyserini.chat import main

    hf_logging.enable_progress_bar()  # as in a fresh process (another test may have switched it off)
    monkeypatch.setattr("sys.stdin", io.StringIO("tenolo diet\n"))
    assert main(["--index", str(sample_index / "index"), "--encoder", str(lexical_splade), "--device", "cpu"]) == 0
    shown = capsys.readouterr()
    assert "[turn 1]" in shown.out and "Loading weights" not in shown.err
