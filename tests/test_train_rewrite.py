"""LLM rewriting: batching, resumable output, the format attach_rewrites reads (tiny random local LM)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from disco_pyserini.rewrite import Rewriter, build_prompt, finished_qids, rewrite_turns
from disco_pyserini.sample import CONVERSATIONS
from disco_pyserini.topics import attach_rewrites, load_topics


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory) -> Path:
    """A randomly initialised 1-layer GPT-2 with a small word-level vocabulary, saved locally."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny_llm")
    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    texts = [line for line in CONVERSATIONS.read_text().splitlines()]
    raw.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=300, special_tokens=["<unk>", "<eos>"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>", eos_token="<eos>")
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=16, n_layer=1, n_head=2, n_positions=1024,
                        eos_token_id=1, bos_token_id=1)
    GPT2LMHeadModel(config).save_pretrained(path)
    return path


def test_plain_prompt_holds_history_and_question(tiny_llm):
    rewriter = Rewriter(str(tiny_llm), device="cpu", max_new_tokens=3)
    turn = list(load_topics(CONVERSATIONS))[1]
    prompt = build_prompt(turn, rewriter.tokenizer)
    assert "Q: tell me about the tenolo" in prompt and "A: the tenolo is a creature." in prompt
    assert prompt.endswith(f"Last question: {turn.utterance}\nRewrite:")


def test_batched_resumable_rewrites(tiny_llm, tmp_path):
    turns = [turn for turn in load_topics(CONVERSATIONS) if turn.topic_id in ("c121", "c122")]
    rewriter = Rewriter(str(tiny_llm), device="cpu", max_new_tokens=4)
    batches = []
    original = rewriter.rewrite
    rewriter.rewrite = lambda batch: batches.append(len(batch)) or original(batch)
    output = tmp_path / "rewrites.jsonl"

    assert rewrite_turns(rewriter, turns[:5], output, batch_size=2, progress=False) == 5
    assert batches == [2, 2, 1]
    # A killed run leaves a torn last line: it is dropped and the turn redone.
    with open(output, "a", encoding="utf-8") as handle:
        handle.write('{"qid": "c122_2", "rewr')
    batches.clear()
    assert rewrite_turns(rewriter, turns, output, batch_size=4, progress=False) == len(turns) - 5 == 3
    assert batches == [3]
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["qid"] for row in rows] == [turn.query_id for turn in turns]
    assert all(set(row) == {"qid", "rewrite"} and row["rewrite"].strip() for row in rows)
    assert finished_qids(output) == {turn.query_id for turn in turns}
    attached = list(attach_rewrites(turns, output, "tiny"))
    assert all(turn.rewrite("tiny") for turn in attached)
    # Nothing left to do on a third run.
    assert rewrite_turns(rewriter, turns, output, batch_size=4, progress=False) == 0


def test_cli_writes_rewrites(tiny_llm, tmp_path, capsys):
    from disco_pyserini.rewrite.__main__ import main

    output = tmp_path / "out.jsonl"
    assert main(["--llm", str(tiny_llm), "--topics", str(CONVERSATIONS), "--output", str(output),
                 "--max-new-tokens", "2", "--batch-size", "16", "--device", "cpu", "--no-progress"]) == 0
    assert len(output.read_text().splitlines()) == len(list(load_topics(CONVERSATIONS)))


def test_prompt_shows_ikat_ptkb_statements():
    from disco_pyserini.rewrite import conversation_text
    from disco_pyserini.topics import Exchange, Turn

    turn = Turn("1-1_2", "1-1", "Which one suits me?", (Exchange("I need a new bike.", "Road or gravel?"),),
                ptkb=("I live in the Alps.", "I am vegetarian."))
    text = conversation_text(turn)
    assert "About the user: I live in the Alps.\nAbout the user: I am vegetarian.\nQ: I need a new bike." in text
    assert text.endswith("A: Road or gravel?\nLast question: Which one suits me?")
