"""Excel and CSV in and out: ``read_excel``, ``to_excel``, ``to_csv``."""

from __future__ import annotations

from octave_frames.io._csv import CSV_LAYOUTS, to_csv
from octave_frames.io._excel import read_excel, to_excel

__all__ = ["CSV_LAYOUTS", "read_excel", "to_csv", "to_excel"]
