"""Importing the package stays cheap: no workbook library loads until a workbook is touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_HEAVY = ("openpyxl", "python_calamine")


def _loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter and return the heavy modules it left loaded."""
    probe = (
        f"{code}\nimport sys\n"
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(_HEAVY)!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.split()


def test_import_does_not_load_openpyxl_or_calamine() -> None:
    """``import octave_frames`` leaves openpyxl and python_calamine out of sys.modules."""
    assert _loaded_after("import octave_frames") == []


@pytest.mark.parametrize("engine", ["openpyxl", "calamine"])
def test_writing_and_reading_load_them_when_needed(tmp_path: Path, engine: str) -> None:
    """The lazy imports still happen: a write and a read load the engine they use."""
    path = tmp_path / "t.xlsx"
    code = (
        "import pandas as pd, octave_frames as of\n"
        f"of.to_excel(pd.DataFrame({{'a': [1]}}), {str(path)!r})\n"
        f"assert of.read_excel({str(path)!r}, engine={engine!r})['a'].tolist() == [1]"
    )
    expected = ["openpyxl"] if engine == "openpyxl" else ["openpyxl", "python_calamine"]
    assert _loaded_after(code) == expected
