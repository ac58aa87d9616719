"""Conversational topics: data types, loaders and query formulation."""
from disco_pyserini.topics.history import POLICIES, formulate
from disco_pyserini.topics.loaders import FORMATS, detect_format, load_topics
from disco_pyserini.topics.rewrites import attach_rewrites
from disco_pyserini.topics.types import Exchange, Turn

__all__ = ["Exchange", "FORMATS", "POLICIES", "Turn", "attach_rewrites", "detect_format", "formulate", "load_topics"]
