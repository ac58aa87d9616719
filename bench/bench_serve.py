"""Load test of ``python -m disco_pyserini.serve``: 1, 8 and 32 concurrent clients, batched vs unbatched.

For each collection the server runs twice as a separate process on 127.0.0.1: batched (``--max-batch 32``) and
one request at a time (``--max-batch 1``, the baseline). Clients are threads of this process, each on its own
keep-alive connection, sending the collection's conversations (a client starts at its own offset) for at most
``--requests`` requests or ``--seconds`` seconds per run. Every response is compared with the run
``python -m disco_pyserini.search`` wrote for the same turns (docids, ranks, scores): a mismatch counts as an error,
as does any non-200 answer. At the end the batched server is killed with SIGKILL and the index folder is checked
unchanged and still searchable: the server writes nothing to disk.

Collections: ``sample`` (the bundled sample world: its lexical model and 1,260 passages) and ``larger``
(``--larger-docs`` synthetic passages encoded by bench's ``tiny`` SPLADE-shaped model with the real 30,522-term
head, with synthetic conversations), both built under bench/out/ and cached.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import OUT, REPO, build_model, log, percentile, synthetic_texts, table, write_corpus

CLIENTS = (1, 8, 32)


def sample_world() -> tuple[Path, Path, Path]:
    """(index, encoder, topics) of the bundled sample world."""
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, build_tiny_splade

    root = OUT / "serve-sample"
    if not (root / "index" / "backend.json").exists():
        from disco_pyserini.encode.export import export_corpus
        from disco_pyserini.encode.splade import SpladeEncoder
        from disco_pyserini.index import build_index

        build_tiny_splade(root / "model")
        export_corpus(SpladeEncoder(str(root / "model"), device="cpu", batch_size=64), CORPUS, root / "vectors",
                      factor=100, progress=False, metadata={"encoder": str(root / "model")}, overwrite=True)
        build_index(root / "vectors", root / "index", threads=2, store_raw=True, overwrite=True)
    return root / "index", root / "model", CONVERSATIONS


def larger_world(docs: int, conversations: int) -> tuple[Path, Path, Path]:
    """(index, encoder, topics): synthetic passages and conversations, the tiny 30k-vocabulary model."""
    root = OUT / f"serve-larger-{docs}"
    model = build_model("tiny")
    if not (root / "index" / "backend.json").exists():
        from disco_pyserini.encode.export import export_corpus
        from disco_pyserini.encode.splade import SpladeEncoder
        from disco_pyserini.index import build_index

        corpus = write_corpus(OUT / f"corpus-{docs}-20-120.jsonl", docs, 20, 120, seed=3)
        export_corpus(SpladeEncoder(str(model), device="cpu", batch_size=64), corpus, root / "vectors", factor=100,
                      progress=True, metadata={"encoder": str(model)}, overwrite=True)
        build_index(root / "vectors", root / "index", threads=2, store_raw=True, overwrite=True)
    topics = root / f"conversations-{conversations}.jsonl"
    if not topics.exists():
        rng = random.Random(5)
        texts = iter(synthetic_texts(conversations * 8, 4, 25, seed=11))
        with open(topics, "w", encoding="utf-8") as handle:
            for c in range(conversations):
                turns = [{"turn_id": str(t + 1), "utterance": next(texts), "response": next(texts)}
                         for t in range(rng.randint(1, 4))]
                handle.write(json.dumps({"conversation_id": f"s{c}", "turns": turns}) + "\n")
    return root / "index", model, topics


def cli_run(index: Path, encoder: Path, topics: Path, hits: int) -> dict[str, list[list]]:
    """``{qid: [[docid, rank, score], ...]}`` from ``python -m disco_pyserini.search`` (in this process)."""
    from disco_pyserini.search.pipeline import SearchOptions, search_topics

    run = index.parent / f"cli-{topics.stem}.trec"
    search_topics(index, topics, run, SearchOptions(encoder=str(encoder), hits=hits, device="cpu", progress=False))
    found: dict[str, list] = {}
    for line in run.read_text().splitlines():
        qid, _, docid, rank, score, _ = line.split()
        found.setdefault(qid, []).append([docid, int(rank), score])
    return found


def requests_of(topics: Path, hits: int) -> list[tuple[str, bytes]]:
    """``(qid, POST /search body)`` for every turn of ``topics``."""
    from disco_pyserini.topics.load import load_turns

    out = []
    for turn in load_turns(topics):
        conversation = [{"utterance": e.utterance, "response": e.response} for e in turn.history]
        body = {"conversation": conversation + [{"utterance": turn.utterance}], "hits": hits, "terms": 0}
        out.append((turn.query_id, json.dumps(body).encode()))
    return out


class Server:
    """``python -m disco_pyserini.serve`` on a free loopback port, in its own process."""

    def __init__(self, index: Path, encoder: Path, max_batch: int):
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "disco_pyserini.serve", "--index", str(index), "--encoder", str(encoder),
             "--device", "cpu", "--port", "0", "--max-batch", str(max_batch), "--max-in-flight", "256"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        deadline = time.monotonic() + 600  # model and JVM start-up take minutes on a busy machine
        self.port, started = None, False
        for line in self.process.stderr:
            if line.startswith("open http://127.0.0.1:"):
                self.port = int(line.split(":")[2].split("/")[0])
            if "Application startup complete" in line:
                started = True
                break
            if time.monotonic() > deadline:
                break
        if not started or self.port is None:
            self.process.kill()
            raise SystemExit("the server did not start within 10 minutes")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # keep its log pipe drained

    def get(self, path: str) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.process.send_signal(sig)
        self.process.wait(30)


def load(server: Server, requests: list[tuple[str, bytes]], expected: dict, clients: int, limit: int,
         seconds: float) -> dict:
    """Run ``clients`` concurrent clients until ``limit`` requests or ``seconds`` pass; every answer checked."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors = {"http": 0, "mismatch": 0}
    sent = [0]
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        position = number * 7
        while True:
            with lock:
                if sent[0] >= limit or time.monotonic() > stop_at:
                    return
                sent[0] += 1
            qid, body = requests[position % len(requests)]
            position += 1
            tick = time.perf_counter()
            connection.request("POST", "/search", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
            took = time.perf_counter() - tick
            with lock:
                latencies.append(took)
                if response.status != 200:
                    errors["http"] += 1
                    continue
                hits = [[h["docid"], h["rank"], f"{h['score']:.6f}"] for h in json.loads(payload)["hits"]]
                if hits != expected[qid]:
                    errors["mismatch"] += 1

    before = server.get("/health")
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    after = server.get("/health")
    batches = after["batches"] - before["batches"]
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": percentile(latencies, 50) * 1000,
            "p99": percentile(latencies, 99) * 1000, "errors": errors["http"] + errors["mismatch"],
            "batch": (after["queries"] - before["queries"]) / max(batches, 1)}


def fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def bench(name: str, world: tuple[Path, Path, Path], args) -> list[list]:
    index, encoder, topics = world
    expected = cli_run(index, encoder, topics, args.hits)
    requests = requests_of(topics, args.hits)
    log(f"{name}: {len(requests)} turns, index {index}")
    before = fingerprint(index)
    rows, results = [], {}
    for mode, max_batch in (("unbatched", 1), ("batched", 32)):
        server = Server(index, encoder, max_batch)
        try:
            info = server.get("/info")
            load(server, requests, expected, 4, 16, 30)  # warm-up: first calls pay for lazy initialisation
            for clients in CLIENTS:
                result = load(server, requests, expected, clients, args.requests, args.seconds)
                results[mode, clients] = result
                log(f"  {mode} {clients} clients: {result['rps']:.1f} req/s, {result['errors']} errors")
        finally:
            if mode == "batched":
                server.stop(signal.SIGKILL)  # a kill -9 must leave the index as it was
            else:
                server.stop()
    intact = fingerprint(index) == before
    for (mode, clients), result in results.items():
        base = results["unbatched", clients]["rps"]
        rows.append([name, info["documents"], mode, clients, result["requests"], f"{result['rps']:.1f}",
                     f"{result['p50']:.0f}", f"{result['p99']:.0f}", result["errors"], f"{result['batch']:.1f}",
                     f"{result['rps'] / base:.2f}x"])
    log(f"{name}: index unchanged after kill -9: {intact}")
    rows.append([name, "", "kill -9", "", "", "", "", "", 0 if intact else 1, "", "index intact" if intact else
                 "INDEX CHANGED"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per run at most (default 400)")
    parser.add_argument("--seconds", type=float, default=40, help="seconds per run at most (default 40)")
    parser.add_argument("--hits", type=int, default=10, help="hits per request (default 10)")
    parser.add_argument("--collections", default="sample,larger", help="which to run (default sample,larger)")
    parser.add_argument("--larger-docs", type=int, default=20000, help="passages of the larger collection")
    parser.add_argument("--conversations", type=int, default=60, help="synthetic conversations of the larger one")
    args = parser.parse_args()
    chosen = args.collections.split(",")
    rows = bench("sample", sample_world(), args) if "sample" in chosen else []
    if "larger" in chosen:
        rows += bench("larger", larger_world(args.larger_docs, args.conversations), args)
    print(table(rows, ["collection", "docs", "server", "clients", "requests", "req/s", "p50 ms", "p99 ms", "errors",
                       "mean batch", "vs unbatched"]))


if __name__ == "__main__":
    main()
