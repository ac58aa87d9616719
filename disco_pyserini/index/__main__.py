"""``python -m disco_pyserini.index``: build a Lucene impact index from encoded JSONL."""
from __future__ import annotations

import argparse
import os
from typing import Sequence

from disco_pyserini import cli


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m disco_pyserini.index",
        description="Index an Anserini JsonVectorCollection (from 'disco_pyserini.encode docs') as a Lucene impact "
                    "index (pretokenized, integer impacts).")
    parser.add_argument("--input", required=True,
                        help="directory of encoded *.jsonl files (with --bm25: a TSV/JSONL corpus file)")
    parser.add_argument("--bm25", action="store_true",
                        help="build a BM25 index of the passage text instead (for baseline runs)")
    parser.add_argument("--index", required=True, help="output index directory")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="indexing threads (default: all cores)")
    parser.add_argument("--store-raw", action="store_true", help="store each document's raw JSON (for display)")
    parser.add_argument("--optimize", action="store_true", help="merge segments into one (slower build, faster search)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing index")
    parser.add_argument("--no-validate", dest="validate", action="store_false",
                        help="skip the check that every weight is a non-negative integer")
    parser.add_argument("--verbose", action="store_true", help="show Anserini's log")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from disco_pyserini.index import build_bm25_index, build_index

    if args.bm25:
        stats = build_bm25_index(args.input, args.index, threads=args.threads, overwrite=args.overwrite,
                                 verbose=args.verbose)
        print(f"indexed {stats.documents} documents into {stats.index} (BM25) in {stats.seconds:.1f}s")
        return 0
    stats = build_index(args.input, args.index, threads=args.threads, store_raw=args.store_raw,
                        optimize=args.optimize, overwrite=args.overwrite, validate=args.validate,
                        verbose=args.verbose)
    print(f"indexed {stats.documents} documents into {stats.index} in {stats.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
