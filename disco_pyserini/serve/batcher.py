"""Micro-batching: requests that arrive together share one encoder call and one engine batch.

Each request's queries wait in a bounded queue. One worker thread runs batches: it takes what is
queued (at most ``max_batch`` queries), and when that is less than a full batch it waits up to
``max_wait`` seconds for more. While a batch runs, new requests queue, so under load batches fill
without waiting; a lone request waits at most ``max_wait``. At most ``max_in_flight`` queries are
accepted at once: past that :class:`Overloaded` is raised at once (the server answers 503 with
Retry-After) instead of letting the queue and every client's latency grow.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Generic, Sequence, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class Overloaded(RuntimeError):
    """More queries in flight than the server accepts; retry after ``retry_after`` seconds."""

    def __init__(self, in_flight: int, limit: int, retry_after: int):
        super().__init__(f"{in_flight} queries in flight (limit {limit}); retry after {retry_after} s")
        self.retry_after = retry_after


class MicroBatcher(Generic[In, Out]):
    """Run ``work(batch) -> results`` (one result per item, in order) over batches of submitted items.

    ``work`` runs on one dedicated thread (the encoder and the JVM are used from one thread at a time).
    Use inside ``async with batcher.running():`` on the serving event loop.
    """

    def __init__(self, work: Callable[[list[In]], Sequence[Out]], max_batch: int = 32, max_wait: float = 0.005,
                 max_in_flight: int = 256):
        if max_batch < 1 or max_in_flight < 1 or max_wait < 0:
            raise ValueError("max_batch and max_in_flight must be >= 1 and max_wait >= 0")
        self.work = work
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.batches = 0
        self.items = 0
        self._seconds_per_item = 0.01  # running estimate, for Retry-After
        self._queue: asyncio.Queue | None = None

    @contextlib.asynccontextmanager
    async def running(self):
        """Start the batching loop and its worker thread; both stop on exit (queued items fail)."""
        self._queue = asyncio.Queue()
        executor = ThreadPoolExecutor(1, thread_name_prefix="disco-serve-batch")
        loop_task = asyncio.create_task(self._loop(executor))
        try:
            yield self
        finally:
            loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop_task
            while not self._queue.empty():
                _, future = self._queue.get_nowait()
                if not future.done():
                    future.set_exception(RuntimeError("the server is shutting down"))
            executor.shutdown(wait=True)
            self._queue = None

    async def submit(self, items: Sequence[In]) -> list[Out]:
        """Results for ``items`` (batched with whatever else is queued); :class:`Overloaded` past the bound."""
        if self._queue is None:
            raise RuntimeError("the batcher is not running")
        if self.in_flight + len(items) > self.max_in_flight:
            raise Overloaded(self.in_flight, self.max_in_flight, self.retry_after())
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in items]
        self.in_flight += len(items)
        try:
            for item, future in zip(items, futures):
                self._queue.put_nowait((item, future))
            return list(await asyncio.gather(*futures))
        finally:
            self.in_flight -= len(items)

    def retry_after(self) -> int:
        """Whole seconds until the queries in flight now are probably done (at least 1)."""
        return max(1, round(self.in_flight * self._seconds_per_item + 0.5))

    async def _loop(self, executor: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.max_batch:
                if not queue.empty():
                    batch.append(queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            # a client that went away (its request cancelled) needs no work
            batch = [(item, future) for item, future in batch if not future.done()]
            if not batch:
                continue
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(executor, self.work, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"batch of {len(batch)} gave {len(results)} results")
            except Exception as error:  # one failed batch fails its requests, never the server
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            self.items += len(batch)
            self._seconds_per_item = 0.8 * self._seconds_per_item + 0.2 * (time.perf_counter() - started) / len(batch)
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)
