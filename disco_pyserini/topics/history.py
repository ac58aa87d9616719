"""Query formulation: turn a conversational ``Turn`` into the text a query encoder reads.

Policies are chosen by name through ``formulate``: conversation formulations (``disco``,
``utterances``, ``last-k``, ``concat``, ``raw``) and rewrite inputs (``manual``, ``automatic``,
``rewrite:<name>`` for an attached LLM rewrite source). ``formulate`` first applies the character
cut of the reference preparation (:mod:`disco_pyserini.topics.cuts`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from disco_pyserini.errors import InputError
from disco_pyserini.topics.cuts import cut_turn
from disco_pyserini.topics.types import Turn

SEP = "[SEP]"
REWRITE_PREFIX = "rewrite:"


def _clip(text: str, limit: int | None) -> str:
    return text if limit is None else text[:limit]


def _join(parts: Sequence[str | None], sep: str) -> str:
    # Blank parts (unknown answers, empty history items) are dropped, not joined as empty slots.
    return f" {sep} ".join(p.strip() for p in parts if p and p.strip())


def disco(turn: Turn, sep: str = SEP, max_question_chars: int | None = None,
          max_answer_chars: int | None = None) -> str:
    """DiSCo's input: ``q_n [SEP] a_n-1 [SEP] q_n-1 ... q_1``, newest first.

    Newest first means the encoder's right-side truncation (256 tokens) drops the oldest history.
    The optional character limits clip history questions and answers only. They are not the
    references' preparations: those are ``formulate``'s ``cut`` presets (:mod:`~disco_pyserini.topics.cuts`,
    ``--history-cut``), whose ``qrecc`` and ``cast`` cuts also cut the current utterance.
    """
    parts = [turn.utterance]
    for exchange in reversed(turn.history):
        if exchange.response:
            parts.append(_clip(exchange.response, max_answer_chars))
        parts.append(_clip(exchange.utterance, max_question_chars))
    return _join(parts, sep)


def last_k(turn: Turn, k: int = 3, sep: str = SEP, max_question_chars: int | None = None,
           max_answer_chars: int | None = None) -> str:
    """``disco`` restricted to the ``k`` most recent earlier exchanges (``k=0``: the utterance only)."""
    if k < 0:
        raise InputError(f"last-k needs k >= 0, got {k}")
    recent = turn.history[-k:] if k else ()
    return disco(turn._replace(history=recent), sep, max_question_chars, max_answer_chars)


def utterances(turn: Turn, sep: str = SEP) -> str:
    """The user's utterances only, newest first: ``q_n [SEP] q_n-1 ... q_1``."""
    return _join([turn.utterance] + [exchange.utterance for exchange in reversed(turn.history)], sep)


def concat(turn: Turn, sep: str = SEP) -> str:
    """The whole conversation oldest first, ``q_1 [SEP] a_1 ... [SEP] q_n``: the concatenation baseline."""
    parts: list[str | None] = []
    for exchange in turn.history:
        parts += [exchange.utterance, exchange.response]
    return _join(parts + [turn.utterance], sep)


def raw(turn: Turn) -> str:
    """The current utterance alone (the raw last-utterance baseline)."""
    return turn.utterance.strip()


def _rewrite(turn: Turn, name: str) -> str:
    text = turn.rewrite(name)
    if not text or not text.strip():
        label = f"{name} rewrite" if name in ("manual", "automatic") else f"rewrite from source {name!r}"
        raise InputError(f"query {turn.query_id} has no {label}; supply it (topics file or rewrite file) "
                         "or choose another formulation policy")
    return text.strip()


def manual(turn: Turn) -> str:
    """The human rewrite of the turn."""
    return _rewrite(turn, "manual")


def automatic(turn: Turn) -> str:
    """The organisers' automatic rewrite of the turn (CAsT)."""
    return _rewrite(turn, "automatic")


POLICIES: dict[str, Callable[..., str]] = {
    "disco": disco,
    "utterances": utterances,
    "last-k": last_k,
    "concat": concat,
    "raw": raw,
    "manual": manual,
    "automatic": automatic,
}
"""Formulation policy name -> function; ``rewrite:<name>`` is handled by ``formulate``."""


ANSWER_POLICIES = ("disco", "last-k", "concat")
"""The policies whose text holds the history's answers (the others read utterances or rewrites only)."""


def reads_answers(policy: str) -> bool:
    """Whether ``policy``'s formulation includes earlier answers (so CAsT 2020's canonical responses matter)."""
    return policy in ANSWER_POLICIES


def rewrite_source(policy: str) -> str | None:
    """The rewrite a policy searches (``manual``, ``automatic`` or an attached source), or ``None``."""
    if policy in ("manual", "automatic"):
        return policy
    if policy.startswith(REWRITE_PREFIX) and len(policy) > len(REWRITE_PREFIX):
        return policy[len(REWRITE_PREFIX):]
    return None


def missing_rewrites(turns: Sequence[Turn], policy: str) -> list[str]:
    """Query ids of the turns that have no rewrite for ``policy`` (none for conversation policies)."""
    source = rewrite_source(policy)
    if source is None:
        return []
    return [turn.query_id for turn in turns if not (turn.rewrite(source) or "").strip()]


def formulate(turn: Turn, policy: str = "disco", *, cut: str = "none", responses: str = "all",
              fallback: bool = False, **options: Any) -> str:
    """The text to encode for ``turn`` under ``policy``; ``options`` go to the policy (``k``, ``sep``, ...).

    ``cut``/``responses`` trim the conversation first (:func:`~disco_pyserini.topics.cuts.cut_turn`).
    A rewrite policy on a turn without that rewrite is an error, or with ``fallback`` the (cut) raw
    utterance: callers warn about those turns once (:func:`missing_rewrites`).
    """
    turn = cut_turn(turn, cut, responses)
    source = rewrite_source(policy)
    if source is None:
        if policy not in POLICIES:
            raise InputError(f"unknown formulation policy {policy!r}; use one of {', '.join(POLICIES)} "
                             f"or {REWRITE_PREFIX}<name>")
        return POLICIES[policy](turn, **options)
    if options:
        raise InputError(f"policy {policy!r} takes no options, got {', '.join(options)}")
    if fallback and not (turn.rewrite(source) or "").strip():
        return raw(turn)
    return _rewrite(turn, source)
