"""Qrels by path or dataset name, and each benchmark's evaluation convention."""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from disco_pyserini.errors import InputError
from disco_pyserini.textio import text_lines

Qrels = dict[str, dict[str, int]]


class Dataset(NamedTuple):
    """A benchmark's qrels file (in ``qrels/``) and its binary relevance threshold (TREC's; the DiSCo authors'
    released evaluation uses 1 everywhere, see :mod:`disco_pyserini.eval.metrics`)."""

    name: str
    filename: str
    rel: int
    source: str


DATASETS = {d.name: d for d in (
    Dataset("cast2019", "cast2019.qrels.txt", 1, "TREC CAsT 2019 (bundled)"),
    Dataset("cast2020", "cast2020.qrels.txt", 2, "TREC CAsT 2020 (bundled)"),
    Dataset("cast2022", "cast2022.qrels.txt", 2, "TREC CAsT 2022: download from TREC's past-data page"),
    Dataset("ikat2023", "ikat2023.qrels.txt", 2, "TREC iKAT 2023: download from TREC's past-data page"),
    Dataset("ikat2024", "ikat2024.qrels.txt", 2, "TREC iKAT 2024: download from TREC's past-data page"),
    Dataset("topiocqa", "topiocqa.qrels.txt", 1, "the TopiOCQA dev file "
            "(python -m disco_pyserini.eval qrels --dataset topiocqa --input dev.json)"),
    Dataset("qrecc", "qrecc.qrels.txt", 1, "the SCAI-QReCC test file "
            "(python -m disco_pyserini.eval qrels --dataset qrecc --input scai-qrecc21-test-turns.json)"),
)}
# CAsT-style graded judgments on the bundled sample: 2 answers the turn, 1 is partial.
SAMPLE = Dataset("sample", "", 2, "the bundled sample")


def dataset_named(name: str) -> Dataset:
    """The dataset (and so the evaluation convention) called ``name``."""
    if name == SAMPLE.name:
        return SAMPLE
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}, sample")
    return DATASETS[name]


def qrels_dir() -> Path:
    """Where dataset qrels live: ``$DISCO_QRELS_DIR`` or the repository's ``qrels/`` folder."""
    return Path(os.environ.get("DISCO_QRELS_DIR", Path(__file__).resolve().parents[2] / "qrels"))


def resolve_qrels(name_or_path: str | os.PathLike) -> tuple[Path, Dataset | None]:
    """A qrels path and, when known, its dataset (by name, or by a file name matching one)."""
    name = str(name_or_path)
    if name == "sample":
        from disco_pyserini.sample import QRELS

        return QRELS, SAMPLE
    if name in DATASETS:
        dataset = DATASETS[name]
        path = qrels_dir() / dataset.filename
        if not path.is_file():
            raise InputError(f"no qrels for {name}; get them from {dataset.source} and save them as {path} "
                             "(see qrels/README.md)")
        return path, dataset
    path = Path(name_or_path)
    if not path.is_file():
        raise InputError(f"qrels file not found; pass a file or a dataset name ({', '.join(DATASETS)})", path)
    known = {d.filename: d for d in DATASETS.values()}
    return path, known.get(path.name)


def read_qrels(path: str | os.PathLike) -> Qrels:
    """TREC qrels ``qid iter docid rel`` (``iter`` is ignored: ``0`` or ``Q0``)."""
    qrels: Qrels = {}
    for number, line in text_lines(path, "qrels file"):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            raise InputError(f"expected 'qid iter docid relevance', got {len(fields)} fields", path, number)
        try:
            relevance = int(fields[3])
        except ValueError:
            raise InputError(f"relevance {fields[3]!r} is not an integer", path, number) from None
        qrels.setdefault(fields[0], {})[fields[2]] = relevance
    if not qrels:
        raise InputError("no judgments in the qrels file", path)
    return qrels
