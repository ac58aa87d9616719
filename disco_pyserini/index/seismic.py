"""Seismic (Bruch et al., SIGIR 2024) indexes from a JsonVectorCollection.

Seismic prunes each posting list to its ``n_postings`` heaviest entries (on average), clusters it
into blocks with summary vectors, and at query time scores whole blocks only when their summary
looks competitive: approximate, and very fast. It also keeps the documents' vectors (as 16-bit
floats, exact for integer impacts up to 2,048) and scores candidates with the full query, so the
scores it returns are the exact integer dot products; only which documents are found is approximate.

With ``knn > 0`` the index also stores each document's ``knn`` nearest neighbours (Seismic's k-NN graph,
Bruch et al., CIKM 2024); a search with ``n_knn`` then scores the first ``n_knn`` neighbours of every
result it found and keeps any that beat them. Building the graph searches the index once per document.

The folder holds ``index.index.seismic`` (the ``pyseismic-lsr`` package's own format), the doc id
and term mappings (Seismic is given row numbers and term ids) and ``backend.json``.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np

from disco_pyserini.cli import stdout_to_stderr
from disco_pyserini.encode.export import METADATA
from disco_pyserini.index.build import IndexStats
from disco_pyserini.index.layout import import_engine, staging, write_info
from disco_pyserini.index.vectors import read_vectors

FORMAT = "disco-pyserini/seismic-v1"
INDEX_STEM = "index"  # Seismic appends ".index.seismic"
INDEX_FILE = INDEX_STEM + ".index.seismic"
U16 = 65535
ROWS_PER_CALL = 100_000


def build_seismic_index(input_dir: str | os.PathLike, index_dir: str | os.PathLike, *, n_postings: int = 3500,
                        centroid_fraction: float = 0.1, summary_energy: float = 0.4, max_fraction: float = 1.5,
                        doc_cut: int = 15, knn: int = 0, threads: int = 0, store_raw: bool = False,
                        overwrite: bool = False, progress: bool = True) -> IndexStats:
    """Index a JsonVectorCollection with Seismic (built in a temporary folder, renamed when done).

    The knobs are Seismic's own, with its defaults (``SeismicIndex.build_from_dataset``; ``knn`` is its ``nknn``).
    """
    seismic = import_engine("seismic")
    from tqdm import tqdm

    started = time.perf_counter()
    input_dir, index_dir = Path(input_dir), Path(index_dir)
    with staging(index_dir, overwrite, (input_dir,)) as tmp:
        vectors = read_vectors(input_dir, tmp, store_raw=store_raw, progress=progress)
        large = len(vectors.terms) > U16  # Seismic's default index has 16-bit component ids
        dataset = (seismic.SeismicDatasetLV if large else seismic.SeismicDataset)(dim=len(vectors.terms))
        indptr = vectors.indptr
        with tqdm(total=vectors.documents, desc="seismic dataset", unit="doc", disable=not progress) as bar:
            for first in range(0, vectors.documents, ROWS_PER_CALL):
                last = min(first + ROWS_PER_CALL, vectors.documents)
                span = slice(indptr[first], indptr[last])
                # rows without terms are skipped by Seismic; row numbers name documents, so none shift
                dataset.add_documents_by_id([str(row) for row in range(first, last)],
                                            vectors.term_ids[span].astype(np.int64),
                                            vectors.impacts[span].astype(np.float32),
                                            indptr[first:last + 1] - indptr[first])
                bar.update(last - first)
        index_class = seismic.SeismicIndexLV if large else seismic.SeismicIndex
        with stdout_to_stderr():
            index = index_class.build_from_dataset(
                dataset, n_postings=n_postings, centroid_fraction=centroid_fraction, summary_energy=summary_energy,
                max_fraction=max_fraction, doc_cut=doc_cut, nknn=knn, num_threads=threads)
            index.save(str(tmp / INDEX_STEM))
        if (input_dir / METADATA).exists():
            shutil.copyfile(input_dir / METADATA, tmp / METADATA)
        write_info(tmp, {"backend": "seismic", "format": FORMAT, "documents": vectors.documents,
                         "terms": len(vectors.terms), "large_vocabulary": large, "n_postings": n_postings,
                         "centroid_fraction": centroid_fraction, "summary_energy": summary_energy,
                         "max_fraction": max_fraction, "doc_cut": doc_cut, "knn": knn,
                         "max_impact": int(vectors.impacts.max(initial=0)), "store_raw": store_raw})
    return IndexStats(index_dir, vectors.documents, time.perf_counter() - started)
