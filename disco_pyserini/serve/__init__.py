"""Conversational search as a service: REST (FastAPI), MCP and a web chat page over one batched retriever.

``python -m disco_pyserini.serve --index I --encoder E`` serves ``POST /search``, ``/search/batch``,
``/health``, ``/info``, OpenAPI docs at ``/docs``, the MCP tool ``search_conversation`` at ``/mcp``
and the chat page at ``/``; ``--stdio`` serves the MCP tool over stdio instead.
"""
