"""Shared plumbing for the ``python -m disco_pyserini.*`` command lines."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from disco_pyserini.errors import InputError


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run a CLI ``main``; bad input becomes one ``error:`` line on stderr and exit status 2."""
    try:
        return int(main(argv) or 0)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error.filename or error}: no such file or directory", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no partial output was kept", file=sys.stderr)
        return 130


def name_value(value: str) -> tuple[str, str]:
    """Parse ``NAME=FILE`` (``--rewrites`` of search and encode, ``--qrels`` overrides of ``eval --table``)."""
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE, got {value!r}")
    return name, path
