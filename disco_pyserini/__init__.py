"""DiSCo conversational sparse retrieval on Pyserini/Anserini impact indexes.

Importing the package is cheap: torch, transformers and the JVM load only when a
class or command that needs them is used.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public names resolved on first access so `import disco_pyserini` stays fast.
_LAZY = {
    "SpladeEncoder": "disco_pyserini.encode.splade",
    "DiscoQueryEncoder": "disco_pyserini.encode.query",
}

if TYPE_CHECKING:  # pragma: no cover
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.encode.splade import SpladeEncoder


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'disco_pyserini' has no attribute {name!r}")


__all__ = ["DiscoQueryEncoder", "SpladeEncoder", "__version__"]
