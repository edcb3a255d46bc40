"""The checks of :func:`~octave_frames._review.review`, run over a whole frame.

:func:`read_steps` and :func:`read_contacts` read the frame once (each column into a
list, only the columns the checks ask for); :func:`scan` runs every enabled built-in
check in one pass over the emails, with the text rules of :mod:`._review_text`;
:func:`run_custom` runs the caller's checks. Each flag goes into :class:`Flags` with its
row position, step and check; :mod:`._review` sorts and joins them.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._constants import SECTIONS
from ._exceptions import ArgumentError
from ._fields import detect_fields
from ._longform import LONG_FIELDS
from ._report import report_for
from ._results import step_count
from ._review_text import (
    clean_line,
    company_core,
    count_encoded,
    count_words,
    domain_stem,
    greeted_names,
    greets,
    html_problem,
    looks_html,
    mangled_problems,
    mentions,
    name_key,
    placeholders,
    quote,
    screen,
    visible,
)
from ._sniff import FREE_MAIL

__all__ = [
    "REPEAT_MIN_CONTACTS",
    "REPEAT_SUBJECT_SHARE",
    "Contacts",
    "Flags",
    "ReviewCheck",
    "ReviewedEmail",
    "Step",
    "no_sequences_message",
    "read_column",
    "read_contacts",
    "read_steps",
    "run_custom",
    "scan",
]

#: A body (or a subject) is repeated when at least this many contacts get it ...
REPEAT_MIN_CONTACTS: Final = 3
#: ... and a subject only when they are also this share of the contacts reviewed.
REPEAT_SUBJECT_SHARE: Final = 0.01

_RESULT_NAME: Final = re.compile(
    r"octave_\w+|email_[1-9][0-9]*_\w+|(?:product|persona|playbook)_\w+|output_type"
)
_LINE_TAGS: Final = re.compile(r"<[^<>]*>")
# A body is compared first on the start of its merged form, which a window of the raw
# text decides; only bodies sharing that start are merged and compared in full.
_HEAD_WINDOW: Final = 160
_HEAD: Final = 64


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


# ---------------------------------------------------------------------------------------
# The frame, read once


def read_column(column: pd.Series) -> list[str | None]:
    """A column as a list of str and None ("" and NA are None)."""
    if not isinstance(column.dtype, pd.StringDtype):
        column = column.astype("string")
    # pandas' python-storage string array holds str and its NA: read it as it is, several
    # times faster at 100k rows than through to_numpy(na_value=...).
    raw = getattr(column.array, "_ndarray", None)
    items = raw.tolist() if isinstance(raw, np.ndarray) and raw.dtype == object else column.tolist()
    return [v if v.__class__ is str and v else None for v in items]


@dataclass
class Step:
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
            self._read[name] = (
                None if location is None else read_column(self.frame.iloc[:, location])
            )
        return self._read[name]

    def sections(self, position: int) -> dict[str, str | None]:
        """Section -> text of one email."""
        found: dict[str, str | None] = {}
        for name in SECTIONS:
            values = self.column(name)
            found[name] = values[position] if values is not None else None
        return found


def read_steps(frame: pd.DataFrame, prefix: str, fmt: str | None) -> list[Step]:
    """Every step of ``frame``: where it exists, and whether it is HTML."""
    count = step_count(frame.columns, prefix=prefix)
    if count == 0:
        raise ArgumentError(no_sequences_message(frame, prefix))
    first: dict[str, int] = {}
    for location, name in enumerate(frame.columns):
        if isinstance(name, str):
            first.setdefault(name, location)  # a repeated label reads its first column
    n = len(frame)
    steps: list[Step] = []
    for number in range(1, count + 1):
        locations = {
            name: first[label]
            for name in LONG_FIELDS
            if (label := f"{prefix}email_{number}_{name}") in first
        }
        step = Step(frame, number, locations)
        main = [c for c in (step.column(s) for s in ("subject", "text")) if c is not None]
        present = np.zeros(n, dtype=bool)
        for values in main:
            # "is not None" compares pointers: the 100k strings are not read again.
            present |= np.asarray([v is not None for v in values], dtype=bool)
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


def no_sequences_message(frame: pd.DataFrame, prefix: str) -> str:
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
class Contacts:
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


def read_contacts(frame: pd.DataFrame, prefix: str) -> Contacts:
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
        values = read_column(inputs.iloc[:, locations[label]])
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
    return Contacts(first, last, company, names, people)


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
# The checks: one pass over every email


@dataclass
class Flags:
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


def _placement(step: Step, position: int, token: str) -> str:
    """Which section of the email holds ``token`` ("the greeting"), else "the text"."""
    for name, value in step.sections(position).items():
        if value is not None and token in value:
            return "the call to action" if name == "cta" else f"the {name}"
    return "the text"


def _first_line(text: str) -> str:
    """The first non-blank line of ``text``."""
    text = text.lstrip()
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _visible_line(line: str, *, is_html: bool) -> str:
    """A greeting as a reader sees it: HTML tags and entities read, spaces trimmed."""
    if is_html and "<" in line:
        line = _first_line(html.unescape(_LINE_TAGS.sub("\n", line)))
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


def scan(
    steps: Sequence[Step],
    *,
    contacts: Contacts,
    limits: Mapping[int, tuple[int, str]],
    enabled: frozenset[str],
    order: Mapping[str, int],
    flags: Flags,
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
    greeting_verdicts: dict[tuple[str, bool, str | None], str | None] = {}
    signature_words: dict[tuple[str, bool], int] = {}
    repeats = _Repeats()
    # Bound once: these run for every email.
    add_position, add_step = repeats.position.append, repeats.step.append
    add_subject, add_subject_hash = repeats.subject.append, repeats.subject_hash.append
    add_body, add_head_hash = repeats.body.append, repeats.head_hash.append
    # Plain lists: indexing a numpy array for one value costs more than the check.
    mentioned = [False] * len(names_of)
    has_names = [bool(n) for n in names_of]
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
            may_hold, may_be_mangled, encoded, bound = False, False, b"", None
            tag_problem: str | None = None
            unknown_tags: list[str] = []
            if screening and text is not None:
                may_hold, may_be_mangled, encoded, bound = screen(text, is_html=in_html)
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
                # The greeting section, else the text's first line; a few hundred distinct
                # greetings (one per first name) are read once each.
                line = greetings[p] if greetings is not None else None
                if line is None and text is not None:
                    line = _first_line(text)
                if line:
                    key = (line, in_html, first[p])  # type: ignore[index]
                    if key not in greeting_verdicts:
                        seen = _visible_line(line, is_html=in_html)
                        greeting_verdicts[key] = _greeting_problem(seen, key[2], known)
                    problem = greeting_verdicts[key]
                    if problem is not None:
                        flags.add(p, number, order["greeting"], _email(number, "greeting", problem))

            if allowed and text is not None and (bound is None or bound > allowed):
                if in_html and "&" in text:
                    words = count_words(text, is_html=True)
                else:
                    words = count_encoded(encoded, is_html=in_html)
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
                add_position(p)
                add_step(number)
                # Subjects up to case and spacing (see the module's docstring).
                normal = " ".join(subject.lower().split()) if subject else None
                add_subject(normal)
                add_subject_hash(hash(normal) if normal else 0)
                body = bodies[p] if bodies is not None and bodies[p] is not None else text
                body = body.strip() if body else None
                add_body(body)
                add_head_hash(hash(_head(body, names_of[p], spans[p])) if body else 0)

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
        named = np.asarray(mentioned, dtype=bool)
        _decide_mentions(steps, contacts, named, order["no_personalisation"], flags)


def _decide_repeats(repeats: _Repeats, contacts: Contacts, order: int, flags: Flags) -> None:
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
    valid = np.asarray([v is not None for v in values], dtype=bool)
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
    steps: Sequence[Step],
    contacts: Contacts,
    mentioned: npt.NDArray[np.bool_],
    order: int,
    flags: Flags,
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


def run_custom(
    steps: Sequence[Step],
    *,
    contacts: Contacts,
    labels: pd.Index,
    name: str,
    check: ReviewCheck,
    order: int,
    flags: Flags,
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
