"""Conversations as the server and the terminal chat receive them: turns in, a formulated query out.

A conversation is a list of exchanges, oldest first; the last one is the current turn (its
``utterance`` only). It becomes the same :class:`~disco_pyserini.topics.Turn` the topic loaders
build from a JSONL file, so ``formulate`` gives the server the text ``python -m disco_pyserini.search``
encodes for that turn.
"""
from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

from disco_pyserini.topics._read import optional_text
from disco_pyserini.topics.history import POLICIES, REWRITE_PREFIX, formulate, rewrite_source
from disco_pyserini.topics.types import Exchange, Turn


class FieldError(ValueError):
    """A request field that cannot be searched: ``field`` is its path (``conversation.2.utterance``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class QueryTerm(NamedTuple):
    """One term of the formulated query; ``expansion`` when the user never typed it (SPLADE expansion)."""

    term: str
    weight: int
    expansion: bool


def make_turn(conversation: Sequence[Mapping[str, str | None]],
              rewrites: Mapping[str, str] | None = None) -> Turn:
    """The current turn of ``conversation`` with its history; ``rewrites`` (``{"manual": text, name: text}``)
    are the current turn's rewrites, for rewrite policies."""
    if not conversation:
        raise FieldError("conversation", "give at least one turn: the current utterance")
    history = []
    for position, exchange in enumerate(conversation):
        utterance = exchange.get("utterance")
        if not isinstance(utterance, str) or not utterance.strip():
            raise FieldError(f"conversation.{position}.utterance", "every turn needs the user's text")
        history.append(Exchange(utterance.strip(), optional_text(exchange.get("response"))))
    *past, current = history
    if current.response is not None:
        raise FieldError(f"conversation.{len(history) - 1}.response",
                         "the last turn is the one searched for and has no response yet")
    named = {name: text for name, value in (rewrites or {}).items() if (text := optional_text(value))}
    return Turn("", "", current.utterance, tuple(past), manual_rewrite=named.pop("manual", None),
                automatic_rewrite=named.pop("automatic", None), rewrites=tuple(named.items()))


def query_text(turn: Turn, policy: str, cut: str = "none", responses: str = "all") -> str:
    """The text the encoder reads for ``turn`` under ``policy`` (``FieldError`` naming the missing piece)."""
    source = rewrite_source(policy)
    if source is None and policy not in POLICIES:
        choices = ", ".join(name for name in POLICIES if name != "last-k")
        raise FieldError("policy", f"unknown policy {policy!r}; choose one of {choices} or {REWRITE_PREFIX}<name>")
    if source is not None and not (turn.rewrite(source) or "").strip():
        raise FieldError(f"rewrites.{source}", f"policy {policy!r} searches the current turn's {source} rewrite; "
                                               "give it or choose another policy")
    return formulate(turn, policy, cut=cut, responses=responses)


def typed_text(turn: Turn) -> str:
    """Everything the user typed in ``turn``'s conversation (what decides if a query term is an expansion)."""
    return " ".join([exchange.utterance for exchange in turn.history] + [turn.utterance]).lower()


def top_terms(vector: Mapping[str, int], typed: str, count: int) -> list[QueryTerm]:
    """The ``count`` heaviest query terms, heaviest first (ties by term); a term absent from ``typed``
    (word pieces without their ``##``) is an expansion."""
    lowered = typed.lower()
    shown = sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:count]
    return [QueryTerm(term, int(weight), term.lstrip("#") not in lowered) for term, weight in shown]


class Session:
    """A conversation typed turn by turn (the terminal chat): each searched turn joins the history with its answer."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def turn(self, utterance: str) -> Turn:
        """The turn ``utterance`` makes after the history so far (the history is not changed)."""
        return make_turn([exchange._asdict() for exchange in self.exchanges] + [{"utterance": utterance}])

    def add(self, utterance: str, response: str | None) -> None:
        """Record a searched turn and its answer (the chat's: its top passage)."""
        self.exchanges.append(Exchange(utterance.strip(), response))

    def reset(self) -> None:
        self.exchanges.clear()
