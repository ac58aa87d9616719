"""Training pieces: config parsing and errors, losses, regularisers, distillation file, sparsity."""
from __future__ import annotations

import json

import pytest
import torch

from disco_pyserini.errors import InputError
from disco_pyserini.train.config import load_config
from disco_pyserini.train.data import DistillDataset, build_distillation, fuse, load_qrels, sample_negatives
from disco_pyserini.train.losses import anti_zero, contrastive, kl, margin_mse
from disco_pyserini.train.model import prune_topk, warmup_lambda


def test_yaml_config_with_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("distillation: d.jsonl\ncorpus: c.jsonl\nmodel: m\nlearning_rate: 2e-5\n"
                    "losses: {kl: 0.99, margin_mse: 1e-1}\n")
    config = load_config(path, ["batch_size=4", "fusion=max"], max_steps=7)
    assert config.learning_rate == 2e-5 and config.losses == {"kl": 0.99, "margin_mse": 0.1}
    assert (config.batch_size, config.fusion, config.max_steps) == (4, "max", 7)


@pytest.mark.parametrize("override, message", [
    ('losses={"kll": 1}', "unknown loss 'kll'"), ("fusion=median", "unknown fusion"),
    ("lambda_d=0.1", "document encoder is frozen"), ("nope=1", "unknown config key")])
def test_config_errors(override, message):
    with pytest.raises(InputError, match=message):
        load_config(None, ["distillation=d", "corpus=c", "model=m", override])


def test_losses_and_regularisers():
    mask = torch.tensor([[True, True, True], [True, True, False]])
    teacher = torch.tensor([[5.0, 1.0, 0.0], [3.0, 2.0, -1e4]])
    assert kl(teacher.clone(), teacher, mask) < 1e-6 < kl(torch.zeros(2, 3), teacher, mask)
    assert margin_mse(teacher + 3, teacher, mask) < 1e-9
    queries, docs = torch.rand(2, 5), torch.rand(2, 3, 5)
    assert contrastive(queries, docs, mask) > 0 and anti_zero(queries, docs) > 0
    assert (prune_topk(torch.tensor([[0.1, 0.5, 0.3]]), 2) == torch.tensor([[0.0, 0.5, 0.3]])).all()
    assert warmup_lambda(1.0, 0, 9) == 0 and warmup_lambda(1.0, 5, 9) == 0.25 and warmup_lambda(1.0, 50, 9) == 1.0


def test_fusion_and_negatives():
    assert fuse({"a": [1.0, 4.0], "b": [3.0, 0.0]}, "mean") == [2.0, 2.0]
    assert fuse({"a": [1.0, 4.0], "b": [3.0, 0.0]}, "max") == [3.0, 4.0]
    ranked = [f"d{i}" for i in range(100)]
    first = sample_negatives(ranked, {"d20"}, 16, 10, 960, seed=0, qid="q")
    assert first == sample_negatives(ranked, {"d20"}, 16, 10, 960, seed=0, qid="q")
    assert len(set(first)) == 16 and not set(first) & ({f"d{i}" for i in range(10)} | {"d20"})


def test_missing_qrels_is_one_line_error(tmp_path):
    with pytest.raises(InputError, match="qrels file not found"):
        load_qrels(tmp_path / "missing.txt")


def test_distillation_file(lexical_splade, tmp_path):
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, QRELS
    from disco_pyserini.topics import load_topics

    turns = [turn for turn in load_topics(CONVERSATIONS) if turn.topic_id == "c1"]
    turns = [turn._replace(rewrites=(("copy", turn.utterance),)) for turn in turns]
    docs = [json.loads(line)["id"] for line in CORPUS.read_text().splitlines()]
    run = {turn.query_id: docs[:60] for turn in turns}
    encoder = SpladeEncoder(str(lexical_splade), device="cpu")
    out = tmp_path / "distill.jsonl"
    stats = build_distillation(turns, load_qrels(QRELS), run, CORPUS, ["manual", "copy"], encoder, encoder, out,
                               negatives=4, progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert stats.examples == len(rows) > 0
    row = rows[0]
    assert len(row["doc_ids"]) == 5 and set(row["teacher_scores"]) == {"manual", "copy"}
    expected = [(a + b) / 2 for a, b in zip(row["teacher_scores"]["manual"], row["teacher_scores"]["copy"])]
    assert row["scores"] == pytest.approx(expected, abs=1e-4)
    # The positive scores higher than the negatives for the manual-rewrite teacher.
    assert row["teacher_scores"]["manual"][0] > max(row["teacher_scores"]["manual"][1:])
    assert DistillDataset(out, ["copy"], "separate")[0]["teacher"].shape == (1, 5)
    with pytest.raises(InputError, match="no scores from teacher"):
        DistillDataset(out, ["mistral"])
    with pytest.raises(InputError, match="has no rewrite from teacher 'other'"):
        build_distillation(turns, load_qrels(QRELS), run, CORPUS, ["other"], encoder, encoder, out, progress=False)


def test_sparsity(lexical_splade):
    from disco_pyserini.analysis.sparsity import sparsity
    from disco_pyserini.encode.splade import SpladeEncoder

    encoder = SpladeEncoder(str(lexical_splade), device="cpu")
    stats = sparsity(encoder, encoder, ["giraffe diet", "kyoto climate"], ["the giraffe eats leaves", "kyoto"])
    assert stats.query_terms == 2 and 0 < stats.flops <= stats.query_terms
    assert sparsity(encoder, encoder, ["giraffe diet"], ["giraffe"], query_topk=1).query_terms == 1


def test_build_and_sparsity_commands(lexical_splade, tmp_path, capsys):
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, QRELS
    from disco_pyserini.topics import load_topics
    from disco_pyserini.train.__main__ import main

    turns = [turn for turn in load_topics(CONVERSATIONS) if turn.topic_id in ("c1", "c2")]
    topics = tmp_path / "topics.jsonl"
    topics.write_text("".join(line + "\n" for line in CONVERSATIONS.read_text().splitlines()[:2]))
    rewrites = tmp_path / "copy.jsonl"
    rewrites.write_text("".join(json.dumps({"qid": t.query_id, "rewrite": t.utterance}) + "\n" for t in turns))
    docs = [json.loads(line)["id"] for line in CORPUS.read_text().splitlines()]
    run = tmp_path / "teacher.run"
    run.write_text("".join(f"{t.query_id} Q0 {doc} {rank} {100 - rank} t\n" for t in turns
                           for rank, doc in enumerate(docs[:40], 1)))
    out = tmp_path / "distill.jsonl"
    assert main(["build", "--topics", str(topics), "--qrels", str(QRELS), "--run", str(run), "--corpus", str(CORPUS),
                 "--doc-encoder", str(lexical_splade), "--rewrites", f"copy={rewrites}", "--teacher", "manual",
                 "--teacher", "copy", "--negatives", "4", "--device", "cpu", "--output", str(out),
                 "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    positives = [(t.query_id, doc) for t in turns for doc, rel in load_qrels(QRELS).get(t.query_id, {}).items()
                 if rel >= 1]
    assert sorted((row["qid"], row["doc_ids"][0]) for row in rows) == sorted(positives)  # one example per positive
    assert all(set(row["teacher_scores"]) == {"manual", "copy"} and len(row["doc_ids"]) == 5 for row in rows)
    assert f"{len(rows)} examples from {len(turns)} turns" in capsys.readouterr().out

    assert main(["sparsity", "--encoder", str(lexical_splade), "--topics", str(topics), "--corpus", str(CORPUS),
                 "--query-topk", "2", "--device", "cpu"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["queries"] == len(turns) and stats["query_terms"] <= 2 and stats["documents"] == len(docs)
