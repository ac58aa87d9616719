"""CAsT topics through ir_datasets (``trec-cast/v1/2019``, ``trec-cast/v1/2020``, ...)."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import optional_text
from disco_pyserini.topics.types import Exchange, Turn

PREFIX = "trec-cast/"


@contextlib.contextmanager
def _quiet_downloads() -> Iterator[None]:
    # ir_datasets logs every download retry (about 100 lines when offline) through per-module loggers that
    # do not propagate; the one-line error says it all, so logging is switched off while it downloads.
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


def load_ir_datasets(dataset_id: str) -> Iterator[Turn]:
    """The queries of an ir_datasets CAsT dataset, downloaded by ir_datasets on first use.

    Queries are read when this is called, so a failed download is reported at once, in one line.
    """
    import ir_datasets  # imported here: only users passing a dataset id pay for it (and its download)

    try:
        dataset = ir_datasets.load(dataset_id)
    except KeyError:
        raise InputError(f"unknown ir_datasets id {dataset_id!r}; use e.g. trec-cast/v1/2019 or trec-cast/v1/2020"
                         ) from None
    if not dataset.has_queries():
        raise InputError(f"ir_datasets {dataset_id!r} has no queries; use e.g. trec-cast/v1/2020")
    try:
        with _quiet_downloads():
            queries = list(dataset.queries_iter())
    except Exception as error:  # requests/urllib/OS errors of whatever download backend ir_datasets used
        home = ir_datasets.util.home_path()
        raise InputError(f"ir_datasets could not download the files of {dataset_id!r} ({type(error).__name__}); "
                         f"connect to the internet once, or put the files in ir_datasets' folder {home} "
                         "(IR_DATASETS_HOME), or pass the topics file itself") from None
    return _irds_turns(queries)


def _irds_turns(queries: list) -> Iterator[Turn]:
    topic, history = None, list[Exchange]()
    for query in queries:
        if query.topic_number != topic:
            topic, history = query.topic_number, []
        response_id = optional_text(getattr(query, "manual_canonical_result_id", None))
        yield Turn(
            query_id=query.query_id,
            topic_id=str(query.topic_number),
            utterance=query.raw_utterance.strip(),
            history=tuple(history),
            manual_rewrite=optional_text(getattr(query, "manual_rewritten_utterance", None)),
            automatic_rewrite=optional_text(getattr(query, "automatic_rewritten_utterance", None)),
            response_id=response_id,
        )
        history.append(Exchange(query.raw_utterance.strip(), None, response_id))
