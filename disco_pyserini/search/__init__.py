"""Conversational search over impact indexes (Lucene, BMP, Seismic) and BM25 baselines."""
from disco_pyserini.search.backends import open_searcher
from disco_pyserini.search.options import EngineOptions
from disco_pyserini.search.searcher import Bm25Searcher, Hit, ImpactSearcher

__all__ = ["Bm25Searcher", "EngineOptions", "Hit", "ImpactSearcher", "open_searcher"]
