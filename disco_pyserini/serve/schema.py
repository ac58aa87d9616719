"""Request and response bodies of the REST API (and the MCP tool's result), as pydantic models."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_HITS = 1000
MAX_BATCH_REQUESTS = 64


class ExchangeIn(BaseModel):
    """One turn: what the user said and, for earlier turns, the system's answer (read as DiSCo history)."""

    model_config = ConfigDict(extra="forbid")
    utterance: str = Field(description="the user's text")
    response: str | None = Field(None, description="the system's answer (earlier turns only)")


class SearchRequest(BaseModel):
    """A conversation to search for: oldest turn first, the last one is the current turn."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "conversation": [{"utterance": "tell me about the tenolo",
                          "response": "the tenolo is a creature of the valleys."},
                         {"utterance": "what is its diet?"}],
        "hits": 3, "policy": "disco"}]})
    conversation: list[ExchangeIn] = Field(min_length=1, max_length=256)
    hits: int = Field(10, ge=1, le=MAX_HITS, description="documents to return")
    policy: str = Field("disco", description="query formulation: disco (default), raw, concat, utterances, manual, "
                                             "automatic or rewrite:NAME (rewrite policies read `rewrites`)")
    query_topk: int | None = Field(None, ge=0, description="keep the K largest query weights (default: the "
                                                           "server's; 0: all)")
    rewrites: dict[str, str] = Field(default_factory=dict, description="rewrites of the current turn by source: "
                                                                       "{\"manual\": ..., NAME: ...}")
    terms: int = Field(12, ge=0, le=MAX_HITS, description="query terms to return, heaviest first")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests: list[SearchRequest] = Field(min_length=1, max_length=MAX_BATCH_REQUESTS)


class HitOut(BaseModel):
    docid: str
    score: float
    rank: int
    text: str | None = Field(description="the passage, where the index stores it (--store-raw)")


class TermOut(BaseModel):
    term: str
    weight: int
    expansion: bool = Field(description="true when the user never typed the term")


class QueryOut(BaseModel):
    text: str = Field(description="the formulated text the encoder read")
    terms: list[TermOut] = Field(description="the query's heaviest terms")


class SearchResponse(BaseModel):
    hits: list[HitOut]
    query: QueryOut


class BatchResponse(BaseModel):
    results: list[SearchResponse]
