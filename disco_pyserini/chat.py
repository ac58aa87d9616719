"""``python -m disco_pyserini.chat``: explore a conversational model turn by turn in the terminal.

Type a turn; the DiSCo query built from the whole conversation so far retrieves the top passages,
shown with the query's strongest terms (``+term`` marks expansion terms the user never typed). Each turn's
top passage is its answer in the history that later turns read, as CAsT 2020's canonical responses (the
top passage of a run) are in DiSCo's input; ``--history-responses none`` leaves the answers out.
Commands: ``/reset`` starts a new conversation, ``/history`` shows it, ``/quit`` (or end of input) leaves;
another ``/word`` lists them. The conversation logic is the server's (:mod:`disco_pyserini.serve`).
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
from disco_pyserini.serve.conversation import Session, query_text, top_terms, typed_text
from disco_pyserini.serve.retriever import Query, Retriever
from disco_pyserini.search.options import add_engine_args, engine_args


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.chat", description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="disco-demo/index",
                        help="impact index of any --backend, built with --store-raw to show passage text "
                             "(default: the demo's)")
    parser.add_argument("--encoder", default="disco-demo/disco-human-expansion",
                        help="DiSCo/SPLADE query encoder: hub name or local path (default: the demo's student)")
    parser.add_argument("--hits", type=cli.COUNT, default=3, help="passages shown per turn")
    parser.add_argument("--terms", type=cli.COUNT, default=12, help="query terms shown per turn")
    add_engine_args(parser)
    cli.add_session_args(parser, "each turn's top passage; needs an index with stored texts")
    return parser.parse_args(argv)


COMMANDS = "/reset (new conversation), /history, /quit"


def format_terms(vector: dict[str, int], typed: str, count: int) -> str:
    """The ``count`` heaviest query terms as ``term:weight``; ``+`` marks terms the user never typed."""
    return " ".join(f"{'+' if term.expansion else ''}{term.term}:{term.weight}"
                    for term in top_terms(vector, typed, count))


def converse(retriever: Retriever, lines: TextIO, out: TextIO, hits: int = 3, terms: int = 12) -> int:
    """Run the read-search-print loop over ``lines``; returns the number of turns searched.

    Each turn's top passage becomes its answer in the history (``retriever.history_responses`` says which
    answers the query reads).
    """
    width = min(shutil.get_terminal_size((100, 20)).columns, 120)
    session = Session()
    searched = 0
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text == "/quit":
            break
        if text == "/reset":
            session.reset()
            print("(new conversation)", file=out)
            continue
        if text == "/history":
            for i, exchange in enumerate(session.exchanges, 1):
                print(f"  {i}. {exchange.utterance}", file=out)
                if exchange.response:
                    print("     " + textwrap.shorten(f"answer: {exchange.response}", width=width - 5), file=out)
            if not session.exchanges:
                print("  (empty)", file=out)
            continue
        if text.startswith("/") and len(text.split()) == 1:
            print(f"unknown command {text}; commands: {COMMANDS}", file=out)
            continue
        turn = session.turn(text)
        query = Query(query_text(turn, "disco", retriever.history_cut, retriever.history_responses), hits)
        result = retriever.search([query])[0]
        session.add(text, result.texts[0] if result.hits else None)
        print(f"[turn {len(session.exchanges)}] query: {format_terms(result.vector, typed_text(turn), terms)}",
              file=out)
        if not result.hits:
            print("   no passage matched: none of the query's terms is in the index; try other words", file=out)
        for rank, (hit, passage) in enumerate(zip(result.hits, result.texts), 1):
            passage = passage or "(text not stored: index with --store-raw)"
            print(textwrap.fill(f"{rank}. {hit.docid} ({hit.score:.0f}) {passage}", width=width,
                                subsequent_indent="   ", max_lines=3, placeholder=" ..."), file=out)
        searched += 1
        out.flush()
    return searched


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backend, engine = engine_args(args)
    cli.check_max_length(args.max_length, args.encoder)
    from transformers.utils import logging as hf_logging

    from disco_pyserini.encode.passages import stores_texts
    from disco_pyserini.encode.trained import training_config

    for flag, value in (("--index", args.index), ("--encoder", args.encoder)):
        if value.startswith("disco-demo/") and not Path(value).exists():
            raise InputError(f"{flag} {value}: the demo's files are not here; run 'python -m disco_pyserini.demo' "
                             f"first (in this folder), or pass --index and --encoder")
    responses = args.history_responses or training_config(args.encoder).get("history_responses") or "all"
    if responses != "none" and stores_texts(args.index) is False:
        raise InputError("chat puts each turn's top passage into the history as its answer, and this index stores "
                         "no passage texts: rebuild it with --store-raw, or pass --history-responses none",
                         args.index)
    hf_logging.disable_progress_bar()  # the "Loading weights" bar is noise before the first prompt (as in the demo)
    retriever = Retriever(args.index, args.encoder, backend=backend, engine=engine, device=args.device,
                          encoder_backend=args.encoder_backend, max_length=args.max_length,
                          query_topk=args.query_topk,
                          history_cut=None if args.history_cut == "auto" else args.history_cut,
                          history_responses=responses)
    if sys.stdin.isatty():
        print(f"Type a turn ({COMMANDS}).", file=sys.stderr)
    try:
        converse(retriever, sys.stdin, sys.stdout, args.hits, args.terms)
    finally:
        retriever.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
