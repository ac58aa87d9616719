"""TREC CAsT topic files as the organisers released them (2019, 2020, 2021, 2022)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import PathLike, field, optional_text, read_json, records, utterance
from disco_pyserini.topics.rewrites import read_rewrites
from disco_pyserini.topics.types import Exchange, Turn

RESOLVED_2019 = "evaluation_topics_annotated_resolved_v1.0.tsv"
"""The organisers' manual rewrites of the CAsT 2019 evaluation topics (``qid<TAB>rewrite``)."""


def load_cast(path: PathLike, resolved: PathLike | None = None) -> Iterator[Turn]:
    """CAsT 2019/2020 topics: ``[{"number", "turn": [{"number", "raw_utterance", ...}]}]``.

    Manual and automatic rewrites are read from the 2020 fields when present. For 2019 the
    manual rewrites come from ``resolved`` or, when not given, from the organisers' resolved
    TSV if it sits next to ``path``. CAsT 2020 names each turn's canonical response passage by id
    (``manual_canonical_result_id``, or ``automatic_canonical_result_id`` in the automatic file):
    it is kept as ``response_id``, and ``attach_responses`` fetches the text from the collection.
    CAsT 2019 gives no responses.
    """
    topics = records(read_json(path), path, "topic")
    sibling = Path(path).with_name(RESOLVED_2019)
    if resolved is None and sibling.is_file():
        resolved = sibling
    manual = read_rewrites(resolved) if resolved is not None else {}
    return _cast_turns(topics, path, manual)


def load_cast2021(path: PathLike) -> Iterator[Turn]:
    """CAsT 2021 topics: as 2020, with each turn's canonical response passage given inline (``passage``,
    from document ``canonical_result_id``); it is the answer later turns see in their history."""
    return _cast_turns(records(read_json(path), path, "topic"), path, {})


def _cast_turns(topics: list[dict], path: PathLike, manual: dict[str, str]) -> Iterator[Turn]:
    for topic in topics:
        topic_id = str(field(topic, "number", path, "a topic"))
        history: list[Exchange] = []
        for turn in records(field(topic, "turn", path, f"topic {topic_id}"), path, "turn"):
            where = f"topic {topic_id} turn {turn.get('number', len(history) + 1)}"
            qid = f"{topic_id}_{field(turn, 'number', path, where)}"
            text = utterance(field(turn, "raw_utterance", path, where), path, where)
            response = optional_text(turn.get("passage"))
            response_id = optional_text(turn.get("manual_canonical_result_id")
                                        or turn.get("automatic_canonical_result_id"))
            yield Turn(
                query_id=qid,
                topic_id=topic_id,
                utterance=text,
                history=tuple(history),
                manual_rewrite=optional_text(turn.get("manual_rewritten_utterance")) or manual.get(qid),
                automatic_rewrite=optional_text(turn.get("automatic_rewritten_utterance")),
                response=response,
                response_id=response_id,
            )
            history.append(Exchange(text, response, response_id))


def load_cast2022(path: PathLike) -> Iterator[Turn]:
    """CAsT 2022 topics, either the tree file or the flattened (duplicated) file, manual or automatic.

    Query ids are ``<topic>_<turn>`` (``132_1-1``), as in the qrels and the organisers' turn-id list.
    System responses are the history answers; passage provenance is not kept. The manual files carry
    ``manual_rewritten_utterance``, the automatic ones ``automatic_rewritten_utterance``.
    """
    topics = records(read_json(path), path, "topic")
    # Only a guess at the layout; the loaders then check every field and name what is wrong.
    is_tree = any(isinstance(turns, list) and any(isinstance(turn, dict) and "participant" in turn for turn in turns)
                  for turns in (topic.get("turn") for topic in topics))
    return _tree_turns(topics, path) if is_tree else _flattened_turns(topics, path)


def _rewrites(turn: dict) -> dict[str, str | None]:
    return {"manual_rewrite": optional_text(turn.get("manual_rewritten_utterance")),
            "automatic_rewrite": optional_text(turn.get("automatic_rewritten_utterance"))}


def _flattened_turns(topics: list[dict], path: PathLike) -> Iterator[Turn]:
    # The flattened file repeats shared branch prefixes: each query id is yielded once,
    # from its first branch (its history path is the same in every branch).
    seen: set[str] = set()
    for topic in topics:
        topic_id = str(field(topic, "number", path, "a topic"))
        history: list[Exchange] = []
        for turn in records(field(topic, "turn", path, f"topic {topic_id}"), path, "turn"):
            where = f"topic {topic_id} turn {turn.get('number', len(history) + 1)}"
            qid = f"{topic_id}_{field(turn, 'number', path, where)}"
            text = utterance(field(turn, "utterance", path, where), path, where)
            response = optional_text(turn.get("response"))
            if qid not in seen:
                seen.add(qid)
                yield Turn(qid, topic_id, text, tuple(history), response=response, **_rewrites(turn))
            history.append(Exchange(text, response))


def _tree_turns(topics: list[dict], path: PathLike) -> Iterator[Turn]:
    for topic in topics:
        topic_id = str(field(topic, "number", path, "a topic"))
        nodes = records(field(topic, "turn", path, f"topic {topic_id}"), path, "turn")
        by_id = {str(field(node, "number", path, f"topic {topic_id}")): node for node in nodes}
        for node in nodes:
            if node.get("participant") != "User":
                continue
            turn_id = str(node["number"])
            where = f"topic {topic_id} turn {turn_id}"
            text = utterance(field(node, "utterance", path, where), path, where)
            # The turn's own answer: its first System child, in file order.
            response = next((optional_text(child.get("response")) for child in nodes
                             if child.get("participant") == "System" and str(child.get("parent")) == turn_id),
                            None)
            yield Turn(f"{topic_id}_{turn_id}", topic_id, text, _path_history(by_id, node, path, where),
                       response=response, **_rewrites(node))


def _path_history(by_id: dict[str, dict], node: dict, path: PathLike, where: str) -> tuple[Exchange, ...]:
    """Exchanges on the path from the tree root to ``node`` (excluded), oldest first."""
    ancestors: list[dict] = []
    parent = node.get("parent")
    while parent is not None:
        if str(parent) not in by_id or len(ancestors) > len(by_id):
            raise InputError(f"parent {parent!r} of {where} is missing or cyclic; fix the tree", path)
        ancestors.append(by_id[str(parent)])
        parent = ancestors[-1].get("parent")
    exchanges: list[Exchange] = []
    for step in reversed(ancestors):
        if step.get("participant") == "User":
            exchanges.append(Exchange(utterance(step.get("utterance"), path, f"{where} (ancestor {step['number']})")))
        elif exchanges and (answer := optional_text(step.get("response"))):
            # Consecutive System nodes on one path are joined into one answer.
            previous = exchanges[-1]
            joined = answer if previous.response is None else f"{previous.response} {answer}"
            exchanges[-1] = previous._replace(response=joined)
    return tuple(exchanges)
