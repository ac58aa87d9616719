"""The ``search_conversation`` tool for LLM agents, on the ``mcp`` SDK (stdio, or streamable HTTP at ``/mcp``)."""
from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from disco_pyserini.serve.batcher import Overloaded
from disco_pyserini.serve.conversation import FieldError
from disco_pyserini.serve.schema import MAX_HITS, ExchangeIn, SearchRequest, SearchResponse
from disco_pyserini.serve.service import SearchService

TOOL_DESCRIPTION = (
    "Search the passage collection for the current turn of a conversation. Give the whole conversation, oldest "
    "turn first; the last item is the user's current question (utterance only), earlier items may carry the "
    "assistant's response. The conversation is encoded in one pass by a DiSCo conversational sparse encoder, so "
    "follow-up questions ('and its diet?') need no rewriting. Returns the passages (docid, score, rank, text) and "
    "the query the encoder formulated with its heaviest terms.")


def build_mcp(service: SearchService) -> MCPServer:
    """An MCP server whose ``search_conversation`` tool goes through ``service`` (and its batching)."""
    info = service.retriever.info()
    server = MCPServer("disco-pyserini", instructions=(
        f"Conversational passage search over {info['documents']} documents of {info['index']} "
        f"({info['backend']} index, encoder {info['encoder']})."))

    @server.tool(name="search_conversation", description=TOOL_DESCRIPTION)
    async def search_conversation(
            conversation: list[ExchangeIn] = Field(min_length=1, description="turns, oldest first; the last one "
                                                                             "is the current question"),
            hits: int = Field(10, ge=1, le=MAX_HITS, description="passages to return"),
            policy: str = Field("disco", description="query formulation: disco (default), raw, concat, "
                                                     "utterances, manual, rewrite:NAME"),
            query_topk: int | None = Field(None, ge=0, description="keep the K largest query weights"),
            rewrites: dict[str, str] | None = Field(None, description="rewrites of the current turn by source, "
                                                                      "for rewrite policies"),
    ) -> SearchResponse:
        try:
            request = SearchRequest(conversation=conversation, hits=hits, policy=policy, query_topk=query_topk,
                                    rewrites=rewrites or {})
            return (await service.search([request]))[0]
        except (FieldError, Overloaded, ValidationError) as error:  # the agent reads which field, or when to retry
            raise ToolError(str(error)) from None

    return server
