"""octave_frames: Octave's AI sales agents inside pandas.

Importing the package registers the ``df.octave`` accessor::

    import octave_frames as of

    contacts = of.read_excel("contacts.xlsx")
    out = contacts.octave.sequence(agent="ca_123", context={"all": "{Account Research}"})
    out.octave.to_excel("contacts_with_emails.xlsx")
"""

from __future__ import annotations

from ._accessor import OctaveAccessor, asequence, sequence
from ._client import Client
from ._clock import SYSTEM_CLOCK, Clock, FakeClock
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    BadRequestError,
    ColumnError,
    ConflictError,
    InsufficientCreditsError,
    MalformedResponseError,
    NotFoundError,
    OctaveError,
    RateLimitError,
    RunFailedError,
    ServerError,
    TransportError,
)
from ._longform import emails_long as emails
from ._summary import Summary
from ._summary import summarize as summary
from .io import read_excel, to_csv, to_excel

__version__ = "0.1.0"

__all__ = [
    "SYSTEM_CLOCK",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "Clock",
    "ColumnError",
    "ConflictError",
    "FakeClock",
    "InsufficientCreditsError",
    "MalformedResponseError",
    "NotFoundError",
    "OctaveAccessor",
    "OctaveError",
    "RateLimitError",
    "RunFailedError",
    "ServerError",
    "Summary",
    "TransportError",
    "__version__",
    "asequence",
    "emails",
    "read_excel",
    "sequence",
    "summary",
    "to_csv",
    "to_excel",
]
