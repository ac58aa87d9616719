"""Search a sharded index (``python -m disco_pyserini.index --shards N``) as one index.

Each shard returns its own top ``k`` for the same integer query vector and the hits are merged
into the top ``k`` of all documents. Impact scores are integer dot products, which do not depend on
the rest of the collection (no idf, no length norm), so a document scores the same in its shard as
in one index over everything: for an exact engine (Lucene, BMP at ``alpha = beta = 1``) the merged
run holds the documents, scores and ranks of the single index's run. Ties are ranked as trec_eval
ranks them, by document id descending (Lucene's own order among ties, its internal document
number, is not kept by any re-indexing). Which of the documents tied at the ``k``-th score make the
cut is the one thing that may differ from a single index's: neither engine ranks those by id.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from disco_pyserini.errors import InputError
from disco_pyserini.search.backends import open_searcher
from disco_pyserini.search.options import EngineOptions
from disco_pyserini.search.searcher import Hit


def merge_hits(lists: Iterable[Sequence[Hit]], k: int) -> list[Hit]:
    """The top ``k`` of several shards' hits: score descending, ties by document id descending (trec_eval)."""
    merged = [hit for hits in lists for hit in hits]
    merged.sort(key=lambda hit: (hit.score, hit.docid), reverse=True)
    return merged[:k]


def merge_results(results: Sequence[Mapping[str, Sequence[Hit]]], qids: Sequence[str], k: int) -> dict[str, list[Hit]]:
    """``{qid: hits}`` of every shard merged query by query."""
    return {qid: merge_hits((found.get(qid, ()) for found in results), k) for qid in qids}


class ShardedSearcher:
    """All shards of a sharded index, searched in turn on this machine, with a single index's searcher interface
    (``search``, ``batch_search``, ``num_docs``, ``metadata``, ``doc_text``, ``close``)."""

    def __init__(self, index_dir: str | os.PathLike, backend: str | None = None,
                 options: EngineOptions | None = None):
        from disco_pyserini.index.shards import read_manifest

        self.index_dir = Path(index_dir)
        self.manifest = read_manifest(self.index_dir)
        if backend is not None and backend != self.manifest["backend"]:
            raise InputError(f"these are {self.manifest['backend']} shards, not {backend}; drop --backend",
                             self.index_dir)
        if self.manifest.get("kind") == "bm25":
            raise InputError("BM25 shards do not merge (each shard's idf differs); search one BM25 index",
                             self.index_dir)
        self.backend = self.manifest["backend"]
        self.metadata = self.manifest.get("encoding")
        self.shard_dirs = [self.index_dir / part["name"] for part in self.manifest["parts"]]
        self.shards = []
        try:
            for folder in self.shard_dirs:
                self.shards.append(open_searcher(folder, self.backend, options))
        except BaseException:
            self.close()
            raise

    @property
    def num_docs(self) -> int:
        return sum(shard.num_docs for shard in self.shards)

    def search(self, vector: Mapping[str, int], k: int = 1000) -> list[Hit]:
        """Top ``k`` documents of all shards for one ``{term: int}`` query."""
        return merge_hits((shard.search(vector, k) for shard in self.shards), k)

    def batch_search(self, queries: Sequence[Mapping[str, int]], qids: Sequence[str], k: int = 1000,
                     threads: int = 1) -> dict[str, list[Hit]]:
        """Search many queries on every shard (each with ``threads`` threads) and merge; ``{qid: hits}``."""
        return merge_results([shard.batch_search(queries, qids, k, threads) for shard in self.shards], qids, k)

    def doc_text(self, docid: str) -> str | None:
        """A document's passage text from the shard that holds it (indexes built with ``--store-raw``)."""
        for shard in self.shards:
            text = shard.doc_text(docid)
            if text is not None:
                return text
        return None

    def close(self) -> None:
        for shard in self.shards:
            shard.close()
        self.shards = []
