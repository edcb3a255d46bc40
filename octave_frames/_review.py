r"""Flags on generated email sequences, for the people who read them before sending.

:func:`review` adds two columns to a result frame: ``octave_review``, one readable flag
per problem (``"email 2 [placeholder]: '{first_name}' left in the greeting"``), joined by
``"; "``, and ``octave_review_ok``. :func:`review_flags` is the same as one row per
flag; :func:`review_counts`, :func:`email_review`, :func:`flagged_emails` and
:func:`parse_review` read the flags back from the text, so they work on a frame read back
from Excel too. Nothing is
sent anywhere and the same frame always gives the same flags, in row, step, check order.

The checks, by name (``disable=`` takes these names):

- ``placeholder``: a template placeholder left in a subject or text: ``{first_name}``,
  ``{{company}}``, ``{{ contact.first_name }}``, ``[First Name]``, ``<Company>``,
  ``%name%``, ``[[x]]``, ``%%x%%``, ``*|FNAME|*``, ``FIRSTNAME``/``COMPANY_NAME``. Code
  braces, JSON, ``[1]``, markdown links, HTML tags, ``<3``, ``<ann@acme.com>``, ``50%``
  and acronyms (``SaaS``, ``SOC 2``) are fine.
- ``empty``: no subject on step 1 (a later step without a subject is a reply in the
  thread, as Octave writes follow-ups), no text, or an empty body section, in a step
  that exists (any of its columns holds a value).
- ``greeting``: the greeting (the greeting section, else the text's first line) names
  someone who is not the contact: "greets 'Ben' but the contact is 'Ann'", saying so
  when Ben is another contact of the frame. Case, accents, punctuation and short forms
  ("Alex" for "Alexander", "Anne" for "Anne-Marie") do not count; "Hi there" and
  "Hello team" name no one. Skipped without a first-name column; a row without a first
  name is only flagged when its greeting names another contact.
- ``too_long``: more words than allowed: ``max_words=``, else the instructions
  (``instructions=``, else those of the run that made the frame, which its run report
  remembers, through Excel too): "under 150 words", "no more than 120 words",
  "100-word limit", ... (:func:`~octave_frames._review_text.parse_word_limit`); a
  step's own instruction beats ``all``. Words are counted as a person would (separated
  by spaces, no-break spaces, tabs and line breaks; a run of pure punctuation, a dash
  or an emoji is no word), without the signature section: a reader does not count the
  sign-off, and Octave writes it apart.
- ``repeated``: a body (the body section, else the text) that at least
  :data:`REPEAT_MIN_CONTACTS` contacts get once their own names (first, last, company,
  domain) are set aside -- mail merge, not writing; or a subject (compared up to case
  and spacing, names kept: one naming each contact's company is personalised) that at
  least as many contacts get, and at least :data:`REPEAT_SUBJECT_SHARE` of them (short
  subjects recur by chance in big frames; a generic "Re: Following up" counts like any
  other). Contacts are told apart by their email address, else their row, so copies of
  one person's sequence (``dedupe="person"``) are no repeats.
- ``no_personalisation``: no email of the row names the contact's first or last name,
  company or domain ("acme" of acme.com); one flag per row, step ``sequence``.
- ``mangled``: control characters (tab, newline and CRLF are fine), zero-width
  characters, ``\ufffd``, mojibake (``â€™``), a line break in a subject, and in HTML
  output (the run's ``output_format``, else ``<p>``/``<br>`` tags in the text) a tag
  left open or closing nothing (void tags such as ``<br>`` need no close).

Your own checks go in ``checks=``: callables taking one :class:`ReviewedEmail` and
returning a message, several, or None; they run on every email that exists and their
messages read like the built-in ones.

Speed: :func:`._review_checks.scan` reads every email once: a byte-table screen clears
clean text, exact rules run only on what it lets through, and the cross-row checks group
hashes first. See ``benchmarks/bench_review.py`` for the time at 1k, 10k and 100k rows.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._exceptions import ArgumentError
from ._gc import gc_paused
from ._longform import long_with_positions
from ._report import report_for
from ._results import step_count
from ._review_checks import (
    REPEAT_MIN_CONTACTS,
    REPEAT_SUBJECT_SHARE,
    Flags,
    ReviewCheck,
    ReviewedEmail,
    no_sequences_message,
    read_column,
    read_contacts,
    read_steps,
    run_custom,
    scan,
)
from ._review_text import WordLimit, parse_word_limit
from ._specs import _step_key, normalize_steps

__all__ = [
    "CHECKS",
    "REPEAT_MIN_CONTACTS",
    "REPEAT_SUBJECT_SHARE",
    "REVIEW_COLUMN",
    "REVIEW_OK_COLUMN",
    "ReviewCheck",
    "ReviewFlag",
    "ReviewedEmail",
    "WordLimit",
    "email_review",
    "flagged_emails",
    "parse_review",
    "parse_word_limit",
    "review",
    "review_counts",
    "review_flags",
]

#: The built-in checks, in the order their flags are listed.
CHECKS: Final = (
    "placeholder",
    "empty",
    "greeting",
    "too_long",
    "repeated",
    "no_personalisation",
    "mangled",
)
#: The review columns (after any ``prefix``).
REVIEW_COLUMN: Final = "octave_review"
REVIEW_OK_COLUMN: Final = "octave_review_ok"

# Where one flag starts in the joined text: "email 2 [placeholder]: " / "sequence [x]: ".
_FLAG_START: Final = re.compile(r"(?:^|; )(?:email (\d+)|sequence) \[([A-Za-z0-9_]+)\]: ")
_CHECK_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ReviewFlag:
    """One flag read back from an ``octave_review`` cell.

    Attributes:
        step: The email's step, or None for a flag on the whole sequence.
        check: The check's name.
        message: The whole flag as written, ``"email 2 [placeholder]: ..."``.

    """

    step: int | None
    check: str
    message: str


# ---------------------------------------------------------------------------------------
# Word limits


def _limits(
    frame: pd.DataFrame,
    numbers: Sequence[int],
    max_words: int | Mapping[str | int, int] | None,
    instructions: Mapping[str | int, object] | None,
) -> dict[int, tuple[int, str]]:
    """Step -> (most words allowed, the end of the message that says why)."""
    if max_words is not None:
        if not isinstance(max_words, Mapping):
            allowed = _positive(max_words, "max_words")
            return {number: (allowed, f"over max_words={allowed}") for number in numbers}
        given = {_step_key(k, "max_words"): v for k, v in max_words.items()}
        limits: dict[int, tuple[int, str]] = {}
        for number in numbers:
            key = str(number) if str(number) in given else "all"
            if key in given:
                allowed = _positive(given[key], f"max_words[{key!r}]")
                limits[number] = (allowed, f"over max_words[{key!r}]={allowed}")
        return limits
    if instructions is not None:
        checked = normalize_steps(instructions, argument="instructions")
        texts = {k: v for k, v in checked.items() if isinstance(v, str)}
    else:  # the run's own, kept in its report (live, or read back from Excel)
        report = report_for(frame)
        settings = report.settings if report is not None else {}
        texts = {
            key[len("instructions[") : -1]: value
            for key, value in settings.items()
            if key.startswith("instructions[") and key.endswith("]")
        }
    parsed = {key: parse_word_limit(text) for key, text in texts.items()}
    limits = {}
    for number in numbers:
        for key in (str(number), "all"):  # the step's own instruction beats "all"
            limit = parsed.get(key)
            if limit is not None:
                limits[number] = (limit.words, f"over {limit.phrase!r} (instructions[{key}])")
                break
    return limits


def _positive(value: object, name: str) -> int:
    """``value`` as a word count, or an ArgumentError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ArgumentError(f"{name} must be a positive whole number of words, not {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------
# Arguments


def _custom_checks(
    checks: Mapping[str, ReviewCheck] | Sequence[ReviewCheck] | ReviewCheck | None,
) -> dict[str, ReviewCheck]:
    """``checks=`` as name -> callable, the names checked."""
    if checks is None:
        return {}
    if callable(checks) and not isinstance(checks, Mapping):
        checks = [checks]
    if isinstance(checks, Mapping):
        named = dict(checks)
    elif isinstance(checks, Sequence) and not isinstance(checks, str):
        named = {}
        for check in checks:
            name = getattr(check, "__name__", None)
            if not isinstance(name, str) or not _CHECK_NAME.fullmatch(name):
                raise ArgumentError(
                    f"review: check {check!r} has no usable name; pass checks={{'name': check}}"
                )
            named[name] = check
    else:
        raise ArgumentError(
            f"review: checks= takes callables or a dict of them, not {type(checks).__name__}"
        )
    for name, check in named.items():
        if not isinstance(name, str) or not _CHECK_NAME.fullmatch(name):
            raise ArgumentError(f"review: check name {name!r} must be a word such as 'tone'")
        if name in CHECKS:
            raise ArgumentError(f"review: check name {name!r} is taken by a built-in check")
        if not callable(check):
            raise ArgumentError(f"review: check {name!r} is not callable")
    return named


def _enabled(disable: Iterable[str], custom: Mapping[str, ReviewCheck]) -> list[str]:
    """The checks to run, in order; the names in ``disable`` are checked."""
    known = [*CHECKS, *custom]
    off = {disable} if isinstance(disable, str) else set(disable)
    for name in sorted(off, key=str):
        if name not in known:
            near = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ArgumentError(
                f"review: disable= names no check {name!r}{hint} (checks: {', '.join(known)})"
            )
    return [name for name in known if name not in off]


# ---------------------------------------------------------------------------------------
# Public


def _flags(
    frame: pd.DataFrame,
    *,
    prefix: str,
    checks: Mapping[str, ReviewCheck] | Sequence[ReviewCheck] | ReviewCheck | None,
    disable: Iterable[str],
    max_words: int | Mapping[str | int, int] | None,
    instructions: Mapping[str | int, object] | None,
) -> tuple[Flags, npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
    """Every flag of ``frame``; whether each row has a sequence; the flags' sorted order."""
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(f"review: expected a DataFrame, not {type(frame).__name__}")
    if not isinstance(prefix, str):
        raise ArgumentError(f"review: prefix must be text, not {type(prefix).__name__}")
    custom = _custom_checks(checks)
    enabled = _enabled(disable, custom)
    report = report_for(frame)
    fmt = report.settings.get("output_format") if report is not None else None
    with gc_paused():
        steps = read_steps(frame, prefix, fmt)
        numbers = [step.number for step in steps]
        limits = _limits(frame, numbers, max_words, instructions) if "too_long" in enabled else {}
        contacts = read_contacts(frame, prefix)
        order = {name: i for i, name in enumerate([*CHECKS, *custom])}
        flags = Flags()
        scan(
            steps,
            contacts=contacts,
            limits=limits,
            enabled=frozenset(enabled),
            order=order,
            flags=flags,
        )
        for name in enabled:
            if name in custom:
                run_custom(
                    steps,
                    contacts=contacts,
                    labels=frame.index,
                    name=name,
                    check=custom[name],
                    order=order[name],
                    flags=flags,
                )
        has_sequence = np.zeros(len(frame), dtype=bool)
        for step in steps:
            has_sequence[step.rows] = True
        # Row, then step (a sequence's own flags after its emails'), then check; stable.
        sort = np.lexsort(
            (
                np.asarray(flags.order, dtype=np.int64),
                np.asarray([s or 1 << 30 for s in flags.step], dtype=np.int64),
                np.asarray(flags.position, dtype=np.int64),
            )
        )
    return flags, has_sequence, sort


def review_flags(
    frame: pd.DataFrame,
    *,
    prefix: str = "",
    checks: Mapping[str, ReviewCheck] | Sequence[ReviewCheck] | ReviewCheck | None = None,
    disable: Iterable[str] = (),
    max_words: int | Mapping[str | int, int] | None = None,
    instructions: Mapping[str | int, object] | None = None,
) -> pd.DataFrame:
    """Every problem found in the sequences of ``frame``, one row per flag.

    Args:
        frame: A result frame of ``df.octave.sequence`` (only read).
        prefix: The ``prefix`` the run used for its output columns.
        checks: Checks of your own: callables taking a :class:`ReviewedEmail` and
            returning a message, several, or None (each named by its ``__name__``), or a
            dict name -> callable. Their flags read ``"email 2 [name]: message"``.
        disable: Names of checks not to run (built-in or your own).
        max_words: The most words an email may have (its signature aside): one number,
            or ``{step_key: number}`` with keys ``"all"``, ``"1"``..``"7"``. Beats
            ``instructions``.
        instructions: The ``instructions=`` of the run (``{step_key: text}``), to read
            word limits from; by default those the frame's run report remembers.

    Returns:
        A new frame with a RangeIndex and the columns ``row`` (the index label; a tuple
        for a MultiIndex), ``step`` (``Int64``; NA for a flag on the whole sequence),
        ``check`` and ``message`` (``string``), in row, step, check order.

    Raises:
        ArgumentError: The frame holds no ``email_*`` columns under ``prefix``, a name in
            ``disable`` is no check (the nearest is named), ``checks``, ``max_words`` or
            ``instructions`` is malformed, or a check of yours raised.

    Example:
        >>> flags = review_flags(out)
        >>> flags[flags.check == "placeholder"][["row", "step", "message"]]

    """
    flags, _, sort = _flags(
        frame,
        prefix=prefix,
        checks=checks,
        disable=disable,
        max_words=max_words,
        instructions=instructions,
    )
    positions = np.asarray(flags.position, dtype=np.intp)[sort]
    rows = frame.index.take(positions)
    messages = [flags.message[k] for k in sort.tolist()]
    names = [match.group(2) if (match := _FLAG_START.match(m)) else "" for m in messages]
    return pd.DataFrame(
        {
            "row": rows.to_flat_index() if isinstance(rows, pd.MultiIndex) else rows,
            "step": pd.array([flags.step[k] or None for k in sort.tolist()], dtype="Int64"),
            "check": pd.array(names, dtype="string"),
            "message": pd.array(messages, dtype="string"),
        }
    ).set_axis(pd.RangeIndex(len(messages)))


def review(
    frame: pd.DataFrame,
    *,
    prefix: str = "",
    checks: Mapping[str, ReviewCheck] | Sequence[ReviewCheck] | ReviewCheck | None = None,
    disable: Iterable[str] = (),
    max_words: int | Mapping[str | int, int] | None = None,
    instructions: Mapping[str | int, object] | None = None,
) -> pd.DataFrame:
    """Flag what a person should look at before the generated emails go out.

    Args:
        frame: A result frame of ``df.octave.sequence`` (only read).
        prefix: The ``prefix`` the run used; the review columns take it too.
        checks: Checks of your own (see :func:`review_flags`).
        disable: Names of checks not to run: ``placeholder``, ``empty``, ``greeting``,
            ``too_long``, ``repeated``, ``no_personalisation``, ``mangled``, or yours.
        max_words: The most words an email may have (see :func:`review_flags`).
        instructions: The run's instructions, to read word limits from.

    Returns:
        A new frame: ``frame``'s columns and index, then ``{prefix}octave_review``
        (``string``: the flags, ``"; "``-joined, NA when none) and
        ``{prefix}octave_review_ok`` (``boolean``: True when nothing was flagged, NA for
        rows without a sequence, such as failed ones). Review columns already there are
        replaced where they stand.

    Raises:
        ArgumentError: As :func:`review_flags`.

    Example:
        >>> checked = review(out, instructions={"all": "Keep emails under 150 words."})
        >>> checked.loc[checked.octave_review_ok == False, "octave_review"]  # noqa: E712

    """
    flags, has_sequence, sort = _flags(
        frame,
        prefix=prefix,
        checks=checks,
        disable=disable,
        max_words=max_words,
        instructions=instructions,
    )
    joined: list[str | None] = [None] * len(frame)
    for k in sort.tolist():
        p = flags.position[k]
        current = joined[p]
        joined[p] = flags.message[k] if current is None else f"{current}; {flags.message[k]}"
    flagged = np.zeros(len(frame), dtype=bool)
    flagged[np.asarray(flags.position, dtype=np.intp)] = True
    out = frame.copy(deep=False)
    out[f"{prefix}{REVIEW_COLUMN}"] = pd.array(joined, dtype="string")
    out[f"{prefix}{REVIEW_OK_COLUMN}"] = pd.arrays.BooleanArray(~flagged, ~has_sequence)
    return out


def parse_review(text: object) -> list[ReviewFlag]:
    """Read the flags of one ``octave_review`` cell back.

    Args:
        text: The cell; NA, None and "" hold no flag.

    Returns:
        The flags in the order written.

    Example:
        >>> [f.check for f in parse_review("email 2 [placeholder]: '{x}' left in the body")]
        ['placeholder']

    """
    if not isinstance(text, str) or not text:
        return []
    starts = list(_FLAG_START.finditer(text))
    found: list[ReviewFlag] = []
    for i, match in enumerate(starts):
        begin = match.start() + (2 if text.startswith("; ", match.start()) else 0)
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        step = int(match.group(1)) if match.group(1) else None
        found.append(ReviewFlag(step, match.group(2), text[begin:end]))
    return found


def _review_cells(frame: pd.DataFrame, prefix: str) -> list[str | None]:
    """The ``octave_review`` cells of a reviewed frame."""
    name = f"{prefix}{REVIEW_COLUMN}"
    if name not in frame.columns:
        raise ArgumentError(f"no '{name}' column: run review(df) first, or pass the prefix it used")
    column = frame[name]
    if isinstance(column, pd.DataFrame):
        column = column.iloc[:, 0]
    return read_column(column)


def review_counts(frame: pd.DataFrame, *, prefix: str = "") -> dict[str, int]:
    """How many flags each check raised, read from a reviewed frame's ``octave_review``.

    The check's name is in every flag's text, so this works on a frame read back from
    Excel as well.

    Args:
        frame: A frame :func:`review` returned, or one read back from its workbook.
        prefix: The prefix of the review columns.

    Returns:
        ``{check: number of flags}`` for the checks with any: the built-in ones in
        :data:`CHECKS` order, then others alphabetically.

    Raises:
        ArgumentError: The frame has no review column under ``prefix``.

    Example:
        >>> review_counts(review(out))
        {'placeholder': 2, 'repeated': 14}

    """
    counts: Counter[str] = Counter()
    for cell in _review_cells(frame, prefix):
        counts.update(flag.check for flag in parse_review(cell))
    rank = {name: i for i, name in enumerate(CHECKS)}
    ordered = sorted(counts, key=lambda name: (rank.get(name, len(rank)), name))
    return {name: counts[name] for name in ordered}


def email_review(frame: pd.DataFrame, *, prefix: str = "") -> pd.Series:
    """The flags of each row of ``df.octave.emails()``, read from ``octave_review``.

    An email gets its own flags and those of its whole sequence (``no_personalisation``),
    ``"; "``-joined, in the order the review cell holds them: a column for the ``Emails``
    sheet.

    Args:
        frame: A reviewed frame, or one read back from its workbook.
        prefix: The prefix of the run's and the review's columns.

    Returns:
        A ``string`` Series aligned with ``df.octave.emails(prefix=prefix)`` (same length,
        same RangeIndex), named ``review``; NA for an email without a flag.

    Raises:
        ArgumentError: The frame has no review column, or no sequences, under ``prefix``.

    Example:
        >>> long = out.octave.emails()
        >>> long.assign(review=email_review(out))

    """
    cells = _review_cells(frame, prefix)
    if step_count(frame.columns, prefix=prefix) == 0:
        raise ArgumentError(no_sequences_message(frame, prefix))
    long, positions = long_with_positions(frame, prefix=prefix)
    parsed = {p: parse_review(cell) for p, cell in enumerate(cells) if cell}
    values: list[str | None] = []
    for p, step in zip(positions.tolist(), long["step"].tolist(), strict=True):
        own = [f.message for f in parsed.get(p, ()) if f.step in (step, None)]
        values.append("; ".join(own) if own else None)
    return pd.Series(pd.array(values, dtype="string"), index=long.index, name="review")


def flagged_emails(frame: pd.DataFrame, *, prefix: str = "") -> pd.Series:
    """Which rows of ``df.octave.emails()`` carry a flag, read from ``octave_review``.

    A flag on a whole sequence (``no_personalisation``) marks every email of its row.

    Args:
        frame: A reviewed frame, or one read back from its workbook.
        prefix: The prefix of the run's and the review's columns.

    Returns:
        A boolean Series aligned with ``df.octave.emails(prefix=prefix)`` (same length,
        same RangeIndex), named ``flagged``.

    Raises:
        ArgumentError: The frame has no review column, or no sequences, under ``prefix``.

    Example:
        >>> long = out.octave.emails()
        >>> long[flagged_emails(out)]

    """
    flagged = email_review(frame, prefix=prefix).notna().to_numpy(dtype=bool)
    return pd.Series(flagged, index=pd.RangeIndex(len(flagged)), name="flagged", dtype=bool)
