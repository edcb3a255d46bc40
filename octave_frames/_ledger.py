"""The run ledger: every Octave answer on disk the moment it arrives.

A run over thousands of contacts takes an hour and costs real credits. The ledger is a
SQLite file (default ``.octave/cache.sqlite``) keyed by :func:`request_key`; each answer is
committed in its own transaction as soon as it is recorded, so a ``kill -9``, a dead kernel or
Ctrl-C loses at most the calls still in flight, and running the same call again pays for
nothing twice.

Durability trade-off: the file runs in WAL mode with ``synchronous=NORMAL``. A commit is in
the operating system's page cache when :meth:`Ledger.record_answer` returns, so it survives the
process being killed; only a power loss or kernel crash can lose the last few commits (the
file stays consistent either way). ``synchronous=FULL`` would add an fsync per answer for a
risk that costs, at worst, re-sending those few calls.

Async jobs (schema version 2) add two tables. ``runs`` maps a request key to the run id
Octave gave its submission; it is written before the submitting call returns, and a key holds
one run id for ever, so a job is never paid for twice. ``callbacks`` holds the first body
Octave POSTed for each of those run ids (the run id is its primary key, so a second delivery
only counts). A per-ledger secret, ``callback_token``, is the only thing that authenticates a
callback: Octave does not sign them, so the receiver trusts a URL holding the token and run
ids this ledger issued. A version-1 file is upgraded in place when opened.

The ledger holds response bodies, failure reasons and bookkeeping only: never the API key,
never a header. File and (newly created) directories are readable by their owner only, which
also keeps the callback token private.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self
from urllib.parse import urlsplit

from ._exceptions import ArgumentError, OctaveError
from ._status import Outcome, Status

__all__ = ["Ledger", "Submission", "request_key"]

_KEY_VERSION: Final = 1
_SCHEMA_VERSION: Final = 2
_APPLICATION: Final = "octave_frames.ledger"
_META_TABLE: Final = "octave_frames_meta"
# Below the 999-variable limit of SQLite builds older than 3.32.
_CHUNK: Final = 900
# Two processes on one file wait this long for each other's (tiny) commits.
_BUSY_TIMEOUT_S: Final = 30.0
_ANSWER_STATUSES: Final = ("ok", "not_found")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_TOKEN_NAME: Final = "callback_token"
_TOKEN_BYTES: Final = 24

_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS {_META_TABLE} (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
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
CREATE INDEX IF NOT EXISTS entries_endpoint_status ON entries (endpoint, status);
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    endpoint TEXT NOT NULL,
    submitted_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS callbacks (
    run_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL
);
INSERT OR IGNORE INTO {_META_TABLE} (name, value) VALUES ('application', '{_APPLICATION}');
INSERT OR IGNORE INTO {_META_TABLE} (name, value) VALUES ('schema_version', '{_SCHEMA_VERSION}');
UPDATE {_META_TABLE} SET value = '{_SCHEMA_VERSION}'
    WHERE name = 'schema_version' AND CAST(value AS INTEGER) < {_SCHEMA_VERSION};
"""

_COLUMNS: Final = "key, status, body, error, attempts, usage, request_id, updated_at"


def _normalise_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    # Credentials in a URL must not reach the key (nor the file through it).
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path}".rstrip("/")


def request_key(*, base_url: str, endpoint: str, payload: Mapping[str, Any]) -> str:
    """Return the ledger key of one request: a hex SHA-256 of its canonical JSON.

    The payload already carries ``agentOId``/``experimentOId`` and every option, so any change
    of input, context, instruction or option gives a new key, while key order does not matter.
    The API key and headers are never part of it. The engine sends the full 64-character key
    as ``x-external-request-id`` so Octave's logs join the ledger's rows exactly.

    Args:
        base_url: The API root; scheme and host are lower-cased, default ports and a trailing
            slash dropped, so equivalent spellings share answers.
        endpoint: The path called, e.g. ``/api/v2/agents/sequence/run``.
        payload: The JSON body sent.

    Returns:
        64 lower-case hex characters.

    Raises:
        ArgumentError: The payload is not plain JSON (e.g. holds NaN or a non-JSON object).

    Example:
        >>> request_key(base_url="https://app.octavehq.com/", endpoint="/x", payload={"a": 1})[:8]
        '188ff198'

    """
    document = {
        "v": _KEY_VERSION,
        "base_url": _normalise_base_url(base_url),
        "endpoint": endpoint,
        "payload": dict(payload),
    }
    try:
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"request payload is not plain JSON: {exc}") from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Submission:
    """One submitted async job: the run id Octave gave a request key.

    Attributes:
        key: The :func:`request_key` of the submitted request.
        run_id: Octave's run id (``requestId``/``agentRunOId``, or a workflow's ``jobOId``).
        endpoint: The path the job was submitted to.
        submitted_at: When the run id was stored (UTC, ISO 8601).

    """

    key: str
    run_id: str
    endpoint: str
    submitted_at: str


CallbackOutcome = Literal["stored", "duplicate", "unknown"]


def _outcome(row: tuple[Any, ...]) -> Outcome:
    _, status, body, error, attempts, usage, request_id, _ = row
    parsed = None if body is None else json.loads(body)
    return Outcome(Status(status), parsed, error, usage, request_id, attempts)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def _make_private_dirs(directory: Path) -> None:
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue  # another process made it first; its mode is its own
        # chmod after mkdir so the umask cannot widen or narrow the mode.
        path.chmod(0o700)


def _create_private_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # An existing file keeps its mode, but must be writable by us.
        fd = os.open(path, os.O_RDWR)
    else:
        os.fchmod(fd, 0o600)
    os.close(fd)


def _tighten_side_files(path: Path) -> None:
    # SQLite copies the main file's mode to -wal/-shm; this guards other builds and VFSes.
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        try:
            mode = stat.S_IMODE(side.stat().st_mode)
            if mode & 0o077:
                side.chmod(mode & 0o700)
        except FileNotFoundError:
            continue


class Ledger:
    """A SQLite file of final answers and failures, safe across threads and processes.

    Every public method takes one internal lock, so the engine's event-loop thread and a
    notebook's portal thread may share one ledger. Two processes on one file wait for each
    other instead of failing.

    Args:
        path: The SQLite file; missing parent directories are created (mode 0700), a new file
            is created with mode 0600.

    Raises:
        ArgumentError: The path cannot be created or written, is not a ledger (another
            SQLite database, or not SQLite at all), or holds a newer ledger schema.

    Example:
        >>> with Ledger(".octave/cache.sqlite") as ledger:  # doctest: +SKIP
        ...     hits = ledger.lookup(keys)

    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path).expanduser().absolute()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            _make_private_dirs(self._path.parent)
            _create_private_file(self._path)
        except OSError as exc:
            raise ArgumentError(
                f"cannot create or open the ledger file {str(self._path)!r}: {exc}"
            ) from exc
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise ArgumentError(
                f"{str(self._path)!r} is not a usable octave_frames ledger ({exc}); "
                "pass another cache path"
            ) from exc
        _tighten_side_files(self._path)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: each write is its own transaction, committed by the statement.
        conn = sqlite3.connect(
            self._path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            self._check_schema(conn, created=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # IMMEDIATE: two processes opening a fresh file create the schema one at a time.
            try:
                conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._check_schema(conn, created=True)
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_schema(self, conn: sqlite3.Connection, *, created: bool) -> None:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        if not tables and not created:
            return  # a fresh file: the schema is created next
        meta = (
            dict(conn.execute(f"SELECT name, value FROM {_META_TABLE}").fetchall())
            if _META_TABLE in tables
            else {}
        )
        if meta.get("application") != _APPLICATION:
            raise ArgumentError(
                f"{str(self._path)!r} is an SQLite database but not an octave_frames ledger; "
                "pass another cache path"
            )
        version = meta.get("schema_version", "")
        if not version.isdigit() or int(version) > _SCHEMA_VERSION:
            raise ArgumentError(
                f"the ledger {str(self._path)!r} has schema version {version!r}; this "
                f"octave_frames reads up to version {_SCHEMA_VERSION}: upgrade octave_frames or "
                "pass another cache path"
            )

    @property
    def path(self) -> Path:
        """The absolute path of the ledger file."""
        return self._path

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise OctaveError(f"the ledger {str(self._path)!r} is closed")
        return self._conn

    def lookup(self, keys: Iterable[str]) -> dict[str, Outcome]:
        """Return the stored answers (status ``ok`` or ``not_found``) among ``keys``.

        Keys with no row, or whose last record is a failure, are absent from the result.
        """
        return self._select(keys, "status IN ('ok', 'not_found')")

    def failures(self, keys: Iterable[str]) -> dict[str, Outcome]:
        """Return the entries among ``keys`` whose last record is a failure."""
        return self._select(keys, "status = 'failed'")

    def _select(self, keys: Iterable[str], condition: str) -> dict[str, Outcome]:
        query = f"SELECT {_COLUMNS} FROM entries WHERE key IN ({{marks}}) AND {condition}"
        return {row[0]: _outcome(row) for row in self._rows_in(query, keys)}

    def _rows_in(self, query: str, values: Iterable[str]) -> list[tuple[Any, ...]]:
        """Rows of ``query`` (its ``{marks}`` an ``IN`` list) for ``values``, in chunks.

        Chunks stay below the variable limit of older SQLite builds.
        """
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            db = self._db()
            for chunk in _chunks(values):
                rows.extend(db.execute(query.format(marks=",".join("?" * len(chunk))), chunk))
        return rows

    def record_answer(self, key: str, outcome: Outcome, *, endpoint: str) -> None:
        """Store a final answer for ``key`` and commit it before returning.

        Replaces whatever the key held (an older answer or a failure).

        Args:
            key: The request key.
            outcome: An answer: status ``ok`` or ``not_found``, with its body.
            endpoint: The path the request went to.

        Raises:
            ArgumentError: ``outcome`` is not an answer or its body is not plain JSON.

        """
        status, body = outcome.status, outcome.body
        if status not in _ANSWER_STATUSES or body is None:
            raise ArgumentError(
                f"an answer needs status {' or '.join(_ANSWER_STATUSES)} and a body, got {status!r}"
            )
        usage, request_id, attempts = outcome.usage, outcome.request_id, outcome.attempts
        try:
            # NaN is allowed: json.loads accepts it in a response, and a paid answer is kept.
            text = json.dumps(dict(body), ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ArgumentError(f"answer body for {key} is not plain JSON: {exc}") from exc
        with self._lock:
            self._db().execute(
                f"INSERT OR REPLACE INTO entries (endpoint, {_COLUMNS}) "
                "VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                (endpoint, key, str(status), text, attempts, usage, request_id, _now()),
            )

    def record_failure(self, key: str, *, reason: str, attempts: int, endpoint: str) -> None:
        """Remember the final failure of ``key``, unless it already holds an answer.

        A failure is never returned by :meth:`lookup`, so the row is sent again next run.
        """
        with self._lock:
            self._db().execute(
                f"INSERT INTO entries (endpoint, {_COLUMNS}) "
                "VALUES (?, ?, 'failed', NULL, ?, ?, NULL, NULL, ?) "
                "ON CONFLICT (key) DO UPDATE SET endpoint = excluded.endpoint, "
                "error = excluded.error, attempts = excluded.attempts, "
                "updated_at = excluded.updated_at WHERE entries.status = 'failed'",
                (endpoint, key, reason, attempts, _now()),
            )

    def stats(self) -> dict[str, int]:
        """Return the number of rows per status, and the async jobs still pending.

        Returns:
            ``ok``, ``not_found`` and ``failed``: entries per status; ``pending``: submitted
            runs whose key has no entry yet (neither an answer nor a final failure).

        """
        with self._lock:
            db = self._db()
            rows = db.execute("SELECT status, COUNT(*) FROM entries GROUP BY status")
            counts = dict.fromkeys((*_ANSWER_STATUSES, "failed"), 0)
            counts.update(dict(rows.fetchall()))
            (pending,) = db.execute(
                "SELECT COUNT(*) FROM runs WHERE NOT EXISTS "
                "(SELECT 1 FROM entries WHERE entries.key = runs.key)"
            ).fetchone()
        counts["pending"] = int(pending)
        return counts

    def mean_usage(self, endpoint: str) -> float | None:
        """Return the mean credits of the answered calls to ``endpoint``, or ``None``.

        Answers without a known usage are left out; the engine multiplies this by the calls a
        run plans to estimate its cost.
        """
        query = (
            "SELECT AVG(usage) FROM entries WHERE endpoint = ? "
            "AND status IN ('ok', 'not_found') AND usage IS NOT NULL"
        )
        with self._lock:
            (mean,) = self._db().execute(query, (endpoint,)).fetchone()
        return None if mean is None else float(mean)

    def record_submission(self, key: str, *, run_id: str, endpoint: str) -> None:
        """Store the run id Octave gave the submission of ``key``; commit before returning.

        A key holds one run id for ever: the engine checks :meth:`submissions` before it
        submits, and this refusal backs that up so a job is never paid for twice.

        Args:
            key: The :func:`request_key` of the submitted request.
            run_id: The run id from Octave's answer to the submission.
            endpoint: The path the job was submitted to.

        Raises:
            ArgumentError: ``run_id`` is empty.
            OctaveError: ``key`` already has another run id, or ``run_id`` belongs to another
                key. Storing the same pair again does nothing.

        Example:
            >>> ledger.record_submission(k, run_id="asyncReqID_1", endpoint=p)  # doctest: +SKIP

        """
        if not isinstance(run_id, str) or not run_id:
            raise ArgumentError(f"run_id must be a non-empty string, got {run_id!r}")
        with self._lock:
            db = self._db()
            try:
                db.execute(
                    "INSERT INTO runs (key, run_id, endpoint, submitted_at) VALUES (?, ?, ?, ?)",
                    (key, run_id, endpoint, _now()),
                )
                return
            except sqlite3.IntegrityError:
                # Rows of runs are never changed, so the conflicting row is still there.
                rows = db.execute(
                    "SELECT key, run_id FROM runs WHERE key = ? OR run_id = ?", (key, run_id)
                ).fetchall()
        if (key, run_id) in rows:
            return
        held = dict(rows)
        if key in held:
            raise OctaveError(
                f"request {key} was already submitted as run {held[key]!r}; refusing to record "
                f"run {run_id!r} for it (a job with a known run id must not be submitted again)"
            )
        raise OctaveError(f"run id {run_id!r} already belongs to another request, not {key}")

    def submissions(self, keys: Iterable[str]) -> dict[str, Submission]:
        """Return the submitted jobs among ``keys``, whatever their answer state.

        Args:
            keys: Request keys.

        Returns:
            Key -> :class:`Submission`, for the keys that hold a run id.

        """
        query = "SELECT key, run_id, endpoint, submitted_at FROM runs WHERE key IN ({marks})"
        return {row[0]: Submission(*row) for row in self._rows_in(query, keys)}

    def key_for_run(self, run_id: str) -> str | None:
        """Return the request key submitted as ``run_id``, or ``None`` if this ledger has none."""
        with self._lock:
            row = self._db().execute("SELECT key FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else str(row[0])

    def record_callback(self, run_id: str, body: str) -> CallbackOutcome:
        """Store a callback body for a run this ledger submitted; commit before returning.

        Args:
            run_id: The run id the callback names.
            body: The callback's JSON text (an object).

        Returns:
            ``"stored"`` for the first delivery; ``"duplicate"`` for a later one (only its
            delivery count is kept: the first body stays); ``"unknown"`` when no submission
            here has that run id (nothing is written).

        Raises:
            ArgumentError: ``body`` is not the JSON text of an object.

        """
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ArgumentError(f"callback body for run {run_id!r} is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ArgumentError(f"callback body for run {run_id!r} is not a JSON object")
        with self._lock:
            db = self._db()
            # IMMEDIATE: the check of runs and the write are one step for every process.
            db.execute("BEGIN IMMEDIATE")
            try:
                known = db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                if known is None:
                    outcome: CallbackOutcome = "unknown"
                else:
                    inserted = db.execute(
                        "INSERT OR IGNORE INTO callbacks (run_id, body, received_at, deliveries) "
                        "VALUES (?, ?, ?, 1)",
                        (run_id, body, _now()),
                    ).rowcount
                    if not inserted:
                        db.execute(
                            "UPDATE callbacks SET deliveries = deliveries + 1 WHERE run_id = ?",
                            (run_id,),
                        )
                    outcome = "stored" if inserted else "duplicate"
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return outcome

    def callbacks(self, run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the stored callback bodies among ``run_ids``, parsed.

        Args:
            run_ids: Run ids, e.g. the ``run_id`` of :meth:`submissions`.

        Returns:
            Run id -> the first callback body delivered for it.

        """
        query = "SELECT run_id, body FROM callbacks WHERE run_id IN ({marks})"
        return {run_id: json.loads(body) for run_id, body in self._rows_in(query, run_ids)}

    @property
    def callback_token(self) -> str:
        """The secret in this ledger's callback URL, created (and stored) on first use."""
        query = f"SELECT value FROM {_META_TABLE} WHERE name = ?"
        with self._lock:
            db = self._db()
            row = db.execute(query, (_TOKEN_NAME,)).fetchone()
            if row is None:
                # OR IGNORE: when two processes race, both read back the one token that won.
                db.execute(
                    f"INSERT OR IGNORE INTO {_META_TABLE} (name, value) VALUES (?, ?)",
                    (_TOKEN_NAME, secrets.token_urlsafe(_TOKEN_BYTES)),
                )
                row = db.execute(query, (_TOKEN_NAME,)).fetchone()
        return str(row[0])

    def close(self) -> None:
        """Close the file; later calls raise :class:`OctaveError`. Closing twice is harmless."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self._path)!r})"
