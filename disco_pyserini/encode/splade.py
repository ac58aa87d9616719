"""SPLADE encoding on Hugging Face transformers: max-pooled log(1 + relu(MLM logits))."""
from __future__ import annotations

import contextlib
from typing import Iterable, NamedTuple, Sequence

import numpy as np
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from disco_pyserini.encode.pooling import splade_max_pool
from disco_pyserini.errors import InputError
from disco_pyserini.hub import model_source
from disco_pyserini.quantize import DEFAULT_FACTOR, quantize_arrays

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
BACKENDS = ("torch", "onnx")


class SparseVector(NamedTuple):
    """Non-zero entries of one SPLADE vector: vocabulary ids and float weights (ascending ids)."""

    ids: np.ndarray
    weights: np.ndarray

    def top_k(self, k: int | None) -> "SparseVector":
        """The ``k`` largest weights (all when ``k`` is ``None`` or not smaller than the vector), ids ascending.

        Ties at the cut go to the smaller id, so pruning is deterministic.
        """
        if k is None or k >= len(self.ids):
            return self
        keep = np.sort(np.argsort(-self.weights, kind="stable")[:k])
        return SparseVector(self.ids[keep], self.weights[keep])


def default_device() -> str:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str) -> torch.dtype:
    """Map ``auto|fp32|fp16|bf16`` to a torch dtype the device supports (auto: fp16 on CUDA, fp32 on CPU)."""
    if dtype == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of auto, {', '.join(DTYPES)}")
    if dtype == "fp16" and not device.startswith("cuda"):
        raise ValueError("fp16 needs a CUDA device; use bf16 or fp32 on CPU")
    return DTYPES[dtype]


class SpladeEncoder:
    """A SPLADE encoder (document or query side) loaded by hub name or local path.

    ``encode`` returns ``{term: float}`` dicts over the tokenizer vocabulary; ``encode_sparse``
    returns :class:`SparseVector` arrays without per-term Python work, for bulk export.
    ``backend="onnx"`` runs the forward on ONNX Runtime (CPU, fp32; see :mod:`.onnx_runtime`).
    """

    def __init__(self, model_name_or_path: str, tokenizer_name: str | None = None, device: str | None = None,
                 max_length: int = 256, batch_size: int = 32, dtype: str = "auto", backend: str = "torch"):
        if backend not in BACKENDS:
            raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.device = device or ("cpu" if backend == "onnx" else default_device())
        if backend == "onnx" and (self.device != "cpu" or dtype not in ("auto", "fp32")):
            raise InputError("the onnx backend runs fp32 on the CPU; use --backend torch for a GPU or bf16/fp16")
        self.dtype = resolve_dtype(dtype, self.device)
        self.max_length = max_length
        self.batch_size = batch_size
        model_name_or_path = model_source(model_name_or_path, "encoder")
        self.tokenizer = AutoTokenizer.from_pretrained(model_source(tokenizer_name or model_name_or_path,
                                                                    "tokenizer"))
        self.onnx = None
        if backend == "onnx":
            from disco_pyserini.encode.onnx_runtime import OnnxSplade

            # ONNX Runtime holds its own weights: the PyTorch model is loaded only to export, once.
            self.onnx = OnnxSplade(model_name_or_path)
            self.model = None
            width = self.onnx.width
        else:
            self.model = AutoModelForMaskedLM.from_pretrained(model_name_or_path).to(self.device).eval()
            width = self.model.get_output_embeddings().weight.shape[0]
        vocab = self.tokenizer.get_vocab()
        terms = [""] * len(vocab)
        for term, index in vocab.items():
            if index < len(terms):
                terms[index] = term
        # The MLM head may be wider than the tokenizer (padded vocabularies); those ids get no name.
        self.terms = np.array(terms + [f"[unused_out_{i}]" for i in range(len(terms), width)], dtype=object)

    def _autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.split(":")[0], dtype=self.dtype)

    def pooled(self, texts: Sequence[str]) -> torch.Tensor:
        """Dense ``[batch, vocab]`` SPLADE weights for one batch of texts (no gradient)."""
        inputs = self.tokenizer(list(texts), max_length=self.max_length, truncation=True, padding="longest",
                                return_tensors="pt", return_token_type_ids=False)
        if self.onnx is not None:
            return self.onnx.pooled(inputs["input_ids"], inputs["attention_mask"])
        with torch.inference_mode(), self._autocast():
            return splade_max_pool(self.model, inputs["input_ids"].to(self.device),
                                   inputs["attention_mask"].to(self.device)).float()

    def encode_sparse(self, texts: Sequence[str]) -> list[SparseVector]:
        """SPLADE vectors of ``texts`` (one forward pass per ``batch_size`` texts)."""
        out: list[SparseVector] = []
        for start in range(0, len(texts), self.batch_size):
            dense = self.pooled(texts[start:start + self.batch_size])
            rows, cols = torch.nonzero(dense, as_tuple=True)
            values = dense[rows, cols].cpu().numpy()
            cols_np = cols.cpu().numpy().astype(np.int64)
            # nonzero() is row-major, so each row's entries are one contiguous slice
            bounds = np.searchsorted(rows.cpu().numpy(), np.arange(dense.shape[0] + 1))
            out.extend(SparseVector(cols_np[a:b], values[a:b]) for a, b in zip(bounds[:-1], bounds[1:]))
        return out

    def to_dict(self, vector: SparseVector) -> dict[str, float]:
        """``{term: float weight}`` for one sparse vector."""
        return dict(zip(self.terms[vector.ids].tolist(), vector.weights.tolist()))

    def to_impacts(self, vector: SparseVector, factor: float = DEFAULT_FACTOR) -> dict[str, int]:
        """``{term: int impact}``, quantised by :mod:`disco_pyserini.quantize`'s convention."""
        keep, ints = quantize_arrays(vector.weights, factor)
        return dict(zip(self.terms[vector.ids[keep]].tolist(), ints.tolist()))

    def encode(self, texts: str | Iterable[str]) -> dict[str, float] | list[dict[str, float]]:
        """Float SPLADE vectors as dicts; a single string gives a single dict."""
        if isinstance(texts, str):
            return self.encode([texts])[0]
        return [self.to_dict(v) for v in self.encode_sparse(list(texts))]
