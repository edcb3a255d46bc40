"""One run from frame to frame, for any endpoint and either mode: plan, send, assemble.

The path of a row: `_options` checks the arguments; `_mapping` turns the row into a
clean payload (or an ``invalid`` reason) and the endpoint shapes its body; here the body
gets its request key, rows with equal keys are folded into one call, the ledger answers
what it already holds and names the async run ids it already has, `_engine` obtains the
rest (one call per job in sync mode; submit, then poll or read callbacks, in async mode);
then every row takes its call's outcome and the endpoint's columns expand the answers on
the input's index.

``call`` says which public call this is: ``"run"`` (sequence, generate_emails: the whole
job, in the mode asked), ``"submit"`` (async jobs in, return at once) or ``"collect"``
(never submit: look for, or wait for, the results of jobs submitted before).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import anyio
import numpy as np
import pandas as pd

from ._agents import fan_out, other_outputs
from ._arguments import check_arguments
from ._constants import DRY_RUN_CACHED, DRY_RUN_WOULD_CALL, NOOP_CALLBACK_URL, REQUEST_FIELDS
from ._detect import FieldDetection
from ._endpoints import Endpoint
from ._engine import INTERRUPTED, Engine, EngineOptions
from ._exceptions import (
    ArgumentError,
    AuthenticationError,
    ColumnError,
    InsufficientCreditsError,
    OctaveError,
    RunFailedError,
)
from ._fields import detect_fields
from ._ledger import Ledger, request_key
from ._mapping import build_requests, normalize_steps
from ._options import WAIT_ARGS, Options, parse_options
from ._people import describe, find_people, representatives
from ._report import RunReport, remember
from ._retry import RetryPolicy
from ._status import DONE, Outcome, Status

if TYPE_CHECKING:
    from ._client import Session

__all__ = ["arun"]

log = logging.getLogger("octave_frames")

Call = Literal["run", "submit", "collect"]


@dataclass
class Plan:
    """Everything decided before the first call."""

    base: pd.DataFrame
    previous: pd.DataFrame | None
    keep: np.ndarray[Any, np.dtype[np.bool_]]
    payloads: list[dict[str, Any] | None]
    invalid: list[str | None]
    notes: list[str | None]
    keys: list[str | None]
    jobs: dict[str, dict[str, Any]]
    report: RunReport
    answered: dict[str, Outcome] = field(default_factory=dict)
    known: dict[str, tuple[str, float | None]] = field(default_factory=dict)


def _split_previous(
    frame: pd.DataFrame, endpoint: Endpoint, prefix: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Separate this step's columns of an earlier run (e.g. read back from Excel) from the input.

    Other steps' columns (an ``enrich_person`` before a ``sequence``) are input like any other.

    Raises:
        ColumnError: The frame has no results but columns named like the output, which
            the result would then hold twice.
        ArgumentError: The frame is a prospector's output (one row per person), given to
            the prospector again.

    """
    mask = np.array([endpoint.is_output(c, prefix) for c in frame.columns], dtype=bool)
    if endpoint.fan_out and endpoint.column("status", prefix) in frame.columns:
        raise ArgumentError(
            f"this frame is {endpoint.name}'s output (one row per person found); run "
            f"{endpoint.name} again on the companies frame to resume: answers come from the cache"
        )
    if endpoint.column("status", prefix) not in frame.columns:
        if mask.any():
            clash = ", ".join(repr(c) for c in frame.columns[mask][:5])
            raise ColumnError(
                f"the frame already has column(s) named like the output ({clash}); rename "
                "them, or pass a prefix (e.g. prefix='ai_') so the results get names of their own"
            )
        return frame, None
    previous = frame.iloc[:, np.flatnonzero(mask)].reset_index(drop=True)
    return frame.iloc[:, np.flatnonzero(~mask)], previous


def _keep_mask(previous: pd.DataFrame | None, n: int, opts: Options) -> np.ndarray[Any, Any]:
    if previous is None or opts.rerun == "all":
        return np.zeros(n, dtype=bool)
    status = previous[opts.endpoint.column("status", opts.prefix)].astype("string")
    done = status.isin(list(DONE)) if opts.rerun == "failed" else status.notna()
    return done.fillna(False).to_numpy(dtype=bool)


def make_plan(frame: pd.DataFrame, opts: Options, base_url: str) -> Plan:
    """Check the frame against the arguments and decide which calls a run needs."""
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    endpoint = opts.endpoint
    base, previous = _split_previous(frame, endpoint, opts.prefix)
    detection = _detect(base, opts)
    fields = detection.columns
    endpoint.check_context(opts.context)
    context = normalize_steps(opts.context, argument="context")
    instructions = normalize_steps(opts.instructions, argument="instructions")
    requests = build_requests(
        base,
        fields=fields,
        context=context,
        instructions=instructions,
        static=opts.static,
        needs=endpoint.needs,
    )
    keep = _keep_mask(previous, len(frame), opts)
    static = opts.static
    report = RunReport(
        agent=static.get("agentOId") or static.get("workflowOId"),
        experiment=opts.static.get("experimentOId"),
        started_at=datetime.now(UTC),
        fields={f: str(c) for f, c in fields.items()},
        field_reasons=dict(detection.reasons),
        dry_run=opts.dry_run,
        settings=opts.settings(),
        step=endpoint.stem,
    )
    payloads, notes = _one_per_person(requests.payloads, requests.notes, frame.index, opts, report)
    if previous is not None:
        kept = previous[endpoint.column("status", opts.prefix)].astype("string")[keep]
        for status, count in kept.value_counts().items():
            report.skipped[f"already {status} (rerun={opts.rerun!r})"] += int(count)
    keys: list[str | None] = []
    jobs: dict[str, dict[str, Any]] = {}
    run_ids = _previous_run_ids(previous, endpoint.column("run_id", opts.prefix))
    known: dict[str, tuple[str, float | None]] = {}
    invalid = list(requests.invalid)
    for i, row in enumerate(payloads):
        if row is not None and not keep[i] and (why := endpoint.invalid(row)) is not None:
            invalid[i], payloads[i] = why, None
        if payloads[i] is None or keep[i] or row is None:
            keys.append(None)
            continue
        payload = endpoint.body(row, opts.request)
        payloads[i] = payload
        key = request_key(base_url=base_url, endpoint=endpoint.path, payload=payload)
        keys.append(key)
        if run_ids is not None and (run_id := run_ids[i]) is not None:
            known.setdefault(key, (run_id, None))
        if key in jobs:
            report.duplicates += 1
        else:
            jobs[key] = payload
    if not len(frame):
        log.warning("octave_frames: the frame has no rows, so nothing was sent")
    log.info("octave_frames field mapping: %s", report.fields)
    plan = Plan(base, previous, keep, payloads, invalid, notes, keys, jobs, report)
    plan.known = known
    return plan


def _detect(base: pd.DataFrame, opts: Options) -> FieldDetection:
    """Find the columns of the fields this endpoint takes, passing over other steps' outputs.

    Raises:
        ArgumentError: ``fields`` names a field the endpoint does not take.

    """
    endpoint = opts.endpoint
    given = dict(opts.fields or {})
    wrong = [
        f
        for f, c in given.items()
        if c is not None and f in REQUEST_FIELDS and f not in endpoint.takes
    ]
    if wrong:
        raise ArgumentError(
            f"fields={{{wrong[0]!r}: ...}}: {endpoint.label} does not take {wrong[0]}; it "
            f"takes {', '.join(endpoint.takes)}"
        )
    named = set(given.values())
    passed = [
        i
        for i in other_outputs(list(base.columns), endpoint, opts.prefix)
        if base.columns[i] not in named
    ]
    shown = base.iloc[:, np.setdiff1d(np.arange(base.shape[1]), passed)] if passed else base
    found = detect_fields(shown, given or None)
    keep = {f: c for f, c in found.columns.items() if f in endpoint.takes}
    if len(keep) == len(found.columns):
        return found
    return FieldDetection(
        keep,
        {f: r for f, r in found.reasons.items() if f in keep},
        found.passed_over,
    )


def _previous_run_ids(previous: pd.DataFrame | None, name: str) -> list[str | None] | None:
    """Run ids a frame already carries (returned by submit, or read back from Excel)."""
    if previous is None or name not in previous.columns:
        return None
    ids = previous[name].astype("string")
    return [None if pd.isna(v) else str(v) for v in ids]


def _one_per_person(
    payloads: list[dict[str, Any] | None],
    notes: list[str | None],
    labels: pd.Index,
    opts: Options,
    report: RunReport,
) -> tuple[list[dict[str, Any] | None], list[str | None]]:
    """Find people who would get several sequences; with ``dedupe="person"`` send one each.

    The rows of one person then carry the request of that person's first row, so they
    share its call and its answer; their ``octave_note`` says whose sequence they took.
    """
    people = find_people(payloads)
    report.people = describe(people.groups, labels.tolist()) if people.groups else []
    if opts.dedupe != "person" or not people.groups:
        return payloads, notes
    payloads, notes = list(payloads), list(notes)
    for i, first in enumerate(representatives(people)):
        if first is None or first == i or payloads[i] == payloads[first]:
            continue
        payloads[i] = payloads[first]
        copied = f"same person as row {labels[first]!r}: takes its sequence (dedupe='person')"
        notes[i] = f"{notes[i]}; {copied}" if notes[i] else copied
    return payloads, notes


def _answer_from_ledger(plan: Plan, ledger: Ledger, *, path: str, keep_run_ids: bool) -> None:
    """Take the answers and async run ids the ledger holds for the plan's calls.

    With ``keep_run_ids``, run ids that only the frame carried (a submitted sheet opened
    on another machine) go into the ledger too, so later runs here know them.
    """
    for key, outcome in ledger.lookup(plan.jobs).items():
        outcome.attempts = 0  # served from the ledger: no call this run
        plan.answered[key] = outcome
    plan.report.cache_hits = sum(1 for key in plan.keys if key is not None and key in plan.answered)
    now = datetime.now(UTC)
    waiting = [k for k in plan.jobs if k not in plan.answered]
    stored = ledger.submissions(waiting)
    for key, sub in stored.items():
        age = (now - datetime.fromisoformat(sub.submitted_at)).total_seconds()
        plan.known[key] = (sub.run_id, max(age, 0.0))
    if keep_run_ids:
        for key in waiting:
            if key in plan.known and key not in stored:
                ledger.record_submission(key, run_id=plan.known[key][0], endpoint=path)


async def _preflight(session: Session, calls: int, cost: float, budget: float | None) -> None:
    """Check the key and the balance before the first paid call."""
    try:
        info = await session.validate_key()
    except AuthenticationError:
        raise
    except OctaveError as exc:  # the check is a courtesy; the run itself will tell
        log.warning("could not check the API key's credits first: %s", exc)
        return
    if info.get("valid") is False:
        raise AuthenticationError("the API key is not valid", status_code=401)
    credits = info.get("credits")
    remaining = credits.get("totalRemaining") if isinstance(credits, dict) else None
    if not isinstance(remaining, int | float):
        return
    need = calls * cost if budget is None else min(calls * cost, budget)
    if remaining < need:
        raise InsufficientCreditsError(
            f"this run needs about {need:g} credits ({calls} calls x {cost:g}) but the workspace "
            f"has {remaining:g} left; top up, or pass max_credits={remaining:g} to spend only that",
            status_code=402,
        )


def _assemble(frame: pd.DataFrame, plan: Plan, opts: Options) -> pd.DataFrame:
    n = len(frame)
    statuses: list[str] = []
    errors: list[str | None] = []
    bodies: list[dict[str, Any] | None] = []
    run_ids: list[str | None] = []
    for i in range(n):
        key = plan.keys[i]
        if key is None:
            reason = plan.invalid[i]
            invalid = reason is not None and not plan.keep[i]
            statuses.append(Status.INVALID if invalid else Status.NOT_SENT)
            errors.append(reason)
            bodies.append(None)
            run_ids.append(None)
            continue
        outcome = plan.answered.get(key) or Outcome(Status.NOT_SENT, error=INTERRUPTED)
        statuses.append(outcome.status)
        errors.append(outcome.error)
        bodies.append(outcome.body)
        run_ids.append(outcome.run_id or plan.known.get(key, (None, None))[0])
    endpoint = opts.endpoint
    results = endpoint.columns(
        statuses,
        errors,
        bodies,
        notes=plan.notes,
        run_ids=run_ids if opts.mode == "async" else None,
        prefix=opts.prefix,
        raw=opts.raw,
    )
    if plan.previous is not None:
        results = endpoint.merge(plan.previous, results, plan.keep, prefix=opts.prefix)
    if opts.dry_run:
        results[endpoint.column("payload", opts.prefix)] = pd.array(
            [json.dumps(p, ensure_ascii=False) if p is not None else None for p in plan.payloads],
            dtype="string",
        )
    base = plan.base.reset_index(drop=True)
    if endpoint.fan_out:
        base, results = fan_out(base, results, bodies, frame.index, prefix=opts.prefix)
        return pd.concat([base, results], axis=1)
    out = pd.concat([base, results], axis=1)
    out.index = frame.index
    return out


def _dry_run(plan: Plan, cost: float) -> None:
    calls = sum(1 for key in plan.jobs if key not in plan.answered)
    plan.report.estimated_credits = calls * cost
    # The calls a real run would make, after dedupe and cache hits: what a dry run is for.
    plan.report.calls = calls
    for key in plan.jobs:
        note = DRY_RUN_CACHED if key in plan.answered else DRY_RUN_WOULD_CALL
        plan.answered[key] = Outcome(Status.NOT_SENT, error=note)
    log.info(
        "octave_frames dry run: %d calls (%d rows from cache, %d duplicate rows), ~%g credits",
        calls,
        plan.report.cache_hits,
        plan.report.duplicates,
        calls * cost,
    )


async def arun(
    frame: pd.DataFrame,
    kwargs: Mapping[str, Any],
    *,
    endpoint: Endpoint,
    call: Call = "run",
    args: Any = None,
    **fixed: Any,
) -> pd.DataFrame:
    """Run ``endpoint`` on every row of ``frame``; the one core behind every public call.

    Args:
        frame: The rows.
        kwargs: The user's keyword arguments, checked against ``args``.
        endpoint: Where the rows go.
        call: ``"run"``, ``"submit"`` or ``"collect"`` (see the module doc).
        args: The call's declared arguments (default: every argument of ``endpoint``).
        **fixed: Run arguments the call fixes (``mode="async"`` for submit and collect).

    Returns:
        The result frame.

    """
    wait, wait_timeout = call == "run", None
    if call == "collect":
        given = {arg.name: kwargs[arg.name] for arg in WAIT_ARGS if arg.name in kwargs}
        waiting = check_arguments(given, WAIT_ARGS)
        wait, wait_timeout = waiting["wait"], waiting["timeout"] if waiting["wait"] else None
        kwargs = {k: v for k, v in kwargs.items() if k not in waiting}
        args = [arg for arg in (args or ()) if arg not in WAIT_ARGS] or None
    if "sync" not in endpoint.modes:
        fixed.setdefault("mode", endpoint.modes[0])
    opts = parse_options(kwargs, endpoint, args, **fixed)
    if opts.mode not in endpoint.modes:
        raise ArgumentError(
            f"mode={opts.mode!r}: {endpoint.label} runs only as "
            f"{' or '.join(endpoint.modes)}; leave mode out"
        )
    client = opts.client
    plan = make_plan(frame, opts, client.base_url)
    ledger = Ledger(opts.cache) if opts.cache is not None else None
    try:
        if ledger is not None:
            keep = opts.mode == "async" and not opts.dry_run
            _answer_from_ledger(plan, ledger, path=endpoint.path, keep_run_ids=keep)
        cost = (ledger.mean_usage(endpoint.path) if ledger else None) or 1.0
        pending = {k: p for k, p in plan.jobs.items() if k not in plan.answered}
        if opts.dry_run:
            _dry_run(plan, cost)
        elif pending:
            engine_opts = EngineOptions(
                concurrency=opts.concurrency,
                retry=RetryPolicy(max_retries=opts.max_retries),
                max_credits=opts.max_credits,
                estimated_cost=cost,
                progress=opts.progress,
                mode=opts.mode,
                submit=call != "collect",
                wait=wait,
                callback_url=opts.callback_url or NOOP_CALLBACK_URL,
                poll=opts.poll,
                job_timeout=opts.job_timeout if call == "run" else None,
                look=call != "submit",
                deadline=wait_timeout,
            )
            await _send(plan, pending, opts, engine_opts=engine_opts, cost=cost, ledger=ledger)
    finally:
        if ledger is not None:
            ledger.close()
    out = _assemble(frame, plan, opts)
    report = plan.report
    report.finished_at = datetime.now(UTC)
    for reason in out[endpoint.column("error", opts.prefix)].dropna():
        report.error_counts[str(reason)] += 1
    remember(out, report, earlier=frame)
    if opts.errors == "raise" and not opts.dry_run:
        counts = out[endpoint.column("status", opts.prefix)].value_counts().to_dict()
        bad = {s: int(c) for s, c in counts.items() if s not in DONE}
        if bad:
            where = f" in {opts.cache}" if opts.cache else ""
            raise RunFailedError(
                f"{sum(bad.values())} of {len(out)} rows did not succeed ({bad}); every answer is "
                f"kept{where}, so running the same call again resumes",
                counts={str(k): int(v) for k, v in counts.items()},
            )
    return out


async def _send(
    plan: Plan,
    pending: Mapping[str, dict[str, Any]],
    opts: Options,
    *,
    engine_opts: EngineOptions,
    cost: float,
    ledger: Ledger | None,
) -> None:
    client = opts.client
    endpoint = opts.endpoint
    path = endpoint.async_path if opts.mode == "async" else endpoint.path
    limiter = client.rate_limiter(client.base_url + path, opts.rate)
    poll_limiter = client.rate_limiter(client.base_url + endpoint.status_path, opts.rate)
    known = {k: v for k, v in plan.known.items() if k in pending}
    to_submit = len(pending) - len(known) if engine_opts.submit else 0
    async with client.session(max_connections=opts.concurrency) as session:
        if to_submit:
            await _preflight(session, to_submit, cost, opts.max_credits)
        engine = Engine(session, limiter, client.clock, engine_opts, ledger, endpoint, poll_limiter)
        try:
            plan.answered.update(await engine.run(pending, known))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | anyio.get_cancelled_exc_class()):
                _tell_interrupted(engine, len(pending), opts)
            raise
        finally:
            plan.report.calls = engine.calls
            # An async job is billed when it is accepted, its price known only with its
            # result: a figure "spent by this run" would be a guess, so there is none.
            plan.report.credits = engine.spent if opts.mode == "sync" else None
            plan.report.stopped = engine.stopped
    if engine.stopped == INTERRUPTED:
        _tell_interrupted(engine, len(pending), opts)
    elif engine.stopped:
        log.warning("octave_frames stopped sending: %s", engine.stopped)


def _tell_interrupted(engine: Engine, calls: int, opts: Options) -> None:
    cache = opts.cache
    answered = sum(1 for o in engine.outcomes.values() if o.status in DONE)
    pending = sum(1 for o in engine.outcomes.values() if o.status is Status.PENDING)
    where = (
        f"{answered} of {calls} calls answered and saved in {cache}; run the same call again "
        "to resume without paying for them twice"
        if cache is not None
        else f"{answered} of {calls} calls answered; cache=False, so they were not kept"
    )
    if pending:
        where += (
            f". {pending} async jobs are submitted and their run ids saved: "
            "df.octave.collect(...) (or `octave-frames collect`) fetches them, never resubmitting"
        )
    print(f"octave_frames: interrupted. {where}.", file=sys.stderr, flush=True)
