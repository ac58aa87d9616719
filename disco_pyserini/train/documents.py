"""SPLADE vectors of corpus documents from a frozen encoder, for ``train build`` and the trainer.

The document encoder is frozen in DiSCo, so a document's vector never changes: both read it through
:class:`FrozenDocumentEncoder`, which encodes a document on first use and keeps it sparse.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Mapping, Sequence

import torch

from disco_pyserini.encode.splade import SpladeEncoder

CACHED_DOCS = 200_000
"""Document vectors kept (least recently used dropped): at ~60 terms a document about 200 MB. Positives recur every
epoch, and the pools of a conversation's turns overlap, so most reads hit."""


def dense_vectors(encoder: SpladeEncoder, texts: Sequence[str]) -> torch.Tensor:
    """``[len(texts), vocab]`` float SPLADE vectors on the CPU, batched by the encoder's batch size."""
    if not texts:
        return torch.zeros(0, len(encoder.terms))
    return torch.cat([encoder.pooled(texts[i:i + encoder.batch_size]).float().cpu()
                      for i in range(0, len(texts), encoder.batch_size)])


class FrozenDocumentEncoder:
    """SPLADE vectors of the training documents from a frozen encoder, the recent ones cached sparsely on the CPU."""

    def __init__(self, encoder: SpladeEncoder, texts: Mapping[str, str], capacity: int = CACHED_DOCS):
        self.encoder = encoder
        self.texts = texts
        self.vocab_size = len(encoder.terms)
        self.capacity = capacity
        # Sparse (ids, weights) per doc: dense rows of a 30k vocabulary would not fit.
        self.cache: OrderedDict[str, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    def dense(self, doc_ids: Sequence[str]) -> torch.Tensor:
        """``[len(doc_ids), vocab]`` dense float vectors on the CPU; the uncached ones are encoded in batches."""
        found = {doc: self.cache[doc] for doc in dict.fromkeys(doc_ids) if doc in self.cache}
        new = [doc for doc in dict.fromkeys(doc_ids) if doc not in found]
        for doc, row in zip(new, dense_vectors(self.encoder, [self.texts[doc] for doc in new])):
            ids = row.nonzero().squeeze(-1)
            found[doc] = (ids, row[ids])
        for doc, vector in found.items():
            self.cache[doc] = vector
            self.cache.move_to_end(doc)
        while len(self.cache) > self.capacity:
            self.cache.popitem(last=False)
        out = torch.zeros(len(doc_ids), self.vocab_size)
        for i, doc in enumerate(doc_ids):
            ids, weights = found[doc]
            out[i, ids] = weights
        return out

    def vectors(self, doc_ids: Sequence[Sequence[str]], device: torch.device) -> torch.Tensor:
        """``[batch, docs, vocab]`` dense vectors of ``doc_ids`` (a list of equal-length lists)."""
        flat = [doc for row in doc_ids for doc in row]
        return self.dense(flat).reshape(len(doc_ids), -1, self.vocab_size).to(device)
