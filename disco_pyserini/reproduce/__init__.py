"""Reproduction matrix in the style of Pyserini's 2CR: every DiSCo table row as a runnable condition.

The catalogue (``conditions.yaml`` for the paper, model cards and reproducibility study; ``sample.yaml`` for the
bundled sample world) holds, per condition, the downloads, the encode/index/search/eval commands as templates and
the expected scores with their source and tolerance. ``python -m disco_pyserini.reproduce`` lists, shows, checks
(``--dry-run``), runs and scores them, and renders the matrix as Markdown or HTML.

Modules, one job each: :mod:`.catalogue` (read the YAML, render commands), :mod:`.steps` (run or parse one
command, remember what is done), :mod:`.scores` (score a run, compare with the expected numbers), :mod:`.report`
(Markdown/HTML pages).
"""
