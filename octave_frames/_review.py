r"""Flags on generated email sequences, for the people who read them before sending.

:func:`review` adds two columns to a result frame: ``octave_review``, one readable flag
per problem (``"email 2 [placeholder]: '{first_name}' left in the greeting"``), joined by
``"; "``, and ``octave_review_ok``. :func:`review_flags` is the same as one row per
flag; :func:`review_counts`, :func:`flagged_emails` and :func:`parse_review` read the
flags back from the text, so they work on a frame read back from Excel too. Nothing is
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
  "100-word limit", ... (:func:`~octave_frames._review_checks.parse_word_limit`); a
  step's own instruction beats ``all``. Words are counted as a person would (separated
  by spaces, tabs and line breaks; pure punctuation is no word), without the signature
  section: a reader does not count the sign-off, and Octave writes it apart.
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

Speed: every email is read in one pass (:func:`_scan`): a byte-table screen clears clean
text, exact rules run only on what it lets through, and cross-row checks compare hashes
first. 100k contacts x 3 steps take a few seconds on a loaded 2-core machine
(``benchmarks/bench_review.py``).
"""

from __future__ import annotations

import difflib
import gc
import html
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._constants import SECTIONS
from ._exceptions import ArgumentError
from ._fields import detect_fields
from ._longform import LONG_FIELDS, long_with_positions
from ._report import report_for
from ._results import step_count
from ._review_checks import (
    WordLimit,
    clean_line,
    company_core,
    count_words,
    domain_stem,
    greeted_names,
    greets,
    html_problem,
    looks_html,
    mangled_problems,
    mentions,
    name_key,
    parse_word_limit,
    placeholders,
    quote,
    screen,
    visible,
)
from ._sniff import FREE_MAIL
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
#: A body (or a subject) is repeated when at least this many contacts get it ...
REPEAT_MIN_CONTACTS: Final = 3
#: ... and a subject only when they are also this share of the contacts reviewed.
REPEAT_SUBJECT_SHARE: Final = 0.01

# Where one flag starts in the joined text: "email 2 [placeholder]: " / "sequence [x]: ".
_FLAG_START: Final = re.compile(r"(?:^|; )(?:email (\d+)|sequence) \[([A-Za-z0-9_]+)\]: ")
_CHECK_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_RESULT_NAME: Final = re.compile(
    r"octave_\w+|email_[1-9][0-9]*_\w+|(?:product|persona|playbook)_\w+|output_type"
)
_LINE_TAGS: Final = re.compile(r"<[^<>]*>")
# A body is compared first on the start of its merged form, which a window of the raw
# text decides; only bodies sharing that start are merged and compared in full.
_HEAD_WINDOW: Final = 256
_HEAD: Final = 96


@dataclass(frozen=True, slots=True)
class ReviewedEmail:
    """One email, as a check passed in ``checks=`` sees it.

    Attributes:
        row: The row's index label.
        position: The row's position in the frame (labels may repeat).
        step: The email's step, 1 for the first.
        subject: The subject, or None.
        text: The sendable text, or None.
        sections: ``greeting``, ``opening``, ``body``, ``closing``, ``cta``, ``ps``,
            ``signature`` -> text or None.
        first_name: The contact's first name, if the frame has one.
        last_name: The contact's last name, if the frame has one.
        company: The contact's company name, if the frame has one.
        is_html: The text is HTML.

    """

    row: Hashable
    position: int
    step: int
    subject: str | None
    text: str | None
    sections: Mapping[str, str | None]
    first_name: str | None
    last_name: str | None
    company: str | None
    is_html: bool


#: A check of your own: the problem(s) with one email, or None when there is none.
ReviewCheck: TypeAlias = Callable[[ReviewedEmail], "str | Iterable[str] | None"]


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
# The frame, read once


def _values(column: pd.Series) -> list[str | None]:
    """A column as a list of str and None ("" and NA are None)."""
    if not isinstance(column.dtype, pd.StringDtype):
        column = column.astype("string")
    # pandas' python-storage string array holds str and its NA: read it as it is, several
    # times faster at 100k rows than through to_numpy(na_value=...).
    raw = getattr(column.array, "_ndarray", None)
    items = raw.tolist() if isinstance(raw, np.ndarray) and raw.dtype == object else column.tolist()
    return [v if v.__class__ is str and v else None for v in items]


@dataclass
class _Step:
    """One step's columns as lists (None for missing or empty), read as checks need them."""

    frame: pd.DataFrame
    number: int
    locations: dict[str, int]
    rows: list[int] = field(default_factory=list)
    is_html: list[bool] = field(default_factory=list)
    _read: dict[str, list[str | None] | None] = field(default_factory=dict)

    def column(self, name: str) -> list[str | None] | None:
        """The field ``name`` (``subject``, a section, ``text``), or None if the frame lacks it."""
        if name not in self._read:
            location = self.locations.get(name)
            self._read[name] = None if location is None else _values(self.frame.iloc[:, location])
        return self._read[name]

    def sections(self, position: int) -> dict[str, str | None]:
        """Section -> text of one email."""
        found: dict[str, str | None] = {}
        for name in SECTIONS:
            values = self.column(name)
            found[name] = values[position] if values is not None else None
        return found


def _steps(frame: pd.DataFrame, prefix: str, fmt: str | None) -> list[_Step]:
    """Every step of ``frame``: where it exists, and whether it is HTML."""
    count = step_count(frame.columns, prefix=prefix)
    if count == 0:
        raise ArgumentError(_no_sequences_message(frame, prefix))
    first: dict[str, int] = {}
    for location, name in enumerate(frame.columns):
        if isinstance(name, str):
            first.setdefault(name, location)  # a repeated label reads its first column
    n = len(frame)
    steps: list[_Step] = []
    for number in range(1, count + 1):
        locations = {
            name: first[label]
            for name in LONG_FIELDS
            if (label := f"{prefix}email_{number}_{name}") in first
        }
        step = _Step(frame, number, locations)
        main = [c for c in (step.column(s) for s in ("subject", "text")) if c is not None]
        present = np.zeros(n, dtype=bool)
        for values in main:
            present |= np.asarray(values, dtype=object) != None  # noqa: E711 (elementwise)
        # A step also exists where only another field holds something: look there only.
        rest = [location for name, location in locations.items() if name not in ("subject", "text")]
        absent = np.flatnonzero(~present)
        if len(absent) and rest:
            block = frame.iloc[absent, rest]
            filled = block.notna().to_numpy() & (block.astype("string") != "").to_numpy(
                dtype=bool, na_value=False
            )
            present[absent[filled.any(axis=1)]] = True
        step.rows = np.flatnonzero(present).tolist()
        text = step.column("text")
        if text is None:  # a hand-made frame: the text is its sections, as Octave joins them
            parts = [v for v in (step.column(s) for s in SECTIONS) if v is not None]
            joined = ["\n\n".join(p for p in row if p) or None for row in zip(*parts, strict=True)]
            step._read["text"] = joined if parts else [None] * n
            text = step._read["text"]
        assert text is not None
        if fmt is not None:
            step.is_html = [fmt == "html"] * n
        else:
            step.is_html = [False] * n
            for p in step.rows:
                t = text[p]
                step.is_html[p] = t is not None and "<" in t and looks_html(t)
        steps.append(step)
    return steps


def _no_sequences_message(frame: pd.DataFrame, prefix: str) -> str:
    """Say the frame holds no sequences, and name a prefix its columns suggest."""
    where = f" with prefix={prefix!r}" if prefix else ""
    message = (
        f"review: no '{prefix}email_*' columns{where}: run df.octave.sequence(...) first, "
        "or pass prefix= if the run used one"
    )
    seen = sorted(
        {
            name[: match.start()]
            for name in frame.columns
            if isinstance(name, str) and (match := re.search(r"email_[1-9][0-9]*_text$", name))
        }
        - {prefix}
    )
    if seen:
        message += f" (these columns suggest prefix={seen[0]!r})"
    return message


@dataclass
class _Contacts:
    """The contact columns, one value per row.

    Attributes:
        first: First names, or None without a first-name column.
        last, company: Last names and company names (legal form dropped); None when unknown.
        names: Per row, the contact's own names as written (first, last, company, domain
            stem), longest first.
        people: Per row, who the contact is: rows with one email address are one person.

    """

    first: list[str | None] | None
    last: list[str | None]
    company: list[str | None]
    names: list[tuple[str, ...]]
    people: npt.NDArray[np.int64]


def _contacts(frame: pd.DataFrame, prefix: str) -> _Contacts:
    """The contact columns the run used (its report), else those detection finds."""
    inputs = frame.iloc[
        :,
        [
            location
            for location, name in enumerate(frame.columns)
            if not (
                isinstance(name, str)
                and name.startswith(prefix)
                and _RESULT_NAME.fullmatch(name[len(prefix) :])
            )
        ],
    ]
    report = report_for(frame)
    columns: Mapping[str, Hashable]
    if report is not None and report.fields and all(c in inputs for c in report.fields.values()):
        columns = report.fields
    else:
        columns = detect_fields(inputs, None).columns
    locations = {label: i for i, label in enumerate(inputs.columns)}
    n = len(frame)

    def read(request_field: str) -> list[str | None] | None:
        label = columns.get(request_field)
        if label is None or label not in locations:
            return None
        values = _values(inputs.iloc[:, locations[label]])
        return [v.strip() or None if v is not None else None for v in values]

    nothing: list[str | None] = [None] * n
    first, last = read("firstName"), read("lastName") or nothing
    company = _cached(read("companyName") or nothing, company_core)
    emails = read("email") or nothing
    hosts = [
        None if e is None or "@" not in e or (h := e.rsplit("@", 1)[1].lower()) in FREE_MAIL else h
        for e in emails
    ]
    domains = read("companyDomain") or nothing
    stems = _cached([d if d is not None else h for d, h in zip(domains, hosts, strict=True)], _stem)
    names: list[tuple[str, ...]] = []
    for row in zip(first or nothing, last, company, stems, strict=True):
        kept = [v for v in row if v is not None and len(v) >= 2]
        if len(kept) > 1:  # once each, longest first (a company holding a first name first)
            kept = sorted(dict.fromkeys(kept), key=len, reverse=True)
        names.append(tuple(kept))
    # People: one email address is one person; without an address, each row is its own.
    codes, _ = pd.factorize(pd.Series([e.lower() if e else None for e in emails], dtype=object))
    people = np.where(codes >= 0, codes, np.arange(n) + n).astype(np.int64)
    return _Contacts(first, last, company, names, people)


def _stem(domain: str) -> str | None:
    """The domain's name part, when it is long enough to mean something."""
    stem = domain_stem(domain)
    return stem if stem is not None and len(stem) >= 3 else None


def _cached(values: list[str | None], convert: Callable[[str], str | None]) -> list[str | None]:
    """``convert`` each value, once per distinct value (companies and domains repeat)."""
    done: dict[str, str | None] = {}
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        if value not in done:
            done[value] = convert(value)
        out.append(done[value])
    return out


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
# The checks: one pass over every email


@dataclass
class _Flags:
    """Flags as found: row position, step (0: the whole sequence), check order, text."""

    position: list[int] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    def add(self, position: int, step: int, order: int, message: str) -> None:
        """Record one flag."""
        self.position.append(position)
        self.step.append(step)
        self.order.append(order)
        self.message.append(message)


def _email(step: int, check: str, what: str) -> str:
    return f"email {step} [{check}]: {what}"


def _placement(step: _Step, position: int, token: str) -> str:
    """Which section of the email holds ``token`` ("the greeting"), else "the text"."""
    for name, value in step.sections(position).items():
        if value is not None and token in value:
            return "the call to action" if name == "cta" else f"the {name}"
    return "the text"


def _greeting_line(step: _Step, position: int, greetings: list[str | None] | None) -> str | None:
    """The greeting of one email: its section, else the text's first line; HTML read."""
    line = greetings[position] if greetings is not None else None
    if line is None:
        text = step.column("text")[position]  # type: ignore[index]
        if text is None:
            return None
        line = text.lstrip().split("\n", 1)[0]
    if step.is_html[position] and "<" in line:
        line = html.unescape(_LINE_TAGS.sub("\n", line)).strip().split("\n", 1)[0]
    return line.strip()


def _greeting_problem(line: str, first: str | None, known: Counter[str]) -> str | None:
    """What is wrong with greeting ``line`` for a contact called ``first``, if anything."""
    greeted = greeted_names(line)
    if greeted is None or not greeted[0]:
        return None
    said = greeted[0]
    other = known.get(name_key(said), 0) > 0
    if first is None:
        return (
            f"greets {quote(said)}, another contact's first name, but this contact has none"
            if other
            else None
        )
    if greets(greeted, first):
        return None
    tail = f" ({said} is another contact in this frame)" if other else ""
    return f"greets {quote(said)} but the contact is {quote(first)}{tail}"


def _merged(body: str, names: tuple[str, ...]) -> str:
    """``body`` as mail merge would have templated it: each of the contact's names a mark."""
    for name in names:
        body = body.replace(name, "\x00")
    return body


def _head(body: str, names: tuple[str, ...], span: int) -> str:
    """``_merged(body, names)[:_HEAD]``, from a window of ``body`` when that is enough.

    Replacing names in a prefix of the text gives the merged text's prefix except for
    its last ``span`` (the names' total length) characters at most: only an occurrence
    cut by the window's end, and what follows it, can differ. So a window whose merged
    form is ``_HEAD + span`` long decides the head.
    """
    if len(body) > _HEAD_WINDOW:
        head = body[:_HEAD_WINDOW]
        for name in names:
            head = head.replace(name, "\x00")
        if len(head) - span >= _HEAD:
            return head[:_HEAD]
    return _merged(body, names)[:_HEAD]


@dataclass
class _Repeats:
    """What the ``repeated`` check collects while the emails are read."""

    position: list[int] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    subject: list[str | None] = field(default_factory=list)
    body: list[str | None] = field(default_factory=list)
    subject_hash: list[int] = field(default_factory=list)
    head_hash: list[int] = field(default_factory=list)


def _scan(
    steps: Sequence[_Step],
    *,
    contacts: _Contacts,
    limits: Mapping[int, tuple[int, str]],
    enabled: frozenset[str],
    order: Mapping[str, int],
    flags: _Flags,
) -> None:
    """Run every enabled built-in check, reading each email once.

    One loop per step does all the per-email work while an email's text is in the
    cache (at 100k rows, each extra pass over 300k texts costs more in memory traffic
    than the checks themselves); ``repeated`` and ``no_personalisation`` collect as they
    go and decide after the last step.
    """
    check_placeholder, check_empty = "placeholder" in enabled, "empty" in enabled
    check_greeting = "greeting" in enabled and contacts.first is not None
    check_mangled, check_repeated = "mangled" in enabled, "repeated" in enabled
    check_mentions = "no_personalisation" in enabled
    screening = check_placeholder or check_mangled or bool(limits)
    first, names_of = contacts.first, contacts.names
    # Other contacts' first names, to say when a greeting names one of them.
    known = Counter(name_key(f) for f in first or () if f is not None)
    greeting_verdicts: dict[tuple[str, str | None], str | None] = {}
    signature_words: dict[tuple[str, bool], int] = {}
    repeats = _Repeats()
    mentioned = np.zeros(len(contacts.people), dtype=bool)
    has_names = np.asarray([bool(n) for n in names_of], dtype=bool)
    spans = [sum(map(len, n)) for n in names_of] if check_repeated else []
    for step in steps:
        number = step.number
        subjects, texts, is_html = step.column("subject"), step.column("text"), step.is_html
        assert texts is not None
        subjects = subjects if subjects is not None else [None] * len(texts)
        bodies, greetings = step.column("body"), step.column("greeting")
        signatures = step.column("signature") if number in limits else None
        allowed, why = limits.get(number, (0, ""))
        for p in step.rows:
            subject, text, in_html = subjects[p], texts[p], is_html[p]
            may_hold, may_be_mangled, bound = False, False, None
            tag_problem: str | None = None
            unknown_tags: list[str] = []
            if screening and text is not None:
                may_hold, may_be_mangled, bound = screen(text, is_html=in_html, count=allowed > 0)
                if in_html:
                    tag_problem, unknown_tags = html_problem(text)

            if check_placeholder:
                parts = []
                if subject is not None and (found := placeholders(subject, is_html=False)):
                    parts.append(f"{', '.join(map(quote, found))} left in the subject")
                if text is not None and (may_hold or unknown_tags):
                    found = placeholders(text, is_html=in_html)
                    found += [t for t in unknown_tags if t not in found]
                    parts += [f"{quote(t)} left in {_placement(step, p, t)}" for t in found]
                if parts:
                    flags.add(
                        p,
                        number,
                        order["placeholder"],
                        _email(number, "placeholder", ", ".join(parts)),
                    )

            if check_empty:
                problems = []
                # Only the first email needs a subject: Octave leaves later steps' subjects
                # empty when they are replies in the same thread.
                if number == 1 and (subject is None or not subject.strip()):
                    problems.append("no subject")
                if not visible(text, is_html=in_html):
                    problems.append("no text")
                elif (
                    bodies is not None
                    and not visible(bodies[p], is_html=in_html)
                    and any(
                        v[p] is not None
                        for s in SECTIONS
                        if s != "body" and (v := step.column(s)) is not None
                    )
                ):
                    problems.append("the body is empty")
                if problems:
                    flags.add(
                        p, number, order["empty"], _email(number, "empty", ", ".join(problems))
                    )

            if check_greeting:
                line = greetings[p] if greetings is not None else None
                if line is None or in_html:
                    line = _greeting_line(step, p, greetings)
                if line:
                    key = (line, first[p])  # type: ignore[index]
                    if key not in greeting_verdicts:
                        greeting_verdicts[key] = _greeting_problem(line, key[1], known)
                    problem = greeting_verdicts[key]
                    if problem is not None:
                        flags.add(p, number, order["greeting"], _email(number, "greeting", problem))

            if allowed and text is not None and (bound is None or bound > allowed):
                words = count_words(text, is_html=in_html)
                aside = ""
                signature = signatures[p] if signatures is not None else None
                if signature is not None and signature in text:
                    key2 = (signature, in_html)
                    if key2 not in signature_words:
                        signature_words[key2] = count_words(signature, is_html=in_html)
                    words -= signature_words[key2]
                    aside = " (signature aside)"
                if words > allowed:
                    flags.add(
                        p,
                        number,
                        order["too_long"],
                        _email(number, "too_long", f"{words} words{aside}, {why}"),
                    )

            if check_mangled:
                problems = []
                if subject is not None:
                    if "\n" in subject or "\r" in subject:
                        problems.append("a line break in the subject")
                        subject = subject.replace("\r", " ").replace("\n", " ")
                    if not clean_line(subject):
                        problems += [f"{m} in the subject" for m in mangled_problems(subject)]
                if may_be_mangled and text is not None:
                    problems += [f"{m} in the text" for m in mangled_problems(text)]
                if tag_problem is not None:
                    problems.append(f"unbalanced HTML: {tag_problem}")
                if problems:
                    flags.add(
                        p, number, order["mangled"], _email(number, "mangled", ", ".join(problems))
                    )

            if check_repeated:
                repeats.position.append(p)
                repeats.step.append(number)
                # Subjects up to case and spacing (see the module's docstring).
                normal = " ".join(subject.lower().split()) if subject else None
                repeats.subject.append(normal)
                repeats.subject_hash.append(hash(normal) if normal else 0)
                body = bodies[p] if bodies is not None and bodies[p] is not None else text
                body = body.strip() if body else None
                repeats.body.append(body)
                repeats.head_hash.append(hash(_head(body, names_of[p], spans[p])) if body else 0)

            if check_mentions and not mentioned[p] and has_names[p]:
                # As written first: the greeting names the contact, found at once.
                mentioned[p] = any(
                    name in t and mentions(t, name)
                    for t in (subject, text)
                    if t is not None
                    for name in names_of[p]
                )
    if check_repeated and repeats.position:
        _decide_repeats(repeats, contacts, order["repeated"], flags)
    if check_mentions:
        _decide_mentions(steps, contacts, mentioned, order["no_personalisation"], flags)


def _decide_repeats(repeats: _Repeats, contacts: _Contacts, order: int, flags: _Flags) -> None:
    """Flag the emails whose subject or merged body enough contacts share."""
    people = contacts.people[np.asarray(repeats.position, dtype=np.intp)]
    subject_floor = max(
        REPEAT_MIN_CONTACTS, int(np.ceil(REPEAT_SUBJECT_SHARE * len(np.unique(people))))
    )
    # Hashes group; the exact texts decide (a collision only costs time).
    subject_shared = _exactly(
        _sharing(repeats.subject_hash, repeats.subject, people),
        subject_floor,
        lambda k: repeats.subject[k],
        people,
    )
    body_shared = _exactly(
        _sharing(repeats.head_hash, repeats.body, people),
        REPEAT_MIN_CONTACTS,
        lambda k: _merged(repeats.body[k] or "", contacts.names[repeats.position[k]]),
        people,
    )
    chosen = (subject_shared >= subject_floor) | (body_shared >= REPEAT_MIN_CONTACTS)
    for k in np.flatnonzero(chosen).tolist():
        parts = []
        if subject_shared[k] >= subject_floor:
            parts.append(f"the same subject as {subject_shared[k] - 1} other contacts")
        if body_shared[k] >= REPEAT_MIN_CONTACTS:
            parts.append(f"the same body as {body_shared[k] - 1} other contacts (names aside)")
        number = repeats.step[k]
        flags.add(
            repeats.position[k], number, order, _email(number, "repeated", " and ".join(parts))
        )


def _sharing(
    hashes: list[int], values: list[str | None], people: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Per entry, how many distinct people have an entry with the same hash (0 for None)."""
    out = np.zeros(len(hashes), dtype=np.int64)
    valid = np.asarray(values, dtype=object) != None  # noqa: E711 (elementwise)
    if not valid.any():
        return out
    keys = np.asarray(hashes, dtype=np.int64)[valid]
    uniques, codes = np.unique(keys, return_inverse=True)
    span = int(people.max()) + 1
    pairs = np.unique(codes.astype(np.int64) * span + people[valid])
    out[valid] = np.bincount(pairs // span, minlength=len(uniques))[codes]
    return out


def _exactly(
    shared: npt.NDArray[np.int64],
    floor: int,
    key_of: Callable[[int], str | None],
    people: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Recount, on their exact keys, the entries that hashes put in big enough groups."""
    candidates = np.flatnonzero(shared >= floor).tolist()
    keys = [key_of(k) or "" for k in candidates]
    groups: dict[str, set[int]] = {}
    for k, key in zip(candidates, keys, strict=True):
        groups.setdefault(key, set()).add(int(people[k]))
    exact = np.zeros(len(shared), dtype=np.int64)
    for k, key in zip(candidates, keys, strict=True):
        exact[k] = len(groups[key])
    return exact


def _decide_mentions(
    steps: Sequence[_Step],
    contacts: _Contacts,
    mentioned: npt.NDArray[np.bool_],
    order: int,
    flags: _Flags,
) -> None:
    """Flag the rows none of whose emails names the contact, in any letter case."""
    reviewed = np.zeros(len(mentioned), dtype=bool)
    for step in steps:
        reviewed[step.rows] = True
    has_names = np.asarray([bool(n) for n in contacts.names], dtype=bool)
    for p in np.flatnonzero(reviewed & has_names & ~mentioned).tolist():
        names = contacts.names[p]
        lowered: list[str] = []
        for step in steps:
            for column in (step.column("subject"), step.column("text")):
                value = column[p] if column is not None else None
                if value is not None:
                    lowered.append(value.lower())
        if any(mentions(t, name.lower()) for t in lowered for name in names):
            continue
        listed = ", ".join(quote(n) for n in names)
        message = f"sequence [no_personalisation]: no email names the contact ({listed})"
        flags.add(p, 0, order, message)


def _run_custom(
    steps: Sequence[_Step],
    *,
    contacts: _Contacts,
    labels: pd.Index,
    name: str,
    check: ReviewCheck,
    order: int,
    flags: _Flags,
) -> None:
    """Run one check of the caller's on every email that exists."""
    for step in steps:
        subjects, texts = step.column("subject"), step.column("text")
        assert texts is not None
        for p in step.rows:
            email = ReviewedEmail(
                row=labels[p],
                position=p,
                step=step.number,
                subject=subjects[p] if subjects is not None else None,
                text=texts[p],
                sections=step.sections(p),
                first_name=contacts.first[p] if contacts.first is not None else None,
                last_name=contacts.last[p],
                company=contacts.company[p],
                is_html=step.is_html[p],
            )
            try:
                said = check(email)
            except Exception as exc:
                raise ArgumentError(
                    f"review: check {name!r} failed on row {labels[p]!r}, email {step.number}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if said is None:
                continue
            for message in [said] if isinstance(said, str) else said:
                if message:
                    flags.add(p, step.number, order, _email(step.number, name, str(message)))


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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a review allocates.

    A review makes hundreds of thousands of small objects that become garbage together
    and form no cycles; the collector's passes over them cost a quarter of the time at
    100k rows x 3 steps. Its state is put back afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _flags(
    frame: pd.DataFrame,
    *,
    prefix: str,
    checks: Mapping[str, ReviewCheck] | Sequence[ReviewCheck] | ReviewCheck | None,
    disable: Iterable[str],
    max_words: int | Mapping[str | int, int] | None,
    instructions: Mapping[str | int, object] | None,
) -> tuple[_Flags, npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
    """Every flag of ``frame``; whether each row has a sequence; the flags' sorted order."""
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(f"review: expected a DataFrame, not {type(frame).__name__}")
    if not isinstance(prefix, str):
        raise ArgumentError(f"review: prefix must be text, not {type(prefix).__name__}")
    custom = _custom_checks(checks)
    enabled = _enabled(disable, custom)
    report = report_for(frame)
    fmt = report.settings.get("output_format") if report is not None else None
    with _gc_paused():
        steps = _steps(frame, prefix, fmt)
        numbers = [step.number for step in steps]
        limits = _limits(frame, numbers, max_words, instructions) if "too_long" in enabled else {}
        contacts = _contacts(frame, prefix)
        order = {name: i for i, name in enumerate([*CHECKS, *custom])}
        flags = _Flags()
        _scan(
            steps,
            contacts=contacts,
            limits=limits,
            enabled=frozenset(enabled),
            order=order,
            flags=flags,
        )
        for name in enabled:
            if name in custom:
                _run_custom(
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
    return _values(column)


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
    cells = _review_cells(frame, prefix)
    if step_count(frame.columns, prefix=prefix) == 0:
        raise ArgumentError(_no_sequences_message(frame, prefix))
    long, positions = long_with_positions(frame, prefix=prefix)
    marked = {p: {f.step for f in parse_review(cell)} for p, cell in enumerate(cells) if cell}
    steps = long["step"].tolist()
    values = [
        p in marked and (s in marked[p] or None in marked[p])
        for p, s in zip(positions.tolist(), steps, strict=True)
    ]
    return pd.Series(values, index=long.index, name="flagged", dtype=bool)
