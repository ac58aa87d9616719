"""Generate the bundled sample world: invented creatures, their passages, and conversations about them.

Run once with ``python -m disco_pyserini.sample.build_data [OUT_DIR]``; the outputs are committed under
``disco_pyserini/sample/data``. Generation is deterministic: same code, same bytes.

The world is built for DiSCo's recipe to run on a laptop in seconds, like the toolkit's learning test:

* **Corpus** (``corpus.jsonl``): each creature (an invented name, so no model knows it) has an overview
  passage and one passage per attribute (diet, habitat, ...). Facts are drawn per creature, so two
  creatures' diet passages share the attribute words but not the facts.
* **Conversations** follow CAsT: "tell me about the <creature>", then "what is its <attribute>?" and
  "and its <attribute>?", turns that omit the creature, with the previous answers (the passages) in the
  history. Each turn carries two teachers' rewrites: the human one (``manual_rewrite``, the creature
  restored) and ``rewrites.expansion``, an LLM-like rewrite that adds what it knows of the answer.
* **Splits:** ``train.jsonl`` (conversations about 120 creatures, for distillation) with
  ``train.qrels.txt``; ``conversations.jsonl`` (20 held-out creatures never seen in training) with
  ``qrels.txt``, the table's test set. A student must learn a rule (keep the creature from the history,
  drop the attributes the conversation has moved past), not memorise passages.
* **Qrels** are graded: 2 for the passage that answers the turn, 1 for the creature's overview (it
  touches every attribute briefly); every other passage is unjudged (0).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import NamedTuple

from disco_pyserini.sample import DATA_DIR

SEED = 0
CREATURES, HELD_OUT = 140, 20
SYLLABLES = "ka lo mi zu te ra vi no shi pe da gu fo re bi".split()
# attribute -> (the verb phrase of its passage, the pool its facts are drawn from)
ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "diet": ("eats", ("leaves", "roots", "insects", "berries", "seeds", "mosses", "fungi", "snails")),
    "habitat": ("lives in", ("forests", "rivers", "caves", "marshes", "dunes", "reefs", "meadows", "cliffs")),
    "size": ("measures", ("metres", "kilograms", "spans", "inches", "tall", "stout", "slender", "heavy")),
    "lifespan": ("survives for", ("years", "decades", "seasons", "winters", "months", "centuries", "summers",
                                  "generations")),
    "predators": ("is hunted by", ("wolves", "eagles", "snakes", "owls", "lynxes", "sharks", "hawks", "foxes")),
    "origin": ("is native to", ("continents", "islands", "regions", "valleys", "plateaus", "archipelagos",
                                "highlands", "lowlands")),
    "colour": ("is coloured with", ("stripes", "spots", "fur", "scales", "feathers", "patches", "bands",
                                    "speckles")),
    "speed": ("runs at", ("sprints", "kilometres", "bursts", "strides", "gallops", "dashes", "leaps", "paces")),
}
FACTS_PER_PASSAGE = 3
FOLLOW_UPS = 3  # attribute turns after the opening turn


class Creature(NamedTuple):
    """An invented creature and its facts: ``facts[attribute]`` are the words its passage gives."""

    name: str
    facts: dict[str, tuple[str, ...]]


def creatures(rng: random.Random) -> list[Creature]:
    """``CREATURES`` distinct invented names (three syllables), each with facts drawn for every attribute."""
    names: set[str] = set()
    while len(names) < CREATURES:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(3)))
    return [Creature(name, {attribute: tuple(rng.sample(pool, FACTS_PER_PASSAGE))
                            for attribute, (_, pool) in ATTRIBUTES.items()}) for name in sorted(names)]


def overview(creature: Creature) -> str:
    return f"the {creature.name} is a creature. an overview and introduction to the {creature.name}."


def passage(creature: Creature, attribute: str) -> str:
    verb = ATTRIBUTES[attribute][0]
    return f"the {attribute} of the {creature.name}: the {creature.name} {verb} {' '.join(creature.facts[attribute])}."


def conversation(creature: Creature, number: int, rng: random.Random,
                 doc_id: dict[tuple[str, str | None], str]) -> tuple[dict, list[tuple[str, str, int]]]:
    """One conversation about ``creature`` (our JSONL schema) and its qrels ``(qid, doc_id, relevance)``;
    ``doc_id`` maps ``(creature, attribute or None)`` to the passage's id."""
    topic = f"c{number}"
    opening = f"tell me about the {creature.name}"
    turns = [{"turn_id": "1", "utterance": opening, "manual_rewrite": opening,
              "rewrites": {"expansion": f"{creature.name} overview introduction"}, "response": overview(creature)}]
    qrels = [(f"{topic}_1", doc_id[creature.name, None], 2)]
    for position, attribute in enumerate(rng.sample(sorted(ATTRIBUTES), FOLLOW_UPS), 2):
        qid = f"{topic}_{position}"
        turns.append({
            "turn_id": str(position),
            "utterance": f"what is its {attribute}?" if position == 2 else f"and its {attribute}?",
            "manual_rewrite": f"what is the {attribute} of the {creature.name}?",
            "rewrites": {"expansion": f"{creature.name} {attribute} {' '.join(creature.facts[attribute])}"},
            "response": passage(creature, attribute)})
        qrels += [(qid, doc_id[creature.name, attribute], 2), (qid, doc_id[creature.name, None], 1)]
    return {"conversation_id": topic, "turns": turns}, qrels


class World(NamedTuple):
    """The generated files' contents."""

    corpus: list[tuple[str, str]]
    train: list[dict]
    train_qrels: list[tuple[str, str, int]]
    test: list[dict]
    test_qrels: list[tuple[str, str, int]]


def build_world() -> World:
    """The whole sample world; the last ``HELD_OUT`` creatures (in name order) are the test split."""
    rng = random.Random(SEED)
    world = creatures(rng)
    passages = [((c.name, None), overview(c)) for c in world]
    passages += [((c.name, attribute), passage(c, attribute)) for c in world for attribute in ATTRIBUTES]
    # Ids follow a seeded shuffle, so they carry no hint of the topic: trec_eval breaks score ties by
    # document id, and a tie must not favour one creature's passages.
    rng.shuffle(passages)
    doc_id = {key: f"d{number:04d}" for number, (key, _) in enumerate(passages, 1)}
    corpus = [(doc_id[key], text) for key, text in passages]
    splits: list[tuple[list[dict], list[tuple[str, str, int]]]] = [([], []), ([], [])]
    for number, creature in enumerate(world, 1):
        conversations, qrels = splits[number > CREATURES - HELD_OUT]
        talk, judged = conversation(creature, number, rng, doc_id)
        conversations.append(talk)
        qrels += judged
    (train, train_qrels), (test, test_qrels) = splits
    return World(sorted(corpus), train, train_qrels, test, test_qrels)


def write_sample(out_dir: Path = DATA_DIR) -> None:
    """Write the sample files into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world()

    def write(name: str, lines: list[str]) -> None:
        (out_dir / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    write("corpus.jsonl", [json.dumps({"id": doc, "contents": text}) for doc, text in world.corpus])
    write("train.jsonl", [json.dumps(talk) for talk in world.train])
    write("conversations.jsonl", [json.dumps(talk) for talk in world.test])
    write("train.qrels.txt", [f"{qid} 0 {doc} {rel}" for qid, doc, rel in world.train_qrels])
    write("qrels.txt", [f"{qid} 0 {doc} {rel}" for qid, doc, rel in world.test_qrels])


if __name__ == "__main__":
    write_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR)
