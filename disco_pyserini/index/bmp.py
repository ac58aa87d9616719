"""BMP (block-max pruning, Mallia et al., SIGIR 2024) indexes from a JsonVectorCollection.

BMP's index (``index.bmp``, built by the ``bmp`` package's ``Indexer``) stores 8-bit document
impacts, at most 65,536 terms and 16-bit scores. To stay exact on our integer impacts, the folder
also keeps the collection's exact impacts as a forward index (``forward.*.npy``, memory-mapped at
search time): BMP finds candidates on its 8-bit copy, then the candidates are rescored exactly
(see :mod:`disco_pyserini.search.bmp` for why that gives Lucene's top k). The 8-bit copy is
``ceil(impact * doc_scale)``, an upper bound of the scaled exact impact; ``doc_scale`` is 1 when
every impact fits in 8 bits and is lowered further only if a document's impact sum would overflow
BMP's 16-bit scores.

Three further details work around the engine: rows are padded to whole blocks and followed by one
sentinel document, because BMP never scores the last block it visits (the sentinel's block is
always last: see the searcher); the per-term k-th impacts BMP seeds its threshold with are zeroed
(``clear_term_thresholds``), so the sentinel stays last for any k; documents are named by row
number and ``docids.txt`` maps them back. ``--reorder bisection`` renumbers the rows first so that
blocks hold similar documents (:mod:`disco_pyserini.index.reorder`): on 200,000 real passages that halved BMP's
search time.
"""
from __future__ import annotations

import mmap
import os
import shutil
import time
from pathlib import Path

import numpy as np

from disco_pyserini.encode.export import METADATA
from disco_pyserini.errors import InputError
from disco_pyserini.index.build import IndexStats
from disco_pyserini.index.layout import CONTENTS, DOCIDS, import_engine, staging, write_info
from disco_pyserini.index.reorder import bisection_order
from disco_pyserini.index.vectors import Vectors, read_vectors

FORMAT = "disco-pyserini/bmp-v1"
INDEX_FILE = "index.bmp"
FORWARD = ("forward.indptr.npy", "forward.terms.npy", "forward.impacts.npy")
TERM_MAX = "bmp.term_max.npy"
ORIGINAL_ROWS = "original_rows.npy"  # with --reorder: each row's position in the collection (for tie order)
REORDERINGS = ("none", "bisection")
SENTINEL_TERM = "sentinel"  # real terms are named by their id ("0", "1", ...), so no clash
U8, U16 = 255, 65535


def row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Per-row sums of a CSR value array (0 for empty rows)."""
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return np.bincount(rows, weights=values, minlength=len(indptr) - 1)


def bmp_impacts(vectors: Vectors) -> tuple[np.ndarray, float]:
    """BMP's 8-bit impacts ``ceil(impact * scale)`` and the scale, chosen so no document sum exceeds 16 bits."""
    top = int(vectors.impacts.max(initial=0))
    scale = min(1.0, U8 / top) if top else 1.0
    while True:
        quantised = np.ceil(vectors.impacts * scale) if scale < 1.0 else vectors.impacts.astype(np.float64)
        heaviest = float(row_sums(quantised, vectors.indptr).max(initial=0))
        if heaviest <= U16:
            return quantised.astype(np.uint8), scale
        scale *= U16 / heaviest * 0.999


def build_bmp_index(input_dir: str | os.PathLike, index_dir: str | os.PathLike, *, block_size: int = 32,
                    compress_range: bool = True, reorder: str = "none", store_raw: bool = False,
                    overwrite: bool = False, progress: bool = True) -> IndexStats:
    """Index a JsonVectorCollection with BMP into ``index_dir`` (built in a temporary folder, renamed when done).

    ``compress_range`` keeps each term's block maxima sparsely: BMP's dense default holds terms x blocks bytes
    (0.9 GB of the 1.1 GB index at 1M documents and a 30k vocabulary) for no speed gain there.
    ``reorder="bisection"`` numbers the documents by recursive graph bisection first, so that each block holds
    documents sharing terms (:mod:`disco_pyserini.index.reorder`); ``docids.txt`` follows the new rows, and
    ``original_rows.npy`` keeps each row's position in the collection so ties are still broken by it.
    """
    if not 1 <= block_size <= 256:
        raise InputError(f"--bmp-block-size must be in [1, 256] (BMP numbers documents in a block with 8 bits), "
                         f"got {block_size}")
    if reorder not in REORDERINGS:
        raise InputError(f"--reorder must be one of {', '.join(REORDERINGS)}, got {reorder!r}")
    bmp = import_engine("bmp")
    from tqdm import tqdm

    started = time.perf_counter()
    input_dir, index_dir = Path(input_dir), Path(index_dir)
    with staging(index_dir, overwrite, (input_dir,)) as tmp:
        vectors = read_vectors(input_dir, tmp, store_raw=store_raw, progress=progress)
        if len(vectors.terms) >= U16:
            raise InputError(f"{len(vectors.terms)} distinct terms; BMP indexes at most {U16 - 1} (16-bit term ids). "
                             "Use --backend seismic or lucene", input_dir)
        if reorder == "bisection":
            order = bisection_order(vectors.indptr, vectors.term_ids, leaf_size=block_size, progress=progress)
            vectors = _permute(vectors, order, tmp)
            np.save(tmp / ORIGINAL_ROWS, order.astype(np.int64))
        quantised, scale = bmp_impacts(vectors)
        term_max = np.zeros(len(vectors.terms), dtype=np.uint8)
        np.maximum.at(term_max, vectors.term_ids, quantised)
        norms = np.sqrt(row_sums(quantised.astype(np.float64) ** 2, vectors.indptr))
        names = [str(i) for i in range(len(vectors.terms))]
        indexer = bmp.Indexer(str(tmp / INDEX_FILE), block_size, compress_range)
        indptr, ids = vectors.indptr, vectors.term_ids
        for row in tqdm(range(vectors.documents), desc="bmp index", unit="doc", disable=not progress):
            start, stop = indptr[row], indptr[row + 1]
            indexer.add_document(str(row), {names[t]: int(w) for t, w in
                                            zip(ids[start:stop].tolist(), quantised[start:stop].tolist())})
        for _ in range(-vectors.documents % block_size):
            indexer.add_document("-1", {})
        indexer.add_document("-1", {SENTINEL_TERM: 1})
        indexer.finish()
        clear_term_thresholds(tmp / INDEX_FILE)
        _save_forward(tmp, vectors)
        np.save(tmp / TERM_MAX, term_max)
        if (input_dir / METADATA).exists():
            shutil.copyfile(input_dir / METADATA, tmp / METADATA)
        write_info(tmp, {"backend": "bmp", "format": FORMAT, "documents": vectors.documents,
                         "terms": len(vectors.terms), "block_size": block_size, "compress_range": compress_range,
                         "doc_scale": scale, "reorder": reorder, "thresholds_cleared": True,
                         "max_doc_norm": float(norms.max(initial=0)),
                         "max_doc_sum": int(row_sums(quantised, indptr).max(initial=0)), "store_raw": store_raw})
    return IndexStats(index_dir, vectors.documents, time.perf_counter() - started)


def _permute(vectors: Vectors, order: np.ndarray, directory: Path) -> Vectors:
    """The rows in ``order`` (row ``i`` becomes ``vectors`` row ``order[i]``), with the doc id (and text) files."""
    lengths = np.diff(vectors.indptr)[order]
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    positions = np.arange(int(indptr[-1])) + np.repeat(vectors.indptr[order] - indptr[:-1], lengths)
    for name in (DOCIDS, CONTENTS):
        if (directory / name).exists():
            lines = (directory / name).read_text(encoding="utf-8").splitlines(keepends=True)
            (directory / name).write_text("".join(lines[row] for row in order.tolist()), encoding="utf-8")
    return Vectors(vectors.terms, indptr, vectors.term_ids[positions], vectors.impacts[positions])


def clear_term_thresholds(path: Path) -> int:
    """Zero every posting list's stored 10th/100th/1000th-largest impact in a BMP 0.2.x index file, in place.

    BMP seeds a search's threshold with ``max_t kth_t(k) * q_t`` for ``k <= 1000`` (``PostingList::kth``). Our
    exact search needs a threshold of 0: its sentinel block must be the last one BMP visits, since BMP never scores
    that block, and a positive seed also drops documents scoring exactly the seed and panics when no block's bound
    exceeds it. BMP seeds 0 only for ``k > 1000``; with these tables zeroed it does so for every ``k``, so a
    search for 10 hits asks BMP for a few dozen candidates instead of 1,001 (and its heap prunes with the real
    k-th score). The file is bincode (fixed-width little-endian integers): ``num_documents: u64``, then the posting
    lists, each ``range_maxes`` (an enum: u32 tag, 0 = compressed ``Vec<Vec<(u64, u8)>>``, 1 = raw ``Vec<u8>``)
    and ``kth_score: Vec<u8>``. Returns the number of posting lists patched.
    """
    with open(path, "r+b") as handle, mmap.mmap(handle.fileno(), 0) as data:
        def u64(at: int) -> int:
            return int.from_bytes(data[at:at + 8], "little")

        lists, at = u64(8), 16
        for _ in range(lists):
            tag = int.from_bytes(data[at:at + 4], "little")
            at += 4
            if tag == 0:
                superblocks, at = u64(at), at + 8
                for _ in range(superblocks):
                    at += 8 + 9 * u64(at)
            elif tag == 1:
                at += 8 + u64(at)
            else:
                raise InputError(f"unexpected BMP index layout (block data tag {tag}); needs bmp 0.2.x", path)
            size = u64(at)
            if size > 3:
                raise InputError(f"unexpected BMP index layout ({size} k-th scores); needs bmp 0.2.x", path)
            data[at + 8:at + 8 + size] = bytes(size)
            at += 8 + size
        data.flush()
    return lists


def _save_forward(directory: Path, vectors: Vectors) -> None:
    """The exact impacts, as compact CSR arrays for memory-mapped rescoring."""
    term_type = np.uint16 if len(vectors.terms) <= U16 + 1 else np.uint32
    impact_type = np.uint16 if int(vectors.impacts.max(initial=0)) <= U16 else np.uint32
    for name, array in zip(FORWARD, (vectors.indptr, vectors.term_ids.astype(term_type),
                                     vectors.impacts.astype(impact_type))):
        np.save(directory / name, array)
