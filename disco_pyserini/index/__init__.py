"""Anserini impact indexing."""
from disco_pyserini.index.build import IndexStats, build_index, validate_collection

__all__ = ["IndexStats", "build_index", "validate_collection"]
