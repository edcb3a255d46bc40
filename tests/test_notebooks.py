"""The notebooks: committed clean, and every cell runs in a real Jupyter kernel."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["quickstart.ipynb", "excel_round_trip.ipynb"]


@pytest.fixture(scope="session")
def python3_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A ``python3`` kernelspec running this interpreter, first on the Jupyter path.

    Installed into a temporary prefix rather than the user's home, so a fresh machine
    needs nothing set up and a ``python3`` kernel of another Python is never picked.
    """
    prefix = tmp_path_factory.mktemp("jupyter")
    installed = Path(kernelspec.install(kernel_name="python3", prefix=str(prefix)))
    assert json.loads((installed / "kernel.json").read_text())["argv"][0] == sys.executable
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", os.pathsep.join([str(prefix / "share" / "jupyter")]))
        # jupyter_core warns about its coming path change unless told which to use.
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
        yield


def _outputs_text(notebook: Any) -> str:
    """Every output stream and text/plain result of a notebook, joined."""
    parts: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    """Each notebook is valid nbformat v4 on the python3 kernel, with no outputs committed."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata.kernelspec.name == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert sum(cell.cell_type == "markdown" for cell in notebook.cells) >= len(code) // 2


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_a_kernel(name: str, tmp_path: Path, python3_kernel: None) -> None:
    """Every cell runs without error in a python3 kernel (sync calls inside its loop)."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    text = _outputs_text(notebook)
    assert "Octave run: 40 rows" in text
    if name == "excel_round_trip.ipynb":
        assert "done rows sent again: 0" in text
        assert "calls sent on the re-run: 2 " in text
        assert (tmp_path / "q3_sequencer.csv").stat().st_size > 0
    else:
        assert (tmp_path / "quickstart_emails.xlsx").exists()
        assert "field mapping" in text
