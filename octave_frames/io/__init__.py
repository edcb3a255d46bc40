"""Excel and CSV in and out: ``read_excel``, ``to_excel``, ``to_csv``, approval, sequencers."""

from __future__ import annotations

from octave_frames.io._approval import ONLY_CHOICES, approved_mask
from octave_frames.io._csv import CSV_LAYOUTS, to_csv
from octave_frames.io._excel import read_excel, to_excel
from octave_frames.io._runinfo import run_report, run_settings
from octave_frames.io._sequencers import SEQUENCER_FORMATS, SEQUENCERS, Sequencer, merge_tags

__all__ = [
    "CSV_LAYOUTS",
    "ONLY_CHOICES",
    "SEQUENCERS",
    "SEQUENCER_FORMATS",
    "Sequencer",
    "approved_mask",
    "merge_tags",
    "read_excel",
    "run_report",
    "run_settings",
    "to_csv",
    "to_excel",
]
