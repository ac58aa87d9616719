"""Query rewrites from other sources (LLM rewriters), attached to turns by query id."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import PathLike, parse_json, read_text
from disco_pyserini.topics.types import Turn

RESERVED = ("manual", "automatic")


def read_rewrites(path: PathLike) -> dict[str, str]:
    """A rewrite file as ``{query_id: rewrite}``.

    Either TSV lines ``qid<TAB>rewrite`` or JSONL lines ``{"qid"|"query_id": ..., "rewrite"|"text": ...}``
    (told apart by the first non-blank character). A query id given twice is an error.
    """
    rewrites: dict[str, str] = {}
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        qid, text = _jsonl_row(line, path, number) if line.lstrip().startswith("{") else _tsv_row(line, path, number)
        if qid in rewrites:
            raise InputError(f"query id {qid!r} appears twice; keep one rewrite per turn", path, number)
        rewrites[qid] = text
    return rewrites


def _tsv_row(line: str, path: PathLike, number: int) -> tuple[str, str]:
    qid, tab, text = line.partition("\t")
    if not tab or not qid.strip() or not text.strip():
        raise InputError("expected 'query_id<TAB>rewrite' with a non-empty rewrite", path, number)
    return qid.strip(), text.strip()


def _jsonl_row(line: str, path: PathLike, number: int) -> tuple[str, str]:
    row = parse_json(line, path, number)
    qid = row.get("qid", row.get("query_id")) if isinstance(row, dict) else None
    text = row.get("rewrite", row.get("text")) if isinstance(row, dict) else None
    if qid is None or not isinstance(text, str) or not text.strip():
        raise InputError('expected {"qid": ..., "rewrite": "non-empty text"}', path, number)
    return str(qid), text.strip()


def attach_rewrites(turns: Iterable[Turn], path: PathLike, name: str) -> Iterator[Turn]:
    """``turns`` with the rewrites of ``path`` added to ``Turn.rewrites`` under ``name``.

    Turns the file does not cover pass through unchanged (formulating ``rewrite:<name>`` for
    them raises); a rewrite already attached under ``name`` is replaced.
    """
    if not name or name in RESERVED or ":" in name:
        raise InputError(f"rewrite source name {name!r} must be non-empty, without ':' and not one of {RESERVED}")
    rewrites = read_rewrites(path)
    return (_with_rewrite(turn, name, rewrites.get(turn.query_id)) for turn in turns)


def _with_rewrite(turn: Turn, name: str, text: str | None) -> Turn:
    if text is None:
        return turn
    kept = tuple((source, rewrite) for source, rewrite in turn.rewrites if source != name)
    return turn._replace(rewrites=kept + ((name, text),))
