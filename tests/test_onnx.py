"""The ONNX Runtime backend: same SPLADE vectors as PyTorch, cached atomic export, clear errors."""
from __future__ import annotations

import pytest
import torch

from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.errors import InputError
from tests.conftest import search_sample

TEXTS = ["panda bamboo china eats", "what does it eat? [SEP] pandas live in china [SEP] tell me about pandas",
         "whale ocean blue large swims fast"]


@pytest.fixture(autouse=True)
def onnx_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DISCO_ONNX_CACHE", str(tmp_path / "onnx-cache"))
    return tmp_path / "onnx-cache"


def test_onnx_pooled_weights_match_torch(random_splade, onnx_cache):
    torch_encoder = SpladeEncoder(str(random_splade), device="cpu")
    onnx_encoder = SpladeEncoder(str(random_splade), backend="onnx")
    assert onnx_encoder.model is None and list(onnx_cache.glob("*.onnx")) == [onnx_encoder.onnx.path]
    assert list(onnx_encoder.terms) == list(torch_encoder.terms)  # vocabulary width read from the graph
    # Batches of different lengths exercise the dynamic batch and length axes.
    for batch in (TEXTS, TEXTS[:1]):
        assert torch.allclose(onnx_encoder.pooled(batch), torch_encoder.pooled(batch), atol=1e-4)
    assert not list(onnx_cache.glob(".*tmp"))


def test_onnx_query_impacts_equal_torch_and_export_is_reused(lexical_splade, onnx_cache):
    from disco_pyserini.encode.query import DiscoQueryEncoder

    conversation = ["what is the natural habitat of the giraffe?", "what is its diet?"]
    expected = DiscoQueryEncoder(str(lexical_splade), device="cpu").encode(conversation)
    first = DiscoQueryEncoder(str(lexical_splade), backend="onnx")
    exported = first.splade.onnx.path
    stamp = exported.stat().st_mtime_ns
    assert first.encode(conversation) == expected
    again = DiscoQueryEncoder(str(lexical_splade), backend="onnx")
    assert again.splade.onnx.path == exported and exported.stat().st_mtime_ns == stamp
    assert again.encode_batch([conversation, "giraffe diet"])[0] == expected


def test_onnx_backend_errors(random_splade):
    with pytest.raises(InputError, match="fp32 on the CPU"):
        SpladeEncoder(str(random_splade), backend="onnx", dtype="bf16")
    with pytest.raises(InputError, match="unknown backend"):
        SpladeEncoder(str(random_splade), backend="tensorrt")


def test_search_with_onnx_backend_gives_the_torch_run(sample_index, lexical_splade, tmp_path):
    runs = {backend: search_sample(sample_index, lexical_splade, tmp_path / f"{backend}.trec",
                                   "--encoder-backend", backend)
            for backend in ("torch", "onnx")}
    assert runs["onnx"] == runs["torch"] != ""
