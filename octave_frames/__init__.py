"""octave_frames: Octave's AI sales agents inside pandas.

Importing the package registers the ``df.octave`` accessor::

    import octave_frames as of

    contacts = of.read_excel("contacts.xlsx")
    out = contacts.octave.sequence(agent="ca_123", context={"all": "{Account Research}"})
    out.octave.to_excel("contacts_with_emails.xlsx")

Helpers for your own tests (a fake clock, the Octave simulator) live in
:mod:`octave_frames.testing`.
"""

# No ``from __future__ import annotations`` here: it would bind ``annotations`` as a
# module attribute and show it in tab completion next to the real API.

# Private aliases: public-looking helper names would be attributes of the package.
import importlib as _importlib
import typing as _typing

from ._accessor import OctaveAccessor
from ._agent_calls import (
    acall_prep,
    acontent,
    aenrich_company,
    aenrich_person,
    aprospect,
    aqualify_company,
    aqualify_person,
    arun_agent,
    aworkflow,
    call_prep,
    content,
    enrich_company,
    enrich_person,
    prospect,
    qualify_company,
    qualify_person,
    run_agent,
    workflow,
)
from ._calls import (
    acollect,
    agenerate_emails,
    asequence,
    asubmit,
    collect,
    generate_emails,
    sequence,
    submit,
)
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
    Interrupted,
    MalformedResponseError,
    NotFoundError,
    OctaveError,
    RateLimitError,
    RunFailedError,
    ServerError,
    TransportError,
)

if _typing.TYPE_CHECKING:
    from ._callbacks import callback_app, callback_url
    from ._client import Client
    from ._longform import emails_long as emails
    from ._summary import Summary
    from ._summary import summarize as summary
    from .io import read_excel, run_settings, to_csv, to_excel

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ColumnError",
    "ConflictError",
    "InsufficientCreditsError",
    "Interrupted",
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
    "acall_prep",
    "acollect",
    "acontent",
    "aenrich_company",
    "aenrich_person",
    "agenerate_emails",
    "aprospect",
    "aqualify_company",
    "aqualify_person",
    "arun_agent",
    "asequence",
    "asubmit",
    "aworkflow",
    "call_prep",
    "callback_app",
    "callback_url",
    "collect",
    "content",
    "emails",
    "enrich_company",
    "enrich_person",
    "generate_emails",
    "prospect",
    "qualify_company",
    "qualify_person",
    "read_excel",
    "run_agent",
    "run_settings",
    "sequence",
    "submit",
    "summary",
    "to_csv",
    "to_excel",
    "workflow",
]

# Exported name -> (module, attribute). Loaded on first use so that `import octave_frames`
# does not pay for Excel readers, the HTTP stack or report rendering it may never need.
_LAZY = {
    "callback_app": ("._callbacks", "callback_app"),
    "callback_url": ("._callbacks", "callback_url"),
    "Client": ("._client", "Client"),
    "Summary": ("._summary", "Summary"),
    "emails": ("._longform", "emails_long"),
    "read_excel": (".io", "read_excel"),
    "run_settings": (".io", "run_settings"),
    "summary": ("._summary", "summarize"),
    "to_csv": (".io", "to_csv"),
    "to_excel": (".io", "to_excel"),
}


def __getattr__(name: str) -> _typing.Any:
    """Import a lazily exported name on first access and keep it as a module attribute.

    Args:
        name: The attribute asked for.

    Returns:
        The exported object.

    Raises:
        AttributeError: ``name`` is not part of the public API.

    """
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public API (and the module's dunders), not the private submodules.

    Returns:
        The sorted names tab completion should offer.

    """
    dunders = [name for name in globals() if name.startswith("__") and name.endswith("__")]
    return sorted({*__all__, *dunders})
