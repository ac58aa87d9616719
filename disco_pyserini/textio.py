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


def _open(path: Path) -> IO[bytes]:
    # Binary: iteration splits on b"\n" only, and each line is decoded on its own so a bad byte is
    # reported on its own line (a text-mode reader decodes whole blocks ahead of the line being read).
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def text_lines(path: str | os.PathLike, what: str = "text file", offset: int = 0,
               first: int = 1) -> Iterator[tuple[int, str]]:
    """``(line number, line without its ending)`` for every line of ``path`` (``.gz`` read as gzip).

    ``what`` names the expected file in messages ("qrels file", "run", ...). ``offset``, the byte offset
    where line number ``first`` starts (plain files only), starts reading there.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"is a directory; give the {what} itself", path)
    number = first - 1
    try:
        with _open(path) as handle:
            handle.seek(offset)
            for number, raw in enumerate(handle, first):
                # utf-8-sig drops a byte-order mark, which only the first line can start with
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                yield number, line.removesuffix("\n").removesuffix("\r")
    except FileNotFoundError:
        raise InputError(f"no such {what}; check the path", path) from None
    except PermissionError:
        raise InputError(f"cannot read the {what} (permission denied)", path) from None
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start + 1} of the line); re-encode the {what} as UTF-8",
                         path, number) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise InputError(f"broken gzip data after line {number} ({error}); re-download or recompress the {what}",
                         path) from None
