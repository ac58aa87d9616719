"""Streaming corpus readers: TSV (``id<TAB>text``) and JSONL (``{"id", "contents"}``), gzip or plain.

A TSV whose first line is exactly ``id<TAB>text<TAB>title`` (TopiOCQA's ``full_wiki_segments.tsv``, DPR's
Wikipedia passages) is read as the DiSCo reference reads it: the header and empty lines are skipped, the id is the
first column and the contents are ``title + ". " + text`` (``". text"`` for an empty title).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from disco_pyserini.errors import InputError
from disco_pyserini.textio import READ_ERRORS, open_binary, read_error, readable, text_lines

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


def corpus_format(path: str | os.PathLike) -> str:
    """``tsv`` or ``jsonl`` from the file name (``.gz`` allowed)."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".txt")):
        return "tsv"
    if name.endswith((".jsonl", ".json")):
        return "jsonl"
    raise InputError("unknown corpus format; name the file *.tsv (id<TAB>text) or *.jsonl ({\"id\", \"contents\"})",
                     path)


def corpus_fingerprint(path: str | os.PathLike, span: int = 1 << 20) -> dict[str, object]:
    """What identifies a corpus file whatever its name: its size and a SHA-256 of its first and last ``span``
    bytes (cheap on a 100 GB collection, and any edit that changes the size or either end shows)."""
    path = readable(path, "corpus file")
    try:
        size = path.stat().st_size
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            digest.update(handle.read(span))
            if size > span:
                handle.seek(max(span, size - span))
                digest.update(handle.read())
    except READ_ERRORS as error:
        raise read_error(error, path, "corpus file", "its start") from None
    if size == 0:
        raise InputError("the corpus holds no document; check the file", path)
    return {"bytes": size, "sha256_ends": digest.hexdigest()}


def count_lines(path: str | os.PathLike) -> int:
    """Number of lines (documents) in a corpus file, read in large binary blocks; lines end at ``\n``."""
    path = readable(path, "corpus file")
    count, last = 0, b"\n"
    try:
        with open_binary(path) as handle:
            while block := handle.read(1 << 22):
                count += block.count(b"\n")
                last = block[-1:]
    except READ_ERRORS as error:
        raise read_error(error, path, "corpus file", f"{count} lines") from None
    return count + (last != b"\n")


def titled_header(path: str | os.PathLike) -> bool:
    """Whether the corpus is a titled TSV: its line 1 is exactly the ``id<TAB>text<TAB>title`` header."""
    if corpus_format(path) != "tsv":
        return False
    with contextlib.closing(text_lines(path, "corpus file")) as lines:
        return next(lines, (1, ""))[1] == TITLED_TSV_HEADER


def line_offsets(path: str | os.PathLike, lines: Iterable[int], block_size: int = 1 << 22) -> list[int]:
    """Byte offsets where the 0-based ``lines`` (ascending) of an uncompressed corpus start, in one scan.

    A reader can then seek straight to a line range (:func:`read_corpus`'s ``offset``).
    """
    targets = iter(lines)
    target = next(targets, None)
    offsets: list[int] = []
    seen = position = 0  # newlines before byte `position`
    with open(path, "rb") as handle:
        while target is not None and (block := handle.read(block_size)):
            end = seen + block.count(b"\n")
            cursor, before = 0, seen  # `before`: newlines before block[cursor]
            while target is not None and target <= end:
                while before < target:
                    cursor = block.index(b"\n", cursor) + 1
                    before += 1
                offsets.append(position + cursor)
                target = next(targets, None)
            seen, position = end, position + len(block)
    if target is not None:
        raise ValueError(f"{path} has no line {target}")
    return offsets


def _parse_jsonl(line: str, path: Path, number: int) -> Doc:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON: {error.msg} (column {error.colno}); fix or remove the line",
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
    doc_id, sep, text = line.partition("\t")
    if not sep:
        raise InputError("expected 'id<TAB>text'; no tab found", path, number)
    return Doc(doc_id, text)


def _parse_titled_tsv(line: str, path: Path, number: int) -> Doc:
    fields = line.split("\t")
    if len(fields) != 3:
        raise InputError(f"expected 'id<TAB>text<TAB>title' as the header announces, got {len(fields)} fields",
                         path, number)
    doc_id, text, title = fields
    # The reference's join: title (which keeps TopiOCQA's "Article [SEP] Section") + ". " + text, an empty title
    # included (". text"). Fields are taken as they are, without CSV unquoting, as the reference splits them.
    return Doc(doc_id.strip(), f"{title}. {text}")


def read_corpus(path: str | os.PathLike, start: int = 0, stop: int | None = None,
                offset: int | None = None) -> Iterator[Doc]:
    """Stream documents ``[start, stop)`` (0-based line numbers) of a TSV or JSONL corpus.

    Lines end at ``\n`` only (a stray ``\r`` inside a TSV text stays in the text), as :func:`count_lines`
    counts them. A titled TSV's header (line 0) and empty lines are never documents (as the reference reads
    TopiOCQA's file). Malformed lines, empty lines of other layouts, empty ids, ids with whitespace (TREC runs
    and qrels split on it) and empty texts raise :class:`InputError` naming the file and line; so do
    unreadable files (not UTF-8, broken gzip, a directory). ``offset``, the byte offset of line ``start``
    (:func:`line_offsets`; uncompressed files only), seeks there instead of reading the lines before it.
    """
    path = Path(path)
    tsv = corpus_format(path) == "tsv"
    parse = _parse_tsv if tsv else _parse_jsonl
    lines = text_lines(path, "corpus file")
    if offset:
        if titled_header(path):  # the layout is announced on line 1 only
            parse = _parse_titled_tsv
        lines = text_lines(path, "corpus file", offset, start + 1)
    for number, line in lines:
        if number == 1 and tsv and line == TITLED_TSV_HEADER:
            parse = _parse_titled_tsv  # checked before the shard skip: every shard needs the layout
            continue
        if number <= start:
            continue
        if stop is not None and number > stop:
            break
        if not line and parse is _parse_titled_tsv:
            continue  # the reference skips empty lines of TopiOCQA's file (its `len(line) > 1` test)
        if not line.strip():
            raise InputError("empty line; remove it", path, number)
        doc = parse(line, path, number)
        if not doc.doc_id.strip():
            raise InputError("empty document id", path, number)
        if len(doc.doc_id.split()) != 1 or doc.doc_id != doc.doc_id.strip():
            raise InputError(f"document id {doc.doc_id!r} contains whitespace; TREC runs and qrels split on it, "
                             "so give the document an id without spaces", path, number)
        if not doc.text.strip():
            raise InputError(f"document {doc.doc_id!r} has empty text; remove it or give it text", path, number)
        yield doc
