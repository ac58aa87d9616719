"""One error type for bad user input, rendered as a single actionable line."""
from __future__ import annotations

import os


class InputError(ValueError):
    """Bad input a user can fix: names the file (and line) and what to do.

    CLIs print ``str(error)`` on one line and exit with status 2.
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None):
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.problem = message
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(where + message)


def import_ray_module(module: str, needs: str = "Ray"):
    """Import one of our modules that runs on Ray; a missing Ray (or its pyarrow) is the install advice for
    ``--ray``, any other missing module stays an error of ours."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] not in ("ray", "pyarrow"):
            raise
        raise InputError(f'--ray needs {needs}: pip install "disco-pyserini[ray]" (on every node of the '
                         'cluster)') from None


DAMAGE = ("JavaException", "PanicException")  # pyjnius' and pyo3's exception classes, by name: no import needed


def damaged_index(error: BaseException, backend: str, index_dir: str | os.PathLike):
    """``error``, raised while an index opened, as the one-line "damaged index" error; re-raised as it is unless it
    is what a damaged index raises: Lucene's CorruptIndexException (through pyjnius), a Rust engine's panic,
    numpy's and the OS's read errors. Anything else is a bug, and keeps its traceback."""
    if not isinstance(error, (OSError, ValueError, EOFError)) and type(error).__name__ not in DAMAGE:
        raise error
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0].removeprefix("JVM exception occurred: ")
    return InputError(f"damaged {backend} index ({reason.split(' (resource=')[0][:200]}); rebuild it with "
                      "'python -m disco_pyserini.index'", index_dir)
