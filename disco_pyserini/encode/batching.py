"""Length-sorted batching: texts of similar length share a batch, so little of it is padding."""
from __future__ import annotations

from typing import Iterator, Sequence


def length_sorted_batches(lengths: Sequence[int], size: int) -> Iterator[list[int]]:
    """Index lists of at most ``size`` items, shortest first; callers put results back in their own order."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    for start in range(0, len(order), size):
        yield order[start:start + size]
