"""``python -m disco_pyserini.chat``: explore a conversational model turn by turn in the terminal.

Type a turn; the DiSCo query built from the whole conversation so far retrieves the top passages,
shown with the query's strongest terms (``+term`` marks expansion terms the user never typed). Each turn's
top passage is its answer in the history that later turns read, as CAsT 2020's canonical responses (the
top passage of a run) are in DiSCo's input; ``--history-responses none`` leaves the answers out.
Commands: ``/reset`` starts a new conversation, ``/history`` shows it, ``/quit`` (or end of input) leaves.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Sequence, TextIO

from disco_pyserini import cli
from disco_pyserini.errors import InputError


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m disco_pyserini.chat", description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="disco-demo/index",
                        help="impact index of any --backend, built with --store-raw to show passage text "
                             "(default: the demo's)")
    parser.add_argument("--encoder", default="disco-demo/disco-human-expansion",
                        help="DiSCo/SPLADE query encoder: hub name or local path (default: the demo's student)")
    parser.add_argument("--hits", type=int, default=3, help="passages shown per turn")
    parser.add_argument("--terms", type=int, default=12, help="query terms shown per turn")
    parser.add_argument("--device", default=None, help="encoder device")
    parser.add_argument("--query-topk", type=int, default=None, metavar="K",
                        help="keep the K largest query weights (default: as trained, else all; 0: all)")
    cli.add_engine_args(parser)
    parser.add_argument("--history-cut", default="auto", choices=cli.HISTORY_CUTS,
                        help="character cuts of the conversation (qrecc, cast, none); auto (default): the cut the "
                             "student was trained with, else none")
    parser.add_argument("--history-responses", default=None, choices=cli.HISTORY_RESPONSES,
                        help="answers in the history, each turn's top passage (needs an index with stored texts): "
                             "all, the last one only, or none (default: as the student was trained, else all)")
    return parser.parse_args(argv)


def top_terms(vector: dict[str, int], typed: str, count: int) -> str:
    """The ``count`` heaviest query terms; ``+`` marks terms absent from everything the user typed."""
    lowered = typed.lower()
    shown = sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:count]
    return " ".join(f"{'' if term.lstrip('#') in lowered else '+'}{term}:{weight}" for term, weight in shown)


def converse(searcher, encoder, lines: TextIO, out: TextIO, hits: int = 3, terms: int = 12) -> int:
    """Run the read-search-print loop over ``lines``; returns the number of turns searched.

    Each turn's top passage becomes its answer in the history (``encoder.history_responses`` says which
    answers the query reads).
    """
    width = min(shutil.get_terminal_size((100, 20)).columns, 120)
    history: list[dict[str, str | None]] = []
    searched = 0
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text == "/quit":
            break
        if text == "/reset":
            history.clear()
            print("(new conversation)", file=out)
            continue
        if text == "/history":
            for i, exchange in enumerate(history, 1):
                print(f"  {i}. {exchange['utterance']}", file=out)
                if exchange["response"]:
                    print("     " + textwrap.shorten(f"answer: {exchange['response']}", width=width - 5), file=out)
            if not history:
                print("  (empty)", file=out)
            continue
        vector = encoder.encode({"utterance": text, "history": list(history)})
        typed = " ".join([*(exchange["utterance"] for exchange in history), text])
        print(f"[turn {len(history) + 1}] query: {top_terms(vector, typed, terms)}", file=out)
        answer = None
        for rank, hit in enumerate(searcher.search(vector, hits), 1):
            passage = searcher.doc_text(hit.docid)
            answer = passage if rank == 1 else answer
            print(textwrap.fill(f"{rank}. {hit.docid} ({hit.score:.0f}) "
                                f"{passage or '(text not stored: index with --store-raw)'}", width=width,
                                subsequent_indent="   ", max_lines=3, placeholder=" ..."), file=out)
        history.append({"utterance": text, "response": answer})
        searched += 1
        out.flush()
    return searched


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cli.check_at_least_one(args, "hits", "terms")
    backend, engine = cli.engine_args(args)
    from disco_pyserini.encode.passages import stores_texts
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.encode.trained import training_config
    from disco_pyserini.search.backends import open_searcher
    from disco_pyserini.search.pipeline import index_factor

    for flag, value in (("--index", args.index), ("--encoder", args.encoder)):
        if value.startswith("disco-demo/") and not Path(value).exists():
            raise InputError(f"{flag} {value}: the demo's files are not here; run 'python -m disco_pyserini.demo' "
                             f"first (in this folder), or pass --index and --encoder")
    responses = args.history_responses or training_config(args.encoder).get("history_responses") or "all"
    if responses != "none" and stores_texts(args.index) is False:
        raise InputError("chat puts each turn's top passage into the history as its answer, and this index stores "
                         "no passage texts: rebuild it with --store-raw, or pass --history-responses none",
                         args.index)
    searcher = open_searcher(args.index, backend, engine)
    encoder = DiscoQueryEncoder(args.encoder, device=args.device, top_k=args.query_topk,
                                backend=args.encoder_backend,
                                quantization_factor=index_factor(searcher.metadata, None, args.index),
                                history_cut=None if args.history_cut == "auto" else args.history_cut,
                                history_responses=responses)
    if sys.stdin.isatty():
        print("Type a turn (/reset, /history, /quit).", file=sys.stderr)
    converse(searcher, encoder, sys.stdin, sys.stdout, args.hits, args.terms)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
