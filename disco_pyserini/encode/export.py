"""Export a corpus as Anserini JsonVectorCollection files with integer impacts.

Output layout (``DIR``)::

    encoding.json                 how the vectors were made (checked by index and search)
    part-SSS-CCCCC.jsonl          shard SSS, chunk CCCCC: {"id", "contents", "vector": {term: int}}

Each chunk file is written to a temporary name and renamed when complete, so a killed job leaves
only complete chunks, and a re-run skips them after checking they hold exactly the expected
documents (their range is known from the chunk size), re-encoding any that do not.
"""
from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

from disco_pyserini.atomic import atomic_write, check_output_path
from disco_pyserini.encode.corpus import Doc, count_lines, read_corpus
from disco_pyserini.errors import InputError

METADATA = "encoding.json"
FORMAT = "disco-pyserini/impact-v1"
# Keys that must agree between every shard of one collection (and between index and queries): vectors made with
# other values would be mixed with, or mistaken for, these (shards of another --shard-num would overlap).
CHECKED_KEYS = ("format", "encoder", "quantization_factor", "max_length", "store_contents", "corpus", "shard_num")


class ExportStats(NamedTuple):
    """What one export call did; ``empty`` are the ids of written documents that have no term (Anserini
    does not index them: they can never be retrieved)."""

    documents: int
    skipped: int
    files: int
    postings: int
    empty: tuple[str, ...] = ()


def shard_range(total: int, shard_id: int, shard_num: int) -> tuple[int, int]:
    """Contiguous, balanced ``[start, stop)`` document range of one shard."""
    if shard_num < 1 or not 0 <= shard_id < shard_num:
        raise InputError(f"--shard-id must be in [0, --shard-num) (got {shard_id} of {shard_num})")
    return total * shard_id // shard_num, total * (shard_id + 1) // shard_num


def chunk_path(output_dir: Path, shard_id: int, chunk: int) -> Path:
    return output_dir / f"part-{shard_id:03d}-{chunk:05d}.jsonl"


def _differences(existing: dict, metadata: dict) -> list[str]:
    # Keys an older encoding.json does not record are not compared.
    differences = []
    for key in CHECKED_KEYS:
        old, new = existing.get(key), metadata.get(key)
        if key not in existing or old == new:
            continue
        if key == "corpus" and isinstance(old, dict) and isinstance(new, dict):
            differences.append(f"another corpus file: {old.get('bytes')} bytes there, {new.get('bytes')} now")
        else:
            differences.append(f"{key} {old!r} there, {new!r} now")
    return differences


def _recorded_differences(output_dir: Path, metadata: dict) -> list[str] | None:
    """How the ``encoding.json`` in ``output_dir`` differs from ``metadata`` (``None``: there is none)."""
    path = output_dir / METADATA
    if not path.exists():
        return None
    try:
        existing = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        existing = None
    return _differences(existing if isinstance(existing, dict) else {"format": "unreadable"}, metadata)


def existing_encoding(output_dir: Path, metadata: dict) -> str | None:
    """Why ``output_dir`` holds vectors of another encoding than ``metadata`` (``None`` if it does not):
    part files of another corpus or settings (its ``encoding.json``), or part files without one. An
    ``encoding.json`` without part files (a run that failed before its first file) holds nothing to lose."""
    parts = list(output_dir.glob("part-*.jsonl"))
    if not parts:
        return None
    differences = _recorded_differences(output_dir, metadata)
    if differences is None:
        return f"this folder holds {len(parts)} part file(s) but no {METADATA}"
    return f"this folder holds vectors of another encoding ({'; '.join(differences)})" if differences else None


def check_output(output_dir: Path, metadata: dict, overwrite: bool = False) -> None:
    """Everything :func:`prepare_output` would refuse, checked without writing (before a model loads)."""
    check_output_path(output_dir, "vectors/", directory=True)
    conflict = None if overwrite else existing_encoding(output_dir, {"format": FORMAT, **metadata})
    if conflict:
        raise InputError(f"{conflict}; use another --output, or pass --overwrite to replace them", output_dir)


def write_metadata(output_dir: Path, metadata: dict, overwrite: bool = False) -> None:
    """Write ``encoding.json``, or check an existing one agrees (shards of one collection share it).

    A folder holding vectors of another corpus or other settings (or part files without an
    ``encoding.json``) is refused; with ``overwrite`` its vectors and ``encoding.json`` are deleted first.
    """
    conflict = existing_encoding(output_dir, metadata)
    if conflict is None and _recorded_differences(output_dir, metadata) == []:
        return
    if conflict and not overwrite:
        raise InputError(f"{conflict}; use another --output, or pass --overwrite to replace them", output_dir)
    for stale in [*output_dir.glob("part-*.jsonl"), *output_dir.glob(".part-*.tmp"), output_dir / METADATA]:
        stale.unlink(missing_ok=True)
    with atomic_write(output_dir / METADATA) as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True)


def read_metadata(directory: str | os.PathLike) -> dict | None:
    """The ``encoding.json`` metadata of an export or index directory, if present."""
    path = Path(directory) / METADATA
    if not path.exists():
        return None
    try:
        metadata = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"damaged metadata, not JSON ({type(error).__name__}); rebuild the folder", path) from None
    if not isinstance(metadata, dict):
        raise InputError("damaged metadata, not a JSON object; rebuild the folder", path)
    return metadata


def _length_sorted_windows(docs: Sequence[Doc], window: int) -> Iterator[list[int]]:
    """Index lists of ``window`` docs, each sorted by text length so batches pad little."""
    for start in range(0, len(docs), window):
        yield sorted(range(start, min(start + window, len(docs))), key=lambda i: len(docs[i].text))


def encode_chunk(encoder, docs: Sequence[Doc], factor: float) -> list[dict[str, int]]:
    """Integer impact vectors of ``docs``, in their order, encoded in length-sorted batches."""
    vectors: list[dict[str, int] | None] = [None] * len(docs)
    for order in _length_sorted_windows(docs, max(encoder.batch_size * 32, 1)):
        for index, sparse in zip(order, encoder.encode_sparse([docs[i].text for i in order])):
            vectors[index] = encoder.to_impacts(sparse, factor)
    return vectors  # type: ignore[return-value]


def _json_line(doc: Doc, vector: dict[str, int], store_contents: bool) -> str:
    record = {"id": doc.doc_id, "contents": doc.text if store_contents else "", "vector": vector}
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_chunk(path: Path, docs: Sequence[Doc], vectors: Sequence[dict[str, int]], store_contents: bool) -> None:
    """Write one part file atomically: it appears complete or not at all."""
    with atomic_write(path) as handle:
        handle.writelines(_json_line(d, v, store_contents) for d, v in zip(docs, vectors))


def prepare_output(output_dir: Path, factor: float, metadata: dict | None, shard_id: int,
                   overwrite: bool = False) -> None:
    """Create ``output_dir``, write or check its ``encoding.json``, drop temporaries a killed run left."""
    check_output_path(output_dir, "vectors/", directory=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_metadata(output_dir, {"format": FORMAT, "quantization_factor": factor, **(metadata or {})}, overwrite)
    remove_stale_temporaries(output_dir, shard_id)


def remove_stale_parts(output_dir: Path, shard_id: int, files: int) -> None:
    """Delete this shard's part files numbered ``files`` and up.

    They come from an earlier run of the same encoding with another ``--docs-per-file``: they would
    duplicate documents. (Another corpus or other settings never reach here: ``write_metadata``.)
    """
    for stale in output_dir.glob(f"part-{shard_id:03d}-*.jsonl"):
        if int(stale.stem.rsplit("-", 1)[1]) >= files:
            stale.unlink()


def corpus_range(corpus: str | os.PathLike, shard_id: int, shard_num: int, docs_per_file: int) -> tuple[int, int]:
    """This shard's ``[start, stop)`` lines of ``corpus``, after checking the corpus and the chunk size."""
    if docs_per_file < 1:
        raise InputError(f"--docs-per-file must be >= 1, got {docs_per_file}")
    total = count_lines(corpus)
    if total == 0:
        raise InputError("the corpus holds no document; check the file", corpus)
    return shard_range(total, shard_id, shard_num)


def export_corpus(encoder, corpus: str | os.PathLike, output_dir: str | os.PathLike, *, factor: float,
                  shard_id: int = 0, shard_num: int = 1, docs_per_file: int = 100_000,
                  store_contents: bool = True, progress: bool = True, metadata: dict | None = None,
                  overwrite: bool = False) -> ExportStats:
    """Encode one shard of ``corpus`` with ``encoder`` (a :class:`SpladeEncoder`) into ``output_dir``.

    A folder holding another encoding is refused (``overwrite`` replaces it); finished part files of the
    same encoding are kept and skipped, so an interrupted run resumes.
    """
    from tqdm import tqdm

    output_dir = Path(output_dir)
    start, stop = corpus_range(corpus, shard_id, shard_num, docs_per_file)
    prepare_output(output_dir, factor, metadata, shard_id, overwrite)
    docs_iter = read_corpus(corpus, start, stop)
    written = skipped = files = postings = 0
    empty: list[str] = []
    with tqdm(total=stop - start, desc=f"encode shard {shard_id}", unit="doc", disable=not progress) as bar:
        for chunk in itertools.count():
            docs = list(itertools.islice(docs_iter, docs_per_file))
            if not docs:
                break
            path = chunk_path(output_dir, shard_id, chunk)
            if chunk_done(path, docs):
                skipped += len(docs)  # finished by an earlier, interrupted run
            else:
                vectors = encode_chunk(encoder, docs, factor)
                write_chunk(path, docs, vectors, store_contents)
                written += len(docs)
                postings += sum(len(v) for v in vectors)
                empty += [doc.doc_id for doc, vector in zip(docs, vectors) if not vector]
            files += 1
            bar.update(len(docs))
    if files:  # an empty shard (more shards than documents) has nothing to replace
        remove_stale_parts(output_dir, shard_id, files)
    return ExportStats(written, skipped, files, postings, tuple(empty))


def chunk_done(path: Path, docs: Sequence[Doc]) -> bool:
    """Whether ``path`` already holds exactly ``docs``' vectors, in order (verified by id)."""
    if not path.exists():
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            ids = [json.loads(line)["id"] for line in handle]
    except (json.JSONDecodeError, KeyError, TypeError):
        return False
    return ids == [doc.doc_id for doc in docs]


def remove_stale_temporaries(output_dir: Path, shard_id: int) -> None:
    """Delete atomic_write's temporaries left by a killed run of this shard (other shards may be running)."""
    for temporary in output_dir.glob(f".part-{shard_id:03d}-*.tmp"):
        temporary.unlink(missing_ok=True)


def iter_vectors(directory: str | os.PathLike) -> Iterable[tuple[str, dict[str, int]]]:
    """``(doc_id, vector)`` pairs of an exported collection, in file order."""
    for path in sorted(Path(directory).glob("part-*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                yield record["id"], record["vector"]
