"""Training pieces: config, losses against the reference's definitions, the distillation file (both builders),
per-epoch sampling, the positive-score clamp, norm, the released run.json import, sparsity."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from disco_pyserini.errors import InputError
from disco_pyserini.topics import Turn
from disco_pyserini.train.build import (Plan, header, rewrite_distillation, teacher_run_distillation,
                                        turn_record, write_distillation)
from disco_pyserini.train.config import load_config
from disco_pyserini.train.data import DistillDataset, read_distillation
from disco_pyserini.train.losses import anti_zero, contrastive, kl, margin_mse
from disco_pyserini.encode.pooling import prune_topk
from disco_pyserini.train.model import warmup_lambda
from disco_pyserini.train.teacher_runs import fuse_runs, read_training_qrels

TOPIOCQA = Path(__file__).parent / "fixtures" / "topics" / "topiocqa_all_history.json"


# --- config ----------------------------------------------------------------------------------------------------

def test_yaml_config_with_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("distillation: d.jsonl\ncorpus: c.jsonl\nmodel: m\nlearning_rate: 2e-5\nteachers: manual\n"
                    "losses: {kl: 0.99, margin_mse: 1e-1}\n")
    config = load_config(path, ["batch_size=4", "fusion=max"], max_steps=7)
    assert config.learning_rate == 2e-5 and config.losses == {"kl": 0.99, "margin_mse": 0.1}
    assert (config.batch_size, config.fusion, config.max_steps) == (4, "max", 7)
    assert config.teachers == ["manual"]  # a YAML string is one name, not the letters m, a, n, u, a, l
    # The released configuration is the default.
    assert (config.negatives, config.positive_score, config.in_batch, config.seed, config.epochs) == (
        16, "reference", "negatives", 123, 5)


@pytest.mark.parametrize("override, message", [
    ('losses={"kll": 1}', "unknown loss 'kll'"), ("fusion=median", "unknown fusion"),
    ("fusion=merge", "set run_fusion: merge"), ("positive_score=true", "positive_score must be text, got True"),
    ("positive_score=exactly", "unknown positive_score"),
    ("in_batch=both", "unknown in_batch"), ("teachers=[1]", "teachers must be a name or a list"),
    ("teacher_run=run.json", "either 'distillation'"), ("lambda_d=0.1", "document encoder is frozen"),
    ("nope=1", "unknown config key")])
def test_config_errors(override, message):
    with pytest.raises(InputError, match=message):
        load_config(None, ["distillation=d", "corpus=c", "model=m", override])
    with pytest.raises(InputError, match="'teacher_run' needs 'topics' and 'qrels'"):
        load_config(None, ["teacher_run=run.json", "corpus=c", "model=m"])


# --- losses ----------------------------------------------------------------------------------------------------

def test_losses_match_the_reference_definitions():
    student, teacher = torch.tensor([[2.0, 1.0, 0.0]]), torch.tensor([[3.0, 0.0, 1.0]])
    p = teacher.softmax(-1)
    assert kl(student, teacher) == pytest.approx(float((p * (p.log() - student.log_softmax(-1))).sum()))
    assert kl(teacher.clone(), teacher) < 1e-6
    # All 9 ordered pairs, diagonal included (the reference's mse_margin): with d = s - t = [-1, 1, -1] the
    # margin errors are d_j - d_i, squared 4, 0 and 4, each twice.
    assert margin_mse(student, teacher) == pytest.approx(16 / 9)
    assert margin_mse(teacher + 3, teacher) < 1e-9
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    docs = torch.tensor([[[2.0, 0.0], [1.0, 0.0]], [[0.0, 3.0], [0.0, 1.0]]])  # [batch, positive + 1 negative, vocab]
    # Reference: own positive vs every in-batch negative (the example's own included), label 0.
    reference = F.cross_entropy(torch.tensor([[2.0, 1.0, 0.0], [3.0, 0.0, 1.0]]), torch.tensor([0, 0]))
    assert contrastive(queries, docs) == pytest.approx(float(reference))
    everything = F.cross_entropy(torch.tensor([[2.0, 1.0, 0.0, 0.0], [0.0, 0.0, 3.0, 1.0]]), torch.tensor([0, 2]))
    assert contrastive(queries, docs, "all") == pytest.approx(float(everything))
    assert anti_zero(queries, docs) == pytest.approx(1 / 2 ** 2 + 1 / 7 ** 2)


def test_regularisers():
    assert (prune_topk(torch.tensor([[0.1, 0.5, 0.3]]), 2) == torch.tensor([[0.0, 0.5, 0.3]])).all()
    assert warmup_lambda(1.0, 0, 9) == 0 and warmup_lambda(1.0, 5, 9) == 0.25 and warmup_lambda(1.0, 50, 9) == 1.0


# --- the distillation file and the dataset ------------------------------------------------------------------------

def distillation(tmp_path, records, teachers=("t",)) -> Path:
    path = tmp_path / "d.jsonl"
    write_distillation(path, header(teachers, "test"), records)
    return path


def record(qid="q", positives=("p1",), pool_size=950, teachers=("t",)):
    pool = [f"d{i}" for i in range(pool_size)]
    scores = {name: {"pool": [float(-i) for i in range(pool_size)], "positives": [10.0] * len(positives),
                     "clamped": [5.0] * len(positives), "range": [-1000.0, 20.0]} for name in teachers}
    return {"qid": qid, "query": f"query {qid}", "positives": list(positives), "pool": pool, "teachers": scores}


def draws(dataset, index, epochs):
    out = []
    for epoch in range(epochs):
        dataset.set_epoch(epoch)
        out.append(dataset[index])
    return out


def test_negatives_are_drawn_afresh_each_epoch_and_seeded(tmp_path):
    path = distillation(tmp_path, [record("a"), record("b")])
    dataset = DistillDataset(path, negatives=16, seed=7)
    items = draws(dataset, 0, 5)
    negatives = [doc for item in items for doc in item["doc_ids"][1:]]
    assert all(len(item["doc_ids"]) == 17 and item["doc_ids"][0] == "p1" for item in items)
    assert all(len(set(item["doc_ids"][1:])) == 16 for item in items)  # without replacement within an epoch
    assert len(set(negatives)) > 16 * 4  # 5 epochs of a 950-document pool: ~80 distinct negatives, not 16
    # The teacher scores follow the drawn documents: the pool score of d<i> is -i, the positive's clamped 5.
    for item in items:
        assert item["teacher"].tolist() == [[5.0] + [-float(doc[1:]) for doc in item["doc_ids"][1:]]]
    again = draws(DistillDataset(path, negatives=16, seed=7), 0, 5)
    assert [item["doc_ids"] for item in again] == [item["doc_ids"] for item in items]  # a seed reproduces the run
    other = draws(DistillDataset(path, negatives=16, seed=8), 0, 5)
    assert [item["doc_ids"] for item in other] != [item["doc_ids"] for item in items]
    assert dataset[1]["doc_ids"] != dataset[0]["doc_ids"]  # each turn its own draw


def test_small_pools_fill_with_replacement(tmp_path):
    dataset = DistillDataset(distillation(tmp_path, [record(pool_size=3)]), negatives=16)
    item = dataset[0]
    assert len(item["doc_ids"]) == 17 and set(item["doc_ids"][1:]) <= {"d0", "d1", "d2"}


def test_one_positive_per_turn_per_epoch(tmp_path):
    dataset = DistillDataset(distillation(tmp_path, [record(positives=("p1", "p2", "p3"))]), negatives=2)
    assert len(dataset) == 1  # one example per turn, not one per positive
    items = draws(dataset, 0, 12)
    firsts = [item["doc_ids"][0] for item in items]
    assert set(firsts) == {"p1", "p2", "p3"}
    assert all(not set(item["doc_ids"][1:]) & {"p1", "p2", "p3"} for item in items)


def test_positive_score_clamp(tmp_path):
    """The reference scores a positive outside ranks skip_top+1..max_rank with the best score there."""
    run = {f"d{i}": float(100 - i) for i in range(30)}  # d0 ranks first with 100
    turn = Turn("q", "t", "what about it?", ())
    plan = Plan(turn, ["d3", "d15", "gone"], [f"d{i}" for i in range(25)])  # ranking cut at max_rank 25
    row = turn_record(plan, {"t": run}, {"t": (71.0, 100.0)}, skip_top=10, input_policy="raw")
    scores = row["teachers"]["t"]
    assert row["pool"] == [f"d{i}" for i in range(10, 25) if i != 15]
    assert scores["clamped"] == [90.0, 85.0, 90.0]  # d3: in the top 10, d15: its own score, gone: best of 11..25
    assert scores["positives"] == [97.0, 85.0, None]  # own scores; the run never retrieved "gone"
    path = distillation(tmp_path, [row])
    assert DistillDataset(path, negatives=0)[0]["teacher"].tolist() == [[90.0]]  # reference: d3 gets 90
    exact = DistillDataset(path, negatives=0, positive_score="exact")
    assert {float(draw["teacher"][0, 0]) for draw in draws(exact, 0, 30)} == {97.0, 85.0, 90.0}  # unknown: clamped


def test_fusion_and_norm(tmp_path):
    rows = record(pool_size=2, teachers=("a", "b"))
    rows["teachers"]["b"]["pool"] = [4.0, 6.0]
    rows["teachers"]["b"]["clamped"] = [9.0]
    path = distillation(tmp_path, [rows], teachers=("a", "b"))
    pick = dict(negatives=2, seed=0)
    first = DistillDataset(path, **pick)[0]
    order = [-float(doc[1:]) for doc in first["doc_ids"][1:]]  # pool scores of teacher a: 0 and -1
    b = {0.0: 4.0, -1.0: 6.0}
    assert first["teacher"].tolist() == [[7.0] + [(s + b[s]) / 2 for s in order]]
    assert DistillDataset(path, fusion="max", **pick)[0]["teacher"].tolist() == [[9.0] + [max(s, b[s]) for s in order]]
    assert DistillDataset(path, fusion="separate", **pick)[0]["teacher"].shape == (2, 3)
    assert DistillDataset(path, ["b"], **pick)[0]["teacher"].tolist() == [[9.0] + [b[s] for s in order]]
    # norm: teacher a's run range [-1000, 20] onto the student's [0, 2] for the turn, as the reference rescales.
    normed = DistillDataset(path, ["a"], norm={"q": {"x": 0.0, "y": 2.0}}, **pick)[0]["teacher"][0]
    expected = [(s + 1000) / (1020 + 1e-8) * (2 + 1e-8) for s in [5.0] + order]
    assert normed.tolist() == pytest.approx(expected)
    with pytest.raises(InputError, match="norm run has no scores for turn q"):
        DistillDataset(path, norm={"other": {"x": 1.0}})
    with pytest.raises(InputError, match="no scores from teacher"):
        DistillDataset(path, ["mistral"])


def test_old_or_foreign_files_are_refused(tmp_path):
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"qid": "q", "query": "x", "doc_ids": ["a"], "teacher_scores": {"t": [1.0]}}) + "\n")
    with pytest.raises(InputError, match=r"old.jsonl:1: this file is in the old distillation format.*rebuild"):
        read_distillation(old)
    future = tmp_path / "future.jsonl"
    future.write_text(json.dumps({**header(["t"], "x"), "version": 3}) + "\n")
    with pytest.raises(InputError, match="version 3 is not the supported 2"):
        read_distillation(future)
    with pytest.raises(InputError, match="distillation file not found"):
        read_distillation(tmp_path / "missing.jsonl")


# --- teacher runs ----------------------------------------------------------------------------------------------

def test_run_fusions():
    first = {"q": {"a": 1.0, "b": 5.0}}
    second = {"q": {"b": 2.0, "c": 3.0}}
    assert fuse_runs([first, second], "merge") == {"q": {"c": 3.0, "b": 2.0, "a": 1.0}}  # the last-listed run wins
    assert list(fuse_runs([first, second], "merge")["q"]) == ["c", "b", "a"]
    assert fuse_runs([first, second], "mean") == {"q": {"a": 1.0, "b": 3.5, "c": 3.0}}
    assert fuse_runs([first, second], "max") == {"q": {"a": 1.0, "b": 5.0, "c": 3.0}}
    deep = [{"q": {f"x{i}": float(i) for i in range(800)}}, {"q": {f"y{i}": float(i) for i in range(800)}}]
    assert len(fuse_runs(deep, "merge")["q"]) == 1000


def test_released_run_json_builds_without_corpus_or_encoder(tmp_path, capsys):
    """A made-up run.json shaped like slupart/topiocqa-distillation-*-splade: qids are row numbers of the DPR
    all_history file (the reference's parse_topiocqa.py), doc ids the wiki passage ids, scores floats."""
    from disco_pyserini.topics import load_topics
    from disco_pyserini.train.__main__ import main

    turns = list(load_topics(TOPIOCQA))
    run = {str(row): {str(1000 + row * 100 + rank): 30.0 - rank * 0.5 for rank in range(40)} for row in range(3)}
    run["0"]["1"] = 29.99  # the positive of row 0 (passage 1) ranks 2nd: outside the kept ranks 11-960
    (tmp_path / "run.json").write_text(json.dumps(run))
    (tmp_path / "qrels.json").write_text(json.dumps({"0": {"1": 1}, "1": {"1115": 1}, "3": {"7": 0}}))
    out = tmp_path / "distill.jsonl"
    assert main(["build", "--topics", str(TOPIOCQA), "--qrels", str(tmp_path / "qrels.json"), "--teacher-run",
                 f"llama-mistral={tmp_path / 'run.json'}", "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert "query ids are 0-based row numbers of the topics file" in captured.err
    assert f"2 training turns of {len(turns)}" in captured.out
    head, records = read_distillation(out)
    rows = list(records)
    assert head["teachers"] == ["llama-mistral"] and head["source"] == "teacher-run"
    assert [row["qid"] for row in rows] == [turns[0].query_id, turns[1].query_id] == ["1_1", "1_2"]
    first, second = rows
    assert first["positives"] == ["1"] and len(first["pool"]) == 31  # ranks 11-41 of 41 documents
    assert first["pool"][0] == str(1000 + 9) and first["teachers"]["llama-mistral"]["pool"][0] == 25.5
    assert first["teachers"]["llama-mistral"]["clamped"] == [25.5]  # positive at rank 2: the best of ranks 11+
    assert first["teachers"]["llama-mistral"]["positives"] == [29.99]
    assert second["positives"] == ["1115"] and second["teachers"]["llama-mistral"]["clamped"] == [22.5]
    assert "1115" not in second["pool"]
    assert first["teachers"]["llama-mistral"]["range"] == [10.5, 30.0]
    # The same run, given to the trainer's dataset directly.
    assert len(DistillDataset(out)) == 2


def test_teacher_run_errors(tmp_path):
    from disco_pyserini.topics import load_topics

    turns = list(load_topics(TOPIOCQA))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"0": {"a": "high"}}))
    with pytest.raises(InputError, match="query 0: expected an object"):
        teacher_run_distillation(turns, {"0": {"a": 1}}, [("t", bad)], rows_expected=True)
    far = tmp_path / "far.json"
    far.write_text(json.dumps({"0": {"a": 1.0}, "99": {"a": 1.0}}))
    with pytest.raises(InputError, match="not row numbers of the 4 topic turns"):
        teacher_run_distillation(turns, {"1_1": {"a": 1}}, [("t", far)], qids="row")
    with pytest.raises(InputError, match="no training turn"):
        teacher_run_distillation(turns, {"1_1": {"zzz": 1}}, [("t", far)], qids="topic")
    assert read_training_qrels(_write(tmp_path / "q.json", {"0": {"a": 1}})) == {"0": {"a": 1}}


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


# --- the rewrites builder -----------------------------------------------------------------------------------------

def test_rewrite_scores_are_fp32_dot_products(lexical_splade, tmp_path):
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, QRELS
    from disco_pyserini.topics import load_topics
    from disco_pyserini.train.documents import dense_vectors

    turns = [turn for turn in load_topics(CONVERSATIONS) if turn.topic_id == "c121"]
    turns = [turn._replace(rewrites=(("copy", turn.utterance),)) for turn in turns]
    docs = [json.loads(line)["id"] for line in CORPUS.read_text().splitlines()]
    run = tmp_path / "run.trec"
    run.write_text("".join(f"{t.query_id} Q0 {doc} {rank} {100 - rank} x\n" for t in turns
                           for rank, doc in enumerate(docs[:60], 1)))
    encoder = SpladeEncoder(str(lexical_splade), device="cpu", dtype="fp32", batch_size=7)
    head, records, stats = rewrite_distillation(turns, read_training_qrels(QRELS), run, CORPUS, ["manual", "copy"],
                                                encoder, encoder, skip_top=2, max_rank=40, progress=False)
    rows = list(records)
    assert head["teachers"] == ["manual", "copy"] and head["dtype"] == "float32" and len(rows) == stats.turns
    row = rows[0]
    assert len(row["pool"]) == 38 - len(set(row["positives"]) & set(docs[2:40]))
    texts = {json.loads(line)["id"]: json.loads(line)["contents"] for line in CORPUS.read_text().splitlines()}
    turn = next(turn for turn in turns if turn.query_id == row["qid"])
    query = dense_vectors(encoder, [turn.manual_rewrite])
    expected = (query @ dense_vectors(encoder, [texts[doc] for doc in row["pool"][:5]]).T)[0].tolist()
    assert row["teachers"]["manual"]["pool"][:5] == pytest.approx(expected, abs=1e-4)
    positive = (query @ dense_vectors(encoder, [texts[row["positives"][0]]]).T).item()
    assert row["teachers"]["manual"]["positives"][0] == pytest.approx(positive, abs=1e-4)
    with pytest.raises(InputError, match="has no rewrite from teacher 'other'"):
        list(rewrite_distillation(turns, read_training_qrels(QRELS), run, CORPUS, ["other"], encoder, encoder,
                                  progress=False)[1])


def test_sparsity(lexical_splade):
    from disco_pyserini.analysis.sparsity import sparsity
    from disco_pyserini.encode.splade import SpladeEncoder

    encoder = SpladeEncoder(str(lexical_splade), device="cpu")
    stats = sparsity(encoder, encoder, ["tenolo diet", "bidaka habitat"], ["the tenolo eats seeds", "bidaka"])
    assert stats.query_terms == 2 and 0 < stats.flops <= stats.query_terms
    assert sparsity(encoder, encoder, ["tenolo diet"], ["tenolo"], query_topk=1).query_terms == 1


def test_build_and_sparsity_commands(lexical_splade, tmp_path, capsys):
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, QRELS
    from disco_pyserini.topics import load_topics
    from disco_pyserini.train.__main__ import main

    turns = [turn for turn in load_topics(CONVERSATIONS) if turn.topic_id in ("c121", "c122")]
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
                 "--teacher", "copy", "--skip-top", "4", "--device", "cpu", "--output", str(out),
                 "--no-progress"]) == 0
    head, records = read_distillation(out)
    rows = list(records)
    qrels = read_training_qrels(QRELS)
    judged = {t.query_id: sorted(doc for doc, rel in qrels.get(t.query_id, {}).items() if rel >= 1) for t in turns}
    assert {row["qid"]: row["positives"] for row in rows} == {qid: pos for qid, pos in judged.items() if pos}
    assert all(set(row["teachers"]) == {"manual", "copy"} for row in rows)
    assert head["doc_encoder"] == str(lexical_splade) and head["skip_top"] == 4
    assert f"{len(rows)} training turns of {len(turns)}" in capsys.readouterr().out
    with pytest.raises(InputError, match="not both"):
        main(["build", "--topics", str(topics), "--qrels", str(QRELS), "--run", str(run), "--teacher-run", str(run),
              "--output", str(out)])
    with pytest.raises(InputError, match="need --corpus and --doc-encoder"):
        main(["build", "--topics", str(topics), "--qrels", str(QRELS), "--run", str(run), "--output", str(out)])

    assert main(["sparsity", "--encoder", str(lexical_splade), "--topics", str(topics), "--corpus", str(CORPUS),
                 "--query-topk", "2", "--device", "cpu"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["queries"] == len(turns) and stats["query_terms"] <= 2 and stats["documents"] == len(docs)


def test_train_help_does_not_load_torch():
    import subprocess
    import sys

    code = ("import sys, runpy; sys.argv = ['x', 'build', '--help']\ntry: runpy.run_module('disco_pyserini.train', "
            "run_name='__main__')\nexcept SystemExit: pass\nprint(sorted(m for m in ('torch', 'transformers') "
            "if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "--teacher-run" in result.stdout and result.stderr.strip().endswith("[]")


def test_training_config_takes_a_teacher_run(lexical_splade, tmp_path):
    """``teacher_run`` + ``topics`` + ``qrels`` in the config: the run is built in memory and trained on."""
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, QRELS
    from disco_pyserini.train.config import load_config
    from disco_pyserini.train.trainer import build_trainer

    docs = [json.loads(line)["id"] for line in CORPUS.read_text().splitlines()]
    qids = sorted(read_training_qrels(QRELS))
    run = _write(tmp_path / "run.json", {qid: {doc: 50.0 - rank for rank, doc in enumerate(docs[:30])} for qid in qids})
    config = load_config(None, [f"teacher_run={run}", f"topics={CONVERSATIONS}", f"qrels={QRELS}"], corpus=str(CORPUS),
                         model=str(lexical_splade), output_dir=str(tmp_path / "out"), max_steps=2, batch_size=2,
                         negatives=4, training_args={"disable_tqdm": True})
    assert config.teacher_run == [str(run)]
    trainer = build_trainer(config)
    assert trainer.train_dataset.teachers == ["run"] and len(trainer.train_dataset) == len(qids)
    trainer.train()
    assert trainer.state.global_step == 2


def test_numeric_qids_are_row_numbers_only_where_expected(tmp_path):
    """Row numbers are the authors' TopiOCQA convention; elsewhere numeric ids must be declared (--qids row)."""
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.topics import load_topics

    turns = list(load_topics(CONVERSATIONS))
    run = _write(tmp_path / "run.json", {"0": {f"d{i}": float(-i) for i in range(20)}})
    qrels = {"0": {"d15": 1}}
    with pytest.raises(InputError, match="run.json: query ids are numbers that name no topic turn.*--qids row"):
        teacher_run_distillation(turns, {turns[0].query_id: {"d15": 1}}, [("t", run)])
    head, records, stats = teacher_run_distillation(turns, qrels, [("t", run)], qids="row")
    assert [row["qid"] for row in records] == [turns[0].query_id]
    assert len(stats.notes) == 2 and "row i = turn i" in stats.notes[0]
