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

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.corpus import Doc, count_lines, read_corpus
from disco_pyserini.errors import InputError

METADATA = "encoding.json"
FORMAT = "disco-pyserini/impact-v1"
# Keys that must agree between every shard of one collection and between index and queries.
CHECKED_KEYS = ("format", "encoder", "quantization_factor")


class ExportStats(NamedTuple):
    """What one export call did."""

    documents: int
    skipped: int
    files: int
    postings: int


def shard_range(total: int, shard_id: int, shard_num: int) -> tuple[int, int]:
    """Contiguous, balanced ``[start, stop)`` document range of one shard."""
    if shard_num < 1 or not 0 <= shard_id < shard_num:
        raise InputError(f"--shard-id must be in [0, --shard-num) (got {shard_id} of {shard_num})")
    return total * shard_id // shard_num, total * (shard_id + 1) // shard_num


def chunk_path(output_dir: Path, shard_id: int, chunk: int) -> Path:
    return output_dir / f"part-{shard_id:03d}-{chunk:05d}.jsonl"


def write_metadata(output_dir: Path, metadata: dict) -> None:
    """Write ``encoding.json``, or check an existing one agrees (shards of one collection share it)."""
    path = output_dir / METADATA
    if path.exists():
        existing = json.loads(path.read_text(encoding="utf-8"))
        for key in CHECKED_KEYS:
            if existing.get(key) != metadata.get(key):
                raise InputError(f"{key} is {existing.get(key)!r} here but {metadata.get(key)!r} for this run; "
                                 "write to an empty directory", path)
        return
    with atomic_write(path) as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True)


def read_metadata(directory: str | os.PathLike) -> dict | None:
    """The ``encoding.json`` metadata of an export or index directory, if present."""
    path = Path(directory) / METADATA
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


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


def prepare_output(output_dir: Path, factor: float, metadata: dict | None, shard_id: int) -> None:
    """Create ``output_dir``, write or check its ``encoding.json``, drop temporaries a killed run left."""
    output_dir.mkdir(parents=True, exist_ok=True)
    write_metadata(output_dir, {"format": FORMAT, "quantization_factor": factor, **(metadata or {})})
    remove_stale_temporaries(output_dir, shard_id)


def remove_stale_parts(output_dir: Path, shard_id: int, files: int) -> None:
    """Delete this shard's part files numbered ``files`` and up.

    They come from an earlier run with other chunking: they would duplicate documents.
    """
    for stale in output_dir.glob(f"part-{shard_id:03d}-*.jsonl"):
        if int(stale.stem.rsplit("-", 1)[1]) >= files:
            stale.unlink()


def export_corpus(encoder, corpus: str | os.PathLike, output_dir: str | os.PathLike, *, factor: float,
                  shard_id: int = 0, shard_num: int = 1, docs_per_file: int = 100_000,
                  store_contents: bool = True, progress: bool = True, metadata: dict | None = None) -> ExportStats:
    """Encode one shard of ``corpus`` with ``encoder`` (a :class:`SpladeEncoder`) into ``output_dir``."""
    from tqdm import tqdm

    output_dir = Path(output_dir)
    prepare_output(output_dir, factor, metadata, shard_id)
    start, stop = shard_range(count_lines(corpus), shard_id, shard_num)
    docs_iter = read_corpus(corpus, start, stop)
    written = skipped = files = postings = 0
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
            files += 1
            bar.update(len(docs))
    remove_stale_parts(output_dir, shard_id, files)
    return ExportStats(written, skipped, files, postings)


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
