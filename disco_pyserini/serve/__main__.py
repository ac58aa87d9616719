"""``python -m disco_pyserini.serve``: conversational search over HTTP (REST, MCP, a chat page) or MCP stdio."""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.errors import InputError
from disco_pyserini.search.options import add_engine_args, engine_args

API_KEY_ENV = "DISCO_SERVE_API_KEY"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(
        prog="python -m disco_pyserini.serve",
        description="Serve conversational search: POST /search with a conversation, get passages and the query "
                    "DiSCo formulated. Also /search/batch, /health, /info, /docs, MCP at /mcp and a chat page at /.")
    parser.add_argument("--index", required=True, help="index from disco_pyserini.index (any --backend; built with "
                                                       "--store-raw to return passage texts)")
    parser.add_argument("--encoder", required=True, help="DiSCo/SPLADE query encoder: hub name or local path")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=cli.number(int, minimum=0, maximum=65535), default=8000,
                        help="port (default 8000; 0: any free port)")
    parser.add_argument("--stdio", action="store_true",
                        help="serve the MCP tool search_conversation over stdin/stdout instead of HTTP (for agents "
                             "that start the server themselves)")
    parser.add_argument("--api-key-env", default=API_KEY_ENV, metavar="NAME",
                        help=f"environment variable holding the API key clients must send as 'Authorization: "
                             f"Bearer KEY' (default {API_KEY_ENV}; unset or empty: no key)")
    group = parser.add_argument_group("batching and load")
    group.add_argument("--max-batch", type=cli.COUNT, default=32,
                       help="queries encoded and searched together at most (default 32; 1: no batching)")
    group.add_argument("--max-wait-ms", type=cli.number(float, minimum=0), default=5.0,
                       help="how long a batch that is not full waits for more queries (default 5 ms)")
    group.add_argument("--max-in-flight", type=cli.COUNT, default=256,
                       help="queries accepted at once; past it requests get 503 with Retry-After (default 256)")
    group.add_argument("--threads", type=cli.COUNT, default=1, help="search threads per batch (Lucene, Seismic)")
    cli.add_session_args(parser, "the conversation's responses as the client sends them")
    add_engine_args(parser)
    return parser.parse_args(argv)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, opened before the model loads so a busy port fails first."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # listening now, not when uvicorn gets to it: a client that comes as soon as the app reports its start-up
        # waits in the backlog instead of being refused
        sock.listen(2048)
    except OSError as error:
        raise InputError(f"--host {host} --port {port}: cannot listen there ({error.strerror}); choose another "
                         "--port (0: any free one)") from None
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backend, engine = engine_args(args)
    cli.check_max_length(args.max_length, args.encoder)
    api_key = os.environ.get(args.api_key_env) or None
    sock = None if args.stdio else bind(args.host, args.port)
    if sock is not None and args.host not in LOOPBACK and api_key is None:
        print(f"warning: serving on {args.host} without an API key: anyone who can reach it can search; set "
              f"{args.api_key_env}", file=sys.stderr)
    from transformers.utils import logging as hf_logging

    from disco_pyserini.serve.retriever import Retriever
    from disco_pyserini.serve.service import SearchService

    hf_logging.disable_progress_bar()  # a "Loading weights" bar per start is noise in a server log
    with cli.stdout_to_stderr() if args.stdio else contextlib.nullcontext():
        retriever = Retriever(args.index, args.encoder, backend=backend, engine=engine, device=args.device,
                              encoder_backend=args.encoder_backend, max_length=args.max_length,
                              batch_size=args.max_batch, query_topk=args.query_topk,
                              history_cut=None if args.history_cut == "auto" else args.history_cut,
                              history_responses=args.history_responses, threads=args.threads)
    service = SearchService(retriever, args.max_batch, args.max_wait_ms / 1000, args.max_in_flight)
    info = retriever.info()
    print(f"serving {info['documents']} documents of {args.index} ({info['backend']}) with {args.encoder}",
          file=sys.stderr)
    try:
        if args.stdio:
            import anyio

            from disco_pyserini.serve.mcp_tool import build_mcp

            async def stdio() -> None:
                async with service.running():
                    await build_mcp(service).run_stdio_async()

            anyio.run(stdio)
        else:
            import uvicorn

            from disco_pyserini.serve.app import create_app

            host, port = sock.getsockname()[:2]
            print(f"open http://{host}:{port}/ (chat), /docs (API), /mcp (MCP); Ctrl-C stops", file=sys.stderr)
            server = uvicorn.Server(uvicorn.Config(create_app(service, api_key), log_level="info"))
            server.run(sockets=[sock])
    finally:
        retriever.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
