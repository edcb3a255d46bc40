"""The simulator as a real HTTP server in a child process, and how to talk to it.

Run as ``python -m benchmarks._sim PORT CONFIG_JSON [--gc]`` it serves a
:class:`~octave_frames.simulator.Simulator` built from the JSON keyword arguments.

The child runs with the cyclic garbage collector off unless ``--gc`` is given: the
simulator keeps every request it received, so its full collections grow to ~55 ms at
2,000 requests. A stalled loop then reads a dozen queued requests at one instant, and
its rate limit refuses the ones past its burst: 429s that a real server's limiter (which
stamps arrivals as they come) would not send, and that say nothing about the client.
"""

from __future__ import annotations

import gc
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

__all__ = ["KEY", "PATH", "Server", "free_port", "serve_child"]

KEY = "sim-key"
PATH = "/api/v2/agents/sequence/run"


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running child simulator: its base URL and its own routes."""

    def __init__(self, url: str) -> None:
        self.url = url

    def counters(self) -> dict[str, Any]:
        """``GET /_simulator/counters``."""
        document: dict[str, Any] = httpx.get(f"{self.url}/_simulator/counters").json()
        return document

    def reset(self) -> None:
        """``POST /_simulator/reset``: counters, rate-limit state and jobs start afresh."""
        httpx.post(f"{self.url}/_simulator/reset").raise_for_status()

    def set_limits(self, **limits: float | int | None) -> None:
        """``POST /_simulator/limits``: change ``rate``, ``burst`` or ``max_in_flight`` now."""
        httpx.post(f"{self.url}/_simulator/limits", json=limits).raise_for_status()

    def statuses(self) -> dict[int, int]:
        """Responses sent so far, by HTTP status."""
        return {int(k): int(v) for k, v in self.counters()["by_status"].items()}


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the simulator child exited with {proc.returncode}")
        try:
            httpx.get(f"{url}/_simulator/counters", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the simulator child did not start within 20 s")


@contextmanager
def serve_child(*, server_gc: bool = False, **config: Any) -> Iterator[Server]:
    """Serve a simulator with ``config`` from a child process for the ``with`` block.

    Args:
        server_gc: Keep the child's cyclic garbage collector on (see the module doc).
        **config: :class:`~octave_frames.simulator.SimulatorConfig` fields, JSON-ready.

    Yields:
        The running server.

    """
    port = free_port()
    args = [sys.executable, "-m", "benchmarks._sim", str(port), json.dumps(config)]
    proc = subprocess.Popen([*args, *(["--gc"] if server_gc else [])])
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, proc)
        yield Server(url)
    finally:
        proc.terminate()
        proc.wait(10)


def _main(argv: list[str]) -> None:
    from octave_frames.simulator import Simulator, run_server

    port, config = int(argv[0]), json.loads(argv[1])
    for name in ("latency", "job_duration", "callback_delay"):
        if isinstance(config.get(name), list):
            config[name] = tuple(config[name])
    sim = Simulator(**config)
    if "--gc" not in argv:
        gc.freeze()
        gc.disable()
    run_server(sim, port=port, log_level="warning")


if __name__ == "__main__":
    _main(sys.argv[1:])
