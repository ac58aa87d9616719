"""A server on 127.0.0.1 for the serve tests (one per test module), and a small JSON client."""
from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple


class Running(NamedTuple):
    url: str
    service: Any


@contextlib.contextmanager
def running_server(index: Path, encoder: Path, api_key: str | None = None, **batching: Any):
    """Serve ``index`` with ``encoder`` (on the CPU) in a thread on a free loopback port; stopped on exit."""
    import uvicorn

    from disco_pyserini.serve.__main__ import bind
    from disco_pyserini.serve.app import create_app
    from disco_pyserini.serve.retriever import Retriever
    from disco_pyserini.serve.service import SearchService

    retriever = Retriever(index, str(encoder), device="cpu", batch_size=batching.get("max_batch", 32))
    service = SearchService(retriever, **batching)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(service, api_key), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}", service)
    finally:
        server.should_exit = True
        thread.join(30)
        retriever.close()


def call(url: str, path: str, body: Any = None, key: str | None = None, raw: bytes | None = None,
         timeout: float = 60) -> tuple[int, Any, Any]:
    """``(status, JSON body, headers (case-insensitive))`` of a GET (no body) or POST to ``url + path``."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        text, status, headers = error.read(), error.code, error.headers
    try:
        return status, json.loads(text), headers
    except json.JSONDecodeError:
        return status, text.decode(), headers


def as_request(turn, hits: int = 10, **fields: Any) -> dict:
    """A ``POST /search`` body for a loaded topic ``Turn`` (its history with answers, then the utterance)."""
    conversation = [{"utterance": e.utterance, "response": e.response} for e in turn.history]
    return {"conversation": conversation + [{"utterance": turn.utterance}], "hits": hits, **fields}


def run_hits(run_text: str) -> dict[str, list[tuple[str, int, str]]]:
    """``{qid: [(docid, rank, score), ...]}`` from a TREC run's text, scores as written."""
    found: dict[str, list] = {}
    for line in run_text.splitlines():
        qid, _, docid, rank, score, _ = line.split()
        found.setdefault(qid, []).append((docid, int(rank), score))
    return found


def response_hits(body: dict) -> list[tuple[str, int, str]]:
    return [(hit["docid"], hit["rank"], f"{hit['score']:.6f}") for hit in body["hits"]]
