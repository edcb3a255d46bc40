"""One ``sequence`` run from frame to frame: plan, send, assemble.

The path of a row: `_options` checks the arguments; `_mapping` turns the row into a
clean payload (or an ``invalid`` reason); here the payload gets its request key,
rows with equal keys are folded into one call, the ledger answers what it already
holds, `_engine` sends the rest; then every row takes its call's answer and
`_flatten` expands the answers into columns on the input's index.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
import pandas as pd

from ._constants import DRY_RUN_CACHED, DRY_RUN_WOULD_CALL, SEQUENCE_PATH
from ._engine import INTERRUPTED, Engine, EngineOptions, Outcome
from ._exceptions import (
    ArgumentError,
    AuthenticationError,
    ColumnError,
    InsufficientCreditsError,
    OctaveError,
    RunFailedError,
)
from ._fields import detect_fields
from ._flatten import result_columns
from ._ledger import Ledger, request_key
from ._mapping import build_requests, normalize_steps
from ._options import Options, parse_options
from ._people import describe, find_people, representatives
from ._report import RunReport, remember
from ._results import is_output_column, merge_results
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from ._client import Session

__all__ = ["asequence"]

log = logging.getLogger("octave_frames")

DONE = ("ok", "not_found")


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


def _split_previous(frame: pd.DataFrame, prefix: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Separate result columns of an earlier run (e.g. read back from Excel) from the input.

    Raises:
        ColumnError: The frame has no results but columns named like the output, which
            the result would then hold twice.

    """
    mask = np.array([is_output_column(c, prefix=prefix) for c in frame.columns], dtype=bool)
    if f"{prefix}octave_status" not in frame.columns:
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
    status = previous[f"{opts.prefix}octave_status"].astype("string")
    done = status.isin(DONE) if opts.rerun == "failed" else status.notna()
    return done.fillna(False).to_numpy(dtype=bool)


def make_plan(frame: pd.DataFrame, opts: Options, base_url: str) -> Plan:
    """Check the frame against the arguments and decide which calls a run needs."""
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    base, previous = _split_previous(frame, opts.prefix)
    detection = detect_fields(base, opts.fields)
    fields = detection.columns
    context = normalize_steps(opts.context, argument="context")
    instructions = normalize_steps(opts.instructions, argument="instructions")
    requests = build_requests(
        base, fields=fields, context=context, instructions=instructions, static=opts.static
    )
    keep = _keep_mask(previous, len(frame), opts)
    report = RunReport(
        agent=opts.static.get("agentOId"),
        experiment=opts.static.get("experimentOId"),
        started_at=datetime.now(UTC),
        fields={f: str(c) for f, c in fields.items()},
        field_reasons=dict(detection.reasons),
        dry_run=opts.dry_run,
        settings=opts.settings(),
    )
    payloads, notes = _one_per_person(requests.payloads, requests.notes, frame.index, opts, report)
    if previous is not None:
        kept = previous[f"{opts.prefix}octave_status"].astype("string")[keep]
        for status, count in kept.value_counts().items():
            report.skipped[f"already {status} (rerun={opts.rerun!r})"] += int(count)
    keys: list[str | None] = []
    jobs: dict[str, dict[str, Any]] = {}
    for i, payload in enumerate(payloads):
        if payload is None or keep[i]:
            keys.append(None)
            continue
        key = request_key(base_url=base_url, endpoint=SEQUENCE_PATH, payload=payload)
        keys.append(key)
        if key in jobs:
            report.duplicates += 1
        else:
            jobs[key] = payload
    if not len(frame):
        log.warning("octave_frames: the frame has no rows, so nothing was sent")
    log.info("octave_frames field mapping: %s", report.fields)
    return Plan(base, previous, keep, payloads, requests.invalid, notes, keys, jobs, report)


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


def _answer_from_ledger(plan: Plan, ledger: Ledger) -> None:
    for key, entry in ledger.lookup(plan.jobs).items():
        plan.answered[key] = Outcome(entry.status, entry.body, None, entry.usage, 0)
    plan.report.cache_hits = sum(1 for key in plan.keys if key is not None and key in plan.answered)


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
    for i in range(n):
        key = plan.keys[i]
        if key is None:
            reason = plan.invalid[i]
            statuses.append("invalid" if reason is not None and not plan.keep[i] else "not_sent")
            errors.append(reason)
            bodies.append(None)
            continue
        outcome = plan.answered.get(key) or Outcome("not_sent", error=INTERRUPTED)
        statuses.append(outcome.status)
        errors.append(outcome.error)
        bodies.append(outcome.body)
    results = result_columns(
        statuses, errors, bodies, notes=plan.notes, prefix=opts.prefix, raw=opts.raw
    )
    if plan.previous is not None:
        results = merge_results(plan.previous, results, plan.keep, prefix=opts.prefix)
    if opts.dry_run:
        results[f"{opts.prefix}octave_payload"] = pd.array(
            [json.dumps(p, ensure_ascii=False) if p is not None else None for p in plan.payloads],
            dtype="string",
        )
    out = pd.concat([plan.base.reset_index(drop=True), results], axis=1)
    out.index = frame.index
    return out


def _dry_run(plan: Plan, cost: float) -> None:
    calls = sum(1 for key in plan.jobs if key not in plan.answered)
    plan.report.estimated_credits = calls * cost
    # The calls a real run would make, after dedupe and cache hits: what a dry run is for.
    plan.report.calls = calls
    for key in plan.jobs:
        note = DRY_RUN_CACHED if key in plan.answered else DRY_RUN_WOULD_CALL
        plan.answered[key] = Outcome("not_sent", error=note)
    log.info(
        "octave_frames dry run: %d calls (%d rows from cache, %d duplicate rows), ~%g credits",
        calls,
        plan.report.cache_hits,
        plan.report.duplicates,
        calls * cost,
    )


async def asequence(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Run the Sequence Agent on every row of ``frame``; the async form of ``sequence``.

    See `octave_frames.sequence` for the arguments and the result.
    """
    opts = parse_options(kwargs)
    client = opts.client
    plan = make_plan(frame, opts, client.base_url)
    ledger = Ledger(opts.cache) if opts.cache is not None else None
    try:
        if ledger is not None:
            _answer_from_ledger(plan, ledger)
        cost = (ledger.mean_usage(SEQUENCE_PATH) if ledger else None) or 1.0
        pending = {k: p for k, p in plan.jobs.items() if k not in plan.answered}
        if opts.dry_run:
            _dry_run(plan, cost)
        elif pending:
            await _send(plan, pending, opts, cost, ledger)
    finally:
        if ledger is not None:
            ledger.close()
    out = _assemble(frame, plan, opts)
    report = plan.report
    report.finished_at = datetime.now(UTC)
    for reason in out[f"{opts.prefix}octave_error"].dropna():
        report.error_counts[str(reason)] += 1
    remember(out, report)
    if opts.errors == "raise" and not opts.dry_run:
        counts = out[f"{opts.prefix}octave_status"].value_counts().to_dict()
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
    cost: float,
    ledger: Ledger | None,
) -> None:
    client = opts.client
    engine_opts = EngineOptions(
        concurrency=opts.concurrency,
        retry=RetryPolicy(max_retries=opts.max_retries),
        max_credits=opts.max_credits,
        estimated_cost=cost,
        progress=opts.progress,
    )
    endpoint = client.base_url + SEQUENCE_PATH
    limiter = client.rate_limiter(endpoint, opts.rate)
    async with client.session(max_connections=opts.concurrency) as session:
        await _preflight(session, len(pending), cost, opts.max_credits)
        engine = Engine(session, limiter, client.clock, engine_opts, ledger, SEQUENCE_PATH)
        try:
            plan.answered.update(await engine.run(pending))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | anyio.get_cancelled_exc_class()):
                _tell_interrupted(engine, len(pending), opts.cache)
            raise
        finally:
            plan.report.calls = engine.calls
            plan.report.credits = engine.spent
            plan.report.stopped = engine.stopped
    if engine.stopped == INTERRUPTED:
        _tell_interrupted(engine, len(pending), opts.cache)
    elif engine.stopped:
        log.warning("octave_frames stopped sending: %s", engine.stopped)


def _tell_interrupted(engine: Engine, calls: int, cache: Path | None) -> None:
    answered = sum(1 for o in engine.outcomes.values() if o.status in DONE)
    where = (
        f"{answered} of {calls} calls answered and saved in {cache}; run the same call again "
        "to resume without paying for them twice"
        if cache is not None
        else f"{answered} of {calls} calls answered; cache=False, so they were not kept"
    )
    print(f"octave_frames: interrupted. {where}.", file=sys.stderr, flush=True)
