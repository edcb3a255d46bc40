"""The ``df.octave`` accessor: the plain calls of `_calls`, bound to the frame.

A thin front: it translates arguments and returns new frames. pandas 3 builds a
new accessor object on every ``df.octave`` access, so it holds nothing but the frame.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from . import _agent_calls, _calls
from ._longform import emails_long
from ._report import report_for
from ._summary import Summary, summarize

if TYPE_CHECKING:
    from .io._sequencers import SequencerFormat

__all__ = ["OctaveAccessor"]


def _bound(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func(frame, **kwargs)`` as an accessor method, with its signature and docs."""
    if inspect.iscoroutinefunction(func):

        async def method(self: OctaveAccessor, *args: Any, **kwargs: Any) -> Any:
            return await func(self._frame, *args, **kwargs)

    else:

        def method(self: OctaveAccessor, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return func(self._frame, *args, **kwargs)

    signature = inspect.signature(func)
    me = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[me, *list(signature.parameters.values())[1:]]
    )
    doc = inspect.getdoc(func) or ""
    method.__doc__ = "\n".join(
        line for line in doc.splitlines() if not line.lstrip().startswith("frame:")
    )
    method.__name__ = method.__qualname__ = func.__name__
    return method


@pd.api.extensions.register_dataframe_accessor("octave")
class OctaveAccessor:
    """``df.octave``: Octave's agents on a contact frame."""

    def __init__(self, frame: pd.DataFrame) -> None:
        # Validation lives in the methods: pandas turns an error raised here into a
        # misleading "'DataFrame' object has no attribute 'octave'".
        self._frame = frame

    sequence = _bound(_calls.sequence)
    asequence = _bound(_calls.asequence)
    submit = _bound(_calls.submit)
    asubmit = _bound(_calls.asubmit)
    collect = _bound(_calls.collect)
    acollect = _bound(_calls.acollect)
    generate_emails = _bound(_calls.generate_emails)
    agenerate_emails = _bound(_calls.agenerate_emails)
    enrich_person = _bound(_agent_calls.enrich_person)
    aenrich_person = _bound(_agent_calls.aenrich_person)
    enrich_company = _bound(_agent_calls.enrich_company)
    aenrich_company = _bound(_agent_calls.aenrich_company)
    qualify_person = _bound(_agent_calls.qualify_person)
    aqualify_person = _bound(_agent_calls.aqualify_person)
    qualify_company = _bound(_agent_calls.qualify_company)
    aqualify_company = _bound(_agent_calls.aqualify_company)
    call_prep = _bound(_agent_calls.call_prep)
    acall_prep = _bound(_agent_calls.acall_prep)
    content = _bound(_agent_calls.content)
    acontent = _bound(_agent_calls.acontent)
    prospect = _bound(_agent_calls.prospect)
    aprospect = _bound(_agent_calls.aprospect)
    workflow = _bound(_agent_calls.workflow)
    aworkflow = _bound(_agent_calls.aworkflow)
    run_agent = _bound(_agent_calls.run_agent)
    arun_agent = _bound(_agent_calls.arun_agent)

    def emails(self, *, prefix: str = "") -> pd.DataFrame:
        """One row per contact and email step: `row`, `step`, `subject`, sections, `text`."""
        return emails_long(self._frame, prefix=prefix)

    def answers(self, *, prefix: str = "") -> pd.DataFrame:
        """One row per qualifying answer: `row`, `step`, `section`, `question`, `answer` ..."""
        from ._answers import answers_long

        return answers_long(self._frame, prefix=prefix)

    def summary(self, *, prefix: str = "") -> Summary:
        """Rows per status, credits spent, and failure reasons with their counts."""
        return summarize(self._frame, prefix=prefix, report=report_for(self._frame))

    def to_excel(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Write the ``Contacts``, ``Emails`` and ``Run`` sheets an ops team works in."""
        from .io import to_excel

        kwargs.setdefault("report", report_for(self._frame))
        to_excel(self._frame, path, **kwargs)

    def to_csv(
        self,
        path: str | os.PathLike[str],
        *,
        layout: Literal["long", "wide"] = "long",
        format: SequencerFormat | None = None,
        only: Literal["approved", "ok"] | None = None,
        prefix: str = "",
        approved: Hashable | None = None,
    ) -> None:
        """CSV for sequencer imports (one row per email step, or ``format=`` a sequencer's)."""
        from .io import to_csv

        to_csv(
            self._frame,
            path,
            layout=layout,
            format=format,
            only=only,
            prefix=prefix,
            approved=approved,
        )
