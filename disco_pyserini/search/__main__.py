"""``python -m disco_pyserini.search``: conversational impact search in Pyserini's style."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.errors import InputError
from disco_pyserini.search.options import add_engine_args, engine_args


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(
        prog="python -m disco_pyserini.search",
        description="Encode each conversational turn with a DiSCo/SPLADE query encoder and search an impact index "
                    "(Lucene, BMP or Seismic); writes a TREC run.")
    parser.add_argument("--index", required=True, help="index from disco_pyserini.index (any --backend)")
    parser.add_argument("--topics", required=True, help="topics: CAsT JSON, our conversation JSONL, ...")
    parser.add_argument("--topics-format", default=None, help="topic format (default: detected from the file)")
    parser.add_argument("--encoder", default=None, help="query encoder: hub name or local path (impact search)")
    parser.add_argument("--bm25", action="store_true",
                        help="BM25 baseline: search the formulated text over an index built with --bm25")
    parser.add_argument("--k1", type=cli.number(float, minimum=0), default=0.9, help="BM25 k1 (default 0.9)")
    parser.add_argument("--b", type=cli.number(float, minimum=0, maximum=1), default=0.4, help="BM25 b (default 0.4)")
    parser.add_argument("--tokenizer", default=None, help="tokenizer name or path (default: the encoder's)")
    parser.add_argument("--policy", default="disco",
                        help="query formulation: disco (default), raw, concat, utterances, last-k, manual, ...")
    parser.add_argument("--rewrites", action="append", default=[], metavar="NAME=FILE", type=cli.name_value,
                        help="attach an LLM rewrite file (TSV qid<TAB>text or JSONL) as source NAME, for "
                             "--policy rewrite:NAME; repeatable")
    parser.add_argument("--last-k", type=cli.CUTOFF, default=3, help="history exchanges kept by --policy last-k")
    cli.add_conversation_args(parser)
    parser.add_argument("--output", required=True,
                        help="TREC run file to write (what it was made from goes beside it, in OUTPUT.meta.json)")
    cli.add_overwrite(parser, "run")
    parser.add_argument("--hits", type=cli.COUNT, default=1000, help="documents per query (default 1000)")
    parser.add_argument("--batch-size", type=cli.COUNT, default=32, help="queries per encoder batch and search batch")
    parser.add_argument("--threads", type=cli.COUNT, default=1, help="search threads (Lucene, Seismic; BMP runs one)")
    parser.add_argument("--device", default=None, type=cli.device, help="encoder device (default: cuda if available)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "fp32", "fp16", "bf16"])
    parser.add_argument("--max-length", type=cli.COUNT, default=256, help="query token limit (DiSCo: 256)")
    parser.add_argument("--quantization-factor", type=cli.POSITIVE, default=None,
                        help="query impact = round(weight * factor); default: the index's (encoding.json) or 100")
    parser.add_argument("--query-topk", type=cli.CUTOFF, default=None, metavar="K",
                        help="keep the K largest query weights (default: as trained, else all; 0: all)")
    parser.add_argument("--run-tag", default=None, help="run tag (default: disco or bm25, with -<policy> unless disco)")
    add_engine_args(parser)
    ray = parser.add_argument_group("sharded indexes on Ray (needs the ray extra)")
    ray.add_argument("--ray", action="store_true",
                     help="search a sharded index (index --shards) with one Ray actor per shard; queries are "
                          "encoded here once and sent to every shard, and the top k merged here")
    ray.add_argument("--ray-address", default=None, metavar="ADDR",
                     help="Ray cluster to use: host:port, ray://host:port or auto (default: $RAY_ADDRESS, else a "
                          "local cluster on this machine)")
    return parser.parse_args(argv)


def _policy_options(args: argparse.Namespace) -> dict:
    return {"k": args.last_k} if args.policy == "last-k" else {}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backend, engine = engine_args(args)
    if not args.bm25 and not args.encoder:
        raise InputError("--encoder is required (or --bm25 for a BM25 baseline)")
    if args.ray_address is not None and not args.ray:
        raise InputError("--ray-address needs --ray")
    cli.check_java_environment()
    cli.check_precision(args.device, args.dtype)
    cli.check_max_length(args.max_length, args.encoder)
    # before the topics, the model and the search: not after them
    cli.claim_outputs([cli.Output("--output", args.output, "run.trec")],
                      {"--index": args.index, "--topics": args.topics, "--encoder": args.encoder,
                       "--tokenizer": args.tokenizer, "--rewrites": args.rewrites,
                       "--responses-from": args.responses_from}, args.overwrite)
    from disco_pyserini.search.pipeline import SearchOptions, search_topics

    options = SearchOptions(
        encoder=args.encoder, tokenizer=args.tokenizer, topics_format=args.topics_format, policy=args.policy,
        policy_options=_policy_options(args), rewrites=dict(args.rewrites), hits=args.hits,
        batch_size=args.batch_size, threads=args.threads, device=args.device, dtype=args.dtype,
        encoder_backend=args.encoder_backend, backend=backend, engine=engine, max_length=args.max_length,
        quantization_factor=args.quantization_factor, query_topk=args.query_topk, bm25=args.bm25, k1=args.k1,
        b=args.b, run_tag=args.run_tag, history_cut=args.history_cut, history_responses=args.history_responses,
        responses_from=args.responses_from, strict=args.strict, ray=args.ray, ray_address=args.ray_address)
    stats = search_topics(args.index, args.topics, args.output, options)
    print(f"searched {stats.queries} turns ({stats.encode_seconds:.1f}s encoding, {stats.search_seconds:.1f}s "
          f"searching); run written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
