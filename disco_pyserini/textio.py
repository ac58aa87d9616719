"""Line-by-line reading of text files (plain or gzip) with every read failure as a one-line ``InputError``.

Lines are split on ``\\n`` only and numbered as ``wc -l`` and editors count them: a lone ``\\r`` inside a
TSV field stays part of the line instead of starting a phantom record (Python's default universal
newlines would split there), and a ``\\r\\n`` ending is removed with the ``\\n``.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import IO, Iterator

from disco_pyserini.errors import InputError


READ_ERRORS = (FileNotFoundError, PermissionError, EOFError, gzip.BadGzipFile, zlib.error)
"""What reading a plain or gzip file can raise that is the file's fault, not the program's."""


def readable(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a ``Path``, refused at once when it is a directory."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"is a directory; give the {what} itself", path)
    return path


def read_error(error: Exception, path: Path, what: str, where: str) -> InputError:
    """One of :data:`READ_ERRORS` as the one-line error (``where`` says how far reading got, for gzip)."""
    if isinstance(error, FileNotFoundError):
        return InputError(f"no such {what}; check the path", path)
    if isinstance(error, PermissionError):
        return InputError(f"cannot read the {what} (permission denied)", path)
    return InputError(f"broken gzip data after {where} ({error}); re-download or recompress the {what}", path)


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The whole ``path`` as UTF-8 text (a leading byte-order mark dropped); a missing, unreadable, binary or
    non-UTF-8 file is a one-line error naming the ``what``."""
    path = readable(path, what)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (FileNotFoundError, PermissionError) as error:
        raise read_error(error, path, what, "") from None
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start}); give the {what} as UTF-8 text", path) from None
    if "\0" in text:
        raise InputError(f"a binary file, not a {what}", path)
    return text


def open_binary(path: Path) -> IO[bytes]:
    """``path`` opened for binary reading, as gzip when it ends in ``.gz``."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def text_lines(path: str | os.PathLike, what: str = "text file", offset: int = 0,
               first: int = 1) -> Iterator[tuple[int, str]]:
    """``(line number, line without its ending)`` for every line of ``path`` (``.gz`` read as gzip).

    ``what`` names the expected file in messages ("qrels file", "run", ...). ``offset``, the byte offset
    where line number ``first`` starts (plain files only), starts reading there.
    """
    path = readable(path, what)
    number = first - 1
    try:
        # Binary: iteration splits on b"\n" only, and each line is decoded on its own so a bad byte is
        # reported on its own line (a text-mode reader decodes whole blocks ahead of the line being read).
        with open_binary(path) as handle:
            handle.seek(offset)
            for number, raw in enumerate(handle, first):
                # utf-8-sig drops a byte-order mark, which only the first line can start with
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                yield number, line.removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start + 1} of the line); re-encode the {what} as UTF-8",
                         path, number) from None
    except READ_ERRORS as error:
        raise read_error(error, path, what, f"line {number}") from None
