"""The search service behind every front end (REST, MCP, the page): requests in, batched retrieval, answers out."""
from __future__ import annotations

import contextlib
from typing import Sequence

from disco_pyserini.serve.batcher import MicroBatcher
from disco_pyserini.serve.conversation import FieldError, make_turn, query_text, top_terms, typed_text
from disco_pyserini.serve.retriever import Query, Result, Retriever
from disco_pyserini.serve.schema import HitOut, QueryOut, SearchRequest, SearchResponse, TermOut
from disco_pyserini.topics.types import Turn


class SearchService:
    """Checks and formulates requests on the event loop, then searches them through a :class:`MicroBatcher`."""

    def __init__(self, retriever: Retriever, max_batch: int = 32, max_wait: float = 0.005, max_in_flight: int = 256):
        self.retriever = retriever
        self.batcher: MicroBatcher[Query, Result] = MicroBatcher(retriever.search, max_batch, max_wait, max_in_flight)

    def running(self) -> contextlib.AbstractAsyncContextManager:
        return self.batcher.running()

    async def search(self, requests: Sequence[SearchRequest], prefix: str = "") -> list[SearchResponse]:
        """Answers to ``requests``; a bad field raises ``FieldError`` (its path under ``prefix``) before any work."""
        turns, queries = [], []
        for position, request in enumerate(requests):
            where = f"{prefix}{position}." if prefix else ""
            try:
                turn = make_turn([exchange.model_dump() for exchange in request.conversation], request.rewrites)
                text = query_text(turn, request.policy, self.retriever.history_cut, self.retriever.history_responses)
            except FieldError as error:
                raise FieldError(where + error.field, error.message) from None
            turns.append(turn)
            queries.append(Query(text, request.hits, request.query_topk))
        results = await self.batcher.submit(queries)
        return [answer(request, turn, query, result)
                for request, turn, query, result in zip(requests, turns, queries, results, strict=True)]


def answer(request: SearchRequest, turn: Turn, query: Query, result: Result) -> SearchResponse:
    """The response body for one searched request."""
    hits = [HitOut(docid=hit.docid, score=hit.score, rank=rank, text=text)
            for rank, (hit, text) in enumerate(zip(result.hits, result.texts), 1)]
    terms = [TermOut(**term._asdict()) for term in top_terms(result.vector, typed_text(turn), request.terms)]
    return SearchResponse(hits=hits, query=QueryOut(text=query.text, terms=terms))
