"""``search --ray``: a sharded index searched by one Ray actor per shard; the driver merges.

* Placement: each shard's actor goes to a node where the shard's folder exists at the manifest's
  path (any node on a shared filesystem), spreading actors over those nodes.
* Queries: the driver encodes each batch once and puts the vectors in Ray's object store once;
  every shard actor reads the same object, searches its shard and returns its top ``k``; the driver
  merges them as :class:`~disco_pyserini.search.sharded.ShardedSearcher` does, so the run is the
  local sharded run.
* Failures: an actor whose process or node dies is restarted by Ray (``max_restarts``) and its
  pending searches are retried (``max_task_retries``): no turn goes missing. A shard that cannot be
  opened (missing on the node, damaged) is one ``error:`` line, as locally.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Mapping, Sequence

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from disco_pyserini.errors import InputError
from disco_pyserini.search.backends import open_searcher
from disco_pyserini.search.options import EngineOptions
from disco_pyserini.search.searcher import Hit
from disco_pyserini.search.sharded import merge_results

RESTARTS = 3  # per actor: a lost node or process is replaced this many times before the search fails


class ShardActor:
    """One shard's searcher in a Ray worker. Errors opening it travel back as data (``ready``): raised in an actor's
    constructor, Ray would report a dead actor and drop the message."""

    def __init__(self, folder: str, shard: int, backend: str, options: EngineOptions):
        self.searcher, self.error = None, None
        try:
            if not Path(folder).is_dir():
                raise InputError(f"not found on Ray node {platform.node()}: shards must be at the manifest's path "
                                 "on the nodes that search them (a shared filesystem, or a copy)", folder)
            record = json.loads((Path(folder) / "shard.json").read_text(encoding="utf-8"))
            if record.get("shard") != shard:
                raise InputError(f"holds shard {record.get('shard')}, not {shard}; join the shards again", folder)
            self.searcher = open_searcher(folder, backend, options)
        except (InputError, OSError, ValueError) as error:
            self.error = str(error) if isinstance(error, InputError) else f"{folder}: {error}"

    def ready(self) -> str | None:
        """``None`` when the shard is open, else the one-line error."""
        return self.error

    def num_docs(self) -> int:
        return self.searcher.num_docs

    def batch_search(self, queries: Sequence[Mapping[str, int]], qids: Sequence[str], k: int,
                     threads: int) -> dict[str, list[tuple[str, float]]]:
        found = self.searcher.batch_search(queries, qids, k, threads)
        return {qid: [tuple(hit) for hit in hits] for qid, hits in found.items()}

    def doc_text(self, docid: str) -> str | None:
        return self.searcher.doc_text(docid)


@ray.remote(num_cpus=0)
def _folders_here(folders: list[str]) -> list[bool]:
    return [Path(folder).is_dir() for folder in folders]


def place_shards(folders: list[str]) -> list[str]:
    """A node id per shard: a live node where the folder exists, spreading shards evenly over such nodes."""
    nodes = [node["NodeID"] for node in ray.nodes() if node.get("Alive")]
    present = ray.get([_folders_here.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
                       .remote(folders) for node in nodes])
    load = dict.fromkeys(nodes, 0)
    placement = []
    for i, folder in enumerate(folders):
        candidates = [node for node, found in zip(nodes, present) if found[i]]
        if not candidates:
            raise InputError(f"on no node of the Ray cluster ({len(nodes)} nodes); shards must be at the "
                             "manifest's path on the nodes that search them (a shared filesystem, or a copy)", folder)
        node = min(candidates, key=lambda n: load[n])
        load[node] += 1
        placement.append(node)
    return placement


class RayShardedSearcher:
    """A sharded index searched by one Ray actor per shard, with a single index's searcher interface."""

    def __init__(self, index_dir: str | os.PathLike, backend: str | None = None,
                 options: EngineOptions | None = None, address: str | None = None):
        from disco_pyserini.encode.ray_export import connect
        from disco_pyserini.index.shards import read_manifest

        self.index_dir = Path(index_dir).absolute()  # workers run elsewhere
        manifest = read_manifest(self.index_dir, check_shards=False)
        folders = [str(self.index_dir / part["name"]) for part in manifest["parts"]]
        if all(Path(f).is_dir() for f in folders):  # the driver sees them: check them all here first
            manifest = read_manifest(self.index_dir)
        if backend is not None and backend != manifest["backend"]:
            raise InputError(f"these are {manifest['backend']} shards, not {backend}; drop --backend", self.index_dir)
        self.manifest, self.backend, self.metadata = manifest, manifest["backend"], manifest.get("encoding")
        if not ray.is_initialized() and "jnius" in sys.modules:
            # Ray's native failure-signal handlers, installed after a JVM's, turn the JVM's own SIGSEGVs (it uses
            # them on purpose) into a crash of the whole process: seen in a process that had searched Lucene.
            raise InputError("this process already runs a JVM (it searched a Lucene index): connect to Ray first "
                             "(ray.init), or search on Ray from a process without Lucene searchers")
        self._stack = contextlib.ExitStack()
        self.actors: list = []
        try:
            self._stack.enter_context(connect(address))
            actor_class = ray.remote(ShardActor)
            for shard, (folder, node) in enumerate(zip(folders, place_shards(folders))):
                # soft: a restart after the node is lost may go to another node holding the shard
                self.actors.append(actor_class.options(
                    max_restarts=RESTARTS, max_task_retries=RESTARTS,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True))
                    .remote(folder, shard, self.backend, options or EngineOptions()))
            for error in self._get([actor.ready.remote() for actor in self.actors]):
                if error is not None:
                    raise InputError(error)
            self._num_docs = sum(self._get([actor.num_docs.remote() for actor in self.actors]))
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _get(refs: list):
        try:
            return ray.get(refs)
        except ray.exceptions.RayActorError as error:
            raise InputError(f"a shard's Ray actor died {RESTARTS + 1} times (lost nodes, or out of memory: see "
                             f"the Ray logs); the search stopped: {type(error).__name__}") from None

    @property
    def num_docs(self) -> int:
        return self._num_docs

    def search(self, vector: Mapping[str, int], k: int = 1000) -> list[Hit]:
        """Top ``k`` documents of all shards for one ``{term: int}`` query."""
        return self.batch_search([vector], ["q"], k)["q"]

    def batch_search(self, queries: Sequence[Mapping[str, int]], qids: Sequence[str], k: int = 1000,
                     threads: int = 1) -> dict[str, list[Hit]]:
        """Send the query vectors once to every shard actor (``threads`` threads each) and merge; ``{qid: hits}``."""
        vectors = ray.put(list(queries))
        found = self._get([actor.batch_search.remote(vectors, list(qids), k, threads) for actor in self.actors])
        return merge_results([{qid: [Hit(*hit) for hit in hits] for qid, hits in shard.items()} for shard in found],
                             qids, k)

    def doc_text(self, docid: str) -> str | None:
        """A document's passage text from the shard that holds it (indexes built with ``--store-raw``)."""
        texts = self._get([actor.doc_text.remote(docid) for actor in self.actors])
        return next((text for text in texts if text is not None), None)

    def close(self) -> None:
        for actor in self.actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        self.actors = []
        self._stack.close()
