"""Reading and validating raw topic files; every problem becomes a one-line ``InputError``."""
from __future__ import annotations

import json
import os
from typing import Any

from disco_pyserini.errors import InputError
from disco_pyserini.textio import read_text

PathLike = str | os.PathLike


# utf-8-sig: a byte-order mark, as some editors on Windows write one, is read as nothing.
ENCODING = "utf-8-sig"


def first_line(path: PathLike) -> tuple[int, str]:
    """The first non-blank line of the file and its line number, reading no further."""
    try:
        with open(path, encoding=ENCODING) as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    return number, line
    except FileNotFoundError:
        raise InputError("file not found; check the path", path) from None
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start}); re-encode the file as UTF-8", path) from None
    raise InputError("the file is empty; give a topics file with at least one conversation", path)


def parse_json(text: str, path: PathLike, line: int | None = None) -> Any:
    """Parse one JSON document; ``line`` is the file line ``text`` starts on (JSONL)."""
    if line is not None:
        text = text.rstrip()  # a JSONL record ends with its line: an error past the end is still on it
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        at = error.lineno if line is None else line + error.lineno - 1
        raise InputError(f"invalid JSON: {error.msg} (column {error.colno}); fix the file", path, at) from None


def read_json(path: PathLike) -> Any:
    """The file parsed as one JSON document."""
    return parse_json(read_text(path, "topics file"), path)


def records(data: Any, path: PathLike, what: str) -> list[dict]:
    """``data`` checked to be a JSON list of objects (topics, turns, ...)."""
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InputError(f"expected a JSON list of {what} objects; check --topics-format", path)
    return data


def field(record: dict, key: str, path: PathLike, where: str, line: int | None = None) -> Any:
    """A required key of ``record``; ``where`` names the record for the error message."""
    if key not in record or record[key] is None:
        raise InputError(f"missing required key {key!r} in {where}; add it or check --topics-format", path, line)
    return record[key]


def utterance(value: Any, path: PathLike, where: str, line: int | None = None) -> str:
    """A user utterance: a non-empty string, stripped of surrounding whitespace."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"empty utterance at {where}; every turn needs the user's text", path, line)
    return value.strip()


def optional_text(value: Any) -> str | None:
    """Optional text (responses, rewrites): ``None`` when absent or blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None
