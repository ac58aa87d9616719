"""Indexing throughput (docs/s) and index size (MB) against the quantisation factor.

Takes the factor-100 export made by bench_search.py (tiny model, ~110 terms/doc), recovers float weights
as ``int / 100`` (times ``--weight-scale``) and re-quantises them at each factor (``round(w * f)``; terms below 0.005 are already gone,
so f=200 slightly under-counts postings), writes JsonVectorCollection files and runs our ``build_index``
(Anserini IndexCollection -impact -pretokenized, in a java subprocess). Factors are run in alternating
order over the rounds. Anserini's pretokenized impact indexing repeats each term ``weight`` times, so its
cost grows with the sum of weights per document, i.e. with the factor.

    python bench/bench_index.py --docs 15000 --factors 25 50 100 200 --rounds 2
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from common import OUT, log, median, table


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=15000, help="size of bench_search's export to reuse")
    parser.add_argument("--factors", type=float, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weight-scale", type=float, default=12.0,
                        help="multiply the recovered float weights: the random bench model's weights are ~0.04 on "
                             "average; x12 gives ~0.5, a real SPLADE's scale (weight sum ~5-7k per doc at x100)")
    args = parser.parse_args()

    from bench_search import ensure_index
    from disco_pyserini.encode.export import iter_vectors
    from disco_pyserini.index import build_index

    ensure_index(args.docs, 20, 120)
    source = OUT / f"search-{args.docs}-f100" / "vectors"
    floats = [(doc_id, {t: w / 100 * args.weight_scale for t, w in vec.items()}) for doc_id, vec in iter_vectors(source)]
    root = OUT / "index-factors"
    stats = {}
    for factor in args.factors:
        folder = root / f"vectors-f{factor:g}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        postings = weight_sum = 0
        with open(folder / "part-000-00000.jsonl", "w", encoding="utf-8") as handle:
            for doc_id, vec in floats:
                ints = {t: r for t, w in vec.items() if (r := round(w * factor)) > 0}
                postings += len(ints)
                weight_sum += sum(ints.values())
                handle.write(json.dumps({"id": doc_id, "contents": "", "vector": ints}) + "\n")
        (folder / "encoding.json").write_text(json.dumps({"format": "disco-pyserini/impact-v1",
                                                          "quantization_factor": factor}))
        stats[factor] = {"postings": postings / len(floats), "sum": weight_sum / len(floats),
                         "jsonl": dir_mb(folder), "anserini": [], "wall": [], "size": 0.0}
    for r in range(args.rounds):
        for factor in (args.factors if r % 2 == 0 else list(reversed(args.factors))):
            index = root / f"index-f{factor:g}"
            tick = time.perf_counter()
            built = build_index(root / f"vectors-f{factor:g}", index, threads=args.threads, overwrite=True)
            wall = time.perf_counter() - tick
            stats[factor]["anserini"].append(built.seconds)
            stats[factor]["wall"].append(wall)
            stats[factor]["size"] = dir_mb(index)
            log(f"round {r} factor {factor:g}: {built.documents} docs, Anserini {built.seconds:.1f}s, "
                f"with validation {wall:.1f}s")
    base = median(stats[100.0]["anserini"]) if 100.0 in stats else None
    rows = []
    for factor, s in stats.items():
        anserini = median(s["anserini"])
        rows.append([f"{factor:g}", f"{s['postings']:.0f}", f"{s['sum']:,.0f}", f"{s['jsonl']:.1f}",
                     f"{len(floats) / anserini:,.0f}", f"{len(floats) / median(s['wall']):,.0f}", f"{s['size']:.1f}",
                     f"{anserini / base:.2f}x" if base else "", ])
    print(f"\nIndexing {len(floats)} docs (weights x{args.weight_scale:g}), {args.threads} threads, median of {args.rounds} runs "
          "(Anserini time includes the java start-up, ~1 s)")
    print(table(rows, ["factor", "terms/doc", "weight sum/doc", "JSONL MB", "docs/s (Anserini)",
                       "docs/s (incl. our validation)", "index MB", "time vs f=100"]))


if __name__ == "__main__":
    main()
