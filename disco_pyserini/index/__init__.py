"""Anserini indexing: impact indexes for SPLADE vectors, BM25 indexes for baselines."""
from disco_pyserini.index.bm25 import build_bm25_index
from disco_pyserini.index.build import IndexStats, build_index, validate_collection

__all__ = ["IndexStats", "build_bm25_index", "build_index", "validate_collection"]
