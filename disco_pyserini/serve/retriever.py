"""Encode and search a batch of formulated queries with the search command's encoder and searcher.

``python -m disco_pyserini.search`` and the server open the index with the same ``open_searcher``,
quantise with the index's factor and read the conversation through the same formulation, so a
conversation gets the same hits and scores from both.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple, Sequence

from disco_pyserini.search.options import EngineOptions

if TYPE_CHECKING:  # the searcher module loads the JVM bridge; the chat's --help should not wait for it
    from disco_pyserini.search.searcher import Hit


class Query(NamedTuple):
    """One formulated query: the text the encoder reads, how many hits, and its query pruning
    (``None``: the encoder's default, ``0``: no pruning)."""

    text: str
    hits: int
    query_topk: int | None = None


class Result(NamedTuple):
    """What one query found: its integer query vector and the hits with their stored passage texts."""

    vector: dict[str, int]
    hits: list["Hit"]
    texts: list[str | None]


class Retriever:
    """An index and a query encoder opened once; :meth:`search` runs one encoder call per batch of queries."""

    def __init__(self, index: str | os.PathLike, encoder: str, *, backend: str | None = None,
                 engine: EngineOptions | None = None, device: str | None = None, encoder_backend: str = "torch",
                 max_length: int = 256, batch_size: int = 32, query_topk: int | None = None,
                 history_cut: str | None = None, history_responses: str | None = None, threads: int = 1):
        from disco_pyserini.encode.query import DiscoQueryEncoder
        from disco_pyserini.index.layout import check_backend
        from disco_pyserini.search.backends import open_searcher
        from disco_pyserini.search.pipeline import index_factor

        self.index = os.fspath(index)
        self.encoder_name = encoder
        self.searcher = open_searcher(index, backend, engine)
        self.backend = check_backend(index, backend)
        self.threads = threads
        # history cut/responses: as given, else as the student was trained, else none/all (the search command's
        # defaults for conversations in the toolkit's JSONL format)
        self.encoder = DiscoQueryEncoder(encoder, device=device, max_length=max_length, batch_size=batch_size,
                                         top_k=query_topk, backend=encoder_backend, history_cut=history_cut,
                                         history_responses=history_responses,
                                         quantization_factor=index_factor(self.searcher.metadata, None, index))

    @property
    def history_cut(self) -> str:
        return self.encoder.history_cut

    @property
    def history_responses(self) -> str:
        return self.encoder.history_responses

    def info(self) -> dict:
        """What is served: index, encoder, engine, documents, quantisation and the conversation reading."""
        return {"index": self.index, "encoder": self.encoder_name, "backend": self.backend,
                "documents": int(self.searcher.num_docs), "quantization_factor": self.encoder.quantization_factor,
                "query_topk": self.encoder.top_k, "history_cut": self.history_cut,
                "history_responses": self.history_responses, "max_length": self.encoder.splade.max_length}

    def encode(self, queries: Sequence[Query]) -> list[dict[str, int]]:
        """Integer query vectors for ``queries``, from one batched encoder call."""
        splade, default_topk = self.encoder.splade, self.encoder.top_k
        sparse = splade.encode_sparse([query.text for query in queries])
        return [splade.to_impacts(vector.top_k(default_topk if query.query_topk is None else query.query_topk or None),
                                  self.encoder.quantization_factor)
                for query, vector in zip(queries, sparse, strict=True)]

    def search(self, queries: Sequence[Query]) -> list[Result]:
        """Encode ``queries`` together, search them (one engine batch per hit count) and fetch the texts."""
        vectors = self.encode(queries)
        found: dict[str, list] = {}
        for hits in sorted({query.hits for query in queries}):
            slots = [str(i) for i, query in enumerate(queries) if query.hits == hits]
            found.update(self.searcher.batch_search([vectors[int(i)] for i in slots], slots, hits, self.threads))
        return [Result(vector, found[str(i)], [self.searcher.doc_text(hit.docid) for hit in found[str(i)]])
                for i, vector in enumerate(vectors)]

    def close(self) -> None:
        self.searcher.close()
