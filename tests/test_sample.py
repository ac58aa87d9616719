"""The bundled sample data and the tiny lexical SPLADE model built from it."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM

from disco_pyserini.sample import (CONVERSATIONS, CORPUS, DATA_DIR, QRELS, TRAIN_CONVERSATIONS, TRAIN_QRELS,
                                   build_tiny_splade)
from disco_pyserini.sample.build_data import write_sample
from disco_pyserini.topics.jsonl import load_jsonl


def read_corpus() -> dict[str, str]:
    docs = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    ids = [doc["id"] for doc in docs]
    assert len(ids) == len(set(ids)), "duplicate doc ids"
    return {doc["id"]: doc["contents"] for doc in docs}


def read_qrels(path: Path = QRELS) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in path.read_text(encoding="utf-8").splitlines():
        qid, zero, doc_id, rel = line.split()
        assert zero == "0" and doc_id not in qrels[qid]
        qrels[qid][doc_id] = int(rel)
    return qrels


def splade(model, tokenizer, texts: list[str], batch_size: int = 64) -> torch.Tensor:
    """Dense [len(texts), vocab] SPLADE max pooling, computed here independently of the toolkit."""
    vectors = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True, max_length=256,
                          return_tensors="pt")
        with torch.no_grad():
            logits = model(**batch).logits
        vectors.append((torch.log1p(torch.relu(logits)) * batch["attention_mask"].unsqueeze(-1)).amax(dim=1))
    return torch.cat(vectors)


@pytest.fixture(scope="module")
def loaded(lexical_splade: Path):
    return AutoTokenizer.from_pretrained(lexical_splade), AutoModelForMaskedLM.from_pretrained(lexical_splade).eval()


# ------------------------------------------------------------------------------------------- data

def test_corpus_is_small_and_well_formed():
    corpus = read_corpus()
    assert len(corpus) == 140 * 9  # every creature: an overview and eight attribute passages
    assert all(text.strip() and text.endswith(".") for text in corpus.values())
    assert sum(path.stat().st_size for path in DATA_DIR.iterdir()) < 1_000_000


def conversations_of(path: Path) -> dict[str, list]:
    conversations = defaultdict(list)
    for turn in load_jsonl(path):
        conversations[turn.topic_id].append(turn)
    return conversations


def test_conversations_load_with_the_toolkit_reader_and_hold_out_their_creatures():
    test, train = conversations_of(CONVERSATIONS), conversations_of(TRAIN_CONVERSATIONS)
    assert (len(train), len(test)) == (120, 20)
    for conversations in (train, test):
        turns = [t for c in conversations.values() for t in c]
        assert all(len(c) == 4 for c in conversations.values())
        assert len({t.query_id for t in turns}) == len(turns)
        assert all(t.manual_rewrite and t.response and t.rewrite("expansion") for t in turns)
        # First turns are self-contained; later turns omit the creature, and the history holds the answers.
        assert all(c[0].utterance == c[0].manual_rewrite for c in conversations.values())
        assert all(t.utterance != t.manual_rewrite and t.history[-1].response for c in conversations.values()
                   for t in c[1:])

    def creature(conversation):
        return conversation[0].utterance.rsplit(" ", 1)[1]

    assert not {creature(c) for c in test.values()} & {creature(c) for c in train.values()}


def test_qrels_judge_every_turn_against_existing_docs():
    corpus = read_corpus()
    for conversations, qrels in ((CONVERSATIONS, read_qrels(QRELS)), (TRAIN_CONVERSATIONS, read_qrels(TRAIN_QRELS))):
        assert set(qrels) == {t.query_id for t in load_jsonl(conversations)}
        assert all(doc_id in corpus for judged in qrels.values() for doc_id in judged)
        assert all(sorted(judged.values()) in ([2], [1, 2]) for judged in qrels.values())


def test_data_files_match_the_generator(tmp_path: Path):
    write_sample(tmp_path)
    for name in ("corpus.jsonl", "conversations.jsonl", "qrels.txt", "train.jsonl", "train.qrels.txt"):
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), f"{name} is stale: rerun build_data"


# ------------------------------------------------------------------------------------------ model

def test_model_loads_as_a_bert_mlm(loaded):
    tokenizer, model = loaded
    assert isinstance(model, BertForMaskedLM)
    assert model.config.vocab_size == len(tokenizer) and model.config.hidden_size <= 128
    assert tokenizer.tokenize("The DIET") == ["the", "diet"]
    specials = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
    assert [tokenizer.convert_tokens_to_ids(t) for t in specials] == [0, 1, 2, 3, 4]
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def test_splade_vectors_are_sparse_and_lexical(loaded):
    tokenizer, model = loaded
    corpus = read_corpus()
    texts = list(corpus.values())[:40]
    vectors = splade(model, tokenizer, texts)
    specials = [tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id]
    assert (vectors[:, specials] == 0).all()
    for text, vector in zip(texts, vectors):
        own = set(tokenizer(text, add_special_tokens=False)["input_ids"])
        active = set(vector.nonzero().flatten().tolist())
        assert active <= own, "a term outside the passage got weight"
        # an attribute passage's facts (its last words, rare in the corpus) carry weight; stopwords never do
        words = text.rstrip(".").split()[-3:] if ":" in text else []
        facts = {i for word in words for i in tokenizer(word, add_special_tokens=False)["input_ids"]}
        assert facts <= active and not active & set(tokenizer.convert_tokens_to_ids(["the", "of"]))
    text = "The diet of the creature: it eats berries."
    vector = splade(model, tokenizer, [text])[0]
    weight = {term: vector[tokenizer.convert_tokens_to_ids(term)].item()
              for term in ("diet", "berries", "the", "habitat")}
    assert weight["diet"] > 0.5 and weight["berries"] > 0.5
    assert weight["the"] == 0 and weight["habitat"] == 0


def test_same_seed_builds_identical_models(lexical_splade: Path, tmp_path: Path):
    again = build_tiny_splade(tmp_path / "again")
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (again / name).read_bytes() == (lexical_splade / name).read_bytes()
    other = AutoModelForMaskedLM.from_pretrained(build_tiny_splade(tmp_path / "seed1", seed=1))
    first = AutoModelForMaskedLM.from_pretrained(lexical_splade)
    assert not torch.equal(other.get_input_embeddings().weight, first.get_input_embeddings().weight)


def test_too_small_hidden_size_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="hidden_size"):
        build_tiny_splade(tmp_path / "tiny", hidden_size=8, num_heads=2)


def test_model_is_trainable(loaded, lexical_splade: Path):
    tokenizer, _ = loaded
    model = AutoModelForMaskedLM.from_pretrained(lexical_splade).train()
    batch_texts = ["What is the diet of the creature?", "habitat forests"]
    batch = tokenizer(batch_texts, padding=True, return_tensors="pt")
    weights = torch.log1p(torch.relu(model(**batch).logits)) * batch["attention_mask"].unsqueeze(-1)
    weights.amax(dim=1).sum().backward()
    # Train mode (dropout included) keeps the lexical vectors, so training starts from them.
    assert torch.equal(weights.detach().amax(dim=1) > 0, splade(model.eval(), tokenizer, batch_texts) > 0)
    grads = {name: p.grad for name, p in model.named_parameters()}
    assert all(g is None or torch.isfinite(g).all() for g in grads.values())
    for name in ("bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.output.dense.weight",
                 "bert.encoder.layer.0.attention.output.dense.weight", "cls.predictions.bias"):
        assert grads[name].abs().sum() > 0, name


# -------------------------------------------------------------------------------------- retrieval

def mrr_at_10(tokenizer, model, field: str) -> float:
    corpus, qrels = read_corpus(), read_qrels()
    ids = list(corpus)
    docs = splade(model, tokenizer, list(corpus.values()))
    turns = list(load_jsonl(CONVERSATIONS))
    queries = splade(model, tokenizer, [getattr(t, field) for t in turns])
    total = 0.0
    for turn, scores in zip(turns, (queries @ docs.T).tolist()):
        ranking = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:10]
        relevant = [rank for rank, i in enumerate(ranking, 1) if qrels[turn.query_id].get(ids[i], 0) >= 2]
        total += 1 / relevant[0] if relevant else 0.0
    return total / len(turns)


def test_rewrites_retrieve_well_and_raw_utterances_do_not(loaded):
    tokenizer, model = loaded
    rewrite, raw = mrr_at_10(tokenizer, model, "manual_rewrite"), mrr_at_10(tokenizer, model, "utterance")
    assert rewrite >= 0.8
    assert raw <= 0.3 and rewrite - raw >= 0.5
