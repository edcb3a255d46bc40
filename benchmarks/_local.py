"""Scenarios with no waiting on the network: planning, the ledger, each stage, import.

- planning: a dry run (field detection, mapping, keys, payloads) at each size;
- ledger: re-running a frame whose every answer is in the ledger, and re-running its
  result frame (every row kept); the ledger is filled once for the largest size from the
  dry run's payloads (so the keys are the run's own) and realistic answer bodies;
- stages: the same re-runs timed per stage, by wrapping the library's functions
  (a stage whose function is renamed shows as missing, never as a wrong number),
  plus the Excel export; per-row costs side by side show a step that grows faster
  than the rows;
- import: ``import octave_frames`` on top of an imported pandas, in fresh processes.
"""

from __future__ import annotations

import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial, wraps
from pathlib import Path
from typing import Any

import octave_frames as of
from octave_frames._ledger import Ledger, request_key
from octave_frames._status import Outcome, Status

from ._network import RUN_ARGS, Sizes, contacts
from ._sim import PATH
from ._table import Goal, Line, Scenario

__all__ = ["import_time", "ledger_and_stages", "planning"]

#: Nothing listens here: a run that tried to send would fail at once, not hang.
NOWHERE = "http://127.0.0.1:9"

#: (stage, module, function or Class.method) timed inside a run.
STAGES = [
    ("plan, all of it", "octave_frames._run", "make_plan"),
    ("field detection", "octave_frames._run", "detect_fields"),
    ("mapping", "octave_frames._run", "build_requests"),
    ("keys", "octave_frames._run", "request_key"),
    ("ledger lookup", "octave_frames._ledger", "Ledger.lookup"),
    ("assembly, all of it", "octave_frames._run", "_assemble"),
    ("expansion (in assembly)", "octave_frames._flatten", "result_columns"),
]


def _label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 else str(n)


def planning(sizes: Sizes) -> Scenario:
    """Dry runs at each size: mapping, keys and payloads, nothing sent."""
    scenario = Scenario("planning", "planning a run (dry run: mapping, keys, payloads)")
    for n in sizes.local_rows:
        frame = contacts(n)
        wall = time.perf_counter()
        of.sequence(frame, base_url=NOWHERE, cache=False, dry_run=True, **RUN_ARGS)
        scenario.lines.append(Line(f"dry run, {_label(n)} rows", n, time.perf_counter() - wall))
    _per_1000(scenario)
    _goal_at_100k(scenario, scenario.lines[-1], "dry run of 100k rows", 1.5)
    return scenario


def _goal_at_100k(scenario: Scenario, line: Line, what: str, seconds: float) -> None:
    if line.rows == 100_000:
        scenario.goals.append(Goal(what, line.wall, seconds, unit="s"))
    else:
        scenario.notes.append(f"the goal ({what} <= {seconds:g} s) is checked without --quick")


def _per_1000(scenario: Scenario) -> None:
    for line in scenario.lines:
        line.extra["s/1000 rows"] = round(line.wall / line.rows * 1000, 4)


def _fill(ledger_path: Path, n: int) -> float:
    """Store an answer for each of ``n`` rows under the key a run computes; return seconds."""
    from .bench_flatten import make_bodies

    started = time.perf_counter()
    dry = of.sequence(contacts(n), base_url=NOWHERE, cache=False, dry_run=True, **RUN_ARGS)
    pool = make_bodies(min(n, 1000))
    with Ledger(ledger_path) as ledger:
        db = getattr(ledger, "_db", None)  # one transaction, not one commit per answer
        if db is not None:
            db().execute("BEGIN")
        for i, payload in enumerate(dry["octave_payload"]):
            body = dict(pool[i % len(pool)])
            body["_metadata"] = {**body["_metadata"], "requestId": f"req-{i}"}
            document = json.loads(payload) if isinstance(payload, str) else payload
            key = request_key(base_url=NOWHERE, endpoint=PATH, payload=document)
            outcome = Outcome(Status.OK, body=body, usage=1.0, request_id=f"req-{i}")
            ledger.record_answer(key, outcome, endpoint=PATH)
        if db is not None:
            db().execute("COMMIT")
    return time.perf_counter() - started


@contextmanager
def _timed_stages() -> Iterator[dict[str, list[float]]]:
    """Wrap each stage's function wherever it is bound; yield [seconds, calls] per stage.

    Module functions are replaced in every octave_frames module that imported them,
    methods on their class, and a function an ``Endpoint`` declaration holds (its
    ``columns``) on that declaration.
    """
    spent: dict[str, list[float]] = {}
    undo: list[Callable[[], None]] = []

    def wrap(label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[label][0] += time.perf_counter() - start
                spent[label][1] += 1

        return timed

    def patch(home: Any, name: str, value: Any) -> None:
        if isinstance(home, type | types.ModuleType):
            setattr(home, name, value)
        else:
            object.__setattr__(home, name, value)  # a frozen dataclass's field

    loaded = [m for key, m in list(sys.modules.items()) if key.startswith("octave_frames")]
    for label, module_name, dotted in STAGES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner: Any = module
        name = dotted
        if "." in dotted:
            cls_name, name = dotted.split(".")
            owner = getattr(module, cls_name, None)
        found: Callable[..., Any] | None = getattr(owner, name, None)
        if found is None:
            continue
        func = found
        homes: list[Any] = [owner] if owner is not module else []
        for m in loaded if owner is module else []:
            homes.append(m)
            # Declarations holding the function (Endpoint.columns = result_columns).
            homes += [v for v in vars(m).values() if getattr(v, "columns", None) is func]
        spent[label] = [0.0, 0]
        for home in homes:
            for attr in (name, "columns"):
                if getattr(home, attr, None) is func:
                    patch(home, attr, wrap(label, func))
                    undo.append(partial(patch, home, attr, func))
    try:
        yield spent
    finally:
        for step in reversed(undo):
            step()


def ledger_and_stages(sizes: Sizes) -> list[Scenario]:
    """Re-runs from the ledger at each size, the same runs per stage, and the Excel export."""
    rerun = Scenario("ledger", "re-running an answered frame: every answer from the ledger")
    stages = Scenario("stages", "local work per stage, seconds (and microseconds per row)")
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "ledger.sqlite"
        fill = _fill(ledger, max(sizes.local_rows))
        rerun.notes.append(
            f"ledger filled with {max(sizes.local_rows)} answers in {fill:.1f} s (not timed below)"
        )
        per_stage: dict[str, dict[int, float]] = {}
        for n in sizes.local_rows:
            frame = contacts(n)
            with _timed_stages() as spent:
                wall = time.perf_counter()
                out = of.sequence(frame, base_url=NOWHERE, cache=ledger, max_retries=0, **RUN_ARGS)
                wall = time.perf_counter() - wall
            ok = int((out["octave_status"] == "ok").sum())
            rerun.lines.append(Line(f"input frame, {_label(n)} rows", n, wall, ok=ok))
            for label, (seconds, calls) in spent.items():
                if calls:
                    per_stage.setdefault(label, {})[n] = seconds
            per_stage.setdefault("whole re-run", {})[n] = wall
            again = time.perf_counter()
            of.sequence(out, base_url=NOWHERE, cache=ledger, max_retries=0, **RUN_ARGS)
            again = time.perf_counter() - again
            rerun.lines.append(Line(f"its result frame (rows kept), {_label(n)} rows", n, again))
            if n in sizes.excel_rows:
                path = Path(tmp) / f"out{n}.xlsx"
                start = time.perf_counter()
                of.to_excel(out, path)
                per_stage.setdefault("Excel export", {})[n] = time.perf_counter() - start
    _per_1000(rerun)
    biggest = max(sizes.local_rows)
    big = next(x for x in rerun.lines if x.rows == biggest)
    _goal_at_100k(rerun, big, "re-run of 100k rows from the ledger", 2.0)
    if big.ok != biggest:
        rerun.notes.append(f"only {big.ok} of {biggest} rows came back ok: the keys did not match")
    sizes_seen = list(sizes.local_rows)
    for label, by_size in per_stage.items():
        cells = []
        for n in sizes_seen:
            if n in by_size:
                cells.append(f"{_label(n)}: {by_size[n]:.3f} s ({by_size[n] / n * 1e6:.1f} us)")
        growth = ""
        if len(by_size) >= 2:
            small, large = sorted(by_size)[-2:]
            ratio = (by_size[large] / large) / max(by_size[small] / small, 1e-12)
            growth = f"  per row x{ratio:.2f} from {_label(small)} to {_label(large)}"
            growth += "  SUPER-LINEAR" if ratio > 1.5 else ""
        stages.figures[label] = "   ".join(cells) + growth
    missing = [label for label, _, _ in STAGES if label not in per_stage]
    if missing:
        stages.notes.append(f"not found or never called, so not timed: {', '.join(missing)}")
    return [rerun, stages]


_IMPORT = (
    "import time, pandas; t = time.perf_counter(); import octave_frames; "
    "print(time.perf_counter() - t)"
)


def import_time(sizes: Sizes) -> Scenario:
    """``import octave_frames`` after pandas, in fresh processes."""
    runs = []
    for _ in range(sizes.import_runs):
        args = [sys.executable, "-c", _IMPORT]
        done = subprocess.run(args, capture_output=True, text=True, check=True)
        runs.append(float(done.stdout))
    scenario = Scenario(
        "import", f"import octave_frames on top of pandas ({len(runs)} fresh processes)"
    )
    median = statistics.median(runs)
    scenario.figures["seconds"] = ", ".join(f"{r:.3f}" for r in runs)
    scenario.goals.append(Goal("import time (median)", median, 0.15, unit="s"))
    return scenario
