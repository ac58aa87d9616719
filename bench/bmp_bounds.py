"""How much of the real collection must any exact block-max engine score? (Issue 24: why BMP misses 5x.)

A block-max engine (BMP) skips a block of documents only when the block's upper bound, the sum over the query's
terms of weight x the block's largest impact of that term, falls below the k-th best exact score. So the blocks whose
bound beats the true k-th score must be scored by *any* exact engine of that kind, however it orders its work. This
script counts them for the real collection and queries of ``bench_backends.py --real`` (its cached vectors and
queries), with exact integer weights and impacts: the best case, since BMP's 8-bit impacts and 32-level query
weights only loosen the bounds.

Orders: the collection's (shuffled) order, and the recursive graph bisection orders of the cached BMP indexes
(``--reorder bisection`` with blocks of 32, and of 8 when ``bench_backends.py --real --bmp bisection,8`` built it).

    python bench/bmp_bounds.py --docs 200000 --queries 100 --k 10 1000
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

from common import OUT, log, table
from real_backends import encode_queries, spaced


def block_maxima(indptr: np.ndarray, terms: np.ndarray, impacts: np.ndarray, rank: np.ndarray, block: int,
                 vocabulary: int):
    """``blocks x terms`` sparse matrix (CSC) of each block's largest impact per term; ``rank[row]``: its position."""
    import scipy.sparse as sparse

    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    keys = (rank[rows] // block).astype(np.int64) * vocabulary + terms
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], impacts[order]
    firsts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    maxima = np.maximum.reduceat(values, firsts)
    blocks = -(-(len(indptr) - 1) // block)
    return sparse.csc_matrix((maxima.astype(np.float64), (keys[firsts] // vocabulary, keys[firsts] % vocabulary)),
                             shape=(blocks, vocabulary))


def main() -> None:
    import scipy.sparse as sparse

    from disco_pyserini.index.vectors import read_vectors

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000, help="collection size (an encoded prefix)")
    parser.add_argument("--queries", type=int, default=100, help="evenly spaced full DiSCo turns")
    parser.add_argument("--k", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--blocks", type=int, nargs="+", default=[8, 16, 32, 64, 128], help="block sizes")
    parser.add_argument("--encoder", default="splade-tiny", help="the model the cached queries were encoded with")
    args = parser.parse_args()

    root = OUT / "real"
    with tempfile.TemporaryDirectory() as tmp:
        vectors = read_vectors(root / f"vectors-{args.docs}", Path(tmp), progress=False)
    vocabulary = {term: i for i, term in enumerate(vectors.terms)}
    impacts = vectors.impacts.astype(np.float64)
    matrix = sparse.csr_matrix((impacts, vectors.term_ids, vectors.indptr),
                               shape=(vectors.documents, len(vectors.terms))).tocsc()
    queries = []
    for query in spaced(encode_queries(args.encoder, root / "queries", ["full"])["full"], args.queries):
        pairs = [(vocabulary[t], w) for t, w in query.items() if t in vocabulary and w > 0]
        queries.append((np.array([t for t, _ in pairs]), np.array([w for _, w in pairs], dtype=np.float64)))
    kth = {k: [float(np.partition(matrix[:, ids] @ weights, -k)[-k]) for ids, weights in queries] for k in args.k}

    orders = {"collection order": np.arange(vectors.documents)}
    for folder, label in (("bmp-bisection", "bisection order (leaves of 32)"),
                          ("bmp-bisection-block8", "bisection order (leaves of 8)")):
        path = root / f"indexes-{args.docs}" / folder / "original_rows.npy"
        if path.exists():
            rank = np.empty(vectors.documents, dtype=np.int64)
            rank[np.load(path)] = np.arange(vectors.documents)  # original_rows: each new row's collection position
            orders[label] = rank
    rows = []
    for label, rank in orders.items():
        for block in args.blocks:
            maxima = block_maxima(vectors.indptr, vectors.term_ids.astype(np.int64), impacts, rank, block,
                                  len(vectors.terms))
            cells = [label, block]
            for k in args.k:
                shares = [float(np.mean(maxima[:, ids] @ weights > bar))
                          for (ids, weights), bar in zip(queries, kth[k])]
                cells += [f"{statistics.median(shares):.3f}", f"{statistics.mean(shares):.3f}",
                          f"{statistics.median(shares) * vectors.documents:,.0f}"]
            rows.append(cells)
            log(f"{label}, blocks of {block}: done")
    touched = statistics.median(float(np.mean(matrix[:, ids].getnnz(axis=1) > 0)) for ids, _ in queries)
    header = ["order", "block"]
    for k in args.k:
        header += [f"k={k}: blocks to score (median)", "(mean)", "documents (median)"]
    lengths = [len(ids) for ids, _ in queries]
    print(f"{vectors.documents:,} passages, {len(queries)} full DiSCo turns ({min(lengths)}-{max(lengths)} terms, "
          f"mean {statistics.mean(lengths):.0f}); share of blocks whose upper bound beats the exact k-th score\n")
    print(table(rows, header))
    print(f"\nPassages holding at least one query term: {touched:.3f} of the collection (median over the queries).")


if __name__ == "__main__":
    main()
