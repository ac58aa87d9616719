"""Indexing: Lucene impact indexes (Anserini) for SPLADE vectors, BMP and Seismic indexes of the same vectors,
BM25 indexes for baselines."""
from disco_pyserini.index.bm25 import build_bm25_index
from disco_pyserini.index.bmp import build_bmp_index
from disco_pyserini.index.build import IndexStats, build_index, validate_collection
from disco_pyserini.index.seismic import build_seismic_index

__all__ = ["IndexStats", "build_bm25_index", "build_bmp_index", "build_index", "build_seismic_index",
           "validate_collection"]
