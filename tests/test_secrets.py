"""The API key never shows: not in a repr, a log line, an exception, the ledger, a bar or a file.

One distinctive key goes through every path that could leak it (a good run, failures,
a 401 at preflight and mid-run, a dry run, argument errors, DEBUG logging, a forced
progress bar, Excel and CSV exports); then everything those paths produced is searched
for it.
"""

from __future__ import annotations

import logging
import stat
import traceback
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _faultkit import CONTEXT, ScaledClock, contacts

import octave_frames as of
from octave_frames._ledger import Ledger
from octave_frames._report import report_for
from octave_frames.simulator import Simulator, serve

CANARY = "CANARY7f3a9c"
KEY = f"sk-live-{CANARY}-0001"
WRONG_KEY = f"sk-live-{CANARY}-9999"


class Evidence:
    """Every text and byte string a run produced, to be searched for the key."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.blobs: dict[str, bytes] = {}

    def text(self, where: str, value: object) -> None:
        """Keep ``str`` and ``repr`` of ``value``."""
        self.texts[f"{where} (str)"] = str(value)
        self.texts[f"{where} (repr)"] = repr(value)

    def error(self, where: str, exc: BaseException) -> None:
        """Keep an exception's message, repr and whole traceback with its causes."""
        self.text(where, exc)
        self.texts[f"{where} (traceback)"] = "".join(traceback.format_exception(exc))

    def frame(self, where: str, frame: pd.DataFrame) -> None:
        """Keep a frame's repr and every cell as text."""
        self.text(where, frame)
        self.texts[f"{where} (cells)"] = frame.astype(str).to_csv()

    def files(self, *paths: Path) -> None:
        """Keep the bytes of each file; an .xlsx is unzipped member by member."""
        for path in paths:
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as book:
                    for name in book.namelist():
                        self.blobs[f"{path.name}:{name}"] = book.read(name)
            else:
                self.blobs[path.name] = path.read_bytes()

    def leaks(self) -> list[str]:
        """Where the key (or its distinctive part) appears."""
        found = [where for where, text in self.texts.items() if CANARY in text]
        found += [where for where, blob in self.blobs.items() if CANARY.encode() in blob]
        return found


def run(frame: pd.DataFrame, client: of.Client, **kwargs: Any) -> pd.DataFrame:
    """A run with the defaults of these tests."""
    options: dict[str, Any] = {"agent": "ca_secrets", "rate": 10_000, "context": CONTEXT}
    options.update(kwargs)
    return of.sequence(frame, client=client, **options)


def test_the_key_appears_nowhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good, failing, refused, dry and broken runs leave no trace of the key anywhere."""
    caplog.set_level(logging.DEBUG)
    evidence = Evidence()
    sim = Simulator(latency=(0, 0.002), not_found_rate=0.2, api_keys={KEY})
    ledger_path = tmp_path / "ledger.sqlite"
    # Kept open through the runs, so SQLite leaves the -wal file on disk to be searched.
    watcher = Ledger(ledger_path)
    with serve(sim) as url:
        client = of.Client(KEY, base_url=url, timeout=2, clock=ScaledClock(1000.0))
        evidence.text("client", client)
        frame = contacts(30, unmatched_every=7)

        sim.fail_next(6, 500)
        out = run(frame, client, progress=True, max_retries=0, cache=ledger_path)
        assert set(out["octave_status"]) >= {"ok", "failed", "not_found"}
        evidence.frame("result", out)
        summary = out.octave.summary()
        evidence.text("summary", summary)
        evidence.texts["summary (html)"] = summary._repr_html_()
        evidence.frame("summary table", summary.to_frame())
        evidence.text("run report", report_for(out))

        again = run(frame, client, progress=True, cache=ledger_path)  # retries the failed
        evidence.frame("re-run", again)
        evidence.frame("long form", again.octave.emails())

        dry = run(contacts(5, start=100), client, dry_run=True, cache=ledger_path)
        evidence.frame("dry run", dry)
        evidence.text("dry summary", dry.octave.summary())

        sim.fail_next(1, 401)  # the preflight passes; the first agent call is refused
        with pytest.raises(of.AuthenticationError) as mid_run:
            run(contacts(3, start=200), client, cache=ledger_path)
        evidence.error("401 mid-run", mid_run.value)

        refused = of.Client(WRONG_KEY, base_url=url, timeout=2)
        with pytest.raises(of.AuthenticationError) as preflight:
            run(contacts(3, start=400), refused, cache=ledger_path)
        evidence.error("401 at preflight", preflight.value)
        evidence.text("refused client", refused)

        with pytest.raises(of.ArgumentError) as twice:
            run(frame, client, api_key=KEY)
        evidence.error("argument error", twice.value)
        with pytest.raises(of.ArgumentError) as clear_text:
            of.Client(KEY, base_url="http://octave.example.com")
        evidence.error("plain http", clear_text.value)
        with pytest.raises(of.RunFailedError) as raised:
            sim.fail_next(3, 503)
            run(contacts(3, start=300), client, max_retries=0, errors="raise", cache=False)
        evidence.error("errors='raise'", raised.value)
        assert sim.counters.agent_requests > 30  # the key really was used, over and over

        xlsx, csv_long, csv_wide = (tmp_path / n for n in ("o.xlsx", "long.csv", "wide.csv"))
        again.octave.to_excel(xlsx)
        of.to_csv(again, csv_long)
        of.to_csv(again, csv_wide, layout="wide")

    wal = ledger_path.with_name(ledger_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0
    evidence.files(ledger_path, wal, xlsx, csv_long, csv_wide)
    evidence.text("ledger", watcher)
    watcher.close()
    evidence.files(ledger_path)  # after the checkpoint too

    stderr = capsys.readouterr().err
    assert "call/s" in stderr or "call]" in stderr  # the progress bar did draw
    evidence.texts["stderr"] = stderr
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for i, record in enumerate(caplog.records):
        evidence.texts[f"log {i}"] = formatter.format(record) + repr(record.args)
    assert any(r.name.startswith("httpx") for r in caplog.records)  # DEBUG logging was on

    assert evidence.leaks() == []
    assert stat.S_IMODE(ledger_path.stat().st_mode) == 0o600


def test_the_default_ledger_is_private_to_its_owner(tmp_path: Path) -> None:
    """cache=True makes .octave/ (0700) and .octave/cache.sqlite (0600) in the working dir."""
    sim = Simulator(latency=(0, 0), api_keys={KEY})
    client = of.Client(KEY, base_url="http://127.0.0.1:9", transport=sim.transport())
    run(contacts(2), client, progress=False)  # conftest runs each test in its tmp_path
    ledger = Path(".octave/cache.sqlite").resolve()
    assert ledger.is_relative_to(tmp_path.resolve())
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    assert stat.S_IMODE(ledger.parent.stat().st_mode) == 0o700
    assert CANARY.encode() not in ledger.read_bytes()
