"""Generate the bundled sample: ``corpus.jsonl``, ``conversations.jsonl`` and ``qrels.txt``.

Run once with ``python -m disco_pyserini.sample.build_data [OUT_DIR]``; the outputs are committed
under ``disco_pyserini/sample/data``. Generation is deterministic: same code, same bytes.

Corpus: per entity, an overview passage plus two passages (variants A and B) per aspect.
Conversations follow CAsT: the first turn names the entity, later turns drop it ("What does it
eat?"), and a few switch entity with "What about X?". ``manual_rewrite`` restores the entity and
``response`` is a relevant passage, like CAsT 2020's canonical responses.
Qrels are graded: 2 for the entity's passages on the asked aspect, 1 for its overview (it touches
every aspect briefly), 0 for same-aspect passages of the category's other entities (the
distractors a query without the entity would retrieve).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import NamedTuple

from disco_pyserini.sample import DATA_DIR
from disco_pyserini.sample._categories import CATEGORIES
from disco_pyserini.sample._entities import ENTITIES, Entity

OVERVIEW = "overview"
SHUFFLE_SEED = 0

# Each conversation is a path of (entity, aspect) steps; an entity change on the same aspect
# becomes a "What about X?" turn, as in CAsT topic shifts.
PLANS: tuple[tuple[tuple[str, str], ...], ...] = tuple(
    tuple(tuple(step.split(":")) for step in plan.split()) for plan in (
        "giraffe:habitat giraffe:diet giraffe:size giraffe:conservation",
        "kyoto:location kyoto:climate kyoto:food kyoto:transport kyoto:landmarks",
        "telephone:history telephone:mechanism telephone:cost telephone:impact",
        "sushi:origin sushi:preparation sushi:nutrition sushi:cost sushi:storage",
        "cricket:rules cricket:equipment cricket:cost cricket:competitions",
        "malaria:symptoms malaria:causes malaria:treatment malaria:prevention malaria:diagnosis",
        "koala:diet koala:lifespan emperor-penguin:lifespan emperor-penguin:behavior emperor-penguin:conservation",
        "lisbon:history lisbon:food prague:food prague:landmarks",
        "bicycle:history bicycle:parts bicycle:mechanism bicycle:modern bicycle:cost bicycle:impact",
        "coffee:origin coffee:nutrition coffee:varieties coffee:storage",
        "measles:symptoms measles:prevention tuberculosis:prevention tuberculosis:treatment tuberculosis:history",
        "octopus:habitat octopus:behavior octopus:lifespan",
        "curling:origin curling:rules curling:injuries surfing:injuries",
        "steam-engine:mechanism steam-engine:impact steam-engine:modern",
        "reykjavik:climate reykjavik:transport reykjavik:food reykjavik:history",
        "migraine:symptoms migraine:causes migraine:treatment",
        "kimchi:preparation kimchi:storage sourdough:storage sourdough:varieties",
        "honeybee:behavior honeybee:diet honeybee:conservation honeybee:lifespan",
    )
)


class Passage(NamedTuple):
    """A generated passage and what it is about (``variant`` is ``A``/``B``, or empty for overviews)."""

    entity: str
    aspect: str
    variant: str
    text: str


class Step(NamedTuple):
    """One asked question: about which entity and aspect, in which question form."""

    entity: str
    aspect: str
    form: int


def _fields(entity: Entity) -> dict[str, str]:
    return {"x": entity.x, "X": entity.x[0].upper() + entity.x[1:], "name": entity.name}


def entity_passages(entity: Entity) -> list[Passage]:
    """The overview and the two variants per aspect of one entity."""
    category = CATEGORIES[entity.category]
    fields = _fields(entity)
    phrases = {aspect: phrase for aspect, (phrase, _, _) in entity.facts.items()}
    out = [Passage(entity.key, OVERVIEW, "", category.overview.format(kind=entity.kind, **fields, **phrases))]
    for aspect, (phrase, sentence_a, sentence_b) in entity.facts.items():
        opening_a, opening_b = category.passages[aspect]
        out.append(Passage(entity.key, aspect, "A", f"{opening_a.format(p=phrase, **fields)} {sentence_a}"))
        out.append(Passage(entity.key, aspect, "B", f"{opening_b.format(p=phrase, **fields)} {sentence_b}"))
    return out


def build_corpus() -> dict[tuple[str, str, str], tuple[str, str]]:
    """``{(entity, aspect, variant): (doc_id, text)}``; ids follow a seeded shuffle so that they
    carry no hint of topic (ties in a ranking must not favour one entity)."""
    passages = [p for entity in ENTITIES for p in entity_passages(entity)]
    random.Random(SHUFFLE_SEED).shuffle(passages)
    return {(p.entity, p.aspect, p.variant): (f"d{i:04d}", p.text) for i, p in enumerate(passages, 1)}


def _turn(entity: Entity, step: Step, previous: Step | None) -> tuple[str, str]:
    """``(utterance, manual_rewrite)`` for ``step``, given the previous step of the conversation."""
    full, elliptic = CATEGORIES[entity.category].questions[step.aspect][step.form]
    rewrite = full.format(**_fields(entity))
    if previous is None:
        return rewrite, rewrite
    if previous.entity != entity.key and previous.aspect == step.aspect:
        return f"What about {entity.x}?", rewrite
    if previous.entity != entity.key:
        return rewrite, rewrite
    return elliptic, rewrite


def build_conversations(corpus: dict[tuple[str, str, str], tuple[str, str]]) -> list[dict]:
    """Conversations in the toolkit's JSONL schema; each response is the entity's variant-A passage
    on the asked aspect, as CAsT 2020's canonical responses are passages."""
    entities = {entity.key: entity for entity in ENTITIES}
    conversations = []
    for number, plan in enumerate(PLANS, 1):
        turns, previous = [], None
        for position, (key, aspect) in enumerate(plan, 1):
            # Question forms alternate; "What about X?" repeats the previous question's form.
            repeat = previous is not None and previous.aspect == aspect
            step = Step(key, aspect, previous.form if repeat else (number + position) % 2)
            utterance, rewrite = _turn(entities[key], step, previous)
            turns.append({"turn_id": str(position), "utterance": utterance, "manual_rewrite": rewrite,
                          "response": corpus[(key, aspect, "A")][1]})
            previous = step
        conversations.append({"conversation_id": f"c{number}", "turns": turns})
    return conversations


def build_qrels(corpus: dict[tuple[str, str, str], tuple[str, str]]) -> list[tuple[str, str, int]]:
    """``(query_id, doc_id, relevance)`` for every turn of :data:`PLANS`."""
    category_of = {entity.key: entity.category for entity in ENTITIES}
    rows = []
    for number, plan in enumerate(PLANS, 1):
        for position, (key, aspect) in enumerate(plan, 1):
            qid = f"c{number}_{position}"
            rows += [(qid, corpus[(key, aspect, variant)][0], 2) for variant in "AB"]
            rows.append((qid, corpus[(key, OVERVIEW, "")][0], 1))
            rows += [(qid, corpus[(other.key, aspect, "A")][0], 0) for other in ENTITIES
                     if other.key != key and other.category == category_of[key]]
    return rows


def write_sample(out_dir: Path = DATA_DIR) -> None:
    """Write the three sample files into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus()
    docs = sorted(corpus.values())
    (out_dir / "corpus.jsonl").write_text(
        "".join(json.dumps({"id": doc_id, "contents": text}) + "\n" for doc_id, text in docs), encoding="utf-8")
    (out_dir / "conversations.jsonl").write_text(
        "".join(json.dumps(c) + "\n" for c in build_conversations(corpus)), encoding="utf-8")
    (out_dir / "qrels.txt").write_text(
        "".join(f"{qid} 0 {doc_id} {rel}\n" for qid, doc_id, rel in build_qrels(corpus)), encoding="utf-8")


if __name__ == "__main__":
    write_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR)
