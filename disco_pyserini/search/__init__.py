"""Conversational search over Anserini indexes (impact and BM25)."""
from disco_pyserini.search.searcher import Bm25Searcher, Hit, ImpactSearcher

__all__ = ["Bm25Searcher", "Hit", "ImpactSearcher"]
