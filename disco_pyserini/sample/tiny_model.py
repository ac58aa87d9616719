"""A tiny SPLADE-shaped ``BertForMaskedLM`` whose SPLADE vectors are lexical, built offline.

SPLADE weights are ``w_j = max_i log(1 + relu(logit_ij))``. The weights are constructed so that
each input token activates exactly its own vocabulary entry, with an IDF-like strength:

* word embeddings ``e_t``: seeded Gaussian rows, centred and scaled to norm ``sqrt(hidden)``. A
  LayerNorm (gain 1, bias 0) maps such a vector to itself, and distinct rows are near-orthogonal
  (cosine ~ N(0, 1/hidden)). Position and token-type embeddings are zero, so the embedding layer
  outputs ``e_t`` at every position.
* every transformer layer: attention-output and FFN-output dense layers are zero, so both residual
  branches add nothing and the post-LayerNorms return their input: the encoder is the identity.
  Query/key/value and FFN-input weights keep their seeded random init, so fine-tuning starts from a
  normal network (gradients reach the zeroed output layers first).
* MLM head transform: dense = identity plus a constant shift ``HEAD_SHIFT`` that keeps GELU in its
  linear range; the following LayerNorm removes the shift again, so the head sees ``e_t``.
* decoder tied to the word embeddings, so ``logit_tj = e_t . e_j + b_j = hidden * cos(t, j) + b_j``.
  With ``b_j = expm1(w_j) - hidden`` the token itself scores ``expm1(w_j)``, i.e. SPLADE weight
  ``w_j`` (``-1`` instead where ``w_j`` is 0, so relu cuts it exactly), and every other entry
  stays below zero because ``hidden * (1 - cos)`` exceeds ``expm1(MAX_WEIGHT)`` (checked at build
  time). ``w_j`` is token ``j``'s IDF on the training texts scaled into ``[0, MAX_WEIGHT]``;
  special tokens, English stopwords and punctuation get 0.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Iterable

import torch
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast, PreTrainedTokenizerBase

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
MAX_WEIGHT = 3.0
HEAD_SHIFT = 10.0
# The sample is too small for IDF alone to recognise every function word ("what", "does" are
# rare in passages but frequent in questions), so these carry no weight whatever their IDF.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just like me many more most
much my no nor not now of off on once one only or other our out over own same she should so some
such than that the their theirs them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your
""".split())


def default_texts() -> list[str]:
    """The bundled sample's passages, and the questions and manual rewrites of its conversations."""
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, TRAIN_CONVERSATIONS

    with open(CORPUS, encoding="utf-8") as lines:
        texts = [json.loads(line)["contents"] for line in lines if line.strip()]
    for path in (TRAIN_CONVERSATIONS, CONVERSATIONS):
        with open(path, encoding="utf-8") as lines:
            for line in filter(str.strip, lines):
                turns = json.loads(line)["turns"]
                texts += [text for turn in turns for text in (turn["utterance"], turn["manual_rewrite"])]
    return texts


def train_vocabulary(texts: list[str], vocab_size: int) -> dict[str, int]:
    """A lowercase WordPiece vocabulary trained on ``texts`` with ``tokenizers``, the same in every
    process: the trainer numbers ``##c`` continuation pieces in hash-map order and breaks merge ties
    by id (huggingface/tokenizers#1794), so they are registered up front, in sorted order."""
    trainer = BertWordPieceTokenizer(lowercase=True)
    chars = {c for text in texts for c in trainer.normalizer.normalize_str(text) if not c.isspace()}
    trainer.train_from_iterator(texts, vocab_size=vocab_size, show_progress=False,
                                special_tokens=[*SPECIAL_TOKENS, *(f"##{c}" for c in sorted(chars))])
    return trainer.get_vocab()


def term_weights(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> torch.Tensor:
    """Per-token target SPLADE weight: Robertson-Sparck Jones IDF over ``texts`` (0 for tokens in
    half the texts or more) scaled so an unseen token gets ``MAX_WEIGHT``; 0 for special tokens,
    stopwords and punctuation."""
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    df = Counter(token for ids in encoded for token in set(ids))
    n = len(texts)
    vocab = tokenizer.get_vocab()
    weights = torch.zeros(len(vocab), dtype=torch.float64)
    for token, index in vocab.items():
        # Punctuation carries no topic, as in trained SPLADE models.
        if token in SPECIAL_TOKENS or token in STOPWORDS or not any(c.isalnum() for c in token):
            continue
        idf = math.log((n - df[index] + 0.5) / (df[index] + 0.5))
        weights[index] = MAX_WEIGHT * max(idf, 0.0) / math.log((n + 0.5) / 0.5)
    return weights


def _set_lexical_weights(model: BertForMaskedLM, embeddings: torch.Tensor, weights: torch.Tensor) -> None:
    """Overwrite ``model`` in place with the construction described in the module docstring."""
    hidden = embeddings.shape[1]
    with torch.no_grad():
        bert = model.bert
        bert.embeddings.word_embeddings.weight.copy_(embeddings)
        bert.embeddings.position_embeddings.weight.zero_()
        bert.embeddings.token_type_embeddings.weight.zero_()
        for layer in bert.encoder.layer:
            for dense in (layer.attention.output.dense, layer.output.dense):
                dense.weight.zero_()
                dense.bias.zero_()
        transform = model.cls.predictions.transform
        transform.dense.weight.copy_(torch.eye(hidden))
        transform.dense.bias.fill_(HEAD_SHIFT)
        # Zero-weight tokens get a negative own logit, so relu cuts them exactly (not to ~1e-7).
        own_logit = torch.where(weights > 0, torch.expm1(weights), torch.full_like(weights, -1.0))
        model.cls.predictions.bias.copy_((own_logit - hidden).float())


def _random_embeddings(vocab_size: int, hidden: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randn(vocab_size, hidden, generator=generator, dtype=torch.float64)
    rows -= rows.mean(dim=1, keepdim=True)
    return (rows * math.sqrt(hidden) / rows.norm(dim=1, keepdim=True)).float()


def check_lexical(model: BertForMaskedLM, weights: torch.Tensor, chunk: int = 512) -> None:
    """Raise ``ValueError`` unless each token's MLM logits are positive for itself only (where its
    weight is positive) and its own SPLADE weight matches ``weights``; runs every vocabulary token."""
    model.eval()
    vocab_size = weights.shape[0]
    with torch.no_grad():
        for start in range(0, vocab_size, chunk):
            ids = torch.arange(start, min(start + chunk, vocab_size))
            logits = model(input_ids=ids.unsqueeze(1)).logits[:, 0, :].double()
            own = logits[torch.arange(len(ids)), ids]
            logits[torch.arange(len(ids)), ids] = -1.0
            if logits.max() >= 0 or not torch.allclose(torch.log1p(own.clamp(min=0)), weights[ids], atol=1e-3):
                raise ValueError("token embeddings are not orthogonal enough for a lexical model; "
                                 "use a larger hidden_size or a smaller vocab_size")


def build_tiny_splade(output_dir: str | Path, texts: Iterable[str] | None = None, vocab_size: int = 1024,
                      seed: int = 0, hidden_size: int = 64, num_layers: int = 2, num_heads: int = 2) -> Path:
    """Train a WordPiece vocabulary on ``texts`` (default: the bundled sample) and save a tiny
    lexical SPLADE ``BertForMaskedLM`` with its ``BertTokenizerFast`` to ``output_dir``.

    Deterministic for a given ``texts`` and ``seed``; loads with ``AutoTokenizer`` and
    ``AutoModelForMaskedLM``. Returns ``output_dir`` as a ``Path``.
    """
    output_dir = Path(output_dir)
    texts = list(default_texts() if texts is None else texts)
    tokenizer = BertTokenizerFast(vocab=train_vocabulary(texts, vocab_size), do_lower_case=True,
                                  model_max_length=512)
    weights = term_weights(tokenizer, texts)
    # No dropout: it would shrink every token's own logit in train mode (LayerNorm renormalises a
    # partly zeroed e_t) and silence most terms, so fine-tuning must start from the eval-mode vectors.
    config = BertConfig(vocab_size=len(weights), hidden_size=hidden_size, num_hidden_layers=num_layers,
                        num_attention_heads=num_heads, intermediate_size=4 * hidden_size,
                        max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    # Seed the global generator for the default init of the untouched layers, without leaking it.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertForMaskedLM(config)
    _set_lexical_weights(model, _random_embeddings(len(weights), hidden_size, seed), weights)
    check_lexical(model, weights)
    output_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(output_dir)
    model.save_pretrained(output_dir)
    return output_dir
