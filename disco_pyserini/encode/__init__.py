"""SPLADE encoders (documents and conversational queries) and impact export.

Submodules import torch; import them directly (``disco_pyserini.encode.splade``) or use the lazy
names on the top-level package.
"""
