"""Query rewrites from other sources (LLM rewriters), attached to turns by query id.

A rewrite source is a file or a Hugging Face hub dataset:

- ``rewrites.tsv``: ``qid<TAB>rewrite`` lines; ``rewrites.jsonl``: ``{"qid": ..., "rewrite": ...}`` lines.
- ``rewrites.parquet``: a table with an ``id`` and a ``text`` column, the columns of the DiSCo authors'
  released rewrites (``slupart/{topiocqa,qrecc,cast20,cast22,ikat23}-rewrite-mistral``).
- ``OWNER/NAME`` or ``OWNER/NAME:SPLIT`` (not an existing path): the Parquet files of that hub dataset,
  downloaded once into the Hugging Face cache (``:SPLIT`` is needed when the dataset has several splits).

Parquet and hub sources take other column names as a suffix ``#QID_COLUMN,TEXT_COLUMN``, e.g.
``--rewrites mistral=slupart/topiocqa-rewrite-mistral:test#id,text``. Query ids are kept as the source
writes them (numbers become their decimal text) and must match the topic file's ids.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from disco_pyserini.errors import InputError
from disco_pyserini.textio import text_lines
from disco_pyserini.topics._read import PathLike, parse_json
from disco_pyserini.topics.types import Turn

RESERVED = ("manual", "automatic")
COLUMNS = ("id", "text")
"""Query id and rewrite columns of the released Parquet rewrites."""
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+(:[\w.-]+)?$")
FILE_SUFFIXES = (".tsv", ".txt", ".json", ".jsonl", ".parquet")
"""A missing path with one of these suffixes is a missing file, not a hub dataset id."""
SHARD = re.compile(r"^(?P<split>.+?)-\d{5}-of-\d{5}$")


def read_rewrites(path: PathLike, columns: tuple[str, str] | None = None) -> dict[str, str]:
    """A rewrite source (see the module docstring) as ``{query_id: rewrite}``.

    Text files are TSV or JSONL (told apart by the first non-blank character); ``columns`` (or a
    ``#QID,TEXT`` suffix) names the query id and rewrite columns of Parquet and hub sources. A query
    id given twice is an error.
    """
    source = os.fspath(path)
    if not Path(source).exists() and "#" in source:
        source, _, names = source.rpartition("#")
        columns = _columns(names, path)
    parquet = source.lower().endswith(".parquet")
    if Path(source).is_file() or parquet:
        if parquet:
            return _table_rewrites([Path(source)], columns or COLUMNS, path)
        if columns is not None:
            raise InputError("column names apply to Parquet files and hub datasets, not TSV/JSONL", path)
        return _text_rewrites(source)
    if HUB_ID.match(source) and Path(source).suffix.lower() not in FILE_SUFFIXES:
        return _table_rewrites(_hub_parquet(source), columns or COLUMNS, path)
    raise InputError("rewrite file not found; give a TSV, JSONL or Parquet file, or a hub dataset OWNER/NAME[:SPLIT]",
                     path)


def _columns(names: str, path: PathLike) -> tuple[str, str]:
    parts = [part.strip() for part in names.split(",")]
    if len(parts) != 2 or not all(parts):
        raise InputError(f"expected '#QID_COLUMN,TEXT_COLUMN' after the source, got '#{names}'", path)
    return parts[0], parts[1]


def _text_rewrites(path: PathLike) -> dict[str, str]:
    rewrites: dict[str, str] = {}
    # Lines end at "\n" only: a U+2028 or a lone "\r" inside a rewrite is text, not a new record.
    for number, line in text_lines(path, "rewrite file"):
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


def _table_rewrites(files: list[Path], columns: tuple[str, str], source: PathLike) -> dict[str, str]:
    """Rewrites from Parquet ``files`` (read in order); ``source`` names them in errors."""
    import pandas as pd

    qid_column, text_column = columns
    rewrites: dict[str, str] = {}
    for file in files:
        try:
            table = pd.read_parquet(file)
        except FileNotFoundError:
            raise InputError("Parquet file not found; check the path", file) from None
        except Exception as error:  # pyarrow raises several types for a file that is not Parquet
            raise InputError(f"not a readable Parquet file ({str(error).splitlines()[0]})", file) from None
        missing = [name for name in columns if name not in table.columns]
        if missing:
            have = ", ".join(map(str, table.columns))
            raise InputError(f"no column {', '.join(map(repr, missing))} (columns: {have}); name the query id and "
                             "rewrite columns with a '#QID_COLUMN,TEXT_COLUMN' suffix", source)
        for row, (qid, text) in enumerate(zip(table[qid_column], table[text_column])):
            if not isinstance(text, str) or not text.strip() or qid is None:
                raise InputError(f"row {row}: expected a query id and a non-empty rewrite text", file)
            qid = str(qid)
            if qid in rewrites:
                raise InputError(f"row {row}: query id {qid!r} appears twice; keep one rewrite per turn", file)
            rewrites[qid] = text.strip()
    return rewrites


def _hub_parquet(source: str) -> list[Path]:
    """The Parquet files of hub dataset ``OWNER/NAME[:SPLIT]`` (downloaded once, then read from the cache)."""
    repo, _, split = source.partition(":")
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo, repo_type="dataset", allow_patterns=["*.parquet"]))
    except Exception as error:  # offline, unknown repository, HTTP errors: all mean "get the file another way"
        raise InputError(f"cannot get hub dataset {repo} ({str(error).splitlines()[0]}); download its Parquet file "
                         "and pass the path instead") from None
    splits: dict[str, list[Path]] = {}
    for file in sorted(folder.rglob("*.parquet")):
        shard = SHARD.match(file.stem)
        splits.setdefault(shard["split"] if shard else file.stem, []).append(file)
    if not splits:
        raise InputError(f"hub dataset {repo} has no Parquet file")
    if not split and len(splits) > 1:
        raise InputError(f"hub dataset {repo} has splits {', '.join(sorted(splits))}; choose one as {repo}:SPLIT")
    if split and split not in splits:
        raise InputError(f"hub dataset {repo} has no split {split!r}; it has {', '.join(sorted(splits))}")
    return splits[split or next(iter(splits))]


def attach_rewrites(turns: Iterable[Turn], path: PathLike, name: str) -> Iterator[Turn]:
    """``turns`` with the rewrites of ``path`` (a rewrite source) added to ``Turn.rewrites`` under ``name``.

    Turns the source does not cover pass through unchanged (formulating ``rewrite:<name>`` for
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
