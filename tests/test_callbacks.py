"""The callback receiver: what it stores, what it refuses untouched, and its command."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import pytest
from _simkit import client, contact, make, wait_for

from octave_frames._callbacks import (
    CALLBACK_PREFIX,
    CallbackApp,
    CallbackCounts,
    callback_app,
    callback_url,
    run_ids_in,
)
from octave_frames._constants import ASYNC_RUN_PATH
from octave_frames._exceptions import ArgumentError
from octave_frames._ledger import Ledger
from octave_frames.cli import main
from octave_frames.simulator import serve

REPO = Path(__file__).resolve().parents[1]
RUN = "asyncReqID_0001"
WORKFLOW_RUN = "bsjob_0001"
ENVELOPE: dict[str, Any] = {
    "_metadata": {"requestId": RUN, "usage": 1},
    "found": True,
    "message": "ok",
    "data": {"emails": [{"subject": "Hi"}]},
}


def payload(run_id: str = RUN, **extra: Any) -> dict[str, Any]:
    """Return a callback body shaped like the simulator's (and, as far as known, Octave's)."""
    body: dict[str, Any] = {
        "requestId": run_id,
        "agentRunOId": run_id,
        "status": "succeeded",
        "result": ENVELOPE,
        "output": ENVELOPE,
        "error": None,
    }
    body.update(extra)
    return body


def rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    """Read a whole ledger table through a plain sqlite3 connection."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT * FROM {table}").fetchall()
    finally:
        conn.close()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A ledger file that submitted one agent run and one workflow run."""
    path = tmp_path / "cache.sqlite"
    with Ledger(path) as ledger:
        ledger.record_submission("key-agent", run_id=RUN, endpoint=ASYNC_RUN_PATH)
        ledger.record_submission("key-flow", run_id=WORKFLOW_RUN, endpoint="/api/v2/workflows/run")
    return path


@pytest.fixture
def app(cache: Path) -> Iterator[CallbackApp]:
    """The receiver on ``cache``, closed after the test."""
    receiver = callback_app(cache)
    yield receiver
    receiver.close()


@pytest.fixture
def token(app: CallbackApp) -> str:
    """The ledger's callback token."""
    return app.ledger.callback_token


@pytest.fixture
async def http(app: CallbackApp) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the receiver in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as c:
        yield c


def stored(cache: Path, *run_ids: str) -> dict[str, dict[str, Any]]:
    """Read stored callbacks through a Ledger of its own, as the engine would."""
    with Ledger(cache) as ledger:
        return ledger.callbacks(run_ids or (RUN, WORKFLOW_RUN))


# -- stored ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_callback_is_stored_and_readable_from_the_ledger(
    http: httpx.AsyncClient, token: str, cache: Path, app: CallbackApp
) -> None:
    """A callback for a submitted run answers 200 stored and reads back whole via callbacks()."""
    reply = await http.post(CALLBACK_PREFIX + token, json=payload())
    assert (reply.status_code, reply.json()) == (200, {"ok": True, "stored": True})
    assert stored(cache) == {RUN: payload()}
    assert app.counts == CallbackCounts(stored=1)


@pytest.mark.anyio
async def test_duplicate_delivery_keeps_one_row(
    http: httpx.AsyncClient, token: str, cache: Path, app: CallbackApp
) -> None:
    """The same callback delivered twice is one row with deliveries == 2 and the first body."""
    first = await http.post(CALLBACK_PREFIX + token, json=payload())
    second = await http.post(CALLBACK_PREFIX + token, json=payload(status="failed"))
    assert first.json()["stored"] is True
    assert (second.status_code, second.json()) == (200, {"ok": True, "stored": False})
    [(run_id, body, _received, deliveries)] = rows(cache, "callbacks")
    assert (run_id, json.loads(body)["status"], deliveries) == (RUN, "succeeded", 2)
    assert app.counts == CallbackCounts(stored=1, duplicates=1)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "run_id"),
    [
        ({"requestId": RUN}, RUN),
        ({"agentRunOId": RUN}, RUN),
        ({"jobOId": WORKFLOW_RUN}, WORKFLOW_RUN),
        ({"workflowRunOId": WORKFLOW_RUN}, WORKFLOW_RUN),
        ({"data": {"requestId": RUN}}, RUN),
        ({"data": {"agentRunOId": RUN}}, RUN),
        ({"data": {"jobOId": WORKFLOW_RUN}}, WORKFLOW_RUN),
        ({"data": {"workflowRunOId": WORKFLOW_RUN}}, WORKFLOW_RUN),
        # An id the ledger does not know is skipped for one it does.
        ({"requestId": "asyncReqID_other", "jobOId": WORKFLOW_RUN}, WORKFLOW_RUN),
    ],
)
async def test_run_id_is_found_under_every_accepted_name(
    http: httpx.AsyncClient, token: str, cache: Path, body: dict[str, Any], run_id: str
) -> None:
    """The run id is read from each accepted field, at the top level or under ``data``."""
    full = {**body, "status": "succeeded", "output": {"emails": []}}
    reply = await http.post(CALLBACK_PREFIX + token, json=full)
    assert reply.status_code == 200, reply.text
    assert stored(cache) == {run_id: full}


def test_run_ids_in_orders_top_level_first_and_skips_junk() -> None:
    """Run ids come top level first, then under data, without repeats, blanks or non-strings."""
    body = {"requestId": " r1 ", "agentRunOId": "r1", "jobOId": 7, "data": {"jobOId": "b2"}}
    assert run_ids_in(body) == ["r1", "b2"]
    assert run_ids_in({"requestId": "", "data": "r9"}) == []


# -- refused, ledger untouched -----------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        "/octave/callback/wrong-token",
        "/octave/callback/",
        "/octave/callback",
        "/elsewhere",
        "/",
    ],
)
async def test_wrong_token_is_the_same_404_as_any_unknown_path(
    http: httpx.AsyncClient, token: str, cache: Path, path: str
) -> None:
    """A wrong or missing token gets the exact reply of an unknown path and writes nothing."""
    reply = await http.post(path, json=payload())
    unknown = await http.post("/no/such/path", json=payload())
    near = await http.post(CALLBACK_PREFIX + token + "x", json=payload())
    for answer in (reply, near):
        assert answer.status_code == 404
        assert answer.content == unknown.content
    assert rows(cache, "callbacks") == []


@pytest.mark.anyio
async def test_unknown_run_id_is_404_and_writes_nothing(
    http: httpx.AsyncClient, token: str, cache: Path, app: CallbackApp
) -> None:
    """A run id this ledger did not submit gets 404 "unknown run id" and no row."""
    reply = await http.post(CALLBACK_PREFIX + token, json=payload("asyncReqID_stranger"))
    assert (reply.status_code, reply.json()) == (404, {"message": "unknown run id"})
    assert rows(cache, "callbacks") == []
    assert app.counts == CallbackCounts(refused=1)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"just text"', 400),
        (b"\xff\xfe\x00{", 400),
        (b"", 400),
        (b'{"status": "succeeded", "result": {}}', 422),
        (b'{"requestId": "", "data": {"jobOId": null}}', 422),
    ],
)
async def test_bad_bodies_are_refused_without_writing(
    http: httpx.AsyncClient, token: str, cache: Path, content: bytes, status: int
) -> None:
    """Malformed JSON or a non-object is 400, a body without a run id 422; no row either way."""
    reply = await http.post(
        CALLBACK_PREFIX + token, content=content, headers={"content-type": "application/json"}
    )
    assert reply.status_code == status, reply.text
    assert "message" in reply.json()
    assert rows(cache, "callbacks") == []


@pytest.mark.anyio
async def test_five_megabytes_declared_is_413_at_once(
    http: httpx.AsyncClient, token: str, cache: Path
) -> None:
    """A 5 MB body with a Content-Length is refused 413 quickly and nothing is written."""
    big = json.dumps(payload(padding="x" * 5_000_000)).encode()
    start = time.perf_counter()
    reply = await http.post(CALLBACK_PREFIX + token, content=big)
    assert reply.status_code == 413
    assert time.perf_counter() - start < 2.0
    assert rows(cache, "callbacks") == []


@pytest.mark.anyio
async def test_oversized_chunked_body_is_not_read_to_the_end(
    app: CallbackApp, token: str, cache: Path
) -> None:
    """Without a Content-Length the receiver stops reading as soon as the body is over the cap."""
    chunk = b"x" * 1_000_000
    served: list[int] = []
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        """Hand out five 1 MB chunks, counting how many were asked for."""
        served.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": len(served) < 5}

    async def send(message: MutableMapping[str, Any]) -> None:
        """Keep what the app sends."""
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": CALLBACK_PREFIX + token, "headers": []}
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert len(served) == 3  # 3 MB read is over the 2 MB cap: the other 2 MB never are
    assert rows(cache, "callbacks") == []


@pytest.mark.anyio
async def test_methods_and_health(http: httpx.AsyncClient, token: str, cache: Path) -> None:
    """Other methods on the callback URL are 405; GET /octave/health is 200 without a token."""
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        reply = await http.request(method, CALLBACK_PREFIX + token)
        assert reply.status_code == 405, method
        assert reply.headers["allow"] == "POST"
    health = await http.get("/octave/health")
    assert (health.status_code, health.json()) == (200, {"ok": True})
    assert (await http.post("/octave/health")).status_code == 405
    # Without the token a GET is no different from any unknown path.
    assert (await http.get("/octave/callback/nope")).status_code == 404
    assert rows(cache, "callbacks") == []


@pytest.mark.anyio
async def test_a_closed_ledger_answers_503_so_octave_retries(
    http: httpx.AsyncClient, token: str, app: CallbackApp, cache: Path
) -> None:
    """When the ledger cannot take the callback the reply is 503 (retried), never a false 200."""
    app.close()
    reply = await http.post(CALLBACK_PREFIX + token, json=payload())
    assert reply.status_code == 503
    assert app.counts == CallbackCounts(errors=1)
    assert rows(cache, "callbacks") == []


@pytest.mark.anyio
async def test_log_lines_never_hold_the_token(
    http: httpx.AsyncClient, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Stored, duplicate and refused requests are logged, and no log line holds the token."""
    caplog.set_level(logging.DEBUG, logger="octave_frames")
    url = CALLBACK_PREFIX + token
    await http.post(url, json=payload())
    await http.post(url, json=payload())
    await http.post(url + "-guess", json=payload())
    await http.post("/octave/callback/" + token[:-1], json=payload())
    await http.post(url, content=b"{")
    await http.post(url, json={"status": "succeeded"})
    await http.post(url, json=payload("asyncReqID_stranger"))
    await http.get(url)
    assert len(caplog.records) >= 8
    assert token not in caplog.text
    assert token[:-1] not in caplog.text


@pytest.mark.anyio
async def test_lifespan_is_acknowledged(app: CallbackApp) -> None:
    """The app completes ASGI lifespan startup and shutdown, so any server can run it."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        """Hand out the startup, then the shutdown message."""
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        """Keep what the app sends."""
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# -- URL and arguments ---------------------------------------------------------------------


def test_callback_url_ends_with_the_ledger_token(cache: Path) -> None:
    """callback_url joins the base URL (trailing slash dropped), the route and the ledger token."""
    with Ledger(cache) as ledger:
        token = ledger.callback_token
    assert callback_url("https://hooks.example.com/", cache) == (
        f"https://hooks.example.com/octave/callback/{token}"
    )
    assert callback_url("https://x.example/base", cache).endswith(f"/base/octave/callback/{token}")
    with pytest.raises(ArgumentError, match="base URL"):
        callback_url("hooks.example.com", cache)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_body_must_be_a_positive_int(cache: Path, bad: Any) -> None:
    """A max_body that is not a positive integer is an ArgumentError naming it."""
    with pytest.raises(ArgumentError, match="max_body"):
        callback_app(cache, max_body=bad)


# -- over a real loopback port -------------------------------------------------------------


def test_over_loopback_stores_dedupes_and_refuses_big_bodies(
    app: CallbackApp, token: str, cache: Path
) -> None:
    """Served by uvicorn, the receiver stores, dedupes and answers a 5 MB stream 413 quickly."""

    def big() -> Iterator[bytes]:
        """Stream 5 MB with no Content-Length (chunked)."""
        for _ in range(50):
            yield b"x" * 100_000

    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as c:
        assert c.post(CALLBACK_PREFIX + token, json=payload()).json()["stored"] is True
        assert c.post(CALLBACK_PREFIX + token, json=payload()).json()["stored"] is False
        start = time.perf_counter()
        reply = c.post(CALLBACK_PREFIX + token, content=big())
        elapsed = time.perf_counter() - start
        assert reply.status_code == 413
        assert elapsed < 2.0
        declared = c.post(CALLBACK_PREFIX + token, content=b"{" + b" " * 5_000_000 + b"}")
        assert declared.status_code == 413
        assert c.get("/octave/health").status_code == 200
    assert [(r[0], r[3]) for r in rows(cache, "callbacks")] == [(RUN, 2)]


@pytest.mark.anyio
async def test_the_simulator_calls_back_into_the_ledger(tmp_path: Path) -> None:
    """A simulator job posting to callback_url() twice lands in the ledger once, two deliveries."""
    cache = tmp_path / "c.sqlite"
    receiver = callback_app(cache)
    sim = make(job_duration=(0.05, 0.05), callback_duplicate_rate=1.0)
    try:
        with serve(receiver) as base:
            url = callback_url(base, cache)
            async with client(sim) as c:
                answer = await c.post(ASYNC_RUN_PATH, json={**contact(), "callbackUrl": url})
                run_id = answer.json()["requestId"]
                receiver.ledger.record_submission("k", run_id=run_id, endpoint=ASYNC_RUN_PATH)
                await wait_for(lambda: sim.counters.callbacks_sent >= 2, seconds=10)
    finally:
        receiver.close()
    body = stored(cache, run_id)[run_id]
    assert body["status"] == "succeeded"
    assert body["result"]["data"]["emails"]
    assert [(r[0], r[3]) for r in rows(cache, "callbacks")] == [(run_id, 2)]


# -- the command, in its own process -------------------------------------------------------


def _pump(stream: IO[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """Read a pipe's lines on a thread, so a test can wait for them with a timeout."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        """Move every line of the pipe to the queue."""
        for line in stream:
            lines.put(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return lines, thread


def _post_when_up(url: str, body: dict[str, Any]) -> httpx.Response:
    """POST once the server listens: the URL is printed just before uvicorn binds."""
    for _ in range(200):
        try:
            return httpx.post(url, json=body, timeout=10)
        except httpx.ConnectError:
            threading.Event().wait(0.05)
    raise AssertionError(f"the receiver never answered on {url}")


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_command_serves_one_ledger_with_this_process(tmp_path: Path, stop: signal.Signals) -> None:
    """The command and this test share one ledger live; it prints the URL, then counts on stop."""
    cache = tmp_path / "c.sqlite"
    command = [sys.executable, "-m", "octave_frames.cli", "callbacks", "--port", "0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with (
        Ledger(cache) as ledger,
        subprocess.Popen(
            [*command, "--cache", str(cache), "--log-level", "debug"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc,
    ):
        assert proc.stdout is not None and proc.stderr is not None
        lines, reader = _pump(proc.stdout)
        errors, error_reader = _pump(proc.stderr)
        try:
            banner = [lines.get(timeout=30) for _ in range(4)]
            url = banner[2].strip()
            assert "callback_url=" in banner[1]
            assert "public HTTPS" in banner[3]
            token = ledger.callback_token
            assert url.endswith(CALLBACK_PREFIX + token)
            # Submissions recorded here while the receiver runs are seen there at once.
            for i in range(20):
                ledger.record_submission(f"k{i}", run_id=f"run_{i}", endpoint=ASYNC_RUN_PATH)
                assert _post_when_up(url, payload(f"run_{i}")).json()["stored"] is True
                assert ledger.callbacks([f"run_{i}"])[f"run_{i}"]["requestId"] == f"run_{i}"
            assert _post_when_up(url, payload("run_3")).json()["stored"] is False
            assert _post_when_up(url, payload("run_stranger")).status_code == 404
            assert _post_when_up(url + "x", payload("run_4")).status_code == 404
            proc.send_signal(stop)
            assert proc.wait(timeout=15) == 0
            reader.join(timeout=5)
            error_reader.join(timeout=5)
            tail = []
            while not lines.empty():
                tail.append(lines.get())
            assert tail[-1] == ("callback receiver stopped: 20 stored, 1 duplicates, 2 refused\n")
            logged = "".join(errors.get() for _ in range(errors.qsize()))
            assert "stored the callback of run run_0" in logged
            assert token not in logged
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)
            error_reader.join(timeout=5)
    assert len(rows(cache, "callbacks")) == 20


@pytest.mark.slow
def test_command_prints_the_public_url(tmp_path: Path) -> None:
    """With --public-url the printed callback URL is the public one, on the ledger's token."""
    cache = tmp_path / "c.sqlite"
    command = [sys.executable, "-m", "octave_frames.cli", "callbacks", "--port", "0"]
    public = "https://hooks.example.com/octave-in/"
    with subprocess.Popen(
        [*command, "--cache", str(cache), "--public-url", public],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        lines, reader = _pump(proc.stdout)
        try:
            banner = [lines.get(timeout=30) for _ in range(3)]
            local = banner[0].split(" on ")[1].split()[0]
            assert _post_when_up(local + "/octave/health", {}).status_code == 405
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)
    with Ledger(cache) as ledger:
        token = ledger.callback_token
    assert banner[2].strip() == f"https://hooks.example.com/octave-in/octave/callback/{token}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--public-url", "hooks.example.com"], "--public-url must look like"),
        (["--public-url", "https://h.example/?a=1"], "query or fragment"),
        (["--port", "70000"], "--port must be within"),
    ],
)
def test_command_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """A bad --public-url or --port exits 2 with a one-line reason, before anything listens."""
    code = main(["callbacks", "--cache", str(tmp_path / "c.sqlite"), *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_help_explains_the_public_https_address(capsys: pytest.CaptureFixture[str]) -> None:
    """`callbacks --help` names every option and says how to get a public HTTPS address."""
    assert main(["callbacks", "--help"]) == 0
    text = capsys.readouterr().out
    for needle in ("--port", "--host", "--cache", "--public-url", "tunnel", "HTTPS", "token"):
        assert needle in text, needle


@pytest.mark.anyio
async def test_concurrent_callbacks_in_process_lose_nothing(
    http: httpx.AsyncClient, token: str, cache: Path
) -> None:
    """Forty callbacks at once (twenty runs, each twice) leave twenty rows of two deliveries."""
    with Ledger(cache) as ledger:
        for i in range(20):
            ledger.record_submission(f"c{i}", run_id=f"crun_{i}", endpoint=ASYNC_RUN_PATH)

    async def deliver(run_id: str) -> None:
        """POST one callback and check it was taken."""
        reply = await http.post(CALLBACK_PREFIX + token, json=payload(run_id))
        assert reply.status_code == 200

    async with anyio.create_task_group() as tg:
        for i in [*range(20), *range(20)]:
            tg.start_soon(deliver, f"crun_{i}")
    deliveries = {r[0]: r[3] for r in rows(cache, "callbacks")}
    assert deliveries == {f"crun_{i}": 2 for i in range(20)}
