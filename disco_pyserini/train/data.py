"""Distillation data: the builder that scores documents with teacher rewrites, and the training dataset.

Distillation file (JSONL, one training example per line)::

    {"qid": "c1_2", "query": "what is its diet? [SEP] ... [SEP] what is the natural habitat of the giraffe?",
     "doc_ids": ["d0076", "d0311", ...],            # positive first, then the hard negatives
     "teacher_scores": {"manual": [31.2, 4.1, ...], "mistral": [28.7, 6.0, ...]},
     "scores": [29.95, 5.05, ...], "fusion": "mean"}

``query`` is the student's input (the DiSCo formulation of the conversation by default).
``teacher_scores[name][i]`` is ``SPLADE_teacher(rewrite_name) . SPLADE_doc(doc_ids[i])`` (float dot
product of the frozen encoders). ``scores`` is the fusion of the teachers per document: ``mean``
(default) or ``max``; with ``separate`` there is no ``scores`` key and the trainer distils each
teacher on its own. One example is written per (turn, positive passage); a turn's negatives are
sampled once, seeded by ``seed`` and the turn id, from its run ranks ``skip_top+1 .. max_rank``
(the reference: 11..960), never from its positives.
"""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import torch
from tqdm.auto import tqdm

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.errors import InputError
from disco_pyserini.eval.qrels import Qrels, read_qrels, resolve_qrels
from disco_pyserini.eval.runs import read_run
from disco_pyserini.topics import Turn, formulate
from disco_pyserini.train.losses import PAD_SCORE

BUILD_FUSIONS = ("mean", "max", "separate")


def load_qrels(name_or_path: str | os.PathLike) -> Qrels:
    """Qrels ``{qid: {docid: rel}}`` from a file or a dataset name, read as the evaluation reads them."""
    return read_qrels(resolve_qrels(name_or_path)[0])


def ranked_run(path: str | os.PathLike) -> dict[str, list[str]]:
    """A TREC run as ``{qid: [docid, ...]}``, best score first (ties by docid)."""
    return {qid: sorted(docs, key=lambda doc: (-docs[doc], doc)) for qid, docs in read_run(path).items()}


def sample_negatives(ranked: Sequence[str], positives: set[str], count: int, skip_top: int, max_rank: int,
                     seed: int, qid: str) -> list[str]:
    """``count`` docs drawn without replacement from ranks ``skip_top+1..max_rank`` minus positives
    (all of them when fewer); the same for a given ``seed`` and ``qid``."""
    pool = [doc for doc in ranked[skip_top:max_rank] if doc not in positives]
    rng = random.Random(f"{seed}/{qid}")
    return pool if len(pool) <= count else rng.sample(pool, count)


def fuse(scores: Mapping[str, Sequence[float]], how: str) -> list[float]:
    """Per-document fusion of several teachers' scores: ``mean`` or ``max``."""
    columns = list(zip(*scores.values()))
    if how == "mean":
        return [sum(column) / len(column) for column in columns]
    if how == "max":
        return [max(column) for column in columns]
    raise InputError(f"unknown fusion {how!r}; choose one of {', '.join(BUILD_FUSIONS)}")


def dense_vectors(encoder: SpladeEncoder, texts: Sequence[str]) -> torch.Tensor:
    """``[len(texts), vocab]`` float SPLADE vectors on the CPU, batched by the encoder's batch size."""
    if not texts:
        return torch.zeros(0, len(encoder.terms))
    return torch.cat([encoder.pooled(texts[i:i + encoder.batch_size]).float().cpu()
                      for i in range(0, len(texts), encoder.batch_size)])


def load_texts(corpus: str | os.PathLike, wanted: set[str]) -> dict[str, str]:
    """Texts of the ``wanted`` doc ids, streaming the corpus once; a missing id is an error."""
    texts = {doc.doc_id: doc.text for doc in read_corpus(corpus) if doc.doc_id in wanted}
    missing = wanted - texts.keys()
    if missing:
        raise InputError(f"{len(missing)} document id(s) not in the corpus (e.g. {sorted(missing)[0]!r}); "
                         "use the corpus the qrels and run were made with", corpus)
    return texts


@dataclass
class BuildStats:
    """What the builder did: examples written and turns skipped (no positive, or no negatives)."""

    examples: int = 0
    turns: int = 0
    no_positive: int = 0
    no_negatives: int = 0


def build_distillation(turns: Iterable[Turn], qrels: Mapping[str, Mapping[str, int]],
                       run: Mapping[str, Sequence[str]], corpus: str | os.PathLike, teachers: Sequence[str],
                       doc_encoder: SpladeEncoder, teacher_encoder: SpladeEncoder, output: str | os.PathLike,
                       negatives: int = 16, skip_top: int = 10, max_rank: int = 960, rel_threshold: int = 1,
                       seed: int = 0, fusion: str = "mean", input_policy: str = "disco", chunk: int = 64,
                       progress: bool = True) -> BuildStats:
    """Write the distillation file (format in the module docstring) for ``turns``.

    ``teachers`` are rewrite names (``manual``, ``automatic`` or attached ``rewrite`` sources); each
    turn must have every teacher's rewrite. Work is done ``chunk`` turns at a time so memory stays flat.
    """
    if fusion not in BUILD_FUSIONS:
        raise InputError(f"unknown fusion {fusion!r}; choose one of {', '.join(BUILD_FUSIONS)}")
    if not teachers:
        raise InputError("give at least one teacher rewrite source (e.g. --teacher manual)")
    stats = BuildStats()
    plans: list[tuple[Turn, list[str], list[str]]] = []
    for turn in turns:
        stats.turns += 1
        judged = qrels.get(turn.query_id, {})
        positives = sorted(doc for doc, rel in judged.items() if rel >= rel_threshold)
        if not positives:
            stats.no_positive += 1
            continue
        sampled = sample_negatives(run.get(turn.query_id, ()), set(positives), negatives, skip_top, max_rank,
                                   seed, turn.query_id)
        if negatives and not sampled:
            stats.no_negatives += 1
            continue
        for name in teachers:
            if not (turn.rewrite(name) or "").strip():
                raise InputError(f"turn {turn.query_id} has no rewrite from teacher {name!r}; attach a rewrite "
                                 "file covering every training turn (--rewrites NAME=FILE) or drop the teacher")
        plans.append((turn, positives, sampled))
    if not plans:
        raise InputError("no training example: no turn has a positive passage in the qrels "
                         f"(relevance >= {rel_threshold}) and run candidates; check the topics, qrels and run ids")
    texts = load_texts(corpus, {doc for _, pos, neg in plans for doc in pos + neg})
    with atomic_write(output) as handle:
        for start in tqdm(range(0, len(plans), chunk), desc="teacher scores", unit="chunk", disable=not progress):
            for example in _score_chunk(plans[start:start + chunk], texts, teachers, doc_encoder, teacher_encoder,
                                        fusion, input_policy):
                handle.write(json.dumps(example) + "\n")
                stats.examples += 1
    return stats


def _score_chunk(plans: Sequence[tuple[Turn, list[str], list[str]]], texts: Mapping[str, str],
                 teachers: Sequence[str], doc_encoder: SpladeEncoder, teacher_encoder: SpladeEncoder,
                 fusion: str, input_policy: str) -> Iterable[dict[str, Any]]:
    doc_ids = sorted({doc for _, pos, neg in plans for doc in pos + neg})
    row = {doc: i for i, doc in enumerate(doc_ids)}
    docs = dense_vectors(doc_encoder, [texts[doc] for doc in doc_ids])
    rewrites = [turn.rewrite(name).strip() for turn, _, _ in plans for name in teachers]
    queries = dense_vectors(teacher_encoder, rewrites).reshape(len(plans), len(teachers), -1)
    for (turn, positives, sampled), teacher_vectors in zip(plans, queries):
        query = formulate(turn, input_policy)
        for positive in positives:
            listed = [positive] + sampled
            scores = teacher_vectors @ docs[[row[doc] for doc in listed]].T
            per_teacher = {name: [round(v, 5) for v in values.tolist()] for name, values in zip(teachers, scores)}
            example = {"qid": turn.query_id, "query": query, "doc_ids": listed, "teacher_scores": per_teacher}
            if fusion != "separate":
                example.update(scores=[round(v, 5) for v in fuse(per_teacher, fusion)], fusion=fusion)
            yield example


class DistillDataset(torch.utils.data.Dataset):
    """The examples of a distillation file, with teacher scores fused as the training config asks.

    Each item: ``{"query": str, "doc_ids": [str], "teacher": Tensor[teachers_or_1, docs]}``; ``fusion``
    ``mean``/``max`` gives one row, ``separate`` one row per teacher.
    """

    def __init__(self, path: str | os.PathLike, teachers: Sequence[str] | None = None, fusion: str = "mean"):
        if not Path(path).is_file():
            raise InputError("distillation file not found; build it with 'python -m disco_pyserini.train build'",
                             path)
        self.examples: list[dict[str, Any]] = []
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    self.examples.append(self._parse(line, path, number, teachers, fusion))
        if not self.examples:
            raise InputError("the distillation file holds no example", path)

    @staticmethod
    def _parse(line: str, path: str | os.PathLike, number: int, teachers: Sequence[str] | None,
               fusion: str) -> dict[str, Any]:
        try:
            record = json.loads(line)
            query, doc_ids, scores = record["query"], record["doc_ids"], record["teacher_scores"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError('expected {"qid", "query", "doc_ids", "teacher_scores", ...}', path, number) from None
        names = list(scores) if teachers is None else list(teachers)
        missing = [name for name in names if name not in scores]
        if missing:
            raise InputError(f"example {record.get('qid')} has no scores from teacher(s) {', '.join(missing)}; "
                             f"the file has {', '.join(scores)}", path, number)
        if any(len(scores[name]) != len(doc_ids) for name in names):
            raise InputError("each teacher needs one score per doc id", path, number)
        chosen = {name: scores[name] for name in names}
        rows = list(chosen.values()) if fusion == "separate" else [fuse(chosen, fusion)]
        return {"query": query, "doc_ids": list(doc_ids), "teacher": torch.tensor(rows, dtype=torch.float32)}

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.examples[index]

    def doc_ids(self) -> set[str]:
        """Every document the examples list (what the frozen document encoder must read)."""
        return {doc for example in self.examples for doc in example["doc_ids"]}


class DistillCollator:
    """Tokenises queries and pads each example's document list (padding docs are ``""`` and masked out)."""

    def __init__(self, tokenizer: Any, max_length: int = 256):
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        width = max(len(example["doc_ids"]) for example in examples)
        rows = examples[0]["teacher"].shape[0]
        teacher = torch.full((len(examples), rows, width), PAD_SCORE)
        mask = torch.zeros(len(examples), width, dtype=torch.bool)
        doc_ids = []
        for i, example in enumerate(examples):
            count = len(example["doc_ids"])
            teacher[i, :, :count] = example["teacher"]
            mask[i, :count] = True
            doc_ids.append(list(example["doc_ids"]) + [""] * (width - count))
        inputs = self.tokenizer([example["query"] for example in examples], max_length=self.max_length,
                                truncation=True, padding="longest", return_tensors="pt",
                                return_token_type_ids=False)
        return {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"],
                "doc_ids": doc_ids, "doc_mask": mask, "teacher_scores": teacher}
