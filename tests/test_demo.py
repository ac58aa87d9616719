"""The README's one-command demo, end to end: encode -> index -> search -> evaluate on the sample."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_demo_runs_the_whole_pipeline_and_prints_the_table(tmp_path):
    result = subprocess.run([sys.executable, "-m", "disco_pyserini.demo", "--workdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("|")[1].strip(): [float(v.strip(" *†‡")) for v in line.split("|")[2:-1]]
            for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| method")}
    assert set(rows) == {"splade raw (tiny-lexical)", "splade concat (tiny-lexical)", "splade disco (tiny-lexical)",
                         "splade manual (tiny-lexical)", "bm25 raw (bm25)", "bm25 manual (bm25)"}
    # the human rewrite resolves the omitted entity: far better than the raw last utterance
    assert rows["splade manual (tiny-lexical)"][0] > rows["splade raw (tiny-lexical)"][0] + 0.3
    assert "relevance >= 2" in result.stdout
    for run in sorted((tmp_path / "runs").glob("sample.*.trec")):  # the bundled runs are this demo's output
        assert run.read_text() == (REPO / "runs" / run.name).read_text()
