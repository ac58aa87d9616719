"""``python -m disco_pyserini.index``: index encoded JSONL with Lucene (default), BMP or Seismic."""
from __future__ import annotations

import argparse
import os
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.errors import InputError

BACKENDS = ("lucene", "bmp", "seismic")  # mirrors disco_pyserini.index.layout without importing numpy for --help


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(
        prog="python -m disco_pyserini.index",
        description="Index an Anserini JsonVectorCollection (from 'disco_pyserini.encode docs') as a Lucene impact "
                    "index (pretokenized, integer impacts), or as a BMP or Seismic index of the same vectors.")
    parser.add_argument("--input", required=True,
                        help="directory of encoded *.jsonl files (with --bm25: a TSV/JSONL corpus file)")
    parser.add_argument("--index", required=True, help="output index directory")
    parser.add_argument("--backend", default="lucene", choices=BACKENDS,
                        help="search engine: lucene (Anserini impact index, default), bmp (block-max pruning: exact, "
                             "fast) or seismic (approximate, fastest); bmp/seismic need the fast extra")
    parser.add_argument("--bm25", action="store_true",
                        help="build a BM25 index of the passage text instead (for baseline runs; Lucene only)")
    parser.add_argument("--threads", type=cli.COUNT, default=os.cpu_count() or 1,
                        help="indexing threads (default: all cores)")
    parser.add_argument("--store-raw", action="store_true", help="store each document's text (for display)")
    parser.add_argument("--optimize", action="store_true",
                        help="Lucene: merge segments into one (slower build, faster search)")
    cli.add_overwrite(parser, "index")
    parser.add_argument("--no-validate", dest="validate", action="store_false",
                        help="Lucene: skip the check that every weight is a non-negative integer (bmp and seismic "
                             "always check while converting)")
    parser.add_argument("--verbose", action="store_true", help="show Anserini's log")
    bmp = parser.add_argument_group("BMP (--backend bmp)")
    bmp.add_argument("--bmp-block-size", type=cli.number(int, minimum=1, maximum=256), default=32, help="documents per block (default 32, at most 256)")
    bmp.add_argument("--bmp-dense-ranges", dest="bmp_compress_range", action="store_false",
                     help="store every term's block maxima densely (BMP's own default; 3.8x bigger at 1M documents, "
                          "no faster there) instead of sparsely")
    seismic = parser.add_argument_group("Seismic (--backend seismic; defaults are Seismic's)")
    seismic.add_argument("--seismic-n-postings", type=cli.COUNT, default=3500,
                         help="postings kept per term on average (default 3500); more: better recall, bigger index")
    seismic.add_argument("--seismic-centroid-fraction", type=cli.FRACTION, default=0.1,
                         help="blocks per posting list as a fraction of its length (default 0.1)")
    seismic.add_argument("--seismic-summary-energy", type=cli.FRACTION, default=0.4,
                         help="share of each block summary's L1 mass kept (default 0.4)")
    seismic.add_argument("--seismic-max-fraction", type=cli.number(float, minimum=1), default=1.5,
                         help="longest posting list as a multiple of --seismic-n-postings (default 1.5)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bm25 and args.backend != "lucene":
        raise InputError("--bm25 builds a Lucene index; drop --backend")
    cli.check_java_environment()
    # an existing index is replaced only with --overwrite; the build itself refuses to replace what is no index
    cli.claim_outputs([cli.Output("--index", args.index, "indexes/my-index", directory=True)],
                      {"--input": args.input}, args.overwrite)
    if args.backend == "bmp":
        from disco_pyserini.index.bmp import build_bmp_index

        stats = build_bmp_index(args.input, args.index, block_size=args.bmp_block_size,
                                compress_range=args.bmp_compress_range, store_raw=args.store_raw,
                                overwrite=args.overwrite)
    elif args.backend == "seismic":
        from disco_pyserini.index.seismic import build_seismic_index

        stats = build_seismic_index(args.input, args.index, n_postings=args.seismic_n_postings,
                                    centroid_fraction=args.seismic_centroid_fraction,
                                    summary_energy=args.seismic_summary_energy,
                                    max_fraction=args.seismic_max_fraction, threads=args.threads,
                                    store_raw=args.store_raw, overwrite=args.overwrite)
    elif args.bm25:
        from disco_pyserini.index import build_bm25_index

        stats = build_bm25_index(args.input, args.index, threads=args.threads, overwrite=args.overwrite,
                                 verbose=args.verbose)
        print(f"indexed {stats.documents} documents into {stats.index} (BM25) in {stats.seconds:.1f}s")
        return 0
    else:
        from disco_pyserini.index import build_index

        stats = build_index(args.input, args.index, threads=args.threads, store_raw=args.store_raw,
                            optimize=args.optimize, overwrite=args.overwrite, validate=args.validate,
                            verbose=args.verbose)
    print(f"indexed {stats.documents} documents into {stats.index} ({args.backend}) in {stats.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
