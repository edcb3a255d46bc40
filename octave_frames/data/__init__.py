"""Data bundled with octave_frames: the sample contact workbook behind ``octave-frames demo``.

``contacts_sample.xlsx`` holds 40 fictional contacts at 20 fictional companies (every
domain ends in the reserved ``.example``), laid out like a CRM export an ops team would
hand over: identifiers as text, an ``Account Research`` column to use as context, and
the usual mess (stray spaces and capitals in an email, a website given as a full URL, a
contact with only a LinkedIn profile, one duplicate row). ``make_sample.py`` writes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["SAMPLE_WORKBOOK", "sample_workbook"]

#: File name of the bundled sample, next to this module.
SAMPLE_WORKBOOK: Final = "contacts_sample.xlsx"


def sample_workbook() -> Path:
    """Return the path of the bundled sample contacts workbook.

    Example:
        >>> contacts = of.read_excel(sample_workbook())
        >>> len(contacts)
        40

    """
    return Path(__file__).with_name(SAMPLE_WORKBOOK)
