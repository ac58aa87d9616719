"""Document reordering by recursive graph bisection (Dhulipala et al., KDD 2016), as BMP's paper does before indexing.

Block-max engines skip a block when the block's per-term maxima cannot beat the current k-th score. That works
when a block holds documents that share terms: then few blocks carry a query's terms, and their maxima are tight.
Collections rarely come in such an order (WordNet is alphabetical by lexicographer file, a shuffled corpus is
random). Bisection finds one: it splits the documents in two halves and swaps documents between them until each
term is concentrated in as few halves as possible, then recurses into each half down to BMP's block size.

The cost of a split, summed over terms, is ``d_L log2(n_L / (d_L + 1)) + d_R log2(n_R / (d_R + 1))`` (the log-gap
cost of the term's postings, with ``d`` its documents in a half of ``n``); a document's move gain is how much the
cost drops when it alone changes side; the best-gaining documents of each side are swapped in pairs while a pair's
gains sum above 0. Every subproblem of a level is solved at once with numpy (one sort of the edges per level,
bincounts per iteration): 200,000 real passages of ~64 terms take about 104 s on 2 idle cores (25,000: about 45 s
on a busy machine); the cost grows with the edges times the levels (log2 of documents / block size).
"""
from __future__ import annotations

import numpy as np


def _cost(degree: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Log-gap cost of ``degree`` postings in a half of ``size`` documents."""
    return degree * (np.log2(size) - np.log2(degree + 1.0))


def bisection_order(indptr: np.ndarray, term_ids: np.ndarray, *, leaf_size: int = 32, iterations: int = 20,
                    progress: bool = False) -> np.ndarray:
    """A permutation of the rows (``order[i]`` = the row placed at position ``i``) grouping rows that share terms.

    ``indptr``/``term_ids`` are CSR rows. Halves are split at multiples of ``leaf_size`` so that every final
    segment is one block of ``leaf_size`` rows (the last may be shorter).
    """
    from tqdm import tqdm

    documents = len(indptr) - 1
    order = np.arange(documents, dtype=np.int64)
    if documents <= leaf_size:
        return order
    edge_doc = np.repeat(np.arange(documents, dtype=np.int64), np.diff(indptr))
    edge_term = np.asarray(term_ids, dtype=np.int64)
    vocabulary = int(edge_term.max(initial=0)) + 1
    starts, stops = np.array([0], dtype=np.int64), np.array([documents], dtype=np.int64)
    levels = int(np.ceil(np.log2(documents / leaf_size)))
    for _ in tqdm(range(levels), desc="reorder (graph bisection)", unit="level", disable=not progress):
        active = stops - starts > leaf_size
        if not active.any():
            break
        starts, stops = starts[active], stops[active]
        by_start = np.argsort(starts)
        starts, stops = starts[by_start], stops[by_start]
        blocks = -(-(stops - starts) // leaf_size)
        middles = starts + (blocks + 1) // 2 * leaf_size
        position = np.empty(documents, dtype=np.int64)
        position[order] = np.arange(documents)
        # segment of each document (-1: in a finished segment), and its side (True: right half)
        segment = np.searchsorted(starts, position, side="right") - 1
        inside = (segment >= 0) & (position < stops[np.maximum(segment, 0)])
        segment[~inside] = -1
        right = np.zeros(documents, dtype=bool)
        right[inside] = position[inside] >= middles[segment[inside]]
        edges = inside[edge_doc]
        e_doc, e_seg = edge_doc[edges], segment[edge_doc[edges]]
        _, group = np.unique(e_seg * vocabulary + edge_term[edges], return_inverse=True)
        group_total = np.bincount(group).astype(np.float64)
        size_left = (middles - starts).astype(np.float64)
        size_right = (stops - middles).astype(np.float64)
        group_seg = np.zeros(len(group_total), dtype=np.int64)
        group_seg[group] = e_seg
        g_left, g_right = size_left[group_seg], size_right[group_seg]
        docs = np.flatnonzero(inside)
        doc_seg = segment[docs]
        for _ in range(iterations):
            e_is_right = right[e_doc]
            d_right = np.bincount(group, weights=e_is_right, minlength=len(group_total))
            d_left = group_total - d_right
            now = _cost(d_left, g_left) + _cost(d_right, g_right)
            # per (segment, term): the cost drop when one of its documents alone moves to the other half
            from_left = now - _cost(np.maximum(d_left - 1, 0), g_left) - _cost(d_right + 1, g_right)
            from_right = now - _cost(d_left + 1, g_left) - _cost(np.maximum(d_right - 1, 0), g_right)
            edge_gain = np.where(e_is_right, from_right[group], from_left[group])
            gain = np.bincount(e_doc, weights=edge_gain, minlength=documents)[docs]
            side = right[docs]
            # rank the documents of each (segment, side) by gain, best first; pair rank i left with rank i right
            ranked = np.lexsort((-gain, side, doc_seg))
            counts = np.bincount(doc_seg * 2 + side, minlength=2 * len(starts))
            firsts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            lefts_at, rights_at = firsts[0::2], firsts[1::2]
            pairs = np.minimum(counts[0::2], counts[1::2])
            pair_seg = np.repeat(np.arange(len(starts)), pairs)
            rank = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
            left_docs = ranked[lefts_at[pair_seg] + rank]
            right_docs = ranked[rights_at[pair_seg] + rank]
            swap = gain[left_docs] + gain[right_docs] > 0
            if not swap.any():
                break
            right[docs[left_docs[swap]]] = True
            right[docs[right_docs[swap]]] = False
        # lay each segment out as its left half, then its right half, keeping the previous order within each
        placed = docs[np.lexsort((position[docs], right[docs], doc_seg))]
        order[np.sort(position[docs])] = placed
        starts, stops = np.concatenate((starts, middles)), np.concatenate((middles, stops))
    return order
