"""Safe output: the checks every command makes before writing, a lock per output, and atomic writes.

Every command that writes goes through :func:`disco_pyserini.cli.claim_outputs`, which uses the
functions here: an output may not be (or lie inside, or contain) one of the command's inputs, two
outputs may not be one path, an existing output is replaced only with ``--overwrite``, and a second
command writing the same output at the same time is refused (:func:`output_lock`).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator

from disco_pyserini.errors import InputError


def check_output_path(path: str | os.PathLike, example: str, directory: bool = False, flag: str = "--output") -> None:
    """Refuse an output (the ``flag``) that cannot be written, before any work: the wrong kind of path (a folder
    where a file goes, or the reverse), a path under a file, or a read-only place. ``example`` shows a good name."""
    target = Path(path)
    if target.exists() and target.is_dir() != directory:
        wanted = "a directory" if directory else "a file name"
        raise InputError(f"{flag} is {'a file' if directory else 'a directory'}; give {wanted} such as {example}",
                         target)
    parent = next((p for p in target.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise InputError(f"{flag} cannot be created: {parent} is a file", target)
    writable = target if target.exists() else parent
    if writable is not None and not os.access(writable, os.W_OK | (os.X_OK if directory else 0)):
        raise InputError(f"{flag} is not writable (permission denied); choose another place", target)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file or folder (through symbolic and hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def overlap(output: str | os.PathLike, source: str | os.PathLike) -> str | None:
    """How ``output`` would touch the existing input ``source``: "is", "is inside" or "contains"; else ``None``."""
    target, source = Path(output).resolve(), Path(source).resolve()
    if same_file(target, source):
        return "is"
    if any(same_file(parent, source) for parent in target.parents if parent.exists()):
        return "is inside"
    if source.is_relative_to(target):
        return "contains"
    return None


def _created_parents(target: Path) -> list[Path]:
    """Create the missing folders above ``target``; the ones created, deepest first."""
    missing = [parent for parent in target.parents if not parent.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    return missing


@contextlib.contextmanager
def output_lock(path: str | os.PathLike, flag: str = "--output") -> Iterator[None]:
    """Hold ``.NAME.lock`` beside the output while a command writes it; a second writer is refused at once.

    The lock file goes when the lock is released (folders created for it, when left empty). A writer that
    opened the file just before it was removed re-checks that it locked the file still at that path.
    """
    target = Path(path)
    created = _created_parents(target)
    lock = target.with_name(f".{target.name}.lock")
    try:
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise InputError(f"another command is writing this {flag} now; wait for it to finish, or choose "
                                 f"another {flag}", target) from None
            with contextlib.suppress(FileNotFoundError):
                if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                    break
            os.close(fd)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
            os.close(fd)
    finally:
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty: the command wrote nothing there


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
