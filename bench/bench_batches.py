"""Batched query encoding of a real topic set: turns in topic order (what a plain loop does) against the
length-sorted batches ``python -m disco_pyserini.search`` uses. DiSCo inputs run from a few tokens (first turns)
to 256, so topic-order batches pad most turns to the longest one in the batch.

    python bench/bench_batches.py --turns 96 --batch-size 32
"""
from __future__ import annotations

import argparse
import time

from common import REPO, build_model, log, set_threads, table

CAST2020 = REPO.parent / "shared" / "data" / "cast" / "2020" / "2020_manual_evaluation_topics_v1.0.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bert-base", choices=["bert-base", "tiny"])
    parser.add_argument("--topics", default=str(CAST2020), help="topics file (default: CAsT 2020 from ../shared)")
    parser.add_argument("--turns", type=int, default=96, help="first N turns of the topics")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (ABBA order)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    set_threads(args.threads)

    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.topics.load import load_turns

    encoder = DiscoQueryEncoder(str(build_model(args.model)), device="cpu", batch_size=args.batch_size)
    texts = [encoder.query_text(turn) for turn in load_turns(args.topics)[:args.turns]]
    lengths = [len(encoder.splade.tokenizer(t, truncation=True, max_length=256)["input_ids"]) for t in texts]
    orders = {"topic order": texts, "length-sorted": sorted(texts, key=len)}
    encoder.encode_batch(texts[:2])  # warm-up
    seconds = {name: 0.0 for name in orders}
    for r in range(args.rounds):
        for name in (list(orders) if r % 2 == 0 else list(reversed(orders))):
            start = time.perf_counter()
            for i in range(0, len(texts), args.batch_size):
                encoder.encode_batch(orders[name][i:i + args.batch_size])
            seconds[name] += time.perf_counter() - start
            log(f"round {r} {name}: {seconds[name]:.1f}s so far")
    base = seconds["topic order"]
    rows = [[name, f"{1000 * s / (args.rounds * len(texts)):.1f}", f"{base / s:.2f}x"] for name, s in seconds.items()]
    print(f"\nQuery encoding of {len(texts)} turns ({min(lengths)}-{max(lengths)} tokens, mean "
          f"{sum(lengths) / len(lengths):.0f}), model {args.model}, batch {args.batch_size}, {args.rounds} rounds")
    print(table(rows, ["batches", "ms/turn", "speed-up"]))


if __name__ == "__main__":
    main()
