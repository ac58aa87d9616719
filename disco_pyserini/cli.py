"""Shared plumbing for the ``python -m disco_pyserini.*`` command lines."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from disco_pyserini.errors import InputError


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run a CLI ``main``; bad input becomes one ``error:`` line on stderr and exit status 2."""
    try:
        return int(main(argv) or 0)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error.filename or error}: no such file or directory", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no partial output was kept", file=sys.stderr)
        return 130


def name_value(value: str) -> tuple[str, str]:
    """Parse ``NAME=FILE`` (``--rewrites`` of search and encode, ``--qrels`` overrides of ``eval --table``)."""
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE, got {value!r}")
    return name, path


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """``--backend`` (the search engine) and its knobs, shared by search and chat."""
    from disco_pyserini.search.backends import SEARCH_BACKENDS, EngineOptions

    parser.add_argument("--backend", default=None, metavar="{" + ",".join(SEARCH_BACKENDS) + "}",
                        help="search engine (default: the one the index was built for)")
    parser.add_argument("--encoder-backend", default="torch", choices=["torch", "onnx"],
                        help="query encoder runtime: torch, or onnx (ONNX Runtime on the CPU; exported once, cached; "
                             "needs the onnx extra)")
    group = parser.add_argument_group("engine knobs")
    group.add_argument("--bmp-alpha", type=float, default=EngineOptions.bmp_alpha,
                       help="BMP block pruning: stop when no block can reach alpha x the k-th score (default 1: exact)")
    group.add_argument("--bmp-beta", type=float, default=EngineOptions.bmp_beta,
                       help="BMP query-term pruning: keep this fraction of the heaviest terms (default 1: exact)")
    group.add_argument("--seismic-query-cut", type=int, default=EngineOptions.seismic_query_cut,
                       help=f"Seismic: heaviest query terms whose lists are visited "
                            f"(default {EngineOptions.seismic_query_cut})")
    group.add_argument("--seismic-heap-factor", type=float, default=EngineOptions.seismic_heap_factor,
                       help=f"Seismic: skip blocks whose summary scores below this fraction of the k-th score "
                            f"(default {EngineOptions.seismic_heap_factor}; lower: more recall, slower)")


def engine_args(args: argparse.Namespace):
    """``(backend, EngineOptions)`` from the flags of :func:`add_engine_args`."""
    from disco_pyserini.search.backends import SEARCH_BACKENDS, EngineOptions

    if args.backend in ("torch", "onnx"):
        raise InputError(f"--backend now chooses the search engine ({', '.join(SEARCH_BACKENDS)}); "
                         f"use --encoder-backend {args.backend} for the query encoder")
    if args.backend is not None and args.backend not in SEARCH_BACKENDS:
        raise InputError(f"unknown --backend {args.backend!r}; choose one of {', '.join(SEARCH_BACKENDS)}")
    return args.backend, EngineOptions(bmp_alpha=args.bmp_alpha, bmp_beta=args.bmp_beta,
                                       seismic_query_cut=args.seismic_query_cut,
                                       seismic_heap_factor=args.seismic_heap_factor)


HISTORY_CUTS = ("auto", "none", "qrecc", "cast")  # mirrors topics.cuts.CUTS (+ auto) without importing it
HISTORY_RESPONSES = ("all", "last", "none")  # mirrors topics.cuts.RESPONSES


def add_conversation_args(parser: argparse.ArgumentParser) -> None:
    """The flags that say how conversations are read before formulation (search, encode queries, train build)."""
    parser.add_argument("--history-cut", default="auto", choices=HISTORY_CUTS,
                        help="character cuts of the conversation before formulation: qrecc (questions 320, answers "
                             "500 characters), cast (the reference CAsT 2020 preparation), none; auto (default): "
                             "the topic format's reference preparation (qrecc for QReCC, cast for CAsT 2020, and for "
                             "CAsT 2021/2022 as our extension: none reads those uncut), else the student's training "
                             "cut, else none")
    parser.add_argument("--history-responses", default=None, choices=HISTORY_RESPONSES,
                        help="answers kept in the history: all (as the references), the last one only, or none "
                             "(the explicit opt-out where the topics name answers by id but no texts are at hand; "
                             "default: as the student was trained, else all)")
    parser.add_argument("--responses-from", default=None, metavar="CORPUS_OR_INDEX",
                        help="collection (TSV/JSONL corpus, or an index with stored texts) to fetch the canonical "
                             "responses the topics name by id (CAsT 2020) for the history (default: the searched "
                             "index, when it stores texts; else this flag or --history-responses none is needed)")
    parser.add_argument("--strict", action="store_true",
                        help="a turn without the rewrite a rewrite policy needs is an error (default: its raw "
                             "utterance is used, with one warning naming the turns)")


def check_at_least_one(args: argparse.Namespace, *names: str) -> None:
    """Refuse counts below 1 (``--hits 0`` fails deep in Anserini with an unreadable message)."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
