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
    parser.add_argument("--input", default=None,
                        help="directory of encoded *.jsonl files (with --bm25: a TSV/JSONL corpus file); required "
                             "but with --join")
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
    shards = parser.add_argument_group("sharded indexes (searched as one by 'search --index')")
    shards.add_argument("--shards", type=cli.COUNT, default=None, metavar="N",
                        help="build one index per shard of the vectors under --index (shard-000, ...), with a "
                             "manifest (shards.json); vectors encoded with --shard-num N give encode shard i to "
                             "index shard i, vectors encoded whole are cut into N runs of part files")
    shards.add_argument("--shard-id", type=cli.CUTOFF, default=None, metavar="I",
                        help="with --shards: build shard I only (e.g. on the machine that encoded it); the folder "
                             "is joined when its last shard is built")
    shards.add_argument("--join", action="store_true",
                        help="check the shards under --index (all there, each once, built alike) and write the "
                             "manifest (after copying shards built on other machines into one folder)")
    bmp = parser.add_argument_group("BMP (--backend bmp)")
    bmp.add_argument("--bmp-block-size", type=cli.number(int, minimum=1, maximum=256), default=32,
                     help="documents per block (default 32, at most 256)")
    bmp.add_argument("--bmp-dense-ranges", dest="bmp_compress_range", action="store_false",
                     help="store every term's block maxima densely (BMP's own default; 3.8x bigger at 1M documents, "
                          "no faster there) instead of sparsely")
    bmp.add_argument("--reorder", choices=("none", "bisection"), default="none",
                     help="renumber documents before indexing so that blocks hold similar ones: bisection "
                          "(recursive graph bisection, as in BMP's paper; on 200k real passages exact search 1.3-2.2x "
                          "faster, the index 23%% smaller, the build 5x longer) or none (default: the collection's "
                          "order). Runs are unchanged: docids.txt maps rows back")
    seismic = parser.add_argument_group("Seismic (--backend seismic; defaults are Seismic's)")
    seismic.add_argument("--seismic-n-postings", type=cli.COUNT, default=3500,
                         help="postings kept per term on average (default 3500); more: better recall, bigger index")
    seismic.add_argument("--seismic-centroid-fraction", type=cli.FRACTION, default=0.1,
                         help="blocks per posting list as a fraction of its length (default 0.1)")
    seismic.add_argument("--seismic-summary-energy", type=cli.FRACTION, default=0.4,
                         help="share of each block summary's L1 mass kept (default 0.4)")
    seismic.add_argument("--seismic-max-fraction", type=cli.number(float, minimum=1), default=1.5,
                         help="longest posting list as a multiple of --seismic-n-postings (default 1.5)")
    seismic.add_argument("--seismic-knn", type=cli.CUTOFF, default=0, metavar="N",
                         help="also store each document's N nearest neighbours (Seismic's k-NN graph), for search "
                              "--seismic-knn: more recall at small k for a longer build (default 0: none)")
    return parser.parse_args(argv)


def builder_options(args: argparse.Namespace) -> dict:
    """The keywords of ``args.backend``'s builder (:func:`~disco_pyserini.index.shards.build_backend`)."""
    common = {"store_raw": args.store_raw, "overwrite": args.overwrite}
    if args.backend == "bmp":
        return {**common, "block_size": args.bmp_block_size, "compress_range": args.bmp_compress_range,
                "reorder": args.reorder}
    if args.backend == "seismic":
        return {**common, "n_postings": args.seismic_n_postings, "centroid_fraction": args.seismic_centroid_fraction,
                "summary_energy": args.seismic_summary_energy, "max_fraction": args.seismic_max_fraction,
                "knn": args.seismic_knn, "threads": args.threads}
    return {**common, "threads": args.threads, "optimize": args.optimize, "validate": args.validate,
            "verbose": args.verbose}


def _sharded(args: argparse.Namespace) -> int:
    from disco_pyserini.index.shards import build_sharded_index, join_shards

    if args.join:
        if args.input is not None or args.shards is not None or args.shard_id is not None:
            raise InputError("--join only joins the shards already under --index; drop --input/--shards/--shard-id")
        manifest = join_shards(args.index)
        print(f"joined {manifest['shards']} {manifest['backend']} shards ({manifest['documents']} documents) in "
              f"{args.index}")
        return 0
    if args.shards is None:
        raise InputError("--shard-id needs --shards N (the number of shards the collection is split into)")
    if args.input is None:
        raise InputError("--input is required (the folder of encoded vectors)")
    if args.bm25:
        raise InputError("--shards does not apply to --bm25: BM25 scores use each index's own statistics, so "
                         "shards would not merge; build one BM25 index")
    # With --shard-id the folder gathers shards built one at a time (here or copied from other machines): it is
    # extended, and the build refuses to replace an existing shard without --overwrite.
    cli.claim_outputs([cli.Output("--index", args.index, "indexes/my-index", directory=True,
                                  resumable=args.shard_id is not None)], {"--input": args.input}, args.overwrite)
    options = builder_options(args)
    documents, seconds = build_sharded_index(args.input, args.index, args.shards, backend=args.backend,
                                             shard_id=args.shard_id, threads=args.threads,
                                             overwrite=options.pop("overwrite"), options=options)
    what = f"shard {args.shard_id} of {args.shards}" if args.shard_id is not None else f"{args.shards} shards"
    print(f"indexed {documents} documents into {what} in {args.index} ({args.backend}) in {seconds:.1f}s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bm25 and args.backend != "lucene":
        raise InputError("--bm25 builds a Lucene index; drop --backend")
    if args.reorder != "none" and args.backend != "bmp":
        raise InputError(f"--reorder applies to --backend bmp, not {args.backend}")
    cli.check_java_environment()
    if args.join or args.shards is not None or args.shard_id is not None:
        return _sharded(args)
    if args.input is None:
        raise InputError("--input is required (the folder of encoded vectors, or with --bm25 the corpus file)")
    # an existing index is replaced only with --overwrite; the build itself refuses to replace what is no index
    cli.claim_outputs([cli.Output("--index", args.index, "indexes/my-index", directory=True)],
                      {"--input": args.input}, args.overwrite)
    if args.bm25:
        from disco_pyserini.index import build_bm25_index

        stats = build_bm25_index(args.input, args.index, threads=args.threads, overwrite=args.overwrite,
                                 verbose=args.verbose)
        print(f"indexed {stats.documents} documents into {stats.index} (BM25) in {stats.seconds:.1f}s")
        return 0
    from disco_pyserini.index.shards import build_backend

    stats = build_backend(args.backend, args.input, args.index, builder_options(args))
    print(f"indexed {stats.documents} documents into {stats.index} ({args.backend}) in {stats.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
