"""Character cuts of a conversation before formulation: how the DiSCo preparations trim QReCC and CAsT texts.

DiSCo reads the raw conversation, truncated to 256 tokens; for QReCC and CAsT its inputs are also
trimmed by characters first (history questions to about 320 and answers to about 500 characters), so
long canonical passages do not push the older turns out. Each preset reproduces one preparation:

``qrecc``
    The reproduction study's QReCC preparation (Janhutter/disco-conv-splade, ``parse_qrecc.py``):
    every question, the current one included, keeps its first 320 characters and every answer its
    first 500, then surrounding whitespace is stripped.
``cast``
    Its CAsT preparation (``parse_cast.py``, CAsT 2020 through ir_datasets), which keeps the original
    code's thresholds as they are: an answer longer than 500 characters keeps its first 320, an utterance
    (the current one included) longer than 320 keeps its first 500, each cut back to its last space.
    ``auto`` also applies it to CAsT 2021 and 2022: no reference prepares those, so that is this toolkit's
    extension (their answers are as long as 2020's); ``--history-cut none`` reads them uncut.
``none``
    No cut (TopiOCQA, iKAT and the toolkit's own JSONL).

Rewrites are never cut: the references search them as written.
"""
from __future__ import annotations

from typing import Callable

from disco_pyserini.errors import InputError
from disco_pyserini.topics.types import Exchange, Turn

Trim = Callable[[str], str]


def _clip(limit: int) -> Trim:
    return lambda text: text[:limit].strip()


def _cut_at_space(longer_than: int, keep: int) -> Trim:
    return lambda text: text[:keep].rsplit(" ", 1)[0] if len(text) > longer_than else text


def _keep(text: str) -> str:
    return text


# name -> (question trim, answer trim)
CUTS: dict[str, tuple[Trim, Trim]] = {
    "none": (_keep, _keep),
    "qrecc": (_clip(320), _clip(500)),
    "cast": (_cut_at_space(320, 500), _cut_at_space(500, 320)),
}

DEFAULT_CUTS = {"qrecc": "qrecc", "cast2020": "cast", "cast2021": "cast", "cast2022": "cast", "ir_datasets": "cast"}
"""The cut each topic format's reference preparation applies (formats not listed: ``none``); CAsT 2021 and 2022
have no reference preparation and get the 2020 one (our extension)."""
EXTENDED_CUTS = ("cast2021", "cast2022")
"""Topic formats whose default cut no reference applies (callers say so when ``auto`` picks it)."""

RESPONSES = ("all", "last", "none")
"""History answers kept: every one (the references), the most recent one, or none (an explicit opt-out)."""


def default_cut(topics_format: str | None) -> str:
    """The cut of ``topics_format``'s reference preparation (``none`` when it has none or is unknown)."""
    return DEFAULT_CUTS.get(topics_format or "", "none")


def check_cut(name: str) -> str:
    """``name`` if it is a known cut, else a one-line error."""
    if name not in CUTS:
        raise InputError(f"unknown history cut {name!r}; choose one of {', '.join(CUTS)}")
    return name


def check_responses(name: str) -> str:
    """``name`` if it is a known history-responses choice, else a one-line error."""
    if name not in RESPONSES:
        raise InputError(f"unknown history responses {name!r}; choose one of {', '.join(RESPONSES)}")
    return name


def cut_turn(turn: Turn, cut: str = "none", responses: str = "all") -> Turn:
    """``turn`` with its utterances and answers trimmed by ``cut``, keeping every history answer
    (``responses="all"``, as the references do), only the most recent one (``"last"``) or none (``"none"``)."""
    question, answer = CUTS[check_cut(cut)]
    check_responses(responses)
    if cut == "none" and responses == "all":
        return turn
    last = len(turn.history) - 1

    def kept(i: int) -> bool:
        return responses == "all" or (responses == "last" and i == last)

    history = tuple(Exchange(question(exchange.utterance),
                             answer(exchange.response) if exchange.response and kept(i) else None,
                             exchange.response_id)
                    for i, exchange in enumerate(turn.history))
    return turn._replace(utterance=question(turn.utterance), history=history)
