"""Analyses of encoded queries and documents."""
from disco_pyserini.analysis.sparsity import SparsityStats, activation, encoded_sparsity, sparsity

__all__ = ["SparsityStats", "activation", "encoded_sparsity", "sparsity"]
