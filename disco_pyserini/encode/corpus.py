"""Streaming corpus readers: TSV (``id<TAB>text``) and JSONL (``{"id", "contents"}``), gzip or plain.

A TSV whose first line is exactly ``id<TAB>text<TAB>title`` (TopiOCQA's ``full_wiki_segments.tsv``, DPR's
Wikipedia passages) is read as the DiSCo reference reads it: the header is skipped, the id is the first column and
the contents are ``title + ". " + text``.
"""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import IO, Iterator, NamedTuple

from disco_pyserini.errors import InputError

# Field names accepted for JSONL corpora (Pyserini's, ir_datasets' and MS MARCO-style exports).
ID_FIELDS = ("id", "docid", "doc_id", "_id")
TEXT_FIELDS = ("contents", "text", "body")
# The exact header of DPR-style Wikipedia passage files (TopiOCQA's full_wiki_segments.tsv): an arbitrary first
# line is never taken for a header.
TITLED_TSV_HEADER = "id\ttext\ttitle"


class Doc(NamedTuple):
    """A passage to encode, named like ir_datasets' GenericDoc."""

    doc_id: str
    text: str


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def corpus_format(path: str | os.PathLike) -> str:
    """``tsv`` or ``jsonl`` from the file name (``.gz`` allowed)."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".txt")):
        return "tsv"
    if name.endswith((".jsonl", ".json")):
        return "jsonl"
    raise InputError("unknown corpus format; name the file *.tsv (id<TAB>text) or *.jsonl ({\"id\", \"contents\"})",
                     path)


def count_lines(path: str | os.PathLike) -> int:
    """Number of lines (documents) in a corpus file, read in large binary blocks."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    count, last = 0, b"\n"
    with opener(path, "rb") as handle:
        while block := handle.read(1 << 22):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _parse_jsonl(line: str, path: Path, number: int) -> Doc:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON ({error.msg} at column {error.colno}); fix or remove the line",
                         path, number) from None
    if not isinstance(record, dict):
        raise InputError("expected a JSON object per line", path, number)
    doc_id = next((record[k] for k in ID_FIELDS if k in record), None)
    text = next((record[k] for k in TEXT_FIELDS if k in record), None)
    if doc_id is None or text is None:
        raise InputError(f"needs an id field ({'/'.join(ID_FIELDS)}) and a text field ({'/'.join(TEXT_FIELDS)})",
                         path, number)
    if "title" in record and record["title"]:
        text = f"{record['title']} {text}"  # Pyserini's convention for titled passages
    return Doc(str(doc_id), str(text))


def _parse_tsv(line: str, path: Path, number: int) -> Doc:
    doc_id, sep, text = line.rstrip("\r\n").partition("\t")
    if not sep:
        raise InputError("expected 'id<TAB>text'; no tab found", path, number)
    return Doc(doc_id, text)


def _parse_titled_tsv(line: str, path: Path, number: int) -> Doc:
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) != 3:
        raise InputError(f"expected 'id<TAB>text<TAB>title' as the header announces, got {len(fields)} fields",
                         path, number)
    doc_id, text, title = fields
    # The reference's join: title (which keeps TopiOCQA's "Article [SEP] Section") + ". " + text. Fields are
    # taken as they are, without CSV unquoting, as the reference splits them.
    return Doc(doc_id.strip(), f"{title}. {text}" if title.strip() else text)


def read_corpus(path: str | os.PathLike, start: int = 0, stop: int | None = None) -> Iterator[Doc]:
    """Stream documents ``[start, stop)`` (0-based line numbers) of a TSV or JSONL corpus.

    A titled TSV's header (line 0) is never a document. Malformed lines, empty ids and empty texts raise
    :class:`InputError` naming the file and line.
    """
    path = Path(path)
    tsv = corpus_format(path) == "tsv"
    parse = _parse_tsv if tsv else _parse_jsonl
    with _open(path) as handle:
        for index, line in enumerate(handle):
            if index == 0 and tsv and line.rstrip("\r\n") == TITLED_TSV_HEADER:
                parse = _parse_titled_tsv  # checked before the shard skip: every shard needs the layout
                continue
            if index < start:
                continue
            if stop is not None and index >= stop:
                break
            number = index + 1
            if not line.strip():
                raise InputError("empty line; remove it", path, number)
            doc = parse(line, path, number)
            if not doc.doc_id.strip():
                raise InputError("empty document id", path, number)
            if not doc.text.strip():
                raise InputError(f"document {doc.doc_id!r} has empty text; remove it or give it text", path, number)
            yield doc
