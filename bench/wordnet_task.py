"""A judged retrieval task from WordNet's noun glosses: real text, real vocabulary, no hub.

Debian's ``wordnet-base`` (WordNet 3.0, WordNet licence) is fetched with ``apt-get download`` and unpacked with
``dpkg-deb -x`` (no root install). Each noun synset's gloss (definition and examples) is a document. A query is a
lemma of a sampled synset (``hot_dog`` -> ``hot dog``) that appears in none of its relevant glosses, so the match
must come from meaning, not from shared words; the relevant documents are the glosses of every synset in the
collection that holds the lemma (relevance 1).

    python bench/wordnet_task.py --docs 2000 --queries 200 --out tests/data/wordnet   # the vendored test subset
    python bench/wordnet_task.py --out bench/out/wordnet                              # all 82,115 glosses

Writes ``corpus.jsonl`` (``{"id", "contents"}``), ``topics.jsonl`` (one-turn conversations: the toolkit's JSONL
topic schema, searched with ``--policy raw``) and ``qrels.txt``. Same arguments, same bytes.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

PACKAGE = "wordnet-base"
DATA_NOUN = "usr/share/wordnet/data.noun"


class Synset(NamedTuple):
    offset: str
    lemmas: tuple[str, ...]
    gloss: str


def fetch_data_noun(work: Path) -> Path:
    """``data.noun`` of Debian's wordnet-base, downloaded and unpacked under ``work`` (reused when present)."""
    target = work / PACKAGE / DATA_NOUN
    if target.is_file():
        return target
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        subprocess.run(["apt-get", "download", PACKAGE], cwd=scratch, check=True, capture_output=True)
        deb = next(Path(scratch).glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(work / PACKAGE)], check=True)
    return target


def read_synsets(data_noun: Path) -> list[Synset]:
    """Noun synsets in file order (WordNet's ``data.noun``: header lines start with two spaces)."""
    synsets = []
    for line in data_noun.read_text(encoding="utf-8").splitlines():
        if line.startswith("  "):
            continue
        fields, _, gloss = line.partition(" | ")
        parts = fields.split()
        count = int(parts[3], 16)
        lemmas = tuple(re.sub(r"\(.*\)$", "", parts[4 + 2 * i]).replace("_", " ").lower() for i in range(count))
        synsets.append(Synset(parts[0], lemmas, gloss.strip()))
    return synsets


def mentions(gloss: str, lemma: str) -> bool:
    """Whether ``lemma`` (or any of its words) occurs in ``gloss`` as a word, case-insensitively."""
    words = set(re.findall(r"[a-z0-9]+", gloss.lower()))
    return any(word in words for word in re.findall(r"[a-z0-9]+", lemma))


def build(synsets: list[Synset], docs: int | None, queries: int, seed: int = 0
          ) -> tuple[list[Synset], list[tuple[str, str]], list[tuple[str, str]]]:
    """The collection (``docs`` synsets sampled, all when ``None``), queries ``(qid, lemma)`` and qrels."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(synsets)), docs)) if docs else range(len(synsets))
    collection = [synsets[i] for i in chosen]
    holders: dict[str, list[Synset]] = defaultdict(list)
    for synset in collection:
        for lemma in synset.lemmas:
            holders[lemma].append(synset)
    candidates = sorted(lemma for lemma, found in holders.items()
                        if len(lemma) > 2 and not any(mentions(s.gloss, lemma) for s in found))
    picked = sorted(rng.sample(candidates, min(queries, len(candidates))))
    topics = [(f"q{number}", lemma) for number, lemma in enumerate(picked, 1)]
    qrels = [(qid, f"wn{s.offset}") for qid, lemma in topics for s in holders[lemma]]
    return collection, topics, qrels


def write(out: Path, collection: list[Synset], topics: list[tuple[str, str]], qrels: list[tuple[str, str]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus.jsonl").write_text("".join(json.dumps({"id": f"wn{s.offset}", "contents": s.gloss}) + "\n"
                                              for s in collection), encoding="utf-8")
    (out / "topics.jsonl").write_text("".join(json.dumps({"conversation_id": qid, "turns": [
        {"turn_id": "1", "utterance": lemma}]}) + "\n" for qid, lemma in topics), encoding="utf-8")
    # the JSONL reader names a turn CONVERSATION_TURN
    (out / "qrels.txt").write_text("".join(f"{qid}_1 0 {doc} 1\n" for qid, doc in qrels), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help="glosses sampled (default: all 82,115)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parent / "out" / "debian",
                        help="where the Debian package is unpacked")
    args = parser.parse_args()
    collection, topics, qrels = build(read_synsets(fetch_data_noun(args.work)), args.docs, args.queries, args.seed)
    write(args.out, collection, topics, qrels)
    print(f"{len(collection)} glosses, {len(topics)} queries, {len(qrels)} judgments -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
