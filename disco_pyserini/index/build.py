"""Build a Lucene impact index from a JsonVectorCollection with Anserini's IndexCollection."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from disco_pyserini import compat
from disco_pyserini.encode.export import METADATA
from disco_pyserini.errors import InputError
from disco_pyserini.index.layout import check_replaceable, remove_dead_temporaries, staging, write_info
from disco_pyserini.jvm import anserini_jar, find_java_home, heap_option
from disco_pyserini.quantize import check_integer_vector
from disco_pyserini.textio import text_lines

COLLECTION_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")


class IndexStats(NamedTuple):
    """Outcome of one indexing run."""

    index: Path
    documents: int
    seconds: float


def collection_files(input_dir: Path) -> list[Path]:
    """The JSON/JSONL files Anserini's JsonVectorCollection will read from ``input_dir``."""
    if not input_dir.is_dir():
        raise InputError("not a directory; pass the folder written by 'python -m disco_pyserini.encode docs'",
                         input_dir)
    files = sorted(p for p in input_dir.iterdir() if p.name.endswith(COLLECTION_SUFFIXES) and p.name != METADATA)
    if not files:
        raise InputError("no *.jsonl collection files found", input_dir)
    return files


class Record(NamedTuple):
    """One checked line of a collection: where it is, its id, its vector, and the whole record."""

    path: Path
    number: int
    doc_id: str
    vector: dict[str, int]
    record: dict


def _records(files: list[Path]) -> Iterator[Record]:
    """Every line, checked: JSON ``{"id", "vector"}`` with an id Anserini and TREC runs keep whole and a vector
    Anserini would not mangle (:func:`check_integer_vector`); errors name the file and line."""
    for path, number, line in _lines(files):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"malformed JSON ({error.msg}); re-export the collection", path, number) from None
        if not isinstance(record, dict) or "id" not in record or not isinstance(record.get("vector"), dict):
            raise InputError('expected {"id": ..., "vector": {term: int}}', path, number)
        doc_id = str(record["id"])
        if not doc_id or len(doc_id.split()) != 1:
            raise InputError(f"document id {doc_id!r} is empty or contains whitespace; TREC runs split on it",
                             path, number)
        try:
            vector = check_integer_vector(record["vector"], f"document {doc_id!r}")
        except InputError as error:
            raise InputError(error.problem, path, number) from None
        yield Record(path, number, doc_id, vector, record)


def _lines(files: list[Path]) -> Iterator[tuple[Path, int, str]]:
    for path in files:
        for number, line in text_lines(path, "collection file"):
            yield path, number, line


class Validated(NamedTuple):
    """What :func:`validate_collection` found: documents, and the ids of those without a term."""

    documents: int
    empty: tuple[str, ...]


def validate_collection(files: list[Path]) -> Validated:
    """Check every line is ``{"id", "vector": {term: int >= 0}}`` and ids are unique.

    Anserini would silently truncate float weights (0.7 -> dropped), split a term with a space, wrap
    weights of 2^31 and more, and index duplicate ids as two documents, so all are rejected here. A
    document without any term is counted (Anserini skips it: it can never be retrieved).
    """
    hashes = array("q")  # 8 bytes per document, whatever the id lengths
    empty: list[str] = []
    for record in _records(files):
        if not record.vector:
            empty.append(record.doc_id)
        hashes.append(hash(record.doc_id))
    values, counts = np.unique(np.frombuffer(hashes, dtype=np.int64), return_counts=True)
    if (counts > 1).any():
        _raise_duplicate(files, set(values[counts > 1].tolist()))
    return Validated(len(hashes), tuple(empty))


def warn_empty(doc_ids: list[str] | tuple[str, ...]) -> None:
    """The one warning about documents without any term (every engine: they can never be retrieved)."""
    if doc_ids:
        print(f"warning: {len(doc_ids)} document(s) have no term (first: {', '.join(doc_ids[:5])}); no engine can "
              "retrieve them (Anserini does not even index them)", file=sys.stderr)


def _raise_duplicate(files: list[Path], suspects: set[int]) -> None:
    # Second pass over the few ids whose hashes collide: report a real duplicate with both places.
    seen: dict[str, str] = {}
    for record in _records(files):
        if hash(record.doc_id) in suspects:
            if record.doc_id in seen:
                raise InputError(f"duplicate document id {record.doc_id!r} (first at {seen[record.doc_id]}); ids "
                                 "must be unique", record.path, record.number)
            seen[record.doc_id] = f"{record.path.name}:{record.number}"


def java_command(java_home: str) -> list[str]:
    """The ``java`` invocation with Anserini's fat jar on the classpath and ``DISCO_JVM_HEAP``'s heap, as the
    in-process JVM gets it (:func:`~disco_pyserini.jvm.heap_option`)."""
    jar = anserini_jar()
    return [os.path.join(java_home, "bin", "java"), *compat.jvm_options(jar), *heap_option(), "-cp", jar]


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child, before exec
    # Linux: the kernel sends SIGTERM to the Java child when this process dies, even of SIGKILL, so a killed
    # `index` never leaves Anserini running (and writing into a folder nobody will clean).
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def collection_view(files: list[Path], into: Path) -> Path:
    """A folder of links to the collection files alone: Anserini reads every file of its ``-input`` folder,
    and ``encoding.json`` (or anything else beside the parts) is not a document."""
    into.mkdir()
    for path in files:
        (into / path.name).symlink_to(path.resolve())
    return into


def run_index_collection(input_dir: Path, index_dir: Path, collection_args: list[str], *, threads: int,
                         expected: int | None, overwrite: bool, verbose: bool,
                         metadata_dir: Path | None = None, info: dict | None = None,
                         inputs: tuple[Path, ...] = ()) -> IndexStats:
    """Run Anserini's IndexCollection into a temporary directory and rename it to ``index_dir`` on success.

    ``inputs`` are the user's input paths: ``--overwrite`` never deletes them (:func:`staging`).
    """
    import time

    java_home = find_java_home()
    started = time.perf_counter()
    with staging(index_dir, overwrite, inputs) as tmp:
        command = java_command(java_home) + [
            "io.anserini.index.IndexCollection", "-input", str(input_dir), "-index", str(tmp / "lucene"),
            "-generator", "DefaultLuceneDocumentGenerator", "-threads", str(threads), *collection_args]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "JAVA_HOME": java_home},
                                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        if verbose or result.returncode != 0:
            sys.stderr.write(result.stdout)
        if result.returncode != 0:
            raise InputError(f"Anserini IndexCollection failed (exit {result.returncode}); see its log above",
                             input_dir)
        indexed = _indexed_count(result.stdout)
        if expected is not None and indexed is not None and indexed != expected:
            raise InputError(f"Anserini indexed {indexed} of {expected} documents; see its log (run with --verbose)",
                             input_dir)
        for path in (tmp / "lucene").iterdir():  # the index files go to the top of the folder
            os.replace(path, tmp / path.name)
        (tmp / "lucene").rmdir()
        if metadata_dir is not None and (metadata_dir / METADATA).exists():
            shutil.copyfile(metadata_dir / METADATA, tmp / METADATA)
        if info is not None:  # with the Anserini and Lucene that wrote it, for a clear error on the other line
            write_info(tmp, {**info, **compat.versions_info(tmp, anserini_jar())})
    return IndexStats(index_dir, indexed if indexed is not None else (expected or 0), time.perf_counter() - started)


def build_index(input_dir: str | os.PathLike, index_dir: str | os.PathLike, *, threads: int = 1,
                store_raw: bool = False, optimize: bool = False, overwrite: bool = False,
                validate: bool = True, verbose: bool = False) -> IndexStats:
    """Index an impact collection ``input_dir`` into ``index_dir`` (built under a temporary name, renamed
    when complete).

    The export's ``encoding.json`` is copied into the index so searches can check that queries use
    the same quantisation factor, and ``backend.json`` records that this is a Lucene index.
    """
    input_dir, index_dir = Path(input_dir), Path(index_dir)
    files = collection_files(input_dir)
    check_replaceable(index_dir, overwrite, (input_dir,))  # before a long validation
    checked = validate_collection(files) if validate else None
    if checked is not None:
        warn_empty(checked.empty)
    expected = None if checked is None else checked.documents - len(checked.empty)
    args = ["-collection", "JsonVectorCollection", "-impact", "-pretokenized"]
    args += ["-storeRaw"] * store_raw + ["-optimize"] * optimize
    with input_staging(index_dir) as view:
        return run_index_collection(collection_view(files, view / "parts"), index_dir, args, threads=threads,
                                    expected=expected, overwrite=overwrite, verbose=verbose,
                                    metadata_dir=input_dir, inputs=(input_dir,),
                                    info={"backend": "lucene", "kind": "impact", "documents": expected,
                                          "store_raw": store_raw})


@contextlib.contextmanager
def input_staging(index_dir: Path) -> Iterator[Path]:
    """A temporary folder for what Anserini reads, beside the index (same filesystem, same space), removed after."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(index_dir)
    # The PID in the name lets the next build remove this folder if this process is killed.
    with tempfile.TemporaryDirectory(prefix=f".{index_dir.name}.input-{os.getpid()}-", dir=index_dir.parent) as folder:
        yield Path(folder)


def _indexed_count(log: str) -> int | None:
    # Anserini ends with "Total N documents indexed in ..." (with thousands separators)
    match = re.search(r"Total ([\d,]+) documents? indexed", log)
    return int(match.group(1).replace(",", "")) if match else None
