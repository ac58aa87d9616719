"""One entry point for every topic format: ``load_topics``, with format detection."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from disco_pyserini.errors import InputError
from disco_pyserini.textio import read_text
from disco_pyserini.topics._read import PathLike, first_line, parse_json
from disco_pyserini.topics.cast import load_cast, load_cast2021, load_cast2022
from disco_pyserini.topics.ikat import load_ikat, load_ikat2025
from disco_pyserini.topics.irds import PREFIX as IRDS_PREFIX
from disco_pyserini.topics.irds import load_ir_datasets
from disco_pyserini.topics.jsonl import load_jsonl
from disco_pyserini.topics.qrecc import load_qrecc
from disco_pyserini.topics.topiocqa import load_topiocqa
from disco_pyserini.topics.types import Turn

FORMATS: dict[str, Callable[..., Iterator[Turn]]] = {
    "cast2019": load_cast,
    "cast2020": load_cast,
    "cast2021": load_cast2021,
    "cast2022": load_cast2022,
    "ikat": load_ikat,
    "ikat2025": load_ikat2025,
    "topiocqa": load_topiocqa,
    "qrecc": load_qrecc,
    "jsonl": load_jsonl,
    "ir_datasets": load_ir_datasets,
}
"""Topic format name -> loader. ``cast2019`` and ``cast2020`` share one reader (same schema)."""


def load_topics(source: PathLike, format: str | None = None, **options: Any) -> Iterator[Turn]:
    """The turns of a topics file (or an ir_datasets id such as ``trec-cast/v1/2020``).

    ``format`` is one of ``FORMATS``; when ``None`` it is detected from the file content.
    ``options`` go to the format's loader (e.g. ``resolved=`` for CAsT 2019 rewrites).
    Files are checked when this is called; records are checked as the turns are read.
    """
    format = resolve_format(source, format)
    return FORMATS[format](str(source) if format == "ir_datasets" else source, **options)


def resolve_format(source: PathLike, format: str | None = None) -> str:
    """``format`` checked, or the format of ``source`` detected (an ir_datasets id, or from the file)."""
    if format is None and str(source).startswith(IRDS_PREFIX) and not Path(source).exists():
        return "ir_datasets"
    if format is None:
        return detect_format(source)
    if format not in FORMATS:
        raise InputError(f"unknown topic format {format!r}; pass --topics-format one of {', '.join(FORMATS)}")
    return format


def detect_format(path: PathLike) -> str:
    """The topic format of ``path``, told from its first record."""
    number, line = first_line(path)
    if line.lstrip().startswith("{"):
        first = parse_json(line, path, number)
        if isinstance(first, dict) and {"conversation_id", "turns"} <= first.keys():
            return "jsonl"
    elif line.lstrip().startswith("["):
        text = read_text(path, "topics file")
        # Only the first record is decoded: enough to tell the format of a large file.
        after_bracket = text.index("[") + 1
        try:
            first, _ = json.JSONDecoder().raw_decode(text, len(text) - len(text[after_bracket:].lstrip()))
        except json.JSONDecodeError:
            parse_json(text, path)  # reports where the JSON breaks (line and column)
            raise InputError("no topics in the file; it is an empty JSON list", path) from None
        if isinstance(first, dict) and (name := _record_format(first)):
            return name
    raise InputError(f"unknown topic format; pass --topics-format one of {', '.join(FORMATS)}", path)


def _record_format(record: dict) -> str | None:
    """The format a file's first record belongs to, or ``None``."""
    if "ptkb" in record and "turns" in record:
        return "ikat"
    if "ptkb" in record and "responses" in record:
        return "ikat2025"
    if "conv_id" in record:
        return "topiocqa"
    if "Conversation_no" in record:
        return "topiocqa" if "Gold_passage" in record or "Topic" in record else "qrecc"
    turns = record.get("turn")
    if isinstance(turns, list) and turns and all(isinstance(turn, dict) for turn in turns):
        keys = set().union(*turns)
        if "utterance" in keys:
            return "cast2022"
        if keys & {"passage", "canonical_result_id"}:
            return "cast2021"
        if keys & {"manual_rewritten_utterance", "automatic_rewritten_utterance"}:
            return "cast2020"
        if "raw_utterance" in keys:
            return "cast2019"
    return None
