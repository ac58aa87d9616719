"""The rewriting prompt: how a conversation turn is shown to the LLM.

The model sees the earlier exchanges (oldest first) and the current question, and is asked for one
self-contained rewrite of the current question, the answer only::

    Rewrite the last question of this conversation into a self-contained query that can be understood
    without the conversation: resolve pronouns and omissions, keep the meaning, add nothing else.
    Answer with the rewritten question only.

    About the user: <PTKB statement>      (iKAT turns only, one line per statement)
    Q: <q_1>
    A: <a_1>
    ...
    Last question: <q_n>

Models with a chat template get this text as the single user message (with the generation prompt
appended); others get it followed by ``"\\nRewrite:"``.
"""
from __future__ import annotations

from typing import Any

from disco_pyserini.topics import Turn

INSTRUCTION = ("Rewrite the last question of this conversation into a self-contained query that can be understood "
               "without the conversation: resolve pronouns and omissions, keep the meaning, add nothing else. "
               "Answer with the rewritten question only.")


def conversation_text(turn: Turn, max_answer_chars: int | None = 500) -> str:
    """The instruction, the user's PTKB (iKAT), the history as ``Q:``/``A:`` lines (answers clipped) and the
    last question."""
    lines = [INSTRUCTION, ""]
    lines += [f"About the user: {statement}" for statement in turn.ptkb]
    for exchange in turn.history:
        lines.append(f"Q: {exchange.utterance}")
        if exchange.response:
            lines.append(f"A: {exchange.response[:max_answer_chars] if max_answer_chars else exchange.response}")
    lines.append(f"Last question: {turn.utterance}")
    return "\n".join(lines)


def build_prompt(turn: Turn, tokenizer: Any, max_answer_chars: int | None = 500) -> str:
    """The model input for ``turn``: chat template when the tokenizer has one, else the plain prompt."""
    text = conversation_text(turn, max_answer_chars)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True)
    return f"{text}\nRewrite:"
