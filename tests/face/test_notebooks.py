"""The tutorial notebooks run from top to bottom without an error (executed by nbclient)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.notebook, pytest.mark.animation]  # the notebooks draw the GIF

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = ["una_neurona.ipynb", "one_neuron.ipynb"]


def _outputs(nb, kind):
    return [out for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if kind in out.get("data", {})]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_without_error(name, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # no path-migration warning
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    assert not _outputs(nb, "text/plain"), "commit the notebook without its outputs"
    # python3 is the kernel of the interpreter running the tests (ipykernel's own spec).
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [out for cell in nb.cells for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert errors == []
    assert len(_outputs(nb, "image/png")) == 6  # every figure cell displayed its figure
    assert len(_outputs(nb, "image/gif")) == 1  # the animation
    tables = [out["data"]["text/html"] for out in _outputs(nb, "text/html")]
    assert any("Neuron (2 features)" in t for t in tables)
    assert any("History (100 epochs)" in t for t in tables)


def test_notebooks_come_in_both_languages():
    for name in NOTEBOOKS:
        nb = nbformat.read(EXAMPLES / name, as_version=4)
        nbformat.validate(nb)
    spanish = "\n".join(c.source for c in nbformat.read(EXAMPLES / "una_neurona.ipynb",
                                                        as_version=4).cells)
    assert "Una neurona, paso a paso" in spanish and 'lang="es"' in spanish
