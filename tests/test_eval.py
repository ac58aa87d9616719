"""Evaluation: trec_eval (pytrec_eval) agreement, dataset conventions, significance and the CLI."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest
import pytrec_eval

from disco_pyserini.errors import InputError
from disco_pyserini.eval.metrics import evaluate
from disco_pyserini.eval.qrels import read_qrels
from disco_pyserini.eval.significance import holm
from disco_pyserini.eval.tables import format_table
from tests.conftest import QRELS

TREC_NAMES = {"MRR": "recip_rank", "nDCG@3": "ndcg_cut_3", "R@100": "recall_100", "R@1000": "recall_1000",
              "AP": "map"}


def trec_eval_means(qrels, run, rel: int) -> dict[str, float]:
    """trec_eval -c: mean over every judged query, zero for those missing from the run.
    Binary measures at ``rel``; nDCG from a separate evaluator without a threshold (graded gains)."""
    binary = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "recall_100", "recall_1000", "map"},
                                            relevance_level=rel).evaluate(run)
    graded = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_3"}).evaluate(run)
    means = {}
    for ours, theirs in TREC_NAMES.items():
        source = graded if theirs == "ndcg_cut_3" else binary
        means[ours] = sum(source.get(q, {}).get(theirs, 0.0) for q in qrels) / len(qrels)
    return means


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_hand_made_run_with_missing_and_unjudged_queries(tmp_path):
    qrels = {"q1": {"a": 2, "b": 0, "c": 1}, "q2": {"d": 0, "e": 1}, "q3": {"f": 3}, "q4": {"g": 2}}
    run = {"q1": {"b": 3.0, "a": 2.0, "c": 1.0}, "q2": {"e": 2.0, "d": 1.0}, "q3": {"x": 1.0},
           "q9": {"a": 9.0}}  # q4 judged but missing; q9 unjudged
    result = evaluate({"r": run}, qrels, metrics=list(TREC_NAMES), rel=2)
    expected = trec_eval_means(qrels, run, rel=2)
    assert result.summary.loc["r"].to_dict() == pytest.approx(expected, abs=1e-9)
    assert result.summary.loc["r", "MRR"] == pytest.approx((1 / 2 + 0 + 0 + 0) / 4)  # by hand
    assert any("1 of 4 judged queries are missing" in w for w in result.warnings)
    assert any("1 of 4 run queries have no judgments" in w for w in result.warnings)
    per_query = result.per_query.set_index(["query_id", "metric"])["value"]
    assert per_query[("q4", "MRR")] == 0.0 and "q9" not in result.per_query["query_id"].values


@pytest.mark.parametrize("year, rel", [(2019, 1), (2019, 2), (2020, 1), (2020, 2)])
def test_real_cast_qrels_match_trec_eval(year, rel):
    qrels = read_qrels(QRELS / f"cast{year}.qrels.txt")
    rng = random.Random(year * 10 + rel)
    all_docs = sorted({d for docs in qrels.values() for d in docs})
    run = {}
    for qid in sorted(qrels)[:-5]:  # the last five judged turns are missing from the run
        pool = sorted(qrels[qid]) + rng.sample(all_docs, 30)
        rng.shuffle(pool)
        run[qid] = {doc: float(len(pool) - i) for i, doc in enumerate(dict.fromkeys(pool))}
    run["999_1"] = {all_docs[0]: 1.0}
    result = evaluate({"synthetic": run}, QRELS / f"cast{year}.qrels.txt", metrics=list(TREC_NAMES), rel=rel)
    assert result.summary.loc["synthetic"].to_dict() == pytest.approx(trec_eval_means(qrels, run, rel), abs=1e-9)


def test_dataset_conventions_and_override():
    run = {"81_1": {"CAR_3add84966af079ed84e8b2fc412ad1dc27800127": 1.0}}  # a rel-1 document
    default = evaluate({"r": run}, "cast2020", metrics=["MRR@10"])
    assert "cast2020" in default.convention and "relevance >= 2" in default.convention
    lenient = evaluate({"r": run}, "cast2020", metrics=["MRR@10"], rel=1)
    assert "relevance >= 1 (override)" in lenient.convention
    judged = len(read_qrels(QRELS / "cast2020.qrels.txt"))
    assert default.summary.loc["r", "MRR@10"] == 0.0
    assert lenient.summary.loc["r", "MRR@10"] == pytest.approx(1 / judged)
    assert "relevance >= 1" in evaluate({"r": run}, "cast2019", metrics=["MRR@10"]).convention


def test_missing_dataset_qrels_and_bad_files(tmp_path):
    with pytest.raises(InputError, match="no qrels for ikat2023; get them from TREC iKAT 2023"):
        evaluate({"r": {}}, "ikat2023")
    with pytest.raises(InputError, match="qrels file not found"):
        evaluate({"r": {}}, tmp_path / "nope.txt")
    bad_qrels = write(tmp_path / "q.txt", ["q1 0 d1 1", "q1 0 d2 high"])
    with pytest.raises(InputError, match=r"q.txt:2: relevance 'high' is not an integer"):
        read_qrels(bad_qrels)
    bad_run = write(tmp_path / "run.txt", ["q1 Q0 d1 1 2.0 tag", "q1 Q0 d2 2 tag"])
    with pytest.raises(InputError, match=r"run.txt:2: expected 'qid Q0 docid rank score tag'"):
        evaluate(str(bad_run), write(tmp_path / "ok.txt", ["q1 0 d1 1"]))
    with pytest.raises(InputError, match="unknown metric 'MRR@ten'"):
        evaluate({"r": {}}, {"q": {"d": 1}}, metrics=["MRR@ten"])


def test_significance_marks_a_clearly_better_run():
    qrels = {f"q{i}": {"good": 1, "bad": 0} for i in range(30)}
    weak = {q: {"bad": 2.0, "good": 1.0} if i % 3 else {"good": 2.0, "bad": 1.0} for i, q in enumerate(qrels)}
    strong = {q: {"good": 2.0, "bad": 1.0} for q in qrels}
    result = evaluate({"weak": weak, "strong": strong, "same": weak}, qrels, metrics=["MRR@10"])
    table = format_table(result, "markdown")
    assert "| strong | **1.000**† |" in table and "| same | 0.667 |" in table
    assert "significantly better/worse than weak" in table
    latex = format_table(result, "latex")
    assert "\\textbf{1.000}$^{†}$" in latex and latex.startswith("\\begin{tabular}{lr}")
    assert "MRR@10 sig" in format_table(result, "csv")
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_cli_table_output_and_help_is_light(tmp_path):
    run = write(tmp_path / "mine.txt", ["81_1 Q0 CAR_3add84966af079ed84e8b2fc412ad1dc27800127 1 9.0 x"])
    out = tmp_path / "table.md"
    result = subprocess.run([sys.executable, "-m", "disco_pyserini.eval", "--run", str(run), "--qrels", "cast2020",
                             "--output", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("| run | MRR | MRR@10 | nDCG@3 | R@100 | R@1000 |")
    assert "| mine | 0.000 |" in result.stdout and out.read_text() == result.stdout
    assert "MRR = reciprocal rank over the whole run (trec_eval recip_rank; the authors' mrr_1000" in result.stdout
    assert "judged queries are missing and score 0" in result.stderr
    bad = subprocess.run([sys.executable, "-m", "disco_pyserini.eval", "--run", str(tmp_path / "none.txt"),
                          "--qrels", "cast2020"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")
    code = ("import sys, runpy; sys.argv = ['x', '--help'];\ntry: runpy.run_module('disco_pyserini.eval', "
            "run_name='__main__')\nexcept SystemExit: pass\nprint(sorted(m for m in ('torch', 'jnius', 'pandas', "
            "'ir_measures', 'transformers') if m in sys.modules), file=sys.stderr)")
    light = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert light.stderr.strip().splitlines()[-1] == "[]"


def test_paper_table_rows_per_method_and_columns_per_dataset(tmp_path):
    from disco_pyserini.eval.paper import format_paper_table, paper_table, parse_run_name

    qrels = {f"q{i}": {"good": 2, "meh": 1, "bad": 0} for i in range(20)}
    write(tmp_path / "toy.qrels", [f"{q} 0 {d} {r}" for q, docs in qrels.items() for d, r in docs.items()])
    runs = []
    for method, first in (("bm25.raw.bm25", "bad"), ("disco.conversation.student", "good")):
        for dataset in ("toy", "other"):
            lines = [f"{q} Q0 {first} 1 2.0 t" for q in qrels] + [f"{q} Q0 meh 2 1.0 t" for q in qrels]
            runs.append(write(tmp_path / f"{dataset}.{method}.trec", lines))
    layout = paper_table(runs, ["MRR@10", "nDCG@3"], {"toy": str(tmp_path / "toy.qrels"),
                                                      "other": str(tmp_path / "toy.qrels")},
                         baseline="bm25 raw (bm25)")
    assert list(layout.values.index) == ["bm25 raw (bm25)", "disco conversation (student)"]
    assert layout.values.loc["disco conversation (student)", ("toy", "MRR@10")] == 1.0
    # custom qrels default to relevance >= 1: the rel-1 document at rank 2 gives the baseline 0.5
    assert layout.values.loc["bm25 raw (bm25)", ("toy", "MRR@10")] == 0.5
    markdown = format_paper_table(layout)
    assert markdown.splitlines()[0] == "| method | toy MRR@10 | toy nDCG@3 | other MRR@10 | other nDCG@3 |"
    assert "| disco conversation (student) | **1.000**† |" in markdown
    assert "\\multicolumn{2}{c}{toy}" in format_paper_table(layout, "latex")
    with pytest.raises(InputError, match="DATASET.RETRIEVER.INPUT.MODEL.trec"):
        parse_run_name("cast2020-bm25.trec")
    cast_run = write(tmp_path / "cast2020.bm25.raw.bm25.trec", ["81_1 Q0 nothing 1 1.0 t"])
    cast = paper_table([cast_run], ["MRR@10"])
    assert "relevance >= 2" in cast.conventions["cast2020"] and cast.warnings


def test_paper_table_shows_binary_columns_at_both_relevance_levels(tmp_path, capsys):
    from disco_pyserini.eval.__main__ import main
    from disco_pyserini.eval.paper import format_paper_table, paper_table

    graded = {f"q{i}": {"good": 2, "meh": 1, "bad": 0} for i in range(4)}
    write(tmp_path / "graded.qrels", [f"{q} 0 {d} {r}" for q, docs in graded.items() for d, r in docs.items()])
    write(tmp_path / "binary.qrels", [f"{q} 0 good 1" for q in graded])
    runs = []
    for dataset in ("cast2020", "topiocqa"):
        lines = [f"{q} Q0 {d} {rank} {3 - rank}.0 t" for q in graded for rank, d in enumerate(("meh", "good"), 1)]
        runs.append(write(tmp_path / f"{dataset}.splade.disco.student.trec", lines))
    qrels = {"cast2020": str(tmp_path / "graded.qrels"), "topiocqa": str(tmp_path / "binary.qrels")}
    layout = paper_table(runs, qrels=qrels, rels=[1, 2])
    row = layout.values.loc["splade disco (student)"]
    assert list(row["cast2020"].index) == ["MRR@10 rel>=1", "MRR@10 rel>=2", "MRR rel>=1", "MRR rel>=2", "nDCG@3",
                                           "R@10 rel>=1", "R@10 rel>=2", "R@100 rel>=1", "R@100 rel>=2"]
    # the partly relevant document first: relevant at >= 1 (the authors' pytrec_eval default), not at >= 2 (TREC's)
    assert (row[("cast2020", "MRR rel>=1")], row[("cast2020", "MRR rel>=2")]) == (1.0, 0.5)
    assert row[("cast2020", "nDCG@3")] == pytest.approx(evaluate(str(runs[0]), graded, ["nDCG@3"]).summary.iloc[0, 0])
    # binary qrels have no grade 2: shown at >= 1 only, with plain labels
    assert list(row["topiocqa"].index) == ["MRR@10", "MRR", "nDCG@3", "R@10", "R@100"]
    assert "relevance >= 1 and >= 2 (the dataset's convention: >= 2)" in layout.conventions["cast2020"]
    assert "the paper's MRR column is one of MRR@10 and MRR" in format_paper_table(layout)
    assert main(["--table", "--run", *map(str, runs), "--qrels", *(f"{k}={v}" for k, v in qrels.items()),
                 "--rel", "1", "--rel", "2", "--metrics", "MRR"]) == 0
    assert capsys.readouterr().out.startswith("| method | cast2020 MRR rel>=1 | cast2020 MRR rel>=2 | topiocqa MRR |")


def test_duplicates_are_dropped_before_evaluation(tmp_path):
    from disco_pyserini.eval.duplicates import read_duplicates

    # The organisers' format: the original is kept, the ids after the colon are dropped, also as the document of
    # a CAsT 2022 passage id (MARCO_2-1 belongs to MARCO_2).
    duplicates = write(tmp_path / "dups.txt", ["MARCO_1:MARCO_2,MARCO_3", "KILT_9"])
    assert read_duplicates(duplicates) == {"MARCO_2", "MARCO_3", "KILT_9"}
    qrels = {"q1": {"MARCO_1-1": 2, "MARCO_5-1": 2}}
    run = {"q1": {"MARCO_2-1": 9.0, "KILT_9": 8.0, "MARCO_1-1": 7.0, "MARCO_5-1": 6.0}}
    plain = evaluate({"r": run}, qrels, metrics=["MRR", "P@2"], rel=2)
    assert plain.summary.loc["r", "MRR"] == pytest.approx(1 / 3)
    deduplicated = evaluate({"r": run}, qrels, metrics=["MRR", "P@2"], rel=2, duplicates=duplicates)
    assert deduplicated.summary.loc["r"].to_dict() == {"MRR": 1.0, "P@2": 1.0}
    assert "r: 2 duplicate document(s) dropped before evaluation" in deduplicated.warnings
    bad = write(tmp_path / "bad.txt", ["MARCO_1:MARCO_2 MARCO_3"])
    with pytest.raises(InputError, match=r"bad.txt:1: expected 'original:dup1,dup2,...'"):
        read_duplicates(bad)
    runfile = write(tmp_path / "cast2022.trec", [f"q1 Q0 {d} {i} {s} t" for i, (d, s) in enumerate(run["q1"].items(), 1)])
    qrelsfile = write(tmp_path / "q.txt", [f"q1 0 {d} {r}" for d, r in qrels["q1"].items()])
    cli = subprocess.run([sys.executable, "-m", "disco_pyserini.eval", "--run", str(runfile), "--qrels", str(qrelsfile),
                          "--rel", "2", "--metrics", "MRR", "--duplicates", str(duplicates)], capture_output=True,
                         text=True)
    assert cli.returncode == 0 and "| cast2022 | 1.000 |" in cli.stdout, cli.stderr


@pytest.mark.parametrize("case", ["latin1-run", "latin1-qrels", "run-is-dir", "output-is-dir", "output-under-file"])
def test_bad_eval_input_is_one_line_and_exit_2(tmp_path, case):
    run = write(tmp_path / "run.trec", ["q1 Q0 d1 1 2.0 t"])
    qrels = write(tmp_path / "q.txt", ["q1 0 d1 1"])
    output = []
    if case == "latin1-run":
        run.write_bytes("q1 Q0 d\xe9 1 2.0 t\n".encode("latin-1"))
    elif case == "latin1-qrels":
        qrels.write_bytes("q1 0 d1 1\nq1 0 d\xe9 1\n".encode("latin-1"))
    elif case == "run-is-dir":
        run = tmp_path
    elif case == "output-is-dir":
        output = ["--output", str(tmp_path)]
    else:
        output = ["--output", str(qrels / "table.md")]
    result = subprocess.run([sys.executable, "-m", "disco_pyserini.eval", "--run", str(run), "--qrels", str(qrels),
                             *output], capture_output=True, text=True)
    expected = {"latin1-run": "run.trec:1: not UTF-8", "latin1-qrels": "q.txt:2: not UTF-8",
                "run-is-dir": "is a directory; give the run file itself", "output-is-dir": "--output is a directory",
                "output-under-file": "q.txt is a file"}[case]
    assert result.returncode == 2 and result.stderr.startswith("error: ") and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
