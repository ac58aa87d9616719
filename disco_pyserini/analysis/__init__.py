"""Analyses of encoded queries and documents."""
from disco_pyserini.analysis.sparsity import SparsityStats, encoded_sparsity, sparsity

__all__ = ["SparsityStats", "encoded_sparsity", "sparsity"]
