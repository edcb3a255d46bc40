"""The ``df.octave`` accessor and the same calls as plain functions, for ``.pipe``.

A thin front: it translates arguments and returns new frames. pandas 3 builds a
new accessor object on every ``df.octave`` access, so it holds nothing but the frame.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import pandas as pd

from ._longform import emails_long
from ._options import takes
from ._report import report_for
from ._sequence import asequence as _asequence
from ._summary import Summary, summarize
from ._sync import run_sync
from .io import to_csv as _to_csv
from .io import to_excel as _to_excel

__all__ = ["OctaveAccessor", "asequence", "sequence"]


@takes()
def sequence(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Write an Octave email sequence for every contact row; return a new frame.

    Works the same in a script, a pipeline and a running Jupyter kernel. Answers are
    kept in a local cache as they arrive, so an interrupted run resumes where it
    stopped and never pays twice for the same request.

    Args:
        frame: One contact per row; fields are found from the headers and values.
        **kwargs: The keyword-only arguments below.

    Returns:
        The input columns unchanged, then ``octave_status``, ``octave_error``,
        ``octave_request_id``, ``octave_usage``, ``email_{i}_*`` and the match columns,
        on the input's index.

    Raises:
        ArgumentError: A bad or unknown argument, step key, or missing agent/key.
        ColumnError: A column named by ``fields`` or a template does not exist.
        AuthenticationError: Octave refused the key (nothing more is sent).
        NotFoundError: The agent does not exist.
        RunFailedError: ``errors="raise"`` and some rows did not succeed.
        Interrupted: Ctrl-C or SIGTERM, after the calls in flight were saved (a second
            Ctrl-C abandons them); ``exc.frame`` holds the rows done so far.

    Example:
        >>> out = contacts.octave.sequence(agent="ca_123", context={"all": "{Account Research}"})
        >>> out[out.persona_match_confidence >= "MEDIUM"].email_1_text

    """
    return run_sync(lambda: _asequence(frame, **kwargs))


@takes()
async def asequence(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """The same as `sequence`, for async code: ``out = await asequence(df, agent=...)``.

    A cancellation lets the calls in flight finish and be saved (they are paid), then
    propagates.

    Args:
        frame: One contact per row.
        **kwargs: The keyword-only arguments of `sequence`.

    Returns:
        The same frame as `sequence` returns.

    """
    return await _asequence(frame, **kwargs)


@pd.api.extensions.register_dataframe_accessor("octave")
class OctaveAccessor:
    """``df.octave``: Octave's agents on a contact frame."""

    def __init__(self, frame: pd.DataFrame) -> None:
        # Validation lives in the methods: pandas turns an error raised here into a
        # misleading "'DataFrame' object has no attribute 'octave'".
        self._frame = frame

    @takes()
    def sequence(self, **kwargs: Any) -> pd.DataFrame:
        """Write an Octave email sequence for every contact row; return a new frame.

        Calls in flight at Ctrl-C finish and are saved; running the same call again
        resumes and pays for nothing twice. See `octave_frames.sequence`.

        Returns:
            The input columns unchanged, then the ``octave_*`` and ``email_{i}_*`` columns.

        """
        return sequence(self._frame, **kwargs)

    @takes()
    async def asequence(self, **kwargs: Any) -> pd.DataFrame:
        """Async form of `sequence`: ``out = await df.octave.asequence(agent=...)``.

        Returns:
            The same frame as `sequence` returns.

        """
        return await _asequence(self._frame, **kwargs)

    def emails(self, *, prefix: str = "") -> pd.DataFrame:
        """One row per contact and email step: `row`, `step`, `subject`, sections, `text`."""
        return emails_long(self._frame, prefix=prefix)

    def summary(self, *, prefix: str = "") -> Summary:
        """Rows per status, credits spent, and failure reasons with their counts."""
        return summarize(self._frame, prefix=prefix, report=report_for(self._frame))

    def to_excel(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Write the ``Contacts``, ``Emails`` and ``Run`` sheets an ops team works in."""
        kwargs.setdefault("report", report_for(self._frame))
        _to_excel(self._frame, path, **kwargs)

    def to_csv(
        self,
        path: str | os.PathLike[str],
        *,
        layout: Literal["long", "wide"] = "long",
        prefix: str = "",
    ) -> None:
        """CSV for sequencer imports (one row per email step by default), injection-safe."""
        _to_csv(self._frame, path, layout=layout, prefix=prefix)
