"""What an index folder holds besides the engine's own files: its backend, doc ids, terms and vectors.

Every index built by ``python -m disco_pyserini.index`` records its engine in ``backend.json``
(``{"backend": "lucene" | "bmp" | "seismic", ...}``) beside the copy of the export's
``encoding.json``, so search infers the engine and refuses a mismatch. Lucene indexes built before
that file existed are recognised by their ``segments_*`` files.

BMP and Seismic number documents and terms themselves, so their folders also keep the mappings:

``docids.txt``      external doc id of row ``i`` on line ``i`` (the engines index row numbers)
``terms.json``      the vocabulary: term id ``j`` is ``terms[j]``
``contents.jsonl``  with ``--store-raw``: each document's text as a JSON string, one per line
"""
from __future__ import annotations

import contextlib
import json
import mmap
import os
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np

from disco_pyserini.errors import InputError

BACKENDS = ("lucene", "bmp", "seismic")
INFO = "backend.json"
DOCIDS = "docids.txt"
TERMS = "terms.json"
CONTENTS = "contents.jsonl"
MANIFEST = "shards.json"   # a folder of shard indexes (disco_pyserini.index.shards)
SHARD_INFO = "shard.json"  # in each shard: which shard it is, built from what
# The Python package that provides each engine (for the "not installed" error).
PACKAGES = {"bmp": "bmp", "seismic": "pyseismic-lsr"}


def read_info(index_dir: str | os.PathLike) -> dict | None:
    """The ``backend.json`` of an index, if it has one."""
    path = Path(index_dir) / INFO
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON ({error.msg}); rebuild the index", path) from None
    if not isinstance(info, dict) or info.get("backend") not in BACKENDS:
        raise InputError(f"unknown backend {info.get('backend') if isinstance(info, dict) else info!r}; "
                         f"expected one of {', '.join(BACKENDS)}", path)
    return info


def detect_backend(index_dir: str | os.PathLike) -> str:
    """The engine an index folder was built for (``backend.json``, else Lucene's ``segments_*``)."""
    index_dir = Path(index_dir)
    if not index_dir.is_dir():
        raise InputError("no such index directory; build one with 'python -m disco_pyserini.index'", index_dir)
    if is_sharded(index_dir):
        from disco_pyserini.index.shards import read_manifest

        return read_manifest(index_dir)["backend"]
    info = read_info(index_dir)
    if info is not None:
        return info["backend"]
    if any(index_dir.glob("segments_*")):
        return "lucene"
    raise InputError("not an index (no backend.json, no Lucene segments_* file); build one with "
                     "'python -m disco_pyserini.index'", index_dir)


def check_backend(index_dir: str | os.PathLike, requested: str | None) -> str:
    """The index's backend; ``requested`` (the ``--backend`` flag), when given, must match it."""
    found = detect_backend(index_dir)
    if requested is not None and requested != found:
        raise InputError(f"this is a {found} index, not {requested}; drop --backend (it is inferred from the "
                         f"index) or build a {requested} index with 'python -m disco_pyserini.index --backend "
                         f"{requested}'", index_dir)
    return found


def import_engine(backend: str):
    """Import an engine's Python package, or explain how to install it."""
    import importlib

    module = {"bmp": "bmp", "seismic": "seismic"}[backend]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"the {backend} backend needs the {PACKAGES[backend]} package: "
                         'pip install "disco-pyserini[fast]"') from None


def write_info(directory: Path, info: dict) -> None:
    (directory / INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def is_sharded(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` is a folder of shard indexes (joined by a manifest or not yet)."""
    directory = Path(directory)
    return (directory / MANIFEST).is_file() or any(directory.glob(f"shard-*/{SHARD_INFO}"))


def is_index(directory: Path) -> bool:
    """Whether ``directory`` is recognisably an index (``backend.json``, Lucene ``segments_*`` files, or shards)."""
    return (directory / INFO).is_file() or any(directory.glob("segments_*")) or is_sharded(directory)


def check_replaceable(index_dir: Path, overwrite: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse to build into ``index_dir`` when that would lose something: it exists (without ``overwrite``),
    it is a file, a folder that is not an index, or one of the ``inputs`` (or holds or lies inside one)."""
    target = index_dir.resolve()
    for source in inputs:
        source = source.resolve()
        if target == source or target in source.parents or source in target.parents:
            raise InputError(f"--index and the input {source} overlap; give the index its own folder (an "
                             "--overwrite there would delete the input)", index_dir)
    if not index_dir.exists():
        return
    if not index_dir.is_dir():
        raise InputError("--index is a file; give a directory for the index", index_dir)
    if not overwrite:
        raise InputError("index already exists; remove it or pass --overwrite", index_dir)
    if any(index_dir.iterdir()) and not is_index(index_dir):
        raise InputError("this folder holds files but is not an index; --overwrite only replaces indexes, so "
                         "give the index its own folder", index_dir)


def remove_dead_temporaries(index_dir: Path) -> None:
    """Delete the ``.NAME.tmp-PID`` build folders and ``.NAME.input-PID-*`` input views left beside ``index_dir``
    by builds whose process is gone."""
    for pattern in (f".{index_dir.name}.tmp-*", f".{index_dir.name}.input-*"):
        for stale in index_dir.parent.glob(pattern):
            pid = stale.name[len(pattern) - 1:].split("-", 1)[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staging(index_dir: Path, overwrite: bool, inputs: tuple[Path, ...] = ()) -> Iterator[Path]:
    """A temporary folder beside ``index_dir`` that replaces it only when the block succeeds.

    What :func:`check_replaceable` refuses is refused first; temporaries of killed builds are cleaned.
    """
    check_replaceable(index_dir, overwrite, inputs)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(index_dir)
    tmp = index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        if index_dir.exists():
            shutil.rmtree(index_dir)
        os.replace(tmp, index_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class LineStore:
    """Random access to the lines of a text file (memory-mapped; 8 bytes of offsets per line).

    Holds doc ids of collections with millions of documents without a Python string per line.
    """

    def __init__(self, path: str | os.PathLike, expected: int | None = None):
        self.path = Path(path)
        if not self.path.exists():
            raise InputError("missing mapping file; the index is incomplete, rebuild it", self.path)
        self._file = open(self.path, "rb")
        size = os.fstat(self._file.fileno()).st_size
        self._buffer = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        ends = np.flatnonzero(np.frombuffer(self._buffer, dtype=np.uint8) == ord("\n")) if size else np.empty(0, int)
        self._starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64) if len(ends) else ends
        self._ends = ends
        if expected is not None and len(ends) != expected:
            raise InputError(f"has {len(ends)} lines for {expected} documents; rebuild the index", self.path)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, row: int) -> str:
        return self._buffer[self._starts[row]:self._ends[row]].decode("utf-8")

    def take(self, rows: np.ndarray) -> list[str]:
        """The lines of many rows at once (a search's hits): one numpy gather instead of two lookups per row."""
        buffer = self._buffer
        return [buffer[start:end].decode("utf-8")
                for start, end in zip(self._starts[rows].tolist(), self._ends[rows].tolist())]

    def close(self) -> None:
        if isinstance(self._buffer, mmap.mmap):
            self._buffer.close()
        self._file.close()


def read_terms(index_dir: Path) -> dict[str, int]:
    """``{term: id}`` of an index's vocabulary."""
    path = index_dir / TERMS
    if not path.exists():
        raise InputError("missing mapping file; the index is incomplete, rebuild it", path)
    return {term: i for i, term in enumerate(json.loads(path.read_text(encoding="utf-8")))}


def folder_bytes(directory: str | os.PathLike) -> int:
    """Total size of the files in an index folder."""
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())
