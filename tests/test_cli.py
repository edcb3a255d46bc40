"""The ``octave-frames`` command: demo, run, dry run, simulator, exit codes and messages."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pandas as pd
import pytest

import octave_frames as of
from octave_frames.cli import main
from octave_frames.cli._common import CliError, parse_assignments
from octave_frames.data import sample_workbook
from octave_frames.data.make_sample import HEADERS, workbook_bytes
from octave_frames.simulator import Simulator, serve

FAST = ["--rate", "1000/s", "--concurrency", "8"]
SECRET = "sk-live-do-not-print-0123456789"


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A loopback simulator, with the environment pointing at it as a user would set it."""
    simulator = Simulator(latency=(0, 0))
    with serve(simulator) as url:
        monkeypatch.setenv("OCTAVE_BASE_URL", url)
        monkeypatch.setenv("OCTAVE_API_KEY", "sim-key")
        yield simulator


@pytest.fixture
def contacts_csv(tmp_path: Path) -> Path:
    """A small contact CSV with an Account Research column."""
    path = tmp_path / "contacts.csv"
    pd.DataFrame(
        {
            "Work Email": ["ada@northpeak.example", "ken@harborvine.example", "wei@mosaic.example"],
            "First Name": ["Ada", "Ken", "Wei"],
            "Company": ["Northpeak", "Harbor & Vine", "Mosaic"],
            "Zip": ["02139", "00501", "78701"],
            "Account Research": ["Opened two hubs.", "Building a B2B team.", "Won a contract."],
        }
    ).to_csv(path, index=False)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Call ``main`` in process; return the exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_demo_writes_a_simulated_workbook(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo` runs the sample through the simulator, writes the workbook and says SIMULATED."""
    code, out, err = run_cli(capsys, "demo", "-o", "demo.xlsx", "--rows", "12", "--latency", "0")
    assert code == 0, err
    assert out.count("SIMULATED") >= 2
    result = of.read_excel("demo.xlsx")
    assert len(result) == 12
    assert set(result["octave_status"]) <= {"ok", "not_found"}
    assert (result["octave_status"] == "ok").sum() >= 10
    ok = result[result["octave_status"] == "ok"]
    assert ok["email_1_text"].notna().all()
    # The demo's context reached the emails: the simulator echoes it into step 1's body.
    assert ok["email_1_body"].str.contains("ACCOUNT RESEARCH:").all()
    assert result["Zip"].iloc[0] == "02139"
    assert not Path(".octave").exists()


def test_run_csv_against_the_simulator(
    capsys: pytest.CaptureFixture[str], sim: Simulator, contacts_csv: Path
) -> None:
    """`run` on a CSV sends the templates (a typed backslash-n is a newline), writes a CSV."""
    code, out, err = run_cli(
        capsys,
        "run",
        str(contacts_csv),
        "-o",
        "out.csv",
        "--agent",
        "ca_1",
        "--context",
        r"all=RESEARCH:\n{Account Research}",
        "--instructions",
        "all=Keep it short",
        "--instructions",
        "3=Say goodbye",
        "--no-cache",
        "--csv-layout",
        "wide",
        *FAST,
    )
    assert code == 0, err
    assert "Octave run: 3 rows" in out
    assert "wrote out.csv" in out
    received = sorted(sim.received, key=lambda body: body["email"])
    assert [body["runtimeContext"]["all"] for body in received] == [
        "RESEARCH:\nOpened two hubs.",
        "RESEARCH:\nBuilding a B2B team.",
        "RESEARCH:\nWon a contract.",
    ]
    assert received[0]["runtimeInstructions"] == {"all": "Keep it short", "3": "Say goodbye"}
    assert received[0]["agentOId"] == "ca_1"
    written = pd.read_csv("out.csv", dtype=str, encoding="utf-8-sig")
    assert len(written) == 3
    assert written["Zip"].tolist() == ["02139", "00501", "78701"]
    assert set(written["octave_status"]) <= {"ok", "not_found"}
    assert not Path(".octave").exists()


def test_run_csv_defaults_to_the_long_layout_as_python_does(
    capsys: pytest.CaptureFixture[str], sim: Simulator, contacts_csv: Path
) -> None:
    """Without --csv-layout the CLI writes what df.octave.to_csv writes: one row per email step."""
    code, _, err = run_cli(
        capsys, "run", str(contacts_csv), "-o", "out.csv", "--agent", "ca_1", "--no-cache", *FAST
    )
    assert code == 0, err
    frame = pd.read_csv(contacts_csv, dtype=str)
    out = frame.octave.sequence(
        agent="ca_1",
        cache=False,
        progress=False,
        client=of.Client("sim-key", base_url="http://127.0.0.1:9", transport=sim.transport()),
    )
    out.octave.to_csv("python.csv")
    assert (
        Path("out.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        == Path("python.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    )
    written = pd.read_csv("out.csv", dtype=str, encoding="utf-8-sig")
    assert len(written) > len(frame)
    assert {"row", "step"} <= set(written.columns)


def test_run_xlsx_then_rerun_sends_only_rows_not_done(
    capsys: pytest.CaptureFixture[str], sim: Simulator, tmp_path: Path
) -> None:
    """A failed row is reported; running on the written workbook re-sends only that row."""
    sim.fail_next(1, 503)
    base = ["--agent", "ca_1", "--context", "all={Account Research}", *FAST]
    cache = ["--cache", str(tmp_path / "ledger.sqlite")]
    code, _, err = run_cli(
        capsys, "run", str(sample_workbook()), "-o", "out.xlsx", "--max-retries", "0", *base, *cache
    )
    assert code == 0, err
    assert "1 rows were not done" in err
    first = of.read_excel("out.xlsx")
    assert (first["octave_status"] == "failed").sum() == 1
    assert first["Salesforce Contact ID"].iloc[0] == "0035e00000XyZ00001"
    before = sim.counters.agent_requests
    code, out, err = run_cli(capsys, "run", "out.xlsx", "-o", "out.xlsx", *base, *cache)
    assert code == 0, err
    assert sim.counters.agent_requests - before == 1
    assert "already ok" in out
    again = of.read_excel("out.xlsx")
    assert set(again["octave_status"]) <= {"ok", "not_found"}
    assert again.columns.tolist() == first.columns.tolist()


def test_dry_run_shows_the_plan_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--dry-run` prints mapping, payloads, calls and credits, needs no key, writes nothing."""
    simulator = Simulator(latency=(0, 0))
    with serve(simulator) as url:
        monkeypatch.setenv("OCTAVE_BASE_URL", url)
        code, out, err = run_cli(
            capsys,
            "run",
            str(sample_workbook()),
            "--agent",
            "ca_1",
            "--context",
            "all={Account Research}",
            "--field",
            "linkedInProfile=",
            "--dry-run",
        )
    assert code == 0, err
    assert "email            <- Work Email" in out
    assert "companyDomain    <- Website" in out
    assert "linkedInProfile" in out.split("not mapped:")[1].splitlines()[0]
    first = out.split("Sample payload 1 of 39 (row 0):\n")[1].split("\n\n")[0]
    payload = json.loads(first)
    assert payload["email"] == "ada.lindqvist@northpeak.example"
    assert payload["runtimeContext"]["all"].startswith("Opened two fulfilment hubs")
    assert "linkedInProfile" not in payload
    assert "Sample payload 2 of 39" in out
    assert "Sample payload 3" not in out
    assert "40 rows -> 39 calls to Octave (duplicates sent once: 1" in out
    assert "Estimated credits: ~39" in out
    assert simulator.counters.requests == 0
    assert not Path(".octave").exists()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["run", "missing.xlsx", "-o", "o.xlsx", "--agent", "ca_1"], 2, "no such file: missing"),
        (["run", "{csv}", "-o", "o.xlsx", "--agent", "ca_1"], 3, "no API key: $OCTAVE_API_KEY"),
        (
            [
                "run",
                "{csv}",
                "-o",
                "o.xlsx",
                "--agent",
                "ca_1",
                "--context",
                "all={Acount Research}",
            ],
            2,
            "no column 'Acount Research'; nearest: 'Account Research'",
        ),
        (
            ["run", "{csv}", "-o", "o.xlsx", "--agent", "ca_1", "--context", "al=x"],
            2,
            "unknown step key 'al'",
        ),
        (["run", "{csv}", "-o", "o.xlsx"], 2, "no agent: pass --agent ca_..."),
        (["run", "{csv}", "-o", "o.txt", "--agent", "ca_1"], 2, "must end in .xlsx, .xlsm or .csv"),
        (["run", "{csv}", "--agent", "ca_1"], 2, "run needs -o OUTPUT"),
        (["run", "{csv}", "-o", "o.xlsx", "--agent", "ca_1", "--field", "x"], 2, "KEY=VALUE"),
        (["run", "{csv}", "--agent", "ca_1", "--dry-run", "--rate", "fast"], 2, "rate='fast'"),
        (["run", "{csv}", "-o", "no/dir/o.xlsx", "--agent", "ca_1"], 2, "does not exist"),
        (["demo", "--rows", "0"], 2, "--rows must be at least 1"),
    ],
)
def test_problems_exit_with_one_line_and_a_code(
    capsys: pytest.CaptureFixture[str],
    contacts_csv: Path,
    argv: list[str],
    code: int,
    message: str,
) -> None:
    """Usage and input problems give exit 2, a missing key 3, each as one line, no traceback."""
    argv = [str(contacts_csv) if arg == "{csv}" else arg for arg in argv]
    got, out, err = run_cli(capsys, *argv)
    assert got == code
    assert message in err
    assert err.startswith("octave-frames: error: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_wrong_key_exits_3_without_printing_it(
    capsys: pytest.CaptureFixture[str],
    sim: Simulator,
    contacts_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Octave refusing the key ends with exit 3 and a hint, and the key is never printed."""
    monkeypatch.setenv("OCTAVE_API_KEY", SECRET)
    code, out, err = run_cli(capsys, "run", str(contacts_csv), "-o", "o.xlsx", "--agent", "ca_1")
    assert code == 3
    assert "HTTP 401" in err
    assert "check the key in $OCTAVE_API_KEY" in err
    assert SECRET not in out + err
    assert sim.counters.billed == 0
    assert not Path("o.xlsx").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "c.csv", "--api-key", SECRET],
        ["run", "c.csv", f"--api-key={SECRET}"],
        ["--api-key", SECRET, "run", "c.csv"],
        ["demo", "--api-key", SECRET],
        ["run", "c.csv", "-o", "o.xlsx", "--agent", "ca_1", "--api-key-env", SECRET],
    ],
)
def test_key_on_the_command_line_is_refused_unechoed(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """A key passed as an argument is refused with exit 2 and never echoed back."""
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert SECRET not in out + err
    assert "OCTAVE_API_KEY" in err


def test_ctrl_c_exits_130_with_the_resume_hint(
    capsys: pytest.CaptureFixture[str],
    contacts_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C during a run ends with exit 130 and says that re-running resumes."""
    import octave_frames._calls as run_module

    def interrupted(*_: object, **__: object) -> pd.DataFrame:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "sequence", interrupted)
    monkeypatch.setenv("OCTAVE_API_KEY", "sim-key")
    code, _, err = run_cli(capsys, "run", str(contacts_csv), "-o", "o.xlsx", "--agent", "ca_1")
    assert code == 130
    assert "run the same command again to resume" in err
    code, _, err = run_cli(
        capsys, "run", str(contacts_csv), "-o", "o.xlsx", "--agent", "ca_1", "--no-cache"
    )
    assert code == 130
    assert "resume" not in err


def test_help_and_version_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` of each command and `--version` exit 0 and print to stdout."""
    for argv in (["--help"], ["run", "--help"], ["demo", "--help"], ["simulator", "--help"]):
        code, out, _ = run_cli(capsys, *argv)
        assert code == 0
        assert "usage: octave-frames" in out
    code, out, _ = run_cli(capsys, "--version")
    assert (code, out.strip()) == (0, f"octave-frames {of.__version__}")


def test_assignments_parse_escapes_and_refuse_repeats() -> None:
    """KEY=VALUE options unescape backslash-n, keep `=` in values and refuse a key twice."""
    got = parse_assignments([r"all=A\nB=C\\n", "1="], option="--context", example="all=x")
    assert got == {"all": "A\nB=C\\n", "1": None}
    assert parse_assignments([r"email=A\nB"], option="--field", example="", unescape=False) == {
        "email": r"A\nB"
    }
    assert parse_assignments(None, option="--context", example="") is None
    with pytest.raises(CliError, match="gives 'all' twice"):
        parse_assignments(["all=a", "all=b"], option="--context", example="all=x")
    with pytest.raises(CliError, match="expects KEY=VALUE"):
        parse_assignments(["=a"], option="--context", example="all=x")


def test_sample_workbook_is_what_make_sample_writes() -> None:
    """The committed sample is byte-for-byte the output of make_sample.py."""
    assert sample_workbook().read_bytes() == workbook_bytes()


def test_sample_workbook_reads_as_an_ops_export() -> None:
    """The sample has 40 contacts, identifiers as text and the research column for context."""
    contacts = of.read_excel(sample_workbook())
    assert contacts.columns.tolist() == list(HEADERS)
    assert len(contacts) == 40
    assert contacts["Zip"].str.len().eq(5).all()
    assert "00501" in set(contacts["Zip"])
    assert contacts["Account Research"].notna().all()
    assert contacts["Recent Event"].isna().any()
    assert contacts["Work Email"].isna().sum() == 1
    assert contacts.duplicated().sum() == 1


def _pump(stream: IO[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """Read a pipe's lines on a thread, so a test can wait for them with a timeout."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return lines, thread


@pytest.mark.slow
def test_console_script_runs_the_demo(tmp_path: Path) -> None:
    """`python -m octave_frames._cli demo` (the console-script target) works end to end."""
    done = subprocess.run(
        [sys.executable, "-m", "octave_frames._cli", "demo", "--rows", "3", "--latency", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "SIMULATED" in done.stdout
    assert len(of.read_excel(tmp_path / "octave_demo.xlsx")) == 3


@pytest.mark.slow
def test_simulator_command_serves_until_interrupted(tmp_path: Path) -> None:
    """`simulator --port 0` prints a working base URL and key, and stops cleanly on Ctrl-C."""
    command = [sys.executable, "-m", "octave_frames._cli", "simulator", "--port", "0"]
    with subprocess.Popen(
        [*command, "--latency", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        lines, reader = _pump(proc.stdout)
        try:
            banner = lines.get(timeout=30)
            url = banner.split(" on ")[1].split()[0]
            exports = "".join(lines.get(timeout=5) for _ in range(3))
            assert f"OCTAVE_BASE_URL={url}" in exports
            assert "OCTAVE_API_KEY=sim-key" in exports
            reply = _validate(url)
            assert reply.status_code == 200
            assert reply.json()["valid"] is True
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=15) == 0
            reader.join(timeout=5)
            assert lines.get(timeout=1) == "simulator stopped\n"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)


def _validate(url: str) -> httpx.Response:
    """GET the key check, waiting briefly: the URL is printed just before uvicorn listens."""
    for _ in range(100):
        try:
            return httpx.get(
                url + "/api/v2/api-key/validate", headers={"api_key": "sim-key"}, timeout=5
            )
        except httpx.ConnectError:
            threading.Event().wait(0.05)
    raise AssertionError(f"the simulator never answered on {url}")


def test_an_unknown_agent_exits_2_and_says_where_the_id_is_found(
    capsys: pytest.CaptureFixture[str], sim: Simulator, contacts_csv: Path
) -> None:
    """A 404 'Agent not found' is an input error (exit 2) that names where the ca_ id is."""
    code, _, err = run_cli(
        capsys, "run", str(contacts_csv), "-o", "o.csv", "--agent", "ca_unknown", *FAST
    )
    assert code == 2, err
    assert "open Agents" in err and "ca_" in err
    assert sim.counters.billed == 0


def test_an_empty_frame_says_nothing_was_sent(caplog: pytest.LogCaptureFixture) -> None:
    """Running an empty frame returns an empty result and says plainly that nothing was sent."""
    frame = pd.DataFrame({"Email": pd.Series([], dtype="string")})
    with caplog.at_level("WARNING", logger="octave_frames"):
        out = frame.octave.sequence(agent="ca_1", cache=False, progress=False, api_key="k")
    assert len(out) == 0 and "octave_status" in out.columns
    assert "the frame has no rows, so nothing was sent" in caplog.text
