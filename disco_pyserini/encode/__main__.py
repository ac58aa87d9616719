"""``python -m disco_pyserini.encode docs|queries``: SPLADE encoding in Pyserini's style."""
from __future__ import annotations

import argparse
import shutil
import sys
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.errors import InputError, import_ray_module

DEFAULT_FACTOR = 100.0  # mirrors disco_pyserini.quantize.DEFAULT_FACTOR without importing numpy for --help


def _model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoder", required=True, help="SPLADE model: hub name or local path")
    parser.add_argument("--tokenizer", default=None, help="tokenizer name or path (default: the encoder's)")
    parser.add_argument("--device", default=None, type=cli.device,
                        help="cpu, cuda, cuda:1, ... (default: cuda if available)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "fp32", "fp16", "bf16"],
                        help="inference precision (auto: fp16 on CUDA, fp32 on CPU)")
    parser.add_argument("--backend", default="torch", choices=["torch", "onnx"],
                        help="torch, or onnx: ONNX Runtime on the CPU (exported once, cached; needs the onnx extra)")
    parser.add_argument("--batch-size", type=cli.COUNT, default=32, help="texts per forward pass")
    parser.add_argument("--max-length", type=cli.COUNT, default=256, help="token limit (DiSCo: 256)")
    parser.add_argument("--quantization-factor", type=cli.POSITIVE, default=DEFAULT_FACTOR,
                        help="integer impact = round(weight * factor) (default 100)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.encode",
                                     description="Encode documents or conversational queries with SPLADE.")
    sub = parser.add_subparsers(dest="command", required=True)
    docs = sub.add_parser("docs", help="corpus -> Anserini JsonVectorCollection with integer impacts")
    _model_args(docs)
    docs.add_argument("--corpus", required=True, help="TSV (id<TAB>text) or JSONL ({id, contents}), optionally .gz")
    docs.add_argument("--output", required=True, help="output directory of *.jsonl shards")
    docs.add_argument("--shard-id", type=cli.CUTOFF, default=0, help="this job's shard (0-based)")
    docs.add_argument("--shard-num", type=cli.COUNT, default=1, help="number of shards the corpus is split into")
    docs.add_argument("--docs-per-file", type=cli.COUNT, default=100_000,
                      help="documents per output file; finished files are skipped when a job is re-run")
    docs.add_argument("--no-contents", dest="store_contents", action="store_false",
                      help="leave the 'contents' field empty (smaller files)")
    docs.add_argument("--overwrite", action="store_true",
                      help="replace vectors of another corpus or other settings already in --output (default: "
                           "refuse; vectors of the same encoding are resumed)")
    ray = docs.add_argument_group("distributed encoding on Ray (needs the ray extra)")
    ray.add_argument("--ray", action="store_true",
                     help="encode on a pool of Ray actors, one model per actor and one output file per task")
    ray.add_argument("--ray-address", default=None, metavar="ADDR",
                     help="Ray cluster to use: host:port, ray://host:port or auto (default: $RAY_ADDRESS, "
                          "else a local cluster on this machine)")
    ray.add_argument("--ray-actors", type=cli.COUNT, default=None, metavar="N",
                     help="actors (model copies) in the pool (default: one per GPU, else one per node)")
    ray.add_argument("--ray-gpus-per-actor", type=cli.number(float, minimum=0), default=None, metavar="G",
                     help="GPUs each actor reserves; 0.5 puts two actors on a GPU, 0 encodes on CPUs "
                          "(default: 1 when the cluster has GPUs, else 0)")
    queries = sub.add_parser("queries", help="topics -> pre-encoded queries for pyserini.search.lucene --impact")
    _model_args(queries)
    queries.add_argument("--topics", required=True, help="topics file (CAsT JSON, our JSONL, ...)")
    queries.add_argument("--topics-format", default=None, help="topic format (default: detected)")
    queries.add_argument("--policy", default="disco", help="query formulation (default: disco)")
    queries.add_argument("--rewrites", action="append", default=[], metavar="NAME=FILE", type=cli.name_value,
                         help="attach an LLM rewrite file as source NAME (for --policy rewrite:NAME); repeatable")
    cli.add_conversation_args(queries)
    queries.add_argument("--query-topk", type=cli.CUTOFF, default=None, metavar="K",
                         help="keep the K largest query weights (default: as trained, else all; 0: all)")
    queries.add_argument("--output", required=True, help="pre-encoded queries JSONL")
    queries.add_argument("--topics-output", default=None,
                         help="also write the matching qid<TAB>text topics file for Pyserini's --topics")
    cli.add_overwrite(queries, "output")
    return parser.parse_args(argv)


def _docs_metadata(args: argparse.Namespace) -> dict:
    """What ``encoding.json`` records: what the vectors are made from and how (checked on every re-run)."""
    from pathlib import Path

    from disco_pyserini.encode.corpus import corpus_fingerprint

    local = Path(args.encoder).expanduser()
    # A local model is recorded by its resolved path: ./model and model are the same encoder.
    encoder = str(local.resolve()) if local.is_dir() else args.encoder
    return {"encoder": encoder, "max_length": args.max_length, "pooling": "max", "quantization_factor":
            args.quantization_factor, "store_contents": args.store_contents, "corpus": corpus_fingerprint(args.corpus),
            "corpus_path": str(Path(args.corpus).resolve()), "shard_num": args.shard_num}


def _export_on_ray(args: argparse.Namespace, metadata: dict):
    ray_export = import_ray_module("disco_pyserini.encode.ray_export", needs="Ray Data")
    if args.device is not None:
        raise InputError("--device does not apply with --ray: each actor uses the GPU Ray gives it "
                         "(--ray-gpus-per-actor), or the CPU with --ray-gpus-per-actor 0")
    options = {"model_name_or_path": args.encoder, "tokenizer_name": args.tokenizer, "max_length": args.max_length,
               "batch_size": args.batch_size, "dtype": args.dtype, "backend": args.backend}
    metadata = {**metadata, "vocab_size": ray_export.vocabulary_size(args.encoder, args.tokenizer)}
    with ray_export.connect(args.ray_address):
        return ray_export.export_corpus_ray(
            options, args.corpus, args.output, factor=args.quantization_factor, shard_id=args.shard_id,
            shard_num=args.shard_num, docs_per_file=args.docs_per_file, store_contents=args.store_contents,
            metadata=metadata, actors=args.ray_actors, gpus_per_actor=args.ray_gpus_per_actor,
            overwrite=args.overwrite)


def _export(args: argparse.Namespace, metadata: dict):
    if args.ray:
        return _export_on_ray(args, metadata)
    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.splade import SpladeEncoder

    encoder = SpladeEncoder(args.encoder, args.tokenizer, device=args.device, max_length=args.max_length,
                            batch_size=args.batch_size, dtype=args.dtype, backend=args.backend)
    return export_corpus(encoder, args.corpus, args.output, factor=args.quantization_factor, shard_id=args.shard_id,
                         shard_num=args.shard_num, docs_per_file=args.docs_per_file,
                         store_contents=args.store_contents, metadata={**metadata, "vocab_size": len(encoder.terms)},
                         overwrite=args.overwrite)


def encode_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from disco_pyserini.encode.export import check_output

    if args.shard_id >= args.shard_num:
        raise InputError(f"--shard-id must be in [0, --shard-num) (got {args.shard_id} of {args.shard_num})")
    # before any model loads; an encoding of the same corpus and settings there is resumed
    cli.claim_outputs([cli.Output("--output", args.output, "vectors/", directory=True, resumable=True)],
                      {"--encoder": args.encoder, "--tokenizer": args.tokenizer, "--corpus": args.corpus},
                      args.overwrite)
    metadata = _docs_metadata(args)
    check_output(Path(args.output), metadata, args.overwrite)
    new = not Path(args.output).exists()
    try:
        stats = _export(args, metadata)
    except BaseException:
        # A first run that failed before its first part file (a bad record, an unreadable corpus) leaves nothing:
        # its encoding.json alone would only be in the way.
        if new and not any(Path(args.output).glob("part-*.jsonl")):
            shutil.rmtree(args.output, ignore_errors=True)
        raise
    if stats.empty:
        print(f"warning: {len(stats.empty)} document(s) have no term after quantisation (first: "
              f"{', '.join(stats.empty[:5])}); Anserini will not index them, so they can never be retrieved",
              file=sys.stderr)
    print(f"encoded {stats.documents} documents ({stats.skipped} already done) into {stats.files} files, "
          f"{stats.postings / max(stats.documents, 1):.1f} terms/doc, in {args.output}", file=sys.stderr)
    return 0


def encode_queries(args: argparse.Namespace) -> int:
    cli.claim_outputs([cli.Output("--output", args.output, "queries.jsonl"),
                       cli.Output("--topics-output", args.topics_output, "topics.tsv")],
                      {"--encoder": args.encoder, "--tokenizer": args.tokenizer, "--topics": args.topics,
                       "--rewrites": args.rewrites, "--responses-from": args.responses_from}, args.overwrite)
    from tqdm import tqdm

    from disco_pyserini.encode.batching import length_sorted_batches
    from disco_pyserini.encode.conversations import load_conversations
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.encode.queries import write_encoded_queries

    from disco_pyserini.encode.trained import training_config

    trained = training_config(args.encoder)
    responses = args.history_responses or trained.get("history_responses") or "all"
    conversations = load_conversations(args.topics, args.topics_format, dict(args.rewrites), args.responses_from,
                                       args.policy, args.history_cut, args.strict, trained.get("history_cut"),
                                       history_responses=responses)
    turns = conversations.turns
    encoder = DiscoQueryEncoder(args.encoder, args.tokenizer, device=args.device, max_length=args.max_length,
                                quantization_factor=args.quantization_factor, policy=args.policy,
                                dtype=args.dtype, batch_size=args.batch_size, top_k=args.query_topk,
                                backend=args.backend, history_cut=conversations.history_cut,
                                history_responses=responses, fallback=True)
    texts = [encoder.query_text(turn) for turn in turns]
    vectors: list[dict[str, int]] = [{}] * len(texts)
    # Length-sorted batches pad less (see bench/bench_batches.py); the output keeps topic order.
    batches = list(length_sorted_batches([len(text) for text in texts], args.batch_size))
    for batch in tqdm(batches, desc="encode queries", unit="batch"):
        for i, vector in zip(batch, encoder.encode_batch([texts[i] for i in batch])):
            vectors[i] = vector
    count = write_encoded_queries([t.query_id for t in turns], texts, vectors, args.output, args.topics_output)
    print(f"encoded {count} queries into {args.output}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cli.check_precision(args.device, args.dtype)
    cli.check_max_length(args.max_length, args.encoder)
    return encode_docs(args) if args.command == "docs" else encode_queries(args)


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
