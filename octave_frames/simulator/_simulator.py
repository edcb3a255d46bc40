"""The Simulator object: configuration, state and the ASGI app, together."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from .._exceptions import ArgumentError
from ._app import App
from ._config import SimulatorConfig, SimulatorCounters
from ._state import State

__all__ = ["Simulator"]


class Simulator:
    """A deterministic, in-memory stand-in for Octave's API, as an ASGI app.

    Args:
        config: The behaviour; ``SimulatorConfig()`` if omitted.
        **overrides: Fields of :class:`SimulatorConfig` to change, e.g. ``latency=(0, 0)``.

    Raises:
        TypeError: An override names no config field.
        ArgumentError: A config value is out of range.

    Example:
        >>> sim = Simulator(latency=(0, 0), rate=5)
        >>> client = httpx.AsyncClient(transport=sim.transport(), base_url="http://sim")

    """

    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any) -> None:
        base = config if config is not None else SimulatorConfig()
        self.config: SimulatorConfig = dataclasses.replace(base, **overrides)
        self._state = State(self.config)
        self.app = App(self._state)

    def __repr__(self) -> str:
        return f"Simulator({self.config!r})"

    def transport(self) -> httpx.ASGITransport:
        """Return an httpx transport that calls this simulator in process.

        httpx does not enforce timeouts on an ASGI transport: bound calls to a hanging
        simulator with ``anyio.fail_after`` (or serve it over loopback with :func:`serve`).
        """
        return httpx.ASGITransport(app=self.app)

    @property
    def counters(self) -> SimulatorCounters:
        """A snapshot of the counters (requests, billed, duplicates, credits, ...)."""
        return self._state.snapshot()

    @property
    def received(self) -> list[dict[str, Any]]:
        """JSON bodies of the agent-run requests received, in arrival order."""
        return self._state.received_snapshot()[0]

    @property
    def received_headers(self) -> list[dict[str, str]]:
        """Lower-cased request headers of each entry of :attr:`received`."""
        return self._state.received_snapshot()[1]

    def fail_next(self, n: int, status: int = 503, retry_after: float | None = None) -> None:
        """Answer the next ``n`` agent requests with ``status`` (not billed).

        Args:
            n: How many requests.
            status: The HTTP status to answer with.
            retry_after: Sent as ``Retry-After`` (whole seconds as an integer) when given.

        """
        if n < 0 or not 400 <= status <= 599:
            raise ArgumentError(f"fail_next needs n >= 0 and a 4xx/5xx status, got {n}, {status}")
        self._state.script(n, "fail", status, retry_after)

    def hang_next(self, n: int) -> None:
        """Make the next ``n`` agent requests hang for ``hang_seconds`` (billed: a run started)."""
        if n < 0:
            raise ArgumentError(f"hang_next needs n >= 0, got {n}")
        self._state.script(n, "hang")

    def reset(self) -> None:
        """Restore the starting state: counters, credits, limiter, scripts, jobs and RNG.

        Callbacks not yet delivered are cancelled.
        """
        self.app.reset()
