"""The search engines and their search-time knobs, with the flags that set them (search, chat, serve).

Light to import: the CLIs read the knobs' defaults for ``--help`` before any engine loads.
"""
from __future__ import annotations

import argparse
import dataclasses

from disco_pyserini.cli import COUNT, CUTOFF, FRACTION
from disco_pyserini.errors import InputError

SEARCH_BACKENDS = ("lucene", "bmp", "seismic")


@dataclasses.dataclass
class EngineOptions:
    """Search-time knobs of the fast engines (ignored by the others).

    ``bmp_alpha``/``bmp_beta``: BMP's block-pruning threshold and the fraction of query terms kept;
    1 and 1 are exact. ``seismic_query_cut``/``seismic_heap_factor``: how many of the heaviest query
    terms Seismic visits, and how aggressively it skips blocks (approximate at any setting);
    ``seismic_knn``: neighbours of each result that Seismic also scores (needs an index built with a k-NN graph).
    """

    bmp_alpha: float = 1.0
    bmp_beta: float = 1.0
    seismic_query_cut: int = 50
    seismic_heap_factor: float = 0.8
    seismic_knn: int = 0


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """``--backend`` (the search engine) and its knobs, shared by search, chat and serve."""
    parser.add_argument("--backend", default=None, metavar="{" + ",".join(SEARCH_BACKENDS) + "}",
                        help="search engine (default: the one the index was built for)")
    parser.add_argument("--encoder-backend", default="torch", choices=["torch", "onnx"],
                        help="query encoder runtime: torch, or onnx (ONNX Runtime on the CPU; exported once, cached; "
                             "needs the onnx extra)")
    group = parser.add_argument_group("engine knobs")
    group.add_argument("--bmp-alpha", type=FRACTION, default=EngineOptions.bmp_alpha,
                       help="BMP block pruning: stop when no block can reach alpha x the k-th score (default 1: exact)")
    group.add_argument("--bmp-beta", type=FRACTION, default=EngineOptions.bmp_beta,
                       help="BMP query-term pruning: keep this fraction of the heaviest terms (default 1: exact)")
    group.add_argument("--seismic-query-cut", type=COUNT, default=EngineOptions.seismic_query_cut,
                       help=f"Seismic: heaviest query terms whose lists are visited "
                            f"(default {EngineOptions.seismic_query_cut})")
    group.add_argument("--seismic-heap-factor", type=FRACTION, default=EngineOptions.seismic_heap_factor,
                       help=f"Seismic: skip blocks whose summary scores below this fraction of the k-th score "
                            f"(default {EngineOptions.seismic_heap_factor}; lower: more recall, slower)")
    group.add_argument("--seismic-knn", type=CUTOFF, default=EngineOptions.seismic_knn, metavar="N",
                       help="Seismic: also score the first N stored neighbours of each result found (the index needs "
                            "'index --seismic-knn N' or more; helps at small k, costs k x N scores; default 0: off)")


def engine_args(args: argparse.Namespace) -> tuple[str | None, EngineOptions]:
    """``(backend, EngineOptions)`` from the flags of :func:`add_engine_args`."""
    if args.backend in ("torch", "onnx"):
        raise InputError(f"--backend now chooses the search engine ({', '.join(SEARCH_BACKENDS)}); "
                         f"use --encoder-backend {args.backend} for the query encoder")
    if args.backend is not None and args.backend not in SEARCH_BACKENDS:
        raise InputError(f"unknown --backend {args.backend!r}; choose one of {', '.join(SEARCH_BACKENDS)}")
    return args.backend, EngineOptions(bmp_alpha=args.bmp_alpha, bmp_beta=args.bmp_beta,
                                       seismic_query_cut=args.seismic_query_cut,
                                       seismic_heap_factor=args.seismic_heap_factor, seismic_knn=args.seismic_knn)
