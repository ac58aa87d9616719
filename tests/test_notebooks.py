"""The notebooks execute top to bottom on the bundled sample runs, so they cannot rot."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str) -> list[str]:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", output
            data = output.get("data", {})
            texts.append(output.get("text", "") + data.get("text/markdown", "") + data.get("text/plain", "")
                         + ("<png>" if "image/png" in data else ""))
    return texts


def test_reproduce_table_notebook():
    outputs = "\n".join(execute("reproduce_table.ipynb"))
    assert "| splade disco (disco-human-expansion) | **1.000**† | **1.000**† | 0.833† |" in outputs
    assert "\\multicolumn{5}{c}{sample}" in outputs
    assert "warning:" not in outputs


def test_sparsity_efficiency_notebook():
    outputs = execute("sparsity_efficiency.ipynb")
    text = "\n".join(outputs)
    assert "80 turns, 1260 documents" in text
    assert text.count("<png>") == 2  # effectiveness vs query terms, cost per stage
    for row in ("student disco top-2", "base manual", "student disco", "onnx"):
        assert row in text
