"""Helpers shared by the simulator's tests: bodies, clients, a callback receiver."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx

from octave_frames.simulator import Simulator

KEY = {"api_key": "sim-key"}


def contact(**extra: Any) -> dict[str, Any]:
    """Return a realistic Sequence Agent body, with ``extra`` fields merged in."""
    body: dict[str, Any] = {
        "agentOId": "ca_JxNickJCXUdxFQe2CFKCF",
        "email": "sarah.jackson@nice.com",
        "firstName": "Sarah",
        "companyName": "NICE Ltd",
        "companyDomain": "nice.com",
        "jobTitle": "Strategic Alliance Director",
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def make(**overrides: Any) -> Simulator:
    """Return a simulator with no latency and no random "no match" unless overridden."""
    return Simulator(**{"latency": (0, 0), "not_found_rate": 0.0, **overrides})


@asynccontextmanager
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    """Yield an httpx client wired to ``sim`` in process, sending the simulator's key."""
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url="http://sim", headers=KEY
    ) as c:
        yield c


class Receiver:
    """A tiny ASGI callback endpoint: records bodies and arrival times, can fail on purpose.

    Args:
        fail_first: Answer this many POSTs with ``fail_status`` before accepting any.
        fail_status: The status of a failed delivery.

    """

    def __init__(self, fail_first: int = 0, fail_status: int = 503) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived: list[float] = []
        self.tried: list[float] = []
        self.attempts = 0
        self._fail_first = fail_first
        self._fail_status = fail_status

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Record one POSTed JSON body, answering 200 (or the scripted failure)."""
        if scope["type"] != "http":
            return
        raw, more = b"", True
        while more:
            message = await receive()
            raw, more = raw + message.get("body", b""), message.get("more_body", False)
        self.attempts += 1
        self.tried.append(time.monotonic())
        status = self._fail_status if self.attempts <= self._fail_first else 200
        if status == 200:
            self.bodies.append(json.loads(raw))
            self.arrived.append(time.monotonic())
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def wait_for(predicate: Callable[[], bool], seconds: float = 3.0) -> None:
    """Wait (yielding to the loop) until ``predicate`` holds, or fail."""
    with anyio.fail_after(seconds):
        while not predicate():
            await anyio.sleep(0.005)
