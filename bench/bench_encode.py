"""Document encoding + JSONL export: our export_corpus against Pyserini's SPLADE document encoding path.

Baseline (what ``python -m pyserini.encode input ... encoder --encoder-class splade ...`` does):
``JsonlCollectionIterator`` batches -> ``SpladeDocumentEncoder.encode(texts, max_length=256)`` ->
``JsonlRepresentationWriter``. Ours: ``disco_pyserini.encode.export.export_corpus`` (the
``python -m disco_pyserini.encode docs`` path) with the same model, corpus and batch size.
Both run in this process with models loaded and warmed up first; rounds alternate the order
(ABBA) so drift from other load on the machine hits both alike.

    python bench/bench_encode.py --docs 128 --rounds 2 --bf16 [--onnx]
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


def run_ours(encoder, corpus, out_dir):
    from disco_pyserini.encode.export import export_corpus

    shutil.rmtree(out_dir, ignore_errors=True)
    enc_t = Timer()
    original = encoder.encode_sparse
    encoder.encode_sparse = enc_t.wrap(original)
    try:
        start = time.perf_counter()
        stats = export_corpus(encoder, corpus, out_dir, factor=100.0, progress=False, metadata={"encoder": "bench"})
        return stats.documents, time.perf_counter() - start, enc_t.seconds
    finally:
        encoder.encode_sparse = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=128, help="documents per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (ABBA order)")
    parser.add_argument("--model", default="bert-base", choices=["bert-base", "tiny"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--min-words", type=int, default=20)
    parser.add_argument("--max-words", type=int, default=200)
    parser.add_argument("--bf16", action="store_true", help="also time ours with --dtype bf16")
    parser.add_argument("--onnx", action="store_true", help="also time ours with --backend onnx")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    set_threads(args.threads)

    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.jvm import import_pyserini

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
    warm = ["warm up text " * 20] * 2
    systems["pyserini"].encode(texts=warm, max_length=args.max_length)
    for name, enc in systems.items():
        if name != "pyserini":
            enc.encode_sparse(warm)
    del penc

    totals = {name: [0, 0.0, 0.0] for name in systems}  # docs, seconds, encode seconds
    for r in range(args.rounds):
        order = list(systems) if r % 2 == 0 else list(reversed(systems))
        for name in order:
            out_dir = OUT / "encode-run" / name
            if name == "pyserini":
                docs, seconds, enc = run_pyserini(systems[name], corpus, out_dir, args.batch_size, args.max_length)
            else:
                docs, seconds, enc = run_ours(systems[name], corpus, out_dir)
            log(f"round {r} {name}: {docs} docs in {seconds:.1f}s ({docs / seconds:.2f} docs/s; "
                f"encoder {enc:.1f}s)")
            for i, v in enumerate((docs, seconds, enc)):
                totals[name][i] += v
    base = totals["pyserini"][0] / totals["pyserini"][1]
    rows = []
    for name, (docs, seconds, enc) in totals.items():
        rate = docs / seconds
        rows.append([name, docs, f"{rate:.2f}", f"{rate / base:.2f}x", f"{100 * enc / seconds:.1f}%",
                     f"{1000 * (seconds - enc) / docs:.2f}"])
    print(f"\nDocument encoding + JSONL export: model {args.model}, batch {args.batch_size}, max_length "
          f"{args.max_length}, {args.docs} docs x {args.rounds} rounds ({args.min_words}-{args.max_words} words)")
    print(table(rows, ["system", "docs", "docs/s", "vs pyserini", "encoder call share",
                       "non-model ms/doc (read+quantise+JSON+write)"]))


if __name__ == "__main__":
    main()
