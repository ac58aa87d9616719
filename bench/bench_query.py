"""Query encoding: DiscoQueryEncoder vs Pyserini's SpladeQueryEncoder on the same conversation texts (CPU).

1. Latency of one 256-token conversation text, ours (fp32, bf16 with ``--bf16``, ``--encoder-backend onnx``) against
   ``SpladeQueryEncoder.encode``, interleaved call by call.
2. ``--batch N``: conversations/s over real turns (the CAsT 2019/2022 and iKAT 2023 topic files in tests/data,
   DiSCo-formulated: whole conversations, truncated at 256 tokens). Ours encodes them N at a time (``encode_batch``,
   as ``search`` does); Pyserini's impact searchers encode queries one by one with ``encode``, which is the baseline.

The default model is the real splade-tiny (fetched by ``disco_pyserini.models``); ``bert-base`` and ``tiny`` are
random-weight models of those shapes.

    python bench/bench_query.py --reps 30 --bf16 --batch 32
"""
from __future__ import annotations

import argparse
import time

from itertools import islice
from pathlib import Path

from common import OUT, build_model, conversation_text, log, median, percentile, set_threads, table

TOPICS = Path(__file__).resolve().parents[1] / "tests" / "data"
REAL_TOPICS = [(TOPICS / "cast/2019/evaluation_topics_v1.0.json", "cast2019"),
               (TOPICS / "cast/2022/2022_evaluation_topics_flattened_duplicated_v1.0.json", "cast2022"),
               (TOPICS / "ikat/2023/2023_test_topics.json", "ikat")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="splade-tiny", choices=["splade-tiny", "bert-base", "tiny"])
    parser.add_argument("--reps", type=int, default=30, help="timed calls per system (after 3 warm-up calls)")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-onnx", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="also time ours with --dtype bf16")
    parser.add_argument("--batch", type=int, default=None, metavar="N",
                        help="also measure conversations/s over real topics, ours N at a time")
    parser.add_argument("--conversations", type=int, default=192, help="real turns for --batch (default 192)")
    args = parser.parse_args()
    set_threads(args.threads)

    if args.model == "splade-tiny":
        from disco_pyserini.models import get_model

        model = get_model("splade-tiny")
    else:
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
    if args.batch:
        batched(model, args, pys)


def batched(model, args, pys) -> None:
    """Conversations/s over real DiSCo-formulated turns: Pyserini one by one, ours ``args.batch`` at a time."""
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.topics.load import load_turns

    each = -(-args.conversations // len(REAL_TOPICS))
    formulator = DiscoQueryEncoder(str(model), device="cpu", policy="disco")
    turns = [turn for path, fmt in REAL_TOPICS for turn in islice(load_turns(path, fmt), each)]
    texts = [formulator.query_text(turn) for turn in turns]
    systems = {"pyserini SpladeQueryEncoder.encode, one by one":
               lambda: [pys.encode(text, max_length=args.max_length) for text in texts]}
    for dtype in ("fp32", "bf16") if args.bf16 else ("fp32",):
        ours = DiscoQueryEncoder(str(model), device="cpu", max_length=args.max_length, dtype=dtype,
                                 batch_size=args.batch, policy="disco")
        systems[f"ours encode_batch ({dtype}, {args.batch} at a time)"] = lambda ours=ours: ours.encode_batch(turns)
    seconds = {name: [] for name in systems}
    for round_ in range(2):  # ABBA: drift on the machine hits both alike
        for name in (list(systems) if round_ == 0 else list(reversed(systems))):
            tick = time.perf_counter()
            systems[name]()
            seconds[name].append(time.perf_counter() - tick)
    base = len(texts) / min(seconds["pyserini SpladeQueryEncoder.encode, one by one"])
    rows = [[name, f"{len(texts) / min(s):.1f}", f"{len(texts) / min(s) / base:.2f}x"] for name, s in seconds.items()]
    print(f"\nConversations/s, model {args.model}: {len(texts)} real CAsT 2019/2022 and iKAT 2023 turns, DiSCo "
          f"input truncated at {args.max_length} tokens, best of 2 ABBA rounds")
    print(table(rows, ["system", "conversations/s", "vs pyserini"]))


if __name__ == "__main__":
    main()
