"""LLM query rewriting of conversation turns (the DiSCo teachers' rewrites)."""
from disco_pyserini.rewrite.generate import Rewriter, finished_qids, rewrite_turns
from disco_pyserini.rewrite.prompt import build_prompt, conversation_text

__all__ = ["Rewriter", "build_prompt", "conversation_text", "finished_qids", "rewrite_turns"]
