"""The public calls as plain functions, for ``.pipe``: each a few lines over `arun`.

Every call has its real keyword-only signature and its documented arguments, derived from
the declarations (`takes`). The sync forms drive the async core through `run_sync`, so a
Ctrl-C drains the run instead of throwing paid calls away.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._arguments import takes
from ._endpoints import SEQUENCE
from ._headless import HEADLESS
from ._options import SEQUENCE_CALL, call_args, collect_args, submit_args
from ._run import arun
from ._sync import run_sync

__all__ = [
    "acollect",
    "agenerate_emails",
    "asequence",
    "asubmit",
    "collect",
    "generate_emails",
    "sequence",
    "submit",
]

_SUBMIT = submit_args(SEQUENCE)
_COLLECT = collect_args(SEQUENCE)
_HEADLESS = call_args(HEADLESS)


@takes(SEQUENCE_CALL)
def sequence(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Write an Octave email sequence for every contact row; return a new frame.

    Works the same in a script, a pipeline and a running Jupyter kernel. Answers are
    kept in a local cache as they arrive, so an interrupted run resumes where it
    stopped and never pays twice for the same request. With ``mode="async"`` the rows
    go as Octave's async jobs: submitted under the rate limit, every run id saved the
    moment it arrives, then collected (callbacks first, then spread status checks).

    Args:
        frame: One contact per row; fields are found from the headers and values.
        **kwargs: The keyword-only arguments below.

    Returns:
        The input columns unchanged, then ``octave_status``, ``octave_error``,
        ``octave_note``, ``octave_request_id`` (``octave_run_id`` in async mode),
        ``octave_usage``, ``email_{i}_*`` and the match columns, on the input's index.

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
    return run_sync(lambda: arun(frame, kwargs, endpoint=SEQUENCE))


@takes(SEQUENCE_CALL)
async def asequence(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """The same as `sequence`, for async code: ``out = await asequence(df, agent=...)``.

    A cancellation lets the calls in flight finish and be saved (they are paid), then
    propagates.

    Args:
        frame: One contact per row.
        **kwargs: The keyword-only arguments below.

    Returns:
        The same frame as `sequence` returns.

    """
    return await arun(frame, kwargs, endpoint=SEQUENCE)


@takes(_SUBMIT)
def submit(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Submit every row as an async Octave job and return at once, without waiting.

    Each job's run id is in the ledger before this returns (and in ``octave_run_id``);
    rows are ``pending``. Later, in this process or another, `collect` fills in the
    results; a job whose run id is known is never submitted again, so calling `submit`
    twice on the same rows submits nothing the second time.

    Args:
        frame: One contact per row.
        **kwargs: The keyword-only arguments below.

    Returns:
        The result frame with ``octave_run_id``; submitted rows ``pending``.

    Example:
        >>> sub = contacts.octave.submit(agent="ca_123")
        >>> sub.octave.summary().counts["pending"]

    """
    return run_sync(lambda: asubmit(frame, **kwargs))


@takes(_SUBMIT)
async def asubmit(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Async form of `submit`.

    Args:
        frame: One contact per row.
        **kwargs: The keyword-only arguments below.

    Returns:
        The same frame as `submit` returns.

    """
    return await arun(frame, kwargs, endpoint=SEQUENCE, call="submit", args=_SUBMIT, mode="async")


@takes(_COLLECT)
def collect(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Fill in the results of jobs submitted before; never submit anything.

    Give it the frame `submit` returned, the original input frame with the same
    arguments, or either read back from Excel: rows are matched to their jobs by the
    ledger (same request key) or by the frame's ``octave_run_id``. It reads callbacks
    the ledger received, then checks the rest; with ``wait=True`` it waits (at most
    ``timeout`` seconds) for the jobs still running.

    Args:
        frame: The rows whose jobs to collect.
        **kwargs: The keyword-only arguments below.

    Returns:
        The result frame; rows still running are ``pending`` (with ``wait=False``).

    Example:
        >>> out = sub.octave.collect(agent="ca_123", wait=True, timeout=3600)

    """
    return run_sync(lambda: acollect(frame, **kwargs))


@takes(_COLLECT)
async def acollect(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Async form of `collect`.

    Args:
        frame: The rows whose jobs to collect.
        **kwargs: The keyword-only arguments below.

    Returns:
        The same frame as `collect` returns.

    """
    return await arun(frame, kwargs, endpoint=SEQUENCE, call="collect", args=_COLLECT, mode="async")


@takes(_HEADLESS)
def generate_emails(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Write a sequence for every contact without a saved agent (Octave's headless emails).

    You describe the offering and the sequence; each row is the recipient (first name,
    company name and company domain are required; rows without them are ``invalid``).
    ``context={"all": ...}`` adds to the recipient's info, ``instructions={"all": ...}``
    to the sequence's instructions. The result has the same columns as `sequence`.
    Enum values (``length``, ``type``, ``primaryGoal``, ``outputFormat``) are checked
    before anything is sent.

    Args:
        frame: One recipient per row.
        **kwargs: The keyword-only arguments below.

    Returns:
        The same columns as `sequence` returns.

    Example:
        >>> out = contacts.octave.generate_emails(
        ...     offering={"name": "Acme Cloud", "url": "https://acme.example"},
        ...     sequence={"steps": 3, "length": "SHORT", "type": "COLD_OUTBOUND"},
        ...     sender={"firstName": "Sam", "companyName": "Acme"})

    """
    return run_sync(lambda: agenerate_emails(frame, **kwargs))


@takes(_HEADLESS)
async def agenerate_emails(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Async form of `generate_emails`.

    Args:
        frame: One recipient per row.
        **kwargs: The keyword-only arguments below.

    Returns:
        The same frame as `generate_emails` returns.

    """
    return await arun(frame, kwargs, endpoint=HEADLESS, args=_HEADLESS)
