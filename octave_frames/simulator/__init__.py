"""A faithful, deterministic stand-in for Octave's API, for tests, benchmarks and demos.

Nobody reaches Octave from a test. The simulator answers the Sequence Agent, the
api-key check and the async agent runs the way Octave's documentation describes, with
latency, rate limits, credits, faults and callbacks under the caller's control. It is a
plain ASGI app: use it in process through ``sim.transport()``, or over loopback HTTP::

    from octave_frames.simulator import Simulator, serve

    sim = Simulator(latency=(0, 0), rate=10, burst=5)
    with serve(sim) as base_url:
        ...  # point the client at base_url with api key "sim-key"
    assert sim.counters.duplicates == 0

Endpoints: ``POST /api/v2/agents/sequence/run``, ``GET /api/v2/api-key/validate``,
``POST /api/v2/async/agent/run`` and ``GET /api/v2/async/agent/run/status``.
"""

from __future__ import annotations

from ._config import SimulatorConfig, SimulatorCounters
from ._server import run_server, serve
from ._simulator import Simulator

__all__ = ["Simulator", "SimulatorConfig", "SimulatorCounters", "run_server", "serve"]
