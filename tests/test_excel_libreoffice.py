"""What a person sees in LibreOffice: formula-like text stays literal (runs where soffice is)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from octave_frames.io import to_excel

SOFFICE = shutil.which("soffice")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_shows_formula_like_text_literally(tmp_path: Path) -> None:
    """LibreOffice recalculating the workbook still shows '=1+1', not 2."""
    risky = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd|' /C calc'!A0"]
    frame = pd.DataFrame({"email": [f"p{i}@x.co" for i in range(4)], "note": risky})
    book = tmp_path / "t.xlsx"
    to_excel(frame, book)
    subprocess.run(
        [str(SOFFICE), "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
         "--outdir", str(tmp_path), str(book)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with (tmp_path / "t-Contacts.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["note"] for r in rows] == risky
