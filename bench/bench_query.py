"""Query encoding latency: DiscoQueryEncoder.encode vs Pyserini's SpladeQueryEncoder.encode on the same
256-token conversation text (single query, CPU), plus our ``--encoder-backend onnx`` (ONNX Runtime on the exported
SPLADE forward incl. max pooling). Calls are interleaved call by call.

    python bench/bench_query.py --reps 30
"""
from __future__ import annotations

import argparse
import time

from common import OUT, build_model, conversation_text, log, median, percentile, set_threads, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bert-base", choices=["bert-base", "tiny"])
    parser.add_argument("--reps", type=int, default=30, help="timed calls per system (after 3 warm-up calls)")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-onnx", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="also time ours with --dtype bf16")
    args = parser.parse_args()
    set_threads(args.threads)

    model = build_model(args.model)
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.jvm import import_pyserini

    import_pyserini("pyserini.encode")
    from pyserini.encode._splade import SpladeQueryEncoder

    text = conversation_text()
    ours = DiscoQueryEncoder(str(model), device="cpu", max_length=args.max_length)
    tokens = len(ours.splade.tokenizer(text, truncation=True, max_length=args.max_length)["input_ids"])
    pys = SpladeQueryEncoder(str(model), device="cpu")
    systems = {"pyserini SpladeQueryEncoder.encode": lambda: pys.encode(text, max_length=args.max_length),
               "ours DiscoQueryEncoder.encode (fp32)": lambda: ours.encode(text)}
    if args.bf16:
        ours16 = DiscoQueryEncoder(str(model), device="cpu", max_length=args.max_length, dtype="bf16")
        systems["ours DiscoQueryEncoder.encode (bf16)"] = lambda: ours16.encode(text)
    if not args.no_onnx:
        import os

        os.environ.setdefault("DISCO_ONNX_CACHE", str(OUT / "onnx"))
        onnx = DiscoQueryEncoder(str(model), max_length=args.max_length, backend="onnx")
        systems["ours DiscoQueryEncoder.encode (--encoder-backend onnx)"] = lambda: onnx.encode(text)
        a, b = ours.encode(text), onnx.encode(text)
        same = sum(1 for t in a if b.get(t) == a[t]) / max(len(a), 1)
        log(f"ONNX parity: {len(a)} vs {len(b)} terms, {100 * same:.1f}% identical impacts")

    for fn in systems.values():
        for _ in range(3):
            fn()
    samples = {name: [] for name in systems}
    for _ in range(args.reps):
        for name, fn in systems.items():
            tick = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - tick)
    base = median(samples["pyserini SpladeQueryEncoder.encode"])
    rows = [[name, f"{1000 * median(s):.1f}", f"{1000 * percentile(s, 95):.1f}", f"{median(s) / base:.2f}x",
             f"{base / median(s):.2f}x"] for name, s in samples.items()]
    print(f"\nQuery encoding, model {args.model}, one conversation of {tokens} tokens, {args.reps} interleaved calls")
    print(table(rows, ["system", "median ms", "p95 ms", "time vs pyserini", "speed-up"]))


if __name__ == "__main__":
    main()
