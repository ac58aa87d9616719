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
