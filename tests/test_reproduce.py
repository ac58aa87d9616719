"""The reproduction matrix: the catalogue's real conditions parse with our CLIs' own argument parsers (dry run),
and the sample world's conditions run end to end, are scored and match their expected numbers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from disco_pyserini import cli
from disco_pyserini.errors import InputError
from disco_pyserini.reproduce.__main__ import main
from disco_pyserini.reproduce.catalogue import Expected, build_conditions, read_catalogue, select
from disco_pyserini.reproduce.scores import compare
from disco_pyserini.reproduce.steps import parse_command, toolkit_command

REPO = Path(__file__).resolve().parents[1]
CARD = "model card of slupart/splade-disco-human-mistral"


@pytest.fixture(scope="module")
def conditions(tmp_path_factory):
    work = tmp_path_factory.mktemp("catalogue")
    return build_conditions(read_catalogue(), str(work), str(work / "data"))


def test_catalogue_has_a_named_row_per_table_row_with_sourced_scores(conditions):
    names = [c.name for c in conditions]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+\.[a-z0-9-]+", name) for name in names)
    assert {"topiocqa", "qrecc", "cast2020", "cast2022", "ikat2023", "ikat2024", "sample"} <= {c.dataset
                                                                                               for c in conditions}
    by_name = {c.name: c for c in conditions}
    # the numbers of the released checkpoint's model card and of the reproducibility study, with their source
    card = {"qrecc": (0.928, 0.498, 0.487), "cast2020": (0.531, 0.483, 0.353), "cast2022": (0.334, 0.512, 0.322),
            "ikat2023": (0.147, 0.192, 0.125)}
    for dataset, (recall, mrr, ndcg) in card.items():
        expected = by_name[f"{dataset}.disco-human-mistral.disco"].expected
        assert expected.scores["R@100"] == recall and expected.scores["MRR"] == mrr
        assert expected.scores["nDCG@3"] == ndcg and CARD in expected.source
    assert by_name["topiocqa.disco-topiocqa-mistral.disco"].expected.scores == {
        "R@100": 0.879, "R@10": 0.676, "MRR": 0.409, "nDCG@3": 0.396}
    assert by_name["topiocqa.splade-pp-ed.rewrite-mistral"].expected.scores["MRR"] == 0.372
    for condition in conditions:  # a number always names its source; a row without one says why
        assert condition.expected.source if condition.expected.scores else condition.expected.missing
    # the rows the paper has: raw, concat, the teachers' rewrites, students and BM25
    cast = {c.name for c in conditions if c.dataset == "cast2020"}
    assert {"cast2020.splade-pp-ed.raw", "cast2020.splade-pp-ed.concat", "cast2020.splade-pp-ed.manual",
            "cast2020.splade-pp-ed.rewrite-mistral", "cast2020.disco-human.disco", "cast2020.bm25.raw"} <= cast


def test_conditions_share_their_collection_steps_and_spell_out_their_flags(conditions):
    by_name = {c.name: c for c in conditions}
    raw, student = by_name["cast2020.splade-pp-ed.raw"], by_name["cast2020.disco-human-mistral.disco"]
    assert raw.steps[:-1] == student.steps[:-1]  # same downloads, encoding and index: run once, reused
    search = student.steps[-1].command
    for flag in ("--history-cut cast", "--history-responses all", "--responses-from", "--hits 1000",
                 "--encoder slupart/splade-disco-human-mistral", "--policy disco"):
        assert flag in search
    assert "--qrels cast2020 --dataset cast2020 --rel 2" in student.eval_command
    mistral = by_name["cast2020.splade-pp-ed.rewrite-mistral"].steps[-1].command
    assert "--rewrites mistral=slupart/cast20-rewrite-mistral --policy" not in mistral  # flags keep their order
    assert "--policy rewrite:mistral --rewrites mistral=slupart/cast20-rewrite-mistral" in mistral
    assert any(step.manual for step in student.steps)  # the licensed collection is a manual download


def test_every_real_command_parses_with_its_clis_own_parser(conditions):
    parsed = 0
    for condition in conditions:
        for command in [step.command for step in condition.steps] + [condition.eval_command]:
            if toolkit_command(command):
                parse_command(command)
                parsed += 1
    assert parsed > 200
    args = parse_command("python -m disco_pyserini.search --index i --topics t --encoder e --output o --hits 10")
    assert args.hits == 10 and args.policy == "disco"
    with pytest.raises(InputError, match="unrecognized arguments: --hitz"):
        parse_command("python -m disco_pyserini.search --index i --topics t --encoder e --output o --hitz 10")
    with pytest.raises(InputError, match="train rejects"):
        parse_command("python -m disco_pyserini.train build --topics t --output o")  # --qrels is required


def test_dry_run_of_every_condition_parses_and_shows_what_would_run(tmp_path, capsys):
    assert main(["--all", "--dry-run", "--work-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("[score] python -m disco_pyserini.eval") == len(read_catalogue().conditions)
    assert "[missing] " in out and "(shared, listed above)" in out and "[done]" not in out
    # a catalogue whose command carries a flag the CLI does not know fails the dry run, naming the command
    bad = tmp_path / "bad.yaml"
    text = (Path(__file__).resolve().parents[1] / "disco_pyserini/reproduce/sample.yaml").read_text()
    bad.write_text(text.replace("--skip-top 0", "--skip-top 0 --skip-bottom 3"))
    catalogues = ["--catalogue", str(REPO / "disco_pyserini/reproduce/conditions.yaml"), "--catalogue", str(bad)]
    assert cli.run(main, [*catalogues, "--all", "--dataset", "sample", "--dry-run", "--work-dir",
                          str(tmp_path)]) == 2
    assert "unrecognized arguments: --skip-bottom 3" in capsys.readouterr().err


def test_selection_errors_are_one_line(capsys):
    assert cli.run(main, ["--condition", "cast2020.nope.disco", "--dry-run"]) == 2
    assert "error: unknown condition 'cast2020.nope.disco'; list them with --list" in capsys.readouterr().err
    assert cli.run(main, ["--dry-run"]) == 2
    assert "choose conditions" in capsys.readouterr().err


def test_compare_says_ok_or_off_by_how_much():
    expected = Expected({"MRR": 0.483, "R@100": 0.531}, "card", 0.005, "")
    verdict = compare({"MRR": 0.4861, "R@100": 0.5201, "nDCG@3": 0.3}, expected)
    assert verdict.checks == {"MRR": "OK", "R@100": "off by -0.011"} and not verdict.ok
    assert compare({"MRR": 0.488, "R@100": 0.531}, expected).ok  # exactly the tolerance away is within it


def test_steps_done_found_or_made_by_another_command(tmp_path):
    from disco_pyserini.reproduce.catalogue import Step
    from disco_pyserini.reproduce.steps import StepState, check_step

    output = tmp_path / "index"
    step = Step("index", "python -m disco_pyserini.index --input v --index index", str(output))
    state = StepState(tmp_path)
    assert state.status(step) == "to run"
    state.record(step, finished=False)
    output.mkdir()
    assert StepState(tmp_path).status(step) == "to run"  # interrupted: runs again (encoding resumes)
    state.record(step, finished=True)
    assert StepState(tmp_path).status(step) == "done"
    other = step._replace(command=step.command + " --optimize")
    with pytest.raises(InputError, match="was made by another command"):
        check_step(StepState(tmp_path), other)
    found = Step("index", "python -m disco_pyserini.index --input w --index elsewhere", str(tmp_path))
    assert state.status(found) == "found"  # there already, not made here: reused as it is


@pytest.fixture(scope="module")
def sample_matrix(tmp_path_factory):
    """The sample world's conditions run end to end once, as a user runs them."""
    work = tmp_path_factory.mktemp("sample_matrix")
    status = cli.run(main, ["--all", "--dataset", "sample", "--work-dir", str(work)])
    return work, status


def test_sample_conditions_run_end_to_end_and_match_their_expected_scores(sample_matrix, capsys):
    work, status = sample_matrix
    assert status == 0  # every sample condition within its tolerance of the expected scores
    sample = select(build_conditions(read_catalogue(), str(work), str(work / "data")), dataset="sample",
                    everything=True)
    assert all(condition.expected.scores for condition in sample)
    # the untrained rows are the demo's: the same runs as the bundled ones the demo writes
    for condition in sample:
        if "disco-human" not in condition.name:
            assert Path(condition.run).read_text() == (REPO / "runs" / Path(condition.run).name).read_text()
    # resumable: everything is done, nothing runs again; --only-eval scores the runs already there
    assert main(["--all", "--dataset", "sample", "--dry-run", "--work-dir", str(work)]) == 0
    out = capsys.readouterr().out
    assert "[to run]" not in out and out.count("[done]") >= len(sample)
    assert main(["--all", "--dataset", "sample", "--only-eval", "--work-dir", str(work)]) == 0
    assert main(["--condition", "sample.bm25.raw", "--work-dir", str(work)]) == 0
    assert "running:" not in capsys.readouterr().err


def test_matrix_renders_as_markdown_and_html_with_commands(sample_matrix, capsys):
    work, _ = sample_matrix
    page = work / "matrix.md"
    assert main(["--generate-report", str(page), "--dataset", "sample", "--work-dir", str(work)]) == 0
    text = page.read_text()
    assert "| `sample.disco-human-expansion.disco`" in text and "(OK)" in text and "off by" not in text
    assert "```bash\npython -m disco_pyserini.encode docs --encoder splade-tiny" in text
    html = work / "matrix.html"
    assert main(["--generate-report", str(html), "--work-dir", str(work)]) == 0  # every dataset, measured or not
    content = html.read_text()
    assert content.startswith("<!DOCTYPE html>") and "TREC CAsT 2020" in content and 'class="num ok"' in content
    assert "python -m disco_pyserini.train build" in content and "0.531" in content
