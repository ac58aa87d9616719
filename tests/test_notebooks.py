"""The notebooks execute top to bottom on the bundled sample runs, so they cannot rot."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str, parameters: dict[str, object] | None = None) -> list[str]:
    """Run a notebook top to bottom; ``parameters`` replace its "# Parameters" cell's values, as papermill would."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = notebook.cells[next(i for i, c in enumerate(notebook.cells) if c.source.startswith("# Parameters"))]
    cell.source += "".join(f"\n{key} = {value!r}" for key, value in (parameters or {}).items())
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


def test_sparsity_efficiency_notebook(lexical_splade, sample_index):
    # The session's sample model and index are what the notebook would build; the untrained model stands in for
    # the student, whose 300 training steps the demo's test already runs: the notebook's own work remains.
    outputs = execute("sparsity_efficiency.ipynb", {"MODEL": str(lexical_splade), "STUDENT": str(lexical_splade),
                                                    "INDEX": str(sample_index / "index")})
    text = "\n".join(outputs)
    assert "80 turns, 1260 documents" in text
    assert text.count("<png>") == 2  # effectiveness vs query terms, cost per stage
    for row in ("student disco top-2", "base manual", "student disco", "onnx"):
        assert row in text
