"""The ways people write this by hand, sending the same bodies to the same server.

- :func:`apply_blocking`: ``df.apply`` with one blocking ``httpx.post`` per row;
- :func:`httpx_aiolimiter`: asyncio + ``httpx.AsyncClient`` + ``Semaphore`` +
  ``aiolimiter``, retrying a 429 after its ``Retry-After``;
- :func:`aiohttp_gather`: a raw ``aiohttp`` gather loop, paced by one sleep per request
  when there is a rate: the least CPU a client can spend on these calls (no retries,
  no ledger, no columns), so the floor the others are compared with.

Each returns a :class:`~benchmarks._table.Line` with wall and CPU seconds of this
process (the simulator runs in a child process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import httpx
import pandas as pd

from ._sim import KEY, PATH
from ._table import Line

__all__ = ["aiohttp_gather", "apply_blocking", "bodies", "httpx_aiolimiter"]

_HEADERS = {"api_key": KEY}


def _body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "agentOId": "ca_bench",
        "email": row["Work Email"],
        "firstName": row["First Name"],
        "companyName": row["Company"],
        "runtimeContext": {"all": row["Account Research"]},
    }


def bodies(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The request body of each row, as a hand-written loop builds it."""
    return [_body({str(k): v for k, v in row.items()}) for row in frame.to_dict("records")]


def apply_blocking(url: str, frame: pd.DataFrame) -> Line:
    """``frame.apply(post_one, axis=1)``: one row after another, a new connection each."""

    def post_one(row: pd.Series) -> int:
        body = _body({str(k): v for k, v in row.items()})
        response = httpx.post(url + PATH, json=body, headers=_HEADERS, timeout=180)
        response.json()
        return response.status_code

    wall, cpu = time.perf_counter(), time.process_time()
    codes = frame.apply(post_one, axis=1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ok = int((codes == 200).sum())
    return Line("df.apply + blocking httpx.post", len(frame), wall, cpu=cpu, ok=ok)


async def _httpx_aiolimiter(
    url: str, items: Sequence[dict[str, Any]], concurrency: int, rate: float
) -> tuple[int, int]:
    from aiolimiter import AsyncLimiter

    # The careful form: one request per 1/rate s. AsyncLimiter(rate, 1) would let `rate`
    # requests go at once, an instant wall of 429s against a small burst (PITFALLS.md).
    limiter = AsyncLimiter(1, 1 / rate) if rate < 1e5 else AsyncLimiter(rate, 1)
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    refused = 0
    async with httpx.AsyncClient(base_url=url, timeout=180, limits=limits) as client:

        async def one(body: dict[str, Any]) -> int:
            nonlocal refused
            async with semaphore:
                for _ in range(10):
                    async with limiter:
                        response = await client.post(PATH, json=body, headers=_HEADERS)
                    if response.status_code != 429:
                        response.json()
                        return response.status_code
                    refused += 1
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                return 429

        codes = await asyncio.gather(*(one(b) for b in items))
    return sum(1 for c in codes if c == 200), refused


def httpx_aiolimiter(url: str, frame: pd.DataFrame, concurrency: int, rate: float) -> Line:
    """The asyncio + httpx.AsyncClient + Semaphore + aiolimiter loop; 429s wait Retry-After."""
    wall, cpu = time.perf_counter(), time.process_time()
    ok, refused = asyncio.run(_httpx_aiolimiter(url, bodies(frame), concurrency, rate))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    line = Line("asyncio + httpx + Semaphore + aiolimiter", len(frame), wall, cpu=cpu, ok=ok)
    line.extra["429s"] = refused
    return line


async def _aiohttp_gather(
    url: str, items: Sequence[dict[str, Any]], concurrency: int, rate: float | None
) -> int:
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector) as session:

        async def one(body: dict[str, Any]) -> int:
            try:
                async with session.post(PATH, json=body, headers=_HEADERS) as response:
                    await response.json()
                    return response.status
            finally:
                semaphore.release()

        tasks = []
        start = loop.time()
        for k, body in enumerate(items):
            await semaphore.acquire()
            if rate is not None and (wait := start + k / rate - loop.time()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(body)))
        codes = await asyncio.gather(*tasks)
    return sum(1 for c in codes if c == 200)


def aiohttp_gather(url: str, frame: pd.DataFrame, concurrency: int, rate: float | None) -> Line:
    """A raw aiohttp gather loop (paced at ``rate`` if given): the CPU floor."""
    wall, cpu = time.perf_counter(), time.process_time()
    ok = asyncio.run(_aiohttp_gather(url, bodies(frame), concurrency, rate))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Line("aiohttp gather (CPU floor)", len(frame), wall, cpu=cpu, ok=ok)
