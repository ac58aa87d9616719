"""The HTTP application: REST endpoints, the MCP endpoint at ``/mcp``, the chat page at ``/``, JSON errors, API key."""
from __future__ import annotations

import contextlib
import hmac
import json
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from disco_pyserini.serve.batcher import Overloaded
from disco_pyserini.serve.conversation import FieldError
from disco_pyserini.serve.mcp_tool import build_mcp
from disco_pyserini.serve.schema import BatchRequest, BatchResponse, SearchRequest, SearchResponse
from disco_pyserini.serve.service import SearchService

OPEN_PATHS = frozenset({"/", "/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
"""Paths served without the API key: the page (it asks for the key), liveness and the API's documentation."""


def error_body(status: int, field: str | None, message: str, errors: list | None = None) -> dict:
    body = {"status": status, "field": field, "message": message}
    if errors:
        body["errors"] = errors
    return {"error": body}


def _field(loc) -> str:
    """``("body", "conversation", 0, "utterance")`` -> ``conversation.0.utterance`` (``body`` for the whole body)."""
    parts = [str(part) for part in loc if part != "body"]
    return ".".join(parts) or "body"


class ApiKeyMiddleware:
    """Requests outside :data:`OPEN_PATHS` need ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""

    def __init__(self, app, key: str):
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        given = headers.get(b"x-api-key") or b""
        bearer = headers.get(b"authorization", b"")
        if bearer.lower().startswith(b"bearer "):
            given = bearer[7:].strip()
        if given and hmac.compare_digest(given, self.key):
            return await self.app(scope, receive, send)
        status = 403 if given else 401
        message = "wrong API key" if given else "this server needs an API key: send 'Authorization: Bearer KEY'"
        response = JSONResponse(error_body(status, "Authorization", message), status_code=status,
                                headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


def create_app(service: SearchService, api_key: str | None = None) -> FastAPI:
    """The FastAPI app over ``service``; ``api_key`` protects everything but :data:`OPEN_PATHS`."""
    mcp_server = build_mcp(service)
    # stateless JSON responses: each tool call is one POST, like a REST call (no session affinity needed)
    mcp_app = mcp_server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        async with service.running(), mcp_server.session_manager.run():
            yield

    app = FastAPI(title="disco-pyserini", lifespan=lifespan,
                  description="Conversational search with DiSCo: POST a conversation, get passages and the query "
                              "DiSCo formulated. MCP (tool `search_conversation`) at /mcp; a chat page at /.")
    if api_key:
        app.add_middleware(ApiKeyMiddleware, key=api_key)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"field": "body", "message": f"malformed JSON at character {item['loc'][-1]}: "
                                               f"{item.get('ctx', {}).get('error', item['msg'])}"}
                  if item["type"] == "json_invalid" else {"field": _field(item["loc"]), "message": item["msg"]}
                  for item in error.errors()]
        status = 400 if any(item["type"] == "json_invalid" for item in error.errors()) else 422
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        return JSONResponse(error_body(status, first["field"], first["message"], errors), status_code=status)

    @app.exception_handler(FieldError)
    async def unsearchable(_request: Request, error: FieldError) -> JSONResponse:
        return JSONResponse(error_body(422, error.field, error.message), status_code=422)

    @app.exception_handler(Overloaded)
    async def overloaded(_request: Request, error: Overloaded) -> JSONResponse:
        return JSONResponse(error_body(503, None, str(error)), status_code=503,
                            headers={"Retry-After": str(error.retry_after)})

    @app.exception_handler(Exception)
    async def failed(_request: Request, error: Exception) -> JSONResponse:
        # the request fails, logged with its traceback by uvicorn; the server keeps serving
        return JSONResponse(error_body(500, None, f"internal error: {type(error).__name__}: {error}"), status_code=500)

    @app.post("/search", response_model=SearchResponse, summary="Search for the current turn of a conversation",
              responses={422: {"description": "a field that cannot be searched (named in error.field)"},
                         503: {"description": "too many requests in flight; retry after Retry-After seconds"}})
    async def search(request: SearchRequest) -> SearchResponse:
        return (await service.search([request]))[0]

    @app.post("/search/batch", response_model=BatchResponse, summary="Search several conversations at once")
    async def search_batch(batch: BatchRequest) -> BatchResponse:
        return BatchResponse(results=await service.search(batch.requests, prefix="requests."))

    @app.get("/health", summary="Liveness and load")
    async def health() -> dict:
        batcher = service.batcher
        return {"status": "ok", "in_flight": batcher.in_flight, "max_in_flight": batcher.max_in_flight,
                "batches": batcher.batches, "queries": batcher.items}

    @app.get("/info", summary="What is served")
    async def info() -> dict:
        batcher = service.batcher
        return {**service.retriever.info(), "max_batch": batcher.max_batch, "max_wait_ms": batcher.max_wait * 1000,
                "max_in_flight": batcher.max_in_flight}

    page = resources.files("disco_pyserini.serve").joinpath("static/chat.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        return HTMLResponse(page.replace("__API_KEY_NEEDED__", json.dumps(bool(api_key))))

    app.router.routes.extend(mcp_app.routes)
    return app
