"""The simulator's counters over HTTP, billing keys, and the ``simulator`` command."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from _simkit import KEY, client, contact, make

from octave_frames._constants import SEQUENCE_PATH, VALIDATE_PATH
from octave_frames.cli import main
from octave_frames.simulator import serve

pytestmark = pytest.mark.anyio

COUNTERS = "/_simulator/counters"


async def test_counters_endpoint_is_json_free_and_not_counted() -> None:
    """GET /_simulator/counters needs no key, bills nothing and is not itself a request."""
    sim = make()
    async with client(sim) as c:
        await c.post(SEQUENCE_PATH, json=contact())
        await c.post(SEQUENCE_PATH, json={"agentOId": 7})
        await c.get(VALIDATE_PATH)
        first = await c.get(COUNTERS, headers={"api_key": ""})
        second = await c.get(COUNTERS)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    counters = first.json()
    assert counters == second.json()
    assert counters["requests"] == 3 and counters["agent_requests"] == 2
    assert (counters["billed"], counters["unique_billed"], counters["duplicates"]) == (1, 1, 0)
    assert counters["by_status"] == {"200": 2, "400": 1}
    assert counters["credits_remaining"] == sim.config.credits - 1
    assert counters == sim.counters.to_json()
    assert "polls_by_id" not in counters and counters["polls_per_job_max"] == 0


async def test_reset_endpoint_zeroes_the_counters() -> None:
    """POST /_simulator/reset restores the starting counters and credits; GET on it is 405."""
    sim = make()
    async with client(sim) as c:
        await c.post(SEQUENCE_PATH, json=contact())
        reset = await c.post("/_simulator/reset")
        wrong = await c.get("/_simulator/reset")
        after = (await c.get(COUNTERS)).json()
    assert reset.json() == {"reset": True} and wrong.status_code == 405
    assert after["billed"] == 0 and after["requests"] == 0
    assert after["credits_remaining"] == sim.config.credits


async def test_duplicates_follow_the_external_request_id_then_the_body() -> None:
    """The same x-external-request-id billed twice is a duplicate even with other bodies."""
    sim = make()
    async with client(sim) as c:
        one = {"x-external-request-id": "row-1"}
        await c.post(SEQUENCE_PATH, json=contact(), headers=one)
        await c.post(SEQUENCE_PATH, json=contact(firstName="Alex"), headers=one)
        # Same body under two ids: two different requests of the client, not a duplicate.
        await c.post(SEQUENCE_PATH, json=contact(), headers={"x-external-request-id": "row-2"})
        # Without the header the canonical body is the key.
        await c.post(SEQUENCE_PATH, json=contact(lastName="Ng"))
        await c.post(SEQUENCE_PATH, json=contact(lastName="Ng"))
    counters = sim.counters
    assert (counters.billed, counters.unique_billed, counters.duplicates) == (5, 3, 2)
    assert counters.billed - counters.duplicates == counters.unique_billed


async def test_served_counters_show_a_burst_of_contacts_each_paid_once() -> None:
    """Over loopback, 28 contacts in flight take a fraction of 28 s and are billed once each."""
    sim = make(latency=(0.05, 0.1))
    with serve(sim) as url:
        async with httpx.AsyncClient(base_url=url, headers=KEY) as c:
            started = time.monotonic()

            async def one(i: int) -> None:
                await c.post(SEQUENCE_PATH, json=contact(email=f"p{i}@acme.com"))

            async with anyio.create_task_group() as tg:
                for i in range(28):
                    tg.start_soon(one, i)
            elapsed = time.monotonic() - started
            counters = (await c.get(COUNTERS)).json()
    assert elapsed < 2.0
    assert counters["billed"] == counters["unique_billed"] == 28
    assert counters["by_status"] == {"200": 28}


def test_help_documents_the_counters_endpoint_and_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`simulator --help` names the counters route, each counter and the async options."""
    assert main(["simulator", "--help"]) == 0
    text = capsys.readouterr().out
    assert "/_simulator/counters" in text and "/_simulator/reset" in text
    for word in (
        "unique_billed",
        "duplicates",
        "submissions",
        "polls",
        "callbacks_sent",
        "callbacks_lost",
        "callbacks_duplicated",
        "--latency",
        "--rate",
        "--job-failure-rate",
        "--callback-loss-rate",
        "--async-result",
    ):
        assert word in text, word


def test_a_bad_share_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A rate outside [0, 1] stops the command with a message naming the option."""
    assert main(["simulator", "--job-failure-rate", "2"]) == 2
    assert "--job-failure-rate must be a number from 0 to 1" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_sigterm_stops_the_command_and_prints_the_counters(tmp_path: Path) -> None:
    """On SIGTERM `octave-frames simulator` exits 0 and prints the counters as JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTAVE_")}
    command = [sys.executable, "-m", "octave_frames.cli", "simulator", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--latency", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url is not None, first
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = httpx.post(url[0] + SEQUENCE_PATH, json=contact(), headers=KEY)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the simulator never started"
                time.sleep(0.05)
        assert answer.status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    printed = json.loads(out[out.index("{") :])
    assert printed["billed"] == 1 and printed["unique_billed"] == 1
    assert printed["by_status"] == {"200": 1}
