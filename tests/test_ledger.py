"""Tests of the run ledger: keys, durability, permissions, concurrency and bad files."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octave_frames._constants import DEFAULT_BASE_URL, SEQUENCE_PATH
from octave_frames._exceptions import ArgumentError, OctaveError
from octave_frames._ledger import Ledger, request_key
from octave_frames._status import Outcome, Status

REPO = Path(__file__).resolve().parents[1]
PAYLOAD: dict[str, Any] = {
    "agentOId": "ca_123",
    "email": "ada@acme.com",
    "runtimeContext": {"all": "ACCOUNT RESEARCH:\nbig", "1": "Event"},
    "outputFormat": "text",
}
BODY: dict[str, Any] = {
    "_metadata": {"requestId": "req_1", "usage": 3.5},
    "found": True,
    "data": {"emails": [{"subject": "Héllo ✉"}]},
}


def key_of(payload: dict[str, Any] | None = None, **overrides: str) -> str:
    """Build a key with the module's defaults, overridable per test."""
    args: dict[str, Any] = {
        "base_url": DEFAULT_BASE_URL,
        "endpoint": SEQUENCE_PATH,
        "payload": PAYLOAD if payload is None else payload,
    }
    args.update(overrides)
    return request_key(**args)


def answer(ledger: Ledger, key: str, *, usage: float | None = 3.5, body: Any = None) -> None:
    """Record an ``ok`` answer with test defaults."""
    ledger.record_answer(
        key,
        Outcome(Status.OK, BODY if body is None else body, None, usage, "req_1", 1),
        endpoint=SEQUENCE_PATH,
    )


def run_child(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Python process that imports this checkout."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# -- request_key ---------------------------------------------------------------------------


def test_key_is_the_documented_digest() -> None:
    """The key is the SHA-256 of the documented canonical JSON, pinned so caches stay valid."""
    # sha256 of {"base_url":...,"endpoint":...,"payload":PAYLOAD,"v":1}, compact, sorted, UTF-8.
    assert key_of() == "41aa7b30c5c39230ec3af96046cf96169268c88ba41d13212bd2cecfebe07e38"
    assert key_of() == key_of()


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none()),
        max_size=8,
    )
)
def test_key_ignores_field_order(payload: dict[str, Any]) -> None:
    """Two payloads with the same items in different orders share a key."""
    reordered = dict(reversed(list(payload.items())))
    assert key_of(payload) == key_of(reordered)


@pytest.mark.parametrize(
    "change",
    [
        {"email": "bob@acme.com"},
        {"agentOId": "ca_456"},
        {"runtimeContext": {"all": "ACCOUNT RESEARCH:\nsmall", "1": "Event"}},
        {"runtimeContext": {"all": "ACCOUNT RESEARCH:\nbig"}},
        {"runtimeInstructions": {"all": "Short."}},
        {"outputFormat": "html"},
        {"lang": "fr"},
    ],
)
def test_key_changes_with_any_payload_change(change: dict[str, Any]) -> None:
    """Any change of input, context, instruction or option gives a new key."""
    assert key_of({**PAYLOAD, **change}) != key_of()


def test_key_changes_with_endpoint_and_base_url() -> None:
    """Another endpoint or another host gives a new key."""
    assert key_of(endpoint="/api/v2/other") != key_of()
    assert key_of(base_url="https://staging.octavehq.com") != key_of()
    assert key_of(base_url="http://app.octavehq.com") != key_of()


def test_key_normalises_base_url_spelling() -> None:
    """Case, a trailing slash, a default port and URL credentials do not change the key."""
    for spelling in (
        "HTTPS://App.OctaveHQ.com/",
        "https://app.octavehq.com:443",
        "https://user:secret@app.octavehq.com",
    ):
        assert key_of(base_url=spelling) == key_of()
    assert key_of(base_url="https://app.octavehq.com:8443") != key_of()
    assert key_of(base_url="http://[::1]:8000/") == key_of(base_url="http://[::1]:8000")


def test_key_handles_unicode_exactly() -> None:
    """Non-ASCII text is hashed as UTF-8 and distinct characters give distinct keys."""
    accented = key_of({**PAYLOAD, "firstName": "Zoë"})
    assert accented == key_of({**PAYLOAD, "firstName": "Zoë"})
    assert accented != key_of({**PAYLOAD, "firstName": "Zoe"})
    # NFC and NFD spellings are different requests to Octave, so different keys.
    assert accented != key_of({**PAYLOAD, "firstName": "Zoe\u0308"})


def test_key_refuses_non_json_payload() -> None:
    """A NaN or an arbitrary object in the payload is an ArgumentError, not a silent key."""
    with pytest.raises(ArgumentError, match="not plain JSON"):
        key_of({**PAYLOAD, "crmContactId": float("nan")})
    with pytest.raises(ArgumentError, match="not plain JSON"):
        key_of({**PAYLOAD, "x": object()})


# -- round trips ---------------------------------------------------------------------------


def test_round_trip_across_two_ledger_objects(tmp_path: Path) -> None:
    """An answer written by one Ledger is read back whole by a second one on the same file."""
    path = tmp_path / "cache.sqlite"
    key = key_of()
    with Ledger(path) as first:
        answer(first, key)
    with Ledger(path) as second:
        hits = second.lookup([key, "missing"])
    assert list(hits) == [key]
    entry = hits[key]
    assert isinstance(entry, Outcome)
    assert (entry.status, entry.body, entry.error) == (Status.OK, BODY, None)
    assert (entry.attempts, entry.usage, entry.request_id) == (1, 3.5, "req_1")


def test_not_found_is_an_answer(tmp_path: Path) -> None:
    """A ``not_found`` answer is returned by lookup, like ``ok``."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        ledger.record_answer(
            "k",
            Outcome(Status.NOT_FOUND, {"found": False}, None, 1.0, None, 2),
            endpoint=SEQUENCE_PATH,
        )
        assert ledger.lookup(["k"])["k"].status == "not_found"


def test_round_trip_across_processes(tmp_path: Path) -> None:
    """An answer written by another process is read back by this one."""
    path = tmp_path / "cache.sqlite"
    result = run_child(
        f"""
        from octave_frames._ledger import Ledger
        from octave_frames._status import Outcome, Status
        with Ledger({str(path)!r}) as ledger:
            ledger.record_answer("k1", Outcome(Status.OK, {{"v": "çà"}}, None, 2.0, "r", 3),
                                 endpoint="/e")
        """
    )
    assert result.returncode == 0, result.stderr
    with Ledger(path) as ledger:
        entry = ledger.lookup(["k1"])["k1"]
    assert (entry.body, entry.attempts) == ({"v": "çà"}, 3)


def test_answer_survives_sigkill(tmp_path: Path) -> None:
    """A process killed with SIGKILL right after record_answer returns keeps that answer."""
    path = tmp_path / "cache.sqlite"
    result = run_child(
        f"""
        import os, signal
        from octave_frames._ledger import Ledger
        from octave_frames._status import Outcome, Status
        ledger = Ledger({str(path)!r})
        ledger.record_answer("k1", Outcome(Status.OK, {{"n": 1}}, None, None, None, 1),
                             endpoint="/e")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    with Ledger(path) as ledger:
        assert ledger.lookup(["k1"])["k1"].body == {"n": 1}


# -- failures --------------------------------------------------------------------------------


def test_failure_never_overwrites_an_answer(tmp_path: Path) -> None:
    """A failure recorded after an answer leaves the answer in place."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        answer(ledger, "k")
        before = ledger.lookup(["k"])["k"]
        ledger.record_failure("k", reason="HTTP 503", attempts=5, endpoint=SEQUENCE_PATH)
        assert ledger.lookup(["k"])["k"] == before
        assert ledger.failures(["k"]) == {}
        assert ledger.stats() == {"ok": 1, "not_found": 0, "failed": 0, "pending": 0}


def test_answer_overwrites_a_failure(tmp_path: Path) -> None:
    """A failed key is not an answer, is listed as a failure, and a later answer replaces it."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        ledger.record_failure("k", reason="timeout", attempts=5, endpoint=SEQUENCE_PATH)
        assert ledger.lookup(["k"]) == {}
        failed = ledger.failures(["k"])["k"]
        assert (failed.status, failed.error, failed.body, failed.attempts) == (
            "failed",
            "timeout",
            None,
            5,
        )
        ledger.record_failure("k", reason="HTTP 500", attempts=2, endpoint=SEQUENCE_PATH)
        assert ledger.failures(["k"])["k"].error == "HTTP 500"
        answer(ledger, "k")
        assert ledger.lookup(["k"])["k"].status == "ok"
        assert ledger.failures(["k"]) == {}


def test_stats_and_mean_usage(tmp_path: Path) -> None:
    """Counts are per status; mean usage averages known usages of answers on one endpoint."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        assert ledger.mean_usage(SEQUENCE_PATH) is None
        answer(ledger, "a", usage=2.0)
        answer(ledger, "b", usage=4.0)
        answer(ledger, "c", usage=None)
        ledger.record_answer("d", Outcome(Status.OK, {}, None, 100.0, None, 1), endpoint="/x")
        ledger.record_failure("e", reason="x", attempts=1, endpoint=SEQUENCE_PATH)
        assert ledger.stats() == {"ok": 4, "not_found": 0, "failed": 1, "pending": 0}
        assert ledger.mean_usage(SEQUENCE_PATH) == pytest.approx(3.0)


def test_record_answer_refuses_bad_status_and_body(tmp_path: Path) -> None:
    """A non-answer status or a non-JSON body is refused and nothing is stored."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        with pytest.raises(ArgumentError, match="status"):
            ledger.record_answer("k", Outcome(Status.FAILED, {}, "x"), endpoint="/e")
        with pytest.raises(ArgumentError, match="not plain JSON"):
            answer(ledger, "k", body={"x": object()})
        assert ledger.stats() == {"ok": 0, "not_found": 0, "failed": 0, "pending": 0}


def test_answer_body_with_nan_is_kept(tmp_path: Path) -> None:
    """A body that json.loads accepted (NaN, Infinity) is stored and read back, not refused."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        answer(ledger, "k", body={"x": float("inf"), "y": float("nan")})
        body = ledger.lookup(["k"])["k"].body
    assert body is not None
    assert body["x"] == float("inf")
    assert body["y"] != body["y"]


# -- file, permissions, modes ----------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_file_and_directories_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    """New directories are 0700 and the file and its WAL side files 0600, whatever the umask."""
    path = tmp_path / "a" / "b" / "cache.sqlite"
    old = os.umask(umask)
    try:
        ledger = Ledger(path)
        answer(ledger, "k")
    finally:
        os.umask(old)
    try:
        for directory in (tmp_path / "a", tmp_path / "a" / "b"):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        side_files = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        assert all(side.exists() for side in side_files)
        for file in (path, *side_files):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        ledger.close()


def test_existing_directory_mode_is_left_alone(tmp_path: Path) -> None:
    """A directory the user already has keeps its mode."""
    tmp_path.chmod(0o755)
    Ledger(tmp_path / "c.sqlite").close()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_wal_mode_is_on(tmp_path: Path) -> None:
    """The file is in WAL journal mode, seen from a plain sqlite3 connection."""
    path = tmp_path / "c.sqlite"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_repr_shows_only_the_path(tmp_path: Path) -> None:
    """The repr names the file and nothing else."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        assert repr(ledger) == f"Ledger({str(tmp_path / 'c.sqlite')!r})"


def test_closed_ledger_raises_clearly(tmp_path: Path) -> None:
    """Using a closed ledger raises an OctaveError naming the file; closing twice is fine."""
    ledger = Ledger(tmp_path / "c.sqlite")
    ledger.close()
    ledger.close()
    with pytest.raises(OctaveError, match=r"c\.sqlite.*closed"):
        ledger.lookup(["k"])


def test_non_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not SQLite raises ArgumentError naming the path, and is not modified."""
    path = tmp_path / "notes.txt"
    content = b"just some notes, not a database at all" * 100
    path.write_bytes(content)
    with pytest.raises(ArgumentError, match=r"notes\.txt.*not a usable"):
        Ledger(path)
    assert path.read_bytes() == content


def test_other_sqlite_database_is_a_clear_error(tmp_path: Path) -> None:
    """Another application's SQLite database is refused, naming the path, and left as it was."""
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(ArgumentError, match=r"other\.db.*not an octave_frames ledger"):
        Ledger(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        conn.close()


def test_newer_schema_is_a_clear_error(tmp_path: Path) -> None:
    """A ledger written by a newer schema version is refused with the path and versions."""
    path = tmp_path / "c.sqlite"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE octave_frames_meta SET value = '99' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(ArgumentError, match=r"c\.sqlite.*schema version '99'"):
        Ledger(path)


def test_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    """A path under a regular file (so no directory can be made) raises ArgumentError naming it."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ArgumentError, match=r"file/sub/c\.sqlite"):
        Ledger(blocker / "sub" / "c.sqlite")
    with pytest.raises(ArgumentError, match=r"cannot create or open"):
        Ledger(tmp_path)  # a directory, not a file


# -- concurrency and speed -------------------------------------------------------------------


def test_concurrent_writers_on_one_ledger(tmp_path: Path) -> None:
    """Two threads writing through one Ledger lose no answer."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        errors: list[BaseException] = []

        def write(prefix: str) -> None:
            """Record 150 answers, keeping any exception."""
            try:
                for i in range(150):
                    answer(ledger, f"{prefix}{i}")
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(p,)) for p in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert ledger.stats()["ok"] == 300


def test_concurrent_writers_on_two_connections(tmp_path: Path) -> None:
    """Two Ledger objects on one file (as two processes would) wait for each other, not fail."""
    path = tmp_path / "c.sqlite"
    ledgers = [Ledger(path), Ledger(path)]
    errors: list[BaseException] = []

    def write(ledger: Ledger, prefix: str) -> None:
        """Record 150 answers and failures, keeping any exception."""
        try:
            for i in range(150):
                answer(ledger, f"{prefix}{i}")
                ledger.record_failure(f"{prefix}f{i}", reason="x", attempts=1, endpoint="/e")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(ledger, prefix))
        for ledger, prefix in zip(ledgers, "ab", strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.close()
    assert errors == []
    with Ledger(path) as ledger:
        assert ledger.stats() == {"ok": 300, "not_found": 0, "failed": 300, "pending": 0}


def test_lookup_of_ten_thousand_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ten thousand stored answers come back from one lookup, chunked past SQLite's limit."""
    path = tmp_path / "c.sqlite"
    keys = [key_of({**PAYLOAD, "email": f"u{i}@acme.com"}) for i in range(10_000)]
    with Ledger(path) as ledger:
        # Mimic SQLite builds older than 3.32 (999 variables) so one IN (...) would fail.
        assert ledger._conn is not None
        ledger._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        conn = sqlite3.connect(path)
        try:
            # One transaction for setup speed; record_answer's per-call commit is timed below.
            with conn:
                conn.executemany(
                    "INSERT INTO entries (key, endpoint, status, body, attempts, updated_at) "
                    "VALUES (?, ?, 'ok', ?, 1, 'now')",
                    [(k, SEQUENCE_PATH, '{"found":true,"data":{"emails":[]}}') for k in keys],
                )
        finally:
            conn.close()
        start = time.perf_counter()
        hits = ledger.lookup([*keys, "absent"])
        elapsed = time.perf_counter() - start
        assert len(hits) == 10_000
        assert hits[keys[-1]].body == {"found": True, "data": {"emails": []}}

        start = time.perf_counter()
        for i in range(200):
            answer(ledger, f"timed{i}")
        per_commit = (time.perf_counter() - start) / 200
    with capsys.disabled():
        print(
            f"\nlookup of 10k keys: {elapsed * 1000:.1f} ms; record_answer: "
            f"{per_commit * 1000:.3f} ms per commit"
        )


# -- async runs and callbacks (schema version 2) --------------------------------------------

ASYNC_PATH = "/api/v2/async/agent/run"
# The version-1 schema as released, frozen here so the upgrade is tested against real files.
V1_SCHEMA = """
CREATE TABLE octave_frames_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    key TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'not_found', 'failed')),
    body TEXT,
    error TEXT,
    attempts INTEGER NOT NULL,
    usage REAL,
    request_id TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX entries_endpoint_status ON entries (endpoint, status);
INSERT INTO octave_frames_meta VALUES ('application', 'octave_frames.ledger');
INSERT INTO octave_frames_meta VALUES ('schema_version', '1');
INSERT INTO entries VALUES ('k1', '/e', 'ok', '{"found":true}', NULL, 1, 2.5, 'r1', 'then');
INSERT INTO entries VALUES ('k2', '/e', 'failed', NULL, 'HTTP 503', 4, NULL, NULL, 'then');
"""


def meta_value(path: Path, name: str) -> str | None:
    """Read one value of the meta table through a plain sqlite3 connection."""
    conn = sqlite3.connect(path)
    try:
        query = "SELECT value FROM octave_frames_meta WHERE name = ?"
        row = conn.execute(query, (name,)).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


def test_v1_ledger_is_upgraded_in_place_keeping_entries(tmp_path: Path) -> None:
    """A version-1 file opens, keeps its answers and failures, and becomes version 2 with runs."""
    path = tmp_path / "c.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.close()
    with Ledger(path) as ledger:
        assert ledger.lookup(["k1", "k2"])["k1"].body == {"found": True}
        assert ledger.failures(["k2"])["k2"].error == "HTTP 503"
        ledger.record_submission("k3", run_id="asyncReqID_3", endpoint=ASYNC_PATH)
    assert meta_value(path, "schema_version") == "2"
    with Ledger(path) as again:
        assert again.stats() == {"ok": 1, "not_found": 0, "failed": 1, "pending": 1}
        assert again.key_for_run("asyncReqID_3") == "k3"


def test_schema_version_three_is_refused(tmp_path: Path) -> None:
    """The version right after this code's (3) is refused, not read as if it were version 2."""
    path = tmp_path / "c.sqlite"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE octave_frames_meta SET value = '3' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(ArgumentError, match=r"schema version '3'.*up to version 2"):
        Ledger(path)


def test_run_id_is_on_disk_when_record_submission_returns(tmp_path: Path) -> None:
    """A second connection reads the run id as soon as record_submission returns."""
    path = tmp_path / "c.sqlite"
    with Ledger(path) as ledger:
        ledger.record_submission("k", run_id="asyncReqID_1", endpoint=ASYNC_PATH)
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("SELECT key, run_id, endpoint FROM runs").fetchall()
        finally:
            conn.close()
    assert rows == [("k", "asyncReqID_1", ASYNC_PATH)]


def test_run_id_survives_sigkill(tmp_path: Path) -> None:
    """A process killed with SIGKILL right after record_submission returns keeps the run id."""
    path = tmp_path / "c.sqlite"
    result = run_child(
        f"""
        import os, signal
        from octave_frames._ledger import Ledger
        from octave_frames._status import Outcome, Status
        ledger = Ledger({str(path)!r})
        ledger.record_submission("k", run_id="asyncReqID_9", endpoint="/e")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    with Ledger(path) as ledger:
        assert ledger.submissions(["k"])["k"].run_id == "asyncReqID_9"


def test_record_submission_never_changes_a_known_run_id(tmp_path: Path) -> None:
    """A key keeps its first run id: another one raises, the same one again is a no-op."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        ledger.record_submission("k", run_id="r1", endpoint=ASYNC_PATH)
        ledger.record_submission("k", run_id="r1", endpoint=ASYNC_PATH)
        with pytest.raises(OctaveError, match=r"already submitted as run 'r1'"):
            ledger.record_submission("k", run_id="r2", endpoint=ASYNC_PATH)
        with pytest.raises(OctaveError, match=r"run id 'r1' already belongs"):
            ledger.record_submission("other", run_id="r1", endpoint=ASYNC_PATH)
        with pytest.raises(ArgumentError, match="non-empty"):
            ledger.record_submission("empty", run_id="", endpoint=ASYNC_PATH)
        assert ledger.key_for_run("r2") is None
        assert list(ledger.submissions(["k", "other", "empty"])) == ["k"]


def test_submissions_are_returned_whatever_the_answer_state(tmp_path: Path) -> None:
    """Submissions come back for answered, failed and pending keys; pending counts only the last."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        for name in ("done", "bad", "wait"):
            ledger.record_submission(name, run_id=f"run_{name}", endpoint=ASYNC_PATH)
        answer(ledger, "done")
        ledger.record_failure("bad", reason="job failed", attempts=1, endpoint=ASYNC_PATH)
        found = ledger.submissions(["done", "bad", "wait", "never"])
        assert sorted(found) == ["bad", "done", "wait"]
        wait = found["wait"]
        assert (wait.key, wait.run_id, wait.endpoint) == ("wait", "run_wait", ASYNC_PATH)
        assert wait.submitted_at.endswith("+00:00")
        assert ledger.stats()["pending"] == 1
        assert ledger.key_for_run("run_bad") == "bad"
        assert ledger.key_for_run("run_never") is None


def test_submissions_of_many_keys_are_chunked(tmp_path: Path) -> None:
    """Two thousand submissions come back from one call on a 999-variable SQLite build."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        assert ledger._conn is not None
        ledger._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        keys = [f"k{i}" for i in range(2000)]
        for key in keys:
            ledger.record_submission(key, run_id=f"run_{key}", endpoint=ASYNC_PATH)
        assert len(ledger.submissions(keys)) == 2000
        assert len(ledger.callbacks(f"run_{key}" for key in keys)) == 0


def test_callback_is_stored_once_per_run_id(tmp_path: Path) -> None:
    """A second delivery keeps the first body and counts 2 deliveries in one row."""
    path = tmp_path / "c.sqlite"
    with Ledger(path) as ledger:
        ledger.record_submission("k", run_id="r1", endpoint=ASYNC_PATH)
        assert ledger.record_callback("r1", '{"status": "succeeded", "n": 1}') == "stored"
        assert ledger.record_callback("r1", '{"status": "succeeded", "n": 2}') == "duplicate"
        assert ledger.callbacks(["r1", "r2"]) == {"r1": {"status": "succeeded", "n": 1}}
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT run_id, deliveries FROM callbacks").fetchall()
    finally:
        conn.close()
    assert rows == [("r1", 2)]


def test_callback_for_an_unknown_run_writes_nothing(tmp_path: Path) -> None:
    """A run id this ledger never submitted is "unknown" and leaves the callbacks table empty."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        assert ledger.record_callback("nobody", '{"status": "succeeded"}') == "unknown"
        assert ledger.callbacks(["nobody"]) == {}
        ledger.record_submission("k", run_id="nobody", endpoint=ASYNC_PATH)
        # Now known: the earlier refusal left no row that would make this a duplicate.
        assert ledger.record_callback("nobody", '{"status": "failed"}') == "stored"


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"'])
def test_callback_body_must_be_a_json_object(tmp_path: Path, body: str) -> None:
    """A body that is not the JSON text of an object is refused before anything is written."""
    with Ledger(tmp_path / "c.sqlite") as ledger:
        ledger.record_submission("k", run_id="r1", endpoint=ASYNC_PATH)
        with pytest.raises(ArgumentError, match="'r1'"):
            ledger.record_callback("r1", body)
        assert ledger.callbacks(["r1"]) == {}


def test_callback_token_is_made_once_and_shared(tmp_path: Path) -> None:
    """The token is created on first use, stored in the file, and the same for every reader."""
    path = tmp_path / "c.sqlite"
    with Ledger(path) as ledger:
        assert meta_value(path, "callback_token") is None
        token = ledger.callback_token
        assert token == ledger.callback_token
    assert len(token) == 32
    assert token.replace("-", "").replace("_", "").isalnum()
    assert meta_value(path, "callback_token") == token
    with Ledger(path) as again:
        assert again.callback_token == token
    with Ledger(tmp_path / "other.sqlite") as other:
        assert other.callback_token != token


def test_callback_token_race_gives_one_token(tmp_path: Path) -> None:
    """Ledgers asking for the token at once on a fresh file all read the one that was stored."""
    path = tmp_path / "c.sqlite"
    ledgers = [Ledger(path) for _ in range(4)]
    tokens: list[str] = []
    barrier = threading.Barrier(len(ledgers))

    def read(ledger: Ledger) -> None:
        """Wait for the others, then read the token."""
        barrier.wait()
        tokens.append(ledger.callback_token)

    threads = [threading.Thread(target=read, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.close()
    assert len(tokens) == 4
    assert len(set(tokens)) == 1
