"""Excel and CSV in and out: ``read_excel``, ``to_excel``, ``to_csv``."""

from __future__ import annotations

from octave_frames.io._csv import CSV_LAYOUTS, to_csv
from octave_frames.io._excel import read_excel, to_excel
from octave_frames.io._runinfo import run_report, run_settings

__all__ = ["CSV_LAYOUTS", "read_excel", "run_report", "run_settings", "to_csv", "to_excel"]
