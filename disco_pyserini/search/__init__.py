"""Impact search with conversational query encoders."""
from disco_pyserini.search.searcher import Hit, ImpactSearcher

__all__ = ["Hit", "ImpactSearcher"]
