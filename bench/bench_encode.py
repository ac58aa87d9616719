"""Document encoding + JSONL export: our export_corpus against Pyserini's SPLADE document encoding path.

Baseline (what ``python -m pyserini.encode input ... encoder --encoder-class splade ...`` does):
``JsonlCollectionIterator`` batches -> ``SpladeDocumentEncoder.encode(texts, max_length=256)`` ->
``JsonlRepresentationWriter``. Ours: ``disco_pyserini.encode.export.export_corpus`` (the
``python -m disco_pyserini.encode docs`` path) with the same model, corpus and batch size.
Both run in this process with models loaded and warmed up first; rounds alternate the order
(ABBA) so drift from other load on the machine hits both alike.

``--ray`` adds ``export_corpus_ray`` (the ``encode docs --ray`` path) with ``--ray-actors`` actors on
a local Ray cluster (started once, timed apart), against our single process (``ours-fp32``, torch's
threads) on the same corpus and part files (``--docs-per-file``). Its times include what every run
pays: starting the actor pool and loading the model in each actor. It also checks that both wrote the
same vectors.

The default model is the real splade-tiny (fetched by ``disco_pyserini.models``); ``--model bert-base`` is a
random-weight model with BERT-base's cost. With splade-tiny the bench also reports the MLM head's achieved GFLOP/s
(2 x non-padding tokens x hidden x vocabulary over the time spent in it) against the machine's measured peak: the
best rate of a large fp32 (and bf16) matrix product in torch on the same threads.

    python bench/bench_encode.py --docs 256 --rounds 2 --bf16 [--onnx]
    python bench/bench_encode.py --docs 128 --rounds 2 --ray --docs-per-file 32
"""
from __future__ import annotations

import argparse
import shutil
import time

from common import OUT, build_model, log, set_threads, table, write_corpus


class Timer:
    def __init__(self):
        self.seconds = 0.0

    def wrap(self, fn):
        def inner(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return inner


def run_pyserini(encoder, corpus, out_dir, batch_size, max_length):
    from disco_pyserini.jvm import import_pyserini

    penc = import_pyserini("pyserini.encode")
    shutil.rmtree(out_dir, ignore_errors=True)
    enc_t, write_t = Timer(), Timer()
    encode, write = enc_t.wrap(encoder.encode), None
    start = time.perf_counter()
    writer = penc.JsonlRepresentationWriter(str(out_dir))
    write = write_t.wrap(writer.write)
    iterator = penc.JsonlCollectionIterator(str(corpus), ["text"], None, "\n")
    count = 0
    with writer:
        for batch in iterator(batch_size, 0, 1):
            batch["vector"] = encode(texts=batch["text"], fp16=False, max_length=max_length, add_sep=False)
            write(batch, ["text"])
            count += len(batch["id"])
    return count, time.perf_counter() - start, enc_t.seconds


def run_ours(encoder, corpus, out_dir, docs_per_file):
    from disco_pyserini.encode.export import export_corpus

    shutil.rmtree(out_dir, ignore_errors=True)
    enc_t = Timer()
    original = encoder.encode_sparse
    encoder.encode_sparse = enc_t.wrap(original)
    try:
        start = time.perf_counter()
        stats = export_corpus(encoder, corpus, out_dir, factor=100.0, progress=False, metadata={"encoder": "bench"},
                              docs_per_file=docs_per_file)
        return stats.documents, time.perf_counter() - start, enc_t.seconds
    finally:
        encoder.encode_sparse = original


def run_ray(options, corpus, out_dir, docs_per_file, actors):
    """export_corpus_ray on the local cluster; the encoder time is not seen from here (it runs in the actors)."""
    from disco_pyserini.encode.ray_export import export_corpus_ray

    shutil.rmtree(out_dir, ignore_errors=True)
    start = time.perf_counter()
    stats = export_corpus_ray(options, corpus, out_dir, factor=100.0, progress=False, metadata={"encoder": "bench"},
                              docs_per_file=docs_per_file, actors=actors, gpus_per_actor=0)
    return stats.documents, time.perf_counter() - start, float("nan")


def gemm_peak(dtype, size: int = 2048, reps: int = 5) -> float:
    """GFLOP/s of the best of ``reps`` square matrix products: the rate this machine's torch can reach."""
    import torch

    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def head_report(systems, head, corpus, args) -> None:
    """Achieved GFLOP/s of our MLM head (hidden -> vocabulary over non-padding tokens) against the GEMM peak."""
    import json

    import torch

    encoder = systems["ours-fp32"]
    texts = [json.loads(line)["contents"] for line in open(corpus, encoding="utf-8")]
    encoded = encoder.tokenizer(texts, max_length=args.max_length, truncation=True)["input_ids"]
    tokens = sum(len(ids) for ids in encoded)
    hidden = encoder.model.config.hidden_size
    vocab = encoder.model.config.vocab_size
    flops = 2 * tokens * hidden * vocab * args.rounds
    rows = []
    for name, dtype in (("ours-fp32", torch.float32), ("ours-bf16", torch.bfloat16)):
        if name in systems and head[name].seconds:
            peak = gemm_peak(dtype)
            achieved = flops / head[name].seconds / 1e9
            rows.append([name, f"{head[name].seconds:.2f}", f"{achieved:.1f}", f"{peak:.1f}",
                         f"{peak / achieved:.2f}x"])
    print(f"\nMLM head ({hidden} -> {vocab}) on {tokens} non-padding tokens x {args.rounds} rounds, against the best "
          f"2048^3 matrix product of the same dtype on {torch.get_num_threads()} threads:")
    print(table(rows, ["system", "head s", "head GFLOP/s", "GEMM peak GFLOP/s", "peak / head"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=128, help="documents per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (ABBA order)")
    parser.add_argument("--model", default="splade-tiny", choices=["splade-tiny", "bert-base", "tiny"],
                        help="splade-tiny: the real model; bert-base/tiny: random weights of that shape")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--min-words", type=int, default=20)
    parser.add_argument("--max-words", type=int, default=200)
    parser.add_argument("--bf16", action="store_true", help="also time ours with --dtype bf16")
    parser.add_argument("--onnx", action="store_true", help="also time ours with --backend onnx")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--ray", action="store_true", help="also time --ray on a local cluster")
    parser.add_argument("--ray-actors", type=int, default=2, help="actors of the --ray run (CPUs split evenly)")
    parser.add_argument("--docs-per-file", type=int, default=100_000,
                        help="part file size of our runs (with --ray: a few per actor)")
    args = parser.parse_args()
    set_threads(args.threads)

    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.jvm import import_pyserini

    if args.model == "splade-tiny":
        from disco_pyserini.models import get_model

        model = str(get_model("splade-tiny"))
    else:
        model = str(build_model(args.model))
    corpus = write_corpus(OUT / f"corpus-{args.docs}-{args.min_words}-{args.max_words}.jsonl", args.docs,
                          args.min_words, args.max_words)
    penc = import_pyserini("pyserini.encode")
    from pyserini.encode._splade import SpladeDocumentEncoder

    systems = {"pyserini": SpladeDocumentEncoder(model, device="cpu"),
               "ours-fp32": SpladeEncoder(model, device="cpu", batch_size=args.batch_size,
                                          max_length=args.max_length)}
    if args.bf16:
        systems["ours-bf16"] = SpladeEncoder(model, device="cpu", batch_size=args.batch_size,
                                             max_length=args.max_length, dtype="bf16")
    if args.onnx:
        import os

        os.environ.setdefault("DISCO_ONNX_CACHE", str(OUT / "onnx"))
        systems["ours-onnx"] = SpladeEncoder(model, batch_size=args.batch_size, max_length=args.max_length,
                                             backend="onnx")
    ray_options = None
    if args.ray:
        import logging

        import ray

        start = time.perf_counter()
        ray.init(address="local", include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        log(f"local Ray cluster ({ray.cluster_resources().get('CPU', 0):g} CPUs) started in "
            f"{time.perf_counter() - start:.1f}s")
        ray_options = {"model_name_or_path": model, "batch_size": args.batch_size, "max_length": args.max_length}
        systems[f"ours-ray-{args.ray_actors}actors"] = ray_options
    warm = ["warm up text " * 20] * 2
    systems["pyserini"].encode(texts=warm, max_length=args.max_length)
    for name, enc in systems.items():
        if name != "pyserini" and enc is not ray_options:
            enc.encode_sparse(warm)
    del penc

    totals = {name: [0, 0.0, 0.0] for name in systems}  # docs, seconds, encode seconds
    head = {name: Timer() for name in systems}  # seconds in the MLM head's max-pooled product (ours)
    from disco_pyserini.encode import pooling

    max_logits = pooling.max_logits
    for r in range(args.rounds):
        order = list(systems) if r % 2 == 0 else list(reversed(systems))
        for name in order:
            out_dir = OUT / "encode-run" / name
            if name == "pyserini":
                docs, seconds, enc = run_pyserini(systems[name], corpus, out_dir, args.batch_size, args.max_length)
            elif systems[name] is ray_options:
                docs, seconds, enc = run_ray(ray_options, corpus, out_dir, args.docs_per_file, args.ray_actors)
            else:
                pooling.max_logits = head[name].wrap(max_logits)
                try:
                    docs, seconds, enc = run_ours(systems[name], corpus, out_dir, args.docs_per_file)
                finally:
                    pooling.max_logits = max_logits
            log(f"round {r} {name}: {docs} docs in {seconds:.1f}s ({docs / seconds:.2f} docs/s"
                + (f"; encoder {enc:.1f}s)" if enc == enc else ")"))
            for i, v in enumerate((docs, seconds, enc)):
                totals[name][i] += v
    base = totals["pyserini"][0] / totals["pyserini"][1]
    rows = []
    for name, (docs, seconds, enc) in totals.items():
        rate = docs / seconds
        seen = enc == enc  # NaN for --ray: the encoder runs in the actors
        rows.append([name, docs, f"{rate:.2f}", f"{rate / base:.2f}x", f"{100 * enc / seconds:.1f}%" if seen else "-",
                     f"{1000 * (seconds - enc) / docs:.2f}" if seen else "-"])
    print(f"\nDocument encoding + JSONL export: model {args.model}, batch {args.batch_size}, max_length "
          f"{args.max_length}, {args.docs} docs x {args.rounds} rounds ({args.min_words}-{args.max_words} words)")
    print(table(rows, ["system", "docs", "docs/s", "vs pyserini", "encoder call share",
                       "non-model ms/doc (read+quantise+JSON+write)"]))
    if args.model == "splade-tiny":
        head_report(systems, head, corpus, args)
    if args.ray:
        from disco_pyserini.encode.export import iter_vectors

        name = f"ours-ray-{args.ray_actors}actors"
        single, distributed = (totals[n][0] / totals[n][1] for n in ("ours-fp32", name))
        same = (dict(iter_vectors(OUT / "encode-run" / "ours-fp32"))
                == dict(iter_vectors(OUT / "encode-run" / name)))
        print(f"\n--ray with {args.ray_actors} local actors vs one process, {args.docs_per_file} docs per part file "
              f"(actor start and model load included): {distributed:.2f} vs {single:.2f} docs/s = "
              f"**{distributed / single:.2f}x**; identical vectors: {'yes' if same else 'NO'}")
        import ray

        ray.shutdown()


if __name__ == "__main__":
    main()
