"""The training dataset: one item per training turn, its positive and negatives drawn afresh every epoch.

As the authors' ``L2I_Dataset`` does, item ``i`` picks one of the turn's positives at random and
``negatives`` documents from its pool (teacher ranks 11-960 by default, positives left out): without
replacement, or with replacement when the pool holds no more than ``negatives`` documents. Unlike the
reference (Python's global, unseeded ``random``), the draw is seeded by ``(seed, epoch, i)``: a run is
reproducible, under ``torchrun`` too, and each epoch sees other negatives (about 80 distinct ones over
5 epochs with the released settings). The trainer calls :meth:`DistillDataset.set_epoch` as each epoch starts.

Teacher scores are prepared once, at load time, as the config asks: the positive's score (``reference``:
clamped as in ``disco_pyserini.train.build``; ``exact``: its own score), optional min-max rescaling into
the student's score range (``norm``), and the fusion of several teachers (``mean``, ``max`` or
``separate``: one row per teacher).
"""
from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch

from disco_pyserini.errors import InputError
from disco_pyserini.train.build import FORMAT, VERSION

logger = logging.getLogger(__name__)

FUSIONS = ("mean", "max", "separate")
POSITIVE_SCORES = ("reference", "exact")
NORM_EPSILON = 1e-8
"""As in the reference's rescaling: ``(s - t_min) / (t_max - t_min + eps) * (s_max - s_min + eps) + s_min``."""


def read_distillation(path: str | os.PathLike) -> tuple[dict[str, Any], Iterable[dict[str, Any]]]:
    """The header and the (lazily read) turn records of a distillation file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("distillation file not found; build it with 'python -m disco_pyserini.train build'", path)
    with open(path, encoding="utf-8") as lines:
        head = _json(lines.readline(), path, 1)
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        old = isinstance(head, dict) and "doc_ids" in head
        raise InputError("this file is in the old distillation format (negatives fixed at build time); rebuild it "
                         "with 'python -m disco_pyserini.train build'" if old else
                         "not a distillation file (no format header); build it with 'python -m disco_pyserini.train "
                         "build'", path, 1)
    if head.get("version") != VERSION:
        raise InputError(f"distillation format version {head.get('version')} is not the supported {VERSION}; "
                         "rebuild the file with this version's 'python -m disco_pyserini.train build'", path, 1)

    def records() -> Iterable[dict[str, Any]]:
        with open(path, encoding="utf-8") as lines:
            next(lines)
            for number, line in enumerate(lines, 2):
                if line.strip():
                    yield _json(line, path, number)
    return head, records()


def _json(line: str, path: Path, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg}", path, number) from None


class DistillDataset(torch.utils.data.Dataset):
    """Training turns with their teacher scores prepared; ``dataset[i]`` draws turn ``i``'s example for the epoch.

    Each item: ``{"query": str, "doc_ids": [positive, *negatives], "teacher": Tensor[rows, 1 + negatives]}``
    (one row, or one per teacher with ``fusion="separate"``). ``source`` is a file path or the
    ``(header, records)`` of :func:`read_distillation` / the builder; ``norm`` is the student's run
    ``{qid: {docid: score}}`` whose per-turn score range the teacher scores are rescaled into.
    """

    def __init__(self, source: str | os.PathLike | tuple[Mapping[str, Any], Iterable[Mapping[str, Any]]],
                 teachers: Sequence[str] | None = None, fusion: str = "mean", positive_score: str = "reference",
                 negatives: int = 16, seed: int = 0, norm: Mapping[str, Mapping[str, float]] | None = None):
        if fusion not in FUSIONS:
            raise InputError(f"unknown fusion {fusion!r}; choose one of {', '.join(FUSIONS)}")
        if positive_score not in POSITIVE_SCORES:
            raise InputError(f"unknown positive_score {positive_score!r}; choose one of {', '.join(POSITIVE_SCORES)}")
        self.where = source if isinstance(source, (str, os.PathLike)) else None
        head, records = read_distillation(source) if self.where is not None else source
        self.header = dict(head)
        available = list(head.get("teachers") or [])
        self.teachers = available if teachers is None else list(teachers)
        missing = [name for name in self.teachers if name not in available]
        if missing or not self.teachers:
            raise InputError(f"no scores from teacher(s) {', '.join(missing) or '(none)'}; the file has "
                             f"{', '.join(available)}", self.where)
        self.fusion, self.positive_score, self.negatives, self.seed = fusion, positive_score, negatives, seed
        self.norm = None if norm is None else {qid: (min(docs.values()), max(docs.values()))
                                               for qid, docs in norm.items() if docs}
        self.epoch = 0
        self.qids: list[str] = []
        self.queries: list[str] = []
        self.doc_names: list[str] = []  # doc ids interned: a TopiOCQA pool is 950 documents for each of ~45k turns
        self._doc_index: dict[str, int] = {}
        self.positives: list[np.ndarray] = []
        self.pools: list[np.ndarray] = []
        self.positive_scores: list[np.ndarray] = []
        self.pool_scores: list[np.ndarray] = []
        self.unknown_exact = 0
        for number, record in enumerate(records, 2):
            self._add(record, number)
        if not self.qids:
            raise InputError("the distillation file holds no training turn", self.where)
        del self._doc_index
        if self.unknown_exact:
            logger.warning("%d positive(s) have no exact teacher score (the teacher run did not retrieve them): "
                           "their clamped score is used", self.unknown_exact)

    def _add(self, record: Mapping[str, Any], number: int) -> None:
        try:
            qid, query, positives, pool = record["qid"], record["query"], record["positives"], record["pool"]
            scores = [record["teachers"][name] for name in self.teachers]
            pool_rows = np.array([teacher["pool"] for teacher in scores], dtype=np.float64).reshape(len(scores), -1)
            clamped = np.array([teacher["clamped"] for teacher in scores], dtype=np.float64)
            exact = np.array([[np.nan if value is None else value for value in teacher["positives"]]
                              for teacher in scores], dtype=np.float64)
            ranges = [teacher["range"] for teacher in scores]
        except (KeyError, TypeError, ValueError):
            raise InputError('expected {"qid", "query", "positives", "pool", "teachers": {name: {"pool", '
                             '"positives", "clamped", "range"}}}', self.where, number) from None
        shape = (len(scores), len(positives))
        if not positives or not pool or pool_rows.shape[1] != len(pool) or not shape == clamped.shape == exact.shape:
            raise InputError(f"turn {qid}: needs positives, a non-empty pool and one score per document for each "
                             "teacher", self.where, number)
        positive_rows = clamped
        if self.positive_score == "exact":
            self.unknown_exact += int(np.isnan(exact).sum())
            positive_rows = np.where(np.isnan(exact), clamped, exact)
        if self.norm is not None:
            if qid not in self.norm:
                raise InputError(f"the norm run has no scores for turn {qid}; give the student's run on the "
                                 "training turns, with the distillation file's query ids", self.where, number)
            student = self.norm[qid]
            pool_rows, positive_rows = (self._rescale(rows, ranges, student) for rows in (pool_rows, positive_rows))
        if self.fusion != "separate":
            fuse = np.mean if self.fusion == "mean" else np.max
            pool_rows, positive_rows = (fuse(rows, axis=0, keepdims=True) for rows in (pool_rows, positive_rows))
        self.qids.append(qid)
        self.queries.append(query)
        self.positives.append(self._ids(positives))
        self.pools.append(self._ids(pool))
        self.positive_scores.append(positive_rows.astype(np.float32))
        self.pool_scores.append(pool_rows.astype(np.float32))

    @staticmethod
    def _rescale(rows: np.ndarray, ranges: Sequence[Sequence[float]], student: tuple[float, float]) -> np.ndarray:
        """Each teacher's scores rescaled min-max into the student's range for the turn (the reference's ``norm``)."""
        low, high = student
        out = np.empty_like(rows)
        for i, (teacher_low, teacher_high) in enumerate(ranges):
            out[i] = (rows[i] - teacher_low) / (teacher_high - teacher_low + NORM_EPSILON) * (
                high - low + NORM_EPSILON) + low
        return out

    def _ids(self, names: Sequence[str]) -> np.ndarray:
        for name in names:
            if name not in self._doc_index:
                self._doc_index[name] = len(self.doc_names)
                self.doc_names.append(name)
        return np.array([self._doc_index[name] for name in names], dtype=np.int32)

    def set_epoch(self, epoch: int) -> None:
        """Draw the examples of ``epoch`` from now on (the trainer calls this as each epoch starts)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.qids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}/{self.epoch}/{index}")
        pool = self.pools[index]
        positive = rng.randrange(len(self.positives[index]))
        if len(pool) <= self.negatives:
            picks = rng.choices(range(len(pool)), k=self.negatives)
        else:
            picks = rng.sample(range(len(pool)), self.negatives)
        names = self.doc_names
        scores = np.concatenate([self.positive_scores[index][:, [positive]], self.pool_scores[index][:, picks]], axis=1)
        return {"query": self.queries[index],
                "doc_ids": [names[self.positives[index][positive]], *(names[pool[j]] for j in picks)],
                "teacher": torch.from_numpy(scores)}

    def doc_ids(self) -> set[str]:
        """Every document a draw can name (what the frozen document encoder must read)."""
        return set(self.doc_names)


class DistillCollator:
    """Tokenises the queries and stacks the teacher scores ``[batch, rows, 1 + negatives]``."""

    def __init__(self, tokenizer: Any, max_length: int = 256):
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        inputs = self.tokenizer([example["query"] for example in examples], max_length=self.max_length,
                                truncation=True, padding="longest", return_tensors="pt",
                                return_token_type_ids=False)
        return {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"],
                "doc_ids": [list(example["doc_ids"]) for example in examples],
                "teacher_scores": torch.stack([example["teacher"] for example in examples])}
