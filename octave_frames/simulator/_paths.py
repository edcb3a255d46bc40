"""Every route the simulator serves, by name."""

from __future__ import annotations

from typing import Final

from .._constants import (
    ASYNC_HEADLESS_PATH,
    ASYNC_RUN_PATH,
    ASYNC_STATUS_PATH,
    HEADLESS_PATH,
    SEQUENCE_PATH,
    VALIDATE_PATH,
    WORKFLOW_RUN_PATH,
    WORKFLOW_STATUS_PATH,
)

__all__ = [
    "ASYNC_HEADLESS_PATH",
    "ASYNC_RUN_PATH",
    "ASYNC_STATUS_PATH",
    "COUNTERS_PATH",
    "HEADLESS_PATH",
    "LIMITS_PATH",
    "RESET_PATH",
    "SEQUENCE_PATH",
    "VALIDATE_PATH",
    "WORKFLOW_RUN_PATH",
    "WORKFLOW_STATUS_PATH",
]

#: The simulator's own routes: no auth, never billed, not counted as API requests.
COUNTERS_PATH: Final = "/_simulator/counters"
RESET_PATH: Final = "/_simulator/reset"
#: POST ``{"rate": 100}`` (also ``burst``, ``max_in_flight``) changes the limits mid-run.
LIMITS_PATH: Final = "/_simulator/limits"
