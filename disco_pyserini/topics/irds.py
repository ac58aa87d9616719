"""CAsT topics through ir_datasets (``trec-cast/v1/2019``, ``trec-cast/v1/2020``, ...)."""
from __future__ import annotations

from collections.abc import Iterator

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import optional_text
from disco_pyserini.topics.types import Exchange, Turn

PREFIX = "trec-cast/"


def load_ir_datasets(dataset_id: str) -> Iterator[Turn]:
    """The queries of an ir_datasets CAsT dataset, downloaded by ir_datasets on first use."""
    import ir_datasets  # imported here: only users passing a dataset id pay for it (and its download)

    try:
        dataset = ir_datasets.load(dataset_id)
    except KeyError:
        raise InputError(f"unknown ir_datasets id {dataset_id!r}; use e.g. trec-cast/v1/2019 or trec-cast/v1/2020"
                         ) from None
    if not dataset.has_queries():
        raise InputError(f"ir_datasets {dataset_id!r} has no queries; use e.g. trec-cast/v1/2020")
    return _irds_turns(dataset.queries_iter())


def _irds_turns(queries: Iterator) -> Iterator[Turn]:
    topic, history = None, list[Exchange]()
    for query in queries:
        if query.topic_number != topic:
            topic, history = query.topic_number, []
        yield Turn(
            query_id=query.query_id,
            topic_id=str(query.topic_number),
            utterance=query.raw_utterance.strip(),
            history=tuple(history),
            manual_rewrite=optional_text(getattr(query, "manual_rewritten_utterance", None)),
            automatic_rewrite=optional_text(getattr(query, "automatic_rewritten_utterance", None)),
        )
        history.append(Exchange(query.raw_utterance.strip()))
