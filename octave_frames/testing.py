"""Helpers for testing code that uses octave_frames, without reaching Octave.

The :class:`~octave_frames.simulator.Simulator` answers like Octave in process, and
:func:`simulated_client` wires a :class:`~octave_frames.Client` to it::

    from octave_frames.testing import Simulator, simulated_client

    sim = Simulator(latency=(0, 0))
    out = contacts.octave.sequence(agent="ca_1", client=simulated_client(sim))
    assert sim.counters.agent_requests == len(contacts)

A :class:`FakeClock` makes rate limits and retry back-off take no real time. Nothing
moves it in a plain synchronous call, so use it in async tests, inside
:meth:`FakeClock.autojump`::

    clock = FakeClock()
    async with clock.autojump():
        out = await of.asequence(contacts, agent="ca_1",
                                 client=simulated_client(sim, clock=clock))

The simulator (and the HTTP stack behind it) is imported on first use of its names,
so importing this module stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock

if TYPE_CHECKING:
    from ._client import Client
    from .simulator import Simulator, SimulatorConfig, SimulatorCounters, serve

__all__ = [
    "SYSTEM_CLOCK",
    "Clock",
    "FakeClock",
    "Simulator",
    "SimulatorConfig",
    "SimulatorCounters",
    "SystemClock",
    "serve",
    "simulated_client",
]

_FROM_SIMULATOR = frozenset({"Simulator", "SimulatorConfig", "SimulatorCounters", "serve"})
# Any host will do for an in-process transport; loopback keeps Client's http:// check happy.
_IN_PROCESS_URL = "http://127.0.0.1:9"


def simulated_client(simulator: Simulator, *, clock: Clock = SYSTEM_CLOCK) -> Client:
    """Return a :class:`~octave_frames.Client` whose calls go to ``simulator`` in process.

    Args:
        simulator: The simulator to answer the calls.
        clock: Time source for the client's rate limiting and back-off, e.g. a
            :class:`FakeClock`.

    Returns:
        A client holding one of the simulator's accepted API keys.

    Example:
        >>> from octave_frames.testing import Simulator, simulated_client
        >>> simulated_client(Simulator(latency=(0, 0)))
        Client(base_url='http://127.0.0.1:9', api_key=set)

    """
    from ._client import Client

    # SimulatorConfig refuses an empty key set, so there is always a first key.
    key = min(simulator.config.api_keys)
    return Client(key, base_url=_IN_PROCESS_URL, transport=simulator.transport(), clock=clock)


def __getattr__(name: str) -> Any:
    """Import the simulator's names on first access.

    Args:
        name: The attribute asked for.

    Returns:
        The object from :mod:`octave_frames.simulator`.

    Raises:
        AttributeError: ``name`` is not exported here.

    """
    if name not in _FROM_SIMULATOR:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(".simulator", __package__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the exported helpers, including the lazily imported ones.

    Returns:
        The sorted public names.

    """
    return sorted(__all__)
