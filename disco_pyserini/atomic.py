"""Atomic file output: write to a temporary file beside the target, rename on success."""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator

from disco_pyserini.errors import InputError


def check_output_path(path: str | os.PathLike, example: str, directory: bool = False) -> None:
    """Refuse an ``--output`` that cannot be written, before any work: the wrong kind of path (a folder where a
    file goes, or the reverse), a path under a file, or a read-only place. ``example`` shows a good name."""
    target = Path(path)
    if target.exists() and target.is_dir() != directory:
        wanted = "a directory" if directory else "a file name"
        raise InputError(f"--output is {'a file' if directory else 'a directory'}; give {wanted} such as {example}",
                         target)
    parent = next((p for p in target.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise InputError(f"--output cannot be created: {parent} is a file", target)
    writable = target if target.exists() else parent
    if writable is not None and not os.access(writable, os.W_OK | (os.X_OK if directory else 0)):
        raise InputError("--output is not writable (permission denied); choose another place", target)


def creation_mode(target: Path) -> int:
    """The permissions ``open()`` would give ``target``: its current ones if it exists, else 0o666 less the umask.

    ``mkstemp`` creates files readable by their owner only, whatever the umask; a finished output
    should be as shareable as any file the user writes.
    """
    with contextlib.suppress(FileNotFoundError):
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file next to ``path``; it replaces ``path`` only if the block succeeds.

    Readers never see a half-written file and a failed or interrupted job leaves nothing behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    if "b" in mode:
        encoding = None
    try:
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), creation_mode(target))
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
