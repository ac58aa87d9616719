"""Teacher runs and training qrels as ``train build`` reads them: JSON or TREC, row-number ids, run fusion.

The DiSCo authors release each distillation teacher as a ``run.json``, ``{qid: {docid: score}}``
(``slupart/topiocqa-distillation-{mistral,llama-mistral}-splade``), with their TopiOCQA convention for
query ids: the 0-based row number of the turn in the DPR ``all_history`` file (their
``setup_script/parse_topiocqa.py``); doc ids are the ``id`` column of ``full_wiki_segments.tsv``. Our
topic loaders name turns ``<conv_id>_<turn_id>`` and yield them in file order, so row ``i`` is turn ``i``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Sequence

from disco_pyserini.errors import InputError
from disco_pyserini.eval.qrels import Qrels, read_qrels, resolve_qrels
from disco_pyserini.eval.runs import Run, read_run
from disco_pyserini.topics import Turn

RUN_FUSIONS = ("merge", "mean", "max")
MERGE_DEPTH = 1000
"""Documents kept per query by ``merge`` (``merge_run.py`` of the authors' first commit)."""
QID_STYLES = ("auto", "topic", "row")


def named_run(value: str) -> tuple[str, str]:
    """``[NAME=]FILE`` as ``(name, file)``; the name defaults to the file's stem."""
    name, sep, path = value.partition("=")
    if not sep or "/" in name or os.sep in name:
        return Path(value).stem, value
    if not name or not path:
        raise InputError(f"expected [NAME=]FILE, got {value!r}")
    return name, path


def _is_json(path: Path) -> bool:
    # bytes, not text: a file that is not UTF-8 is then reported line by line by the TREC reader
    with open(path, "rb") as handle:
        return handle.read(4096).lstrip().startswith(b"{")


def read_scores(path: str | os.PathLike) -> Run:
    """``{qid: {docid: score}}`` from a JSON object (``run.json``) or a TREC run, ids kept as written."""
    path = Path(path)
    if not path.is_file():
        raise InputError("run file not found; check the path", path)
    if not _is_json(path):
        return read_run(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start + 1}); re-encode the run as UTF-8", path) from None
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg}", path, error.lineno) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object {qid: {docid: score}}", path)
    run: Run = {}
    for qid, docs in data.items():
        if not isinstance(docs, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 for v in docs.values()):
            raise InputError(f"query {qid}: expected an object {{docid: number}}", path)
        run[str(qid)] = {str(doc): float(score) for doc, score in docs.items()}
    return run


def read_training_qrels(name_or_path: str | os.PathLike) -> Qrels:
    """Qrels from a TREC file, a dataset name, or a JSON object ``{qid: {docid: relevance}}`` (the reference's)."""
    path = Path(name_or_path)
    if path.is_file() and _is_json(path):
        qrels: Qrels = {}
        for qid, docs in read_scores(path).items():
            if any(rel != int(rel) for rel in docs.values()):
                raise InputError(f"query {qid}: relevance labels must be integers", path)
            qrels[qid] = {doc: int(rel) for doc, rel in docs.items()}
        return qrels
    return read_qrels(resolve_qrels(name_or_path)[0])


def qid_style(keys: Sequence[str], turns: Sequence[Turn], rows_expected: bool) -> str:
    """``topic`` or ``row``: the reference's row numbers when every key is a number and none is a topic id.

    Row numbers are the DiSCo authors' convention for TopiOCQA (``rows_expected``); for other topics
    numeric ids are refused rather than guessed (the reproduction study numbers QReCC turns otherwise).
    """
    topic_ids = {turn.query_id for turn in turns}
    if not keys or not all(key.isdigit() for key in keys) or topic_ids.intersection(keys):
        return "topic"
    if not rows_expected:
        raise InputError("query ids are numbers that name no topic turn; if number i is the i-th turn of the topics "
                         "file, pass --qids row (qids: row in a config)")
    return "row"


def align_to_turns(mapping: Mapping[str, dict], turns: Sequence[Turn], style: str, source: str | os.PathLike,
                   rows_expected: bool = False) -> tuple[dict[str, dict], str]:
    """``mapping`` keyed by topic ids; ``style`` ``row`` maps key ``i`` to the ``i``-th turn (``auto``: detected
    with :func:`qid_style`). Returns the re-keyed mapping and the style used.
    """
    if style not in QID_STYLES:
        raise InputError(f"unknown query id style {style!r}; choose one of {', '.join(QID_STYLES)}")
    if style == "auto":
        try:
            style = qid_style(list(mapping), turns, rows_expected)
        except InputError as error:
            raise InputError(error.problem, source) from None
    if style == "topic":
        return dict(mapping), style
    outside = [key for key in mapping if not key.isdigit() or int(key) >= len(turns)]
    if outside:
        raise InputError(f"{len(outside)} query id(s) are not row numbers of the {len(turns)} topic turns "
                         f"(e.g. {outside[0]!r}); use the topics file the ids were made from, or --qids topic", source)
    return {turns[int(key)].query_id: value for key, value in mapping.items()}, style


def fuse_runs(runs: Sequence[Run], how: str) -> Run:
    """One teacher run from several, per query.

    ``merge`` (``merge_run.py`` of the authors' first commit; their released training reads runs already
    fused): the union of the runs, a later run's score replacing an earlier one's for the same document, best
    ``MERGE_DEPTH`` kept. ``mean`` (the reproduction study's ``combine_distils.py``) and ``max``: over the
    runs that retrieved the document.
    """
    if how not in RUN_FUSIONS:
        raise InputError(f"unknown run fusion {how!r}; choose one of {', '.join(RUN_FUSIONS)}")
    if len(runs) == 1:
        return dict(runs[0])
    fused: Run = {}
    for qid in dict.fromkeys(qid for run in runs for qid in run):
        if how == "merge":
            merged: dict[str, float] = {}
            for run in runs:
                merged.update(run.get(qid, {}))
            fused[qid] = dict(sorted(merged.items(), key=lambda item: item[1], reverse=True)[:MERGE_DEPTH])
            continue
        scores: dict[str, list[float]] = {}
        for run in runs:
            for doc, score in run.get(qid, {}).items():
                scores.setdefault(doc, []).append(score)
        fused[qid] = {doc: sum(values) / len(values) if how == "mean" else max(values)
                      for doc, values in scores.items()}
    return fused


def ranked(docs: Mapping[str, float]) -> list[str]:
    """Doc ids best score first; ties keep the run's order (as the reference's stable sort does)."""
    return sorted(docs, key=docs.__getitem__, reverse=True)
