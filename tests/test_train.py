"""Learning test: DiSCo students distil teacher scores on the bundled sample world.

The world (``disco_pyserini.sample.build_data``): invented creatures, each with an overview passage
and one passage per attribute (diet, habitat, ...). A conversation opens with "tell me about the
<creature>", then asks "what is its <attribute>?" and "and its <attribute>?": later utterances omit
the creature, and the earlier questions and answers (in the DiSCo input) name other attributes. The
human rewrite restores the creature; a second teacher, like an LLM that adds what it knows, expands it
with words of the answer. One tiny lexical SPLADE model (built here) is the teacher, the frozen
document encoder and the student initialisation. Students train on the 120 training creatures (300
steps) and are evaluated on the 20 held-out ones they never saw: to win they must learn a rule (keep
the creature, drop attributes the conversation has moved past), not memorise documents.
"""
from __future__ import annotations

import json

import ir_measures
import pytest
import torch

from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.eval.qrels import read_qrels
from disco_pyserini.sample import CONVERSATIONS, CORPUS, QRELS, TRAIN_CONVERSATIONS, TRAIN_QRELS
from disco_pyserini.topics import formulate, load_topics
from disco_pyserini.train.build import rewrite_distillation, write_distillation
from disco_pyserini.train.documents import dense_vectors
from disco_pyserini.train.data import DistillDataset
from disco_pyserini.train.losses import kl

STEPS = 300
NEGATIVES = 8
ANSWERS = 2  # qrels relevance of the passage that answers a turn (1: the creature's overview)


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    from disco_pyserini.sample import build_tiny_splade

    root = tmp_path_factory.mktemp("learn")
    docs = {json.loads(line)["id"]: json.loads(line)["contents"] for line in CORPUS.read_text().splitlines()}
    model = build_tiny_splade(root / "model")
    encoder = SpladeEncoder(str(model), device="cpu", batch_size=64)
    qrels = {**read_qrels(TRAIN_QRELS), **read_qrels(QRELS)}
    task = {"root": root, "model": model, "corpus": CORPUS, "encoder": encoder, "doc_ids": list(docs),
            "D": dense_vectors(encoder, list(docs.values())), "qrels": qrels,
            "train": list(load_topics(TRAIN_CONVERSATIONS)), "test": list(load_topics(CONVERSATIONS))}
    for split in ("train", "test"):  # negatives come from the manual-rewrite teacher's run, as in DiSCo
        run = root / f"{split}.teacher.run"
        run.write_text("".join(f"{qid} Q0 {doc} {rank} {score} teacher\n" for qid, ranked in
                               _ranking(task, encoder, task[split], "manual").items()
                               for rank, (doc, score) in enumerate(ranked, 1)))
        head, records, _ = rewrite_distillation(task[split], qrels, run, CORPUS, ["manual", "expansion"], encoder,
                                                encoder, skip_top=0, max_rank=50, rel_threshold=ANSWERS,
                                                progress=False)
        write_distillation(root / f"{split}.distill.jsonl", head, records)
    return task


def _ranking(task, encoder: SpladeEncoder, turns, policy: str, top: int = 50) -> dict[str, list[tuple[str, float]]]:
    scores = dense_vectors(encoder, [formulate(turn, policy) for turn in turns]) @ task["D"].T
    best = scores.topk(top, dim=1)
    return {turn.query_id: [(task["doc_ids"][j], float(s)) for s, j in zip(values, ids)]
            for turn, values, ids in zip(turns, best.values, best.indices)}


def _mrr(task, encoder: SpladeEncoder, policy: str) -> float:
    ranking = _ranking(task, encoder, task["test"], policy)
    run = [ir_measures.ScoredDoc(qid, doc, score) for qid, ranked in ranking.items() for doc, score in ranked]
    qrels = [ir_measures.Qrel(qid, doc, rel) for turn in task["test"] for qid in [turn.query_id]
             for doc, rel in task["qrels"][qid].items()]
    measure = ir_measures.RR(rel=ANSWERS) @ 10
    return ir_measures.calc_aggregate([measure], qrels, run)[measure]


def _held_out_kl(task, encoder: SpladeEncoder, teachers: list[str]) -> float:
    """KL(teacher || student) on the held-out turns (their first epoch's draw), with the inference encoder."""
    dataset = DistillDataset(task["root"] / "test.distill.jsonl", teachers, negatives=NEGATIVES)
    examples = [dataset[i] for i in range(len(dataset))]
    queries = dense_vectors(encoder, [example["query"] for example in examples])
    row = {doc: i for i, doc in enumerate(task["doc_ids"])}
    docs = torch.stack([task["D"][[row[doc] for doc in example["doc_ids"]]] for example in examples])
    student = torch.einsum("bv,bnv->bn", queries, docs)
    return float(kl(student, torch.cat([example["teacher"] for example in examples])))


@pytest.mark.parametrize("teachers", [["manual"], ["manual", "expansion"]])
def test_student_learns_from_teachers(task, teachers, capsys):
    from disco_pyserini.train.__main__ import main

    output = task["root"] / "+".join(teachers)
    config = task["root"] / f"{output.name}.json"
    config.write_text(json.dumps({"distillation": str(task["root"] / "train.distill.jsonl"),
                                  "corpus": str(task["corpus"]), "model": str(task["model"]), "teachers": teachers,
                                  "negatives": NEGATIVES, "max_steps": STEPS, "learning_rate": 1e-3, "batch_size": 8,
                                  "max_length": 128, "logging_steps": 100, "training_args": {"disable_tqdm": True}}))
    assert main(["--config", str(config), "--output-dir", str(output)]) == 0
    logged = capsys.readouterr().out
    assert "loss_kl" in logged and "q_nonzero" in logged  # each loss term and the sparsity are logged

    initial, student = task["encoder"], SpladeEncoder(str(output), device="cpu", batch_size=64)
    kl_before, kl_after = _held_out_kl(task, initial, teachers), _held_out_kl(task, student, teachers)
    mrr = {"raw": _mrr(task, initial, "raw"), "initial": _mrr(task, initial, "disco"),
           "student": _mrr(task, student, "disco"), "teacher": _mrr(task, initial, "manual")}
    print(f"{teachers}: held-out KL {kl_before:.3f} -> {kl_after:.3f}; held-out MRR@10 {mrr}")
    # A quarter of the initial divergence: the lexical model's logits tie often, and the max's gradient goes to one
    # tied token (a valid subgradient, as in the sparse backward) rather than being split among them.
    assert kl_after < 0.25 * kl_before
    if len(teachers) > 1:  # the fused targets really differ from the single teacher's
        fused, single = (DistillDataset(task["root"] / "train.distill.jsonl", names)[0]["teacher"]
                         for names in (teachers, teachers[:1]))
        assert not torch.allclose(fused, single, atol=0.1)
    # The untrained model on the conversation is far from the human rewrite ...
    assert mrr["initial"] < 0.3 and mrr["teacher"] > 0.75
    # ... and the student closes most of that gap; distilling the expansion too closes (nearly) all of it.
    share = 0.8 if len(teachers) > 1 else 0.6
    assert mrr["student"] - mrr["initial"] > share * (mrr["teacher"] - mrr["initial"])


def test_trained_query_topk_is_applied_at_search_time(task, tmp_path):
    """A student trained with query_topk prunes its queries the same way when loaded for search."""
    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.train import load_config, train

    config = load_config(None, distillation=str(task["root"] / "train.distill.jsonl"), corpus=str(task["corpus"]),
                         model=str(task["model"]), output_dir=str(tmp_path / "student"), max_steps=2,
                         batch_size=4, query_topk=3, training_args={"disable_tqdm": True})
    path = train(config)
    turn = task["test"][-1]
    assert len(DiscoQueryEncoder(str(path), device="cpu").encode(turn)) == 3
    assert len(DiscoQueryEncoder(str(path), device="cpu", top_k=0).encode(turn)) > 3
    assert len(DiscoQueryEncoder(str(path), device="cpu", top_k=1).encode(turn)) == 1


def test_torchrun_on_cpus_trains_one_distributed_student(task, tmp_path):
    """``torchrun`` with two CPU processes runs one DDP training (rank 0 logs and saves), not two copies."""
    import subprocess
    import sys

    config = tmp_path / "ddp.json"
    config.write_text(json.dumps({"distillation": str(task["root"] / "train.distill.jsonl"),
                                  "corpus": str(task["corpus"]), "model": str(task["model"]), "max_steps": 2,
                                  "batch_size": 4, "logging_steps": 1, "training_args": {"disable_tqdm": True}}))
    output = tmp_path / "student"
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             "-m", "disco_pyserini.train", "--config", str(config), "--output-dir", str(output)],
                            capture_output=True, text=True, timeout=300)
    # torchrun's own tail names only the exit codes; a rank's cause (an abort's message) sits earlier in stderr
    causes = [line for line in result.stderr.splitlines() if any(w in line for w in ("rror", "terminate", "what()"))]
    assert result.returncode == 0, "\n".join(causes[:30]) + "\n...\n" + result.stderr[-2000:]
    logged = result.stdout + result.stderr
    assert logged.count("'train_runtime'") == 1 and logged.count("student saved to") == 1, logged[-2000:]
    assert (output / "model.safetensors").is_file()
    assert json.loads((output / "disco_training.json").read_text())["max_steps"] == 2


def test_collapsing_query_vectors_are_reported(task, tmp_path, caplog):
    from disco_pyserini.train import load_config
    from disco_pyserini.train.trainer import build_trainer

    trainer = build_trainer(load_config(None, distillation=str(task["root"] / "train.distill.jsonl"),
                                        corpus=str(task["corpus"]), model=str(task["model"]),
                                        output_dir=str(tmp_path), training_args={"disable_tqdm": True}))
    with caplog.at_level("WARNING", logger="disco_pyserini.train.trainer"):
        for _ in range(2):  # two logging steps of a collapsed student: one warning
            trainer._sums.update(loss_kl=1.4, q_nonzero=0.2)
            trainer._count = 1
            trainer.log({"loss": 1.4})
    assert len(caplog.records) == 1 and "collapsing to zero (0.20 non-zero terms" in caplog.records[0].message


def test_each_epoch_draws_other_negatives(task, tmp_path):
    """The trainer tells the dataset which epoch starts: each epoch reads another draw of negatives."""
    from disco_pyserini.train import load_config
    from disco_pyserini.train.trainer import build_trainer

    head, *rows = (task["root"] / "train.distill.jsonl").read_text().splitlines()
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join([head, *rows[:8]]) + "\n")
    trainer = build_trainer(load_config(None, distillation=str(small), corpus=str(task["corpus"]),
                                        model=str(task["model"]), output_dir=str(tmp_path / "out"), epochs=3,
                                        batch_size=4, negatives=NEGATIVES, training_args={"disable_tqdm": True}))
    epochs, drawn = [], []
    dataset, collate = trainer.train_dataset, trainer.data_collator
    trainer.data_collator = lambda examples: drawn.append((dataset.epoch, examples)) or collate(examples)
    original = dataset.set_epoch
    dataset.set_epoch = lambda epoch: epochs.append(epoch) or original(epoch)
    trainer.train()
    assert list(dict.fromkeys(epochs)) == [0, 1, 2]  # our callback, and accelerate where it forwards set_epoch
    negatives = {epoch: {(example["query"], doc) for e, batch in drawn if e == epoch for example in batch
                         for doc in example["doc_ids"][1:]} for epoch in epochs}
    assert all(len(negatives[epoch]) > 0 for epoch in epochs)
    assert negatives[0] != negatives[1] != negatives[2]
