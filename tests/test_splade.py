"""SPLADE pooling, quantisation and parity with Pyserini's own SPLADE encoders."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.quantize import PYSERINI_SPLADE_FACTOR
from tests.conftest import random_texts, with_pytorch_weights


class FixedLogits(torch.nn.Module):
    """Stands in for the MLM: returns known logits so the pooled weights can be computed by hand."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = logits

    def forward(self, input_ids, attention_mask):
        return SimpleNamespace(logits=self.logits[:, : input_ids.shape[1]].clone())


def test_pooling_is_masked_max_of_log1p_relu(random_splade):
    encoder = SpladeEncoder(str(random_splade), device="cpu")
    short, long = "panda", "panda bamboo china eats"
    length = encoder.tokenizer([long], return_tensors="pt")["input_ids"].shape[1]
    vocab = len(encoder.terms)
    logits = torch.full((2, length, vocab), -1.0)
    logits[0, 0, 7] = math.e - 1      # log1p(e - 1) = 1
    logits[0, 1, 7] = 0.5             # smaller: max keeps 1
    logits[0, 1, 9] = 3.0             # log1p(3)
    logits[0, length - 1, 11] = 100.0  # padding position of the short text: must be ignored
    logits[1, 2, 11] = 1.0
    encoder.model = FixedLogits(logits)
    pooled = encoder.pooled([short, long])
    expected = torch.zeros(2, vocab)
    expected[0, 7], expected[0, 9], expected[1, 11] = 1.0, math.log(4.0), math.log(2.0)
    assert torch.allclose(pooled, expected, atol=1e-6)
    sparse = encoder.encode_sparse([short, long])
    assert sparse[0].ids.tolist() == [7, 9] and sparse[1].ids.tolist() == [11]
    assert encoder.to_impacts(sparse[0], 100) == {encoder.terms[7]: 100, encoder.terms[9]: round(100 * math.log(4))}


def test_batching_and_padding_do_not_change_vectors(random_splade):
    texts = random_texts(20, seed=3)
    one_by_one = SpladeEncoder(str(random_splade), device="cpu", batch_size=1).encode(texts)
    batched = SpladeEncoder(str(random_splade), device="cpu", batch_size=8).encode(texts)
    for a, b in zip(one_by_one, batched):
        assert a.keys() == b.keys()
        assert np.allclose([a[k] for k in a], [b[k] for k in a], atol=1e-5)


def test_truncates_to_max_length(random_splade):
    encoder = SpladeEncoder(str(random_splade), device="cpu", max_length=4)
    # Only [CLS] + 2 tokens + [SEP] are read: words after the limit cannot change the vector.
    assert encoder.encode("panda bamboo") == encoder.encode("panda bamboo china eats lives forest")


def test_bf16_runs_on_cpu_and_stays_close(random_splade):
    texts = random_texts(4, seed=5)
    full = SpladeEncoder(str(random_splade), device="cpu").encode(texts)
    half = SpladeEncoder(str(random_splade), device="cpu", dtype="bf16").encode(texts)
    for a, b in zip(full, half):
        common = a.keys() & b.keys()
        assert len(common) >= 0.9 * len(a)
        assert np.allclose([a[k] for k in common], [b[k] for k in common], rtol=0.05, atol=0.05)


def test_fp16_on_cpu_is_refused(random_splade):
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        SpladeEncoder(str(random_splade), device="cpu", dtype="fp16")


@pytest.fixture(scope="module")
def pyserini_encode():
    from disco_pyserini.jvm import import_pyserini

    return import_pyserini("pyserini.encode")


@pytest.fixture(scope="module")
def pyserini_splade(random_splade, tmp_path_factory) -> str:
    """The random model as Pyserini's encoders on both lines can load it (:func:`tests.conftest.with_pytorch_weights`)."""
    return with_pytorch_weights(random_splade, tmp_path_factory.mktemp("pyserini_splade") / "model")


def test_document_weights_match_pyserini(random_splade, pyserini_splade, pyserini_encode):
    texts = random_texts(12, seed=11)
    theirs = pyserini_encode.SpladeDocumentEncoder(pyserini_splade, device="cpu").encode(texts, max_length=256)
    ours = SpladeEncoder(str(random_splade), device="cpu", batch_size=len(texts))
    for text, their in zip(texts, theirs):
        # Pyserini quantises w / 5 * 256 and keeps zero-rounded terms; we drop zeros.
        mine = ours.to_impacts(ours.encode_sparse([text])[0], PYSERINI_SPLADE_FACTOR)
        assert mine == {t: w for t, w in their.items() if w != 0}
        assert len(mine) > 20  # a dense random model: a strong check


def test_query_weights_match_pyserini(random_splade, pyserini_splade, pyserini_encode):
    theirs = pyserini_encode.SpladeQueryEncoder(pyserini_splade, device="cpu")
    ours = SpladeEncoder(str(random_splade), device="cpu")
    for text in random_texts(8, seed=12):
        their_float = theirs._output_to_weight_dicts(_pyserini_pooled(theirs, text))[0]
        mine_float = ours.encode(text)
        assert mine_float.keys() == their_float.keys()
        assert np.allclose([mine_float[k] for k in mine_float], [their_float[k] for k in mine_float], atol=1e-6)
        mine = ours.to_impacts(ours.encode_sparse([text])[0], PYSERINI_SPLADE_FACTOR)
        assert mine == {t: w for t, w in theirs.encode(text).items() if w != 0}


def _pyserini_pooled(encoder, text: str) -> np.ndarray:
    inputs = encoder.tokenizer([text], max_length=256, truncation=True, return_tensors="pt")
    with torch.no_grad():
        logits = encoder.model(inputs["input_ids"])["logits"]
    return torch.max(torch.log(1 + torch.relu(logits)) * inputs["attention_mask"].unsqueeze(-1), dim=1)[0].numpy()
