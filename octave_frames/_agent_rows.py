"""Long views of agent answers: qualifying answers, prospected people, unknown agents.

Same cell rules as ``_agent_columns`` (NA for junk, nothing raises on a body).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from octave_frames._agent_cells import flag, json_text, lookup, number, text_line
from octave_frames._agent_columns import QUALIFYING_SECTIONS, Column
from octave_frames._exceptions import ArgumentError
from octave_frames._results import CONFIDENCE_DTYPE, cell_text, confidence_code

__all__ = [
    "PERSON_KEYS",
    "PROSPECT_PERSON_COLUMNS",
    "generic_columns",
    "prospect_rows",
    "qualifying_answers",
]

#: The keys every person from :func:`prospect_rows` carries (None where unknown).
PERSON_KEYS: Final = (
    "firstName", "lastName", "title", "email", "linkedInProfile", "location", "companyName",
    "companyDomain",
)  # fmt: skip
#: Columns for fan-out rows, read from :func:`prospect_rows` people with ``root=None``.
PROSPECT_PERSON_COLUMNS: Final[tuple[Column, ...]] = tuple(
    Column(name, (key,))
    for name, key in (
        ("first_name", "firstName"), ("last_name", "lastName"), ("title", "title"),
        ("email", "email"), ("linkedin_profile", "linkedInProfile"), ("location", "location"),
        ("company_name", "companyName"), ("company_domain", "companyDomain"),
    )
)  # fmt: skip
# Spellings accepted for each person key, compared with case and punctuation removed.
_SYNONYMS: Final = {
    "firstName": ("firstname", "first", "givenname"),
    "lastName": ("lastname", "last", "surname", "familyname"),
    "title": ("title", "jobtitle", "position", "role"),
    "email": ("email", "workemail", "emailaddress"),
    "linkedInProfile": ("linkedinprofile", "linkedin", "linkedinurl", "profileurl"),
    "location": ("location", "personlocation"),
    "companyName": ("companyname", "company", "organization"),
    "companyDomain": ("companydomain", "domain", "companywebsite"),
}
_LISTS: Final = ("contacts", "people", "results", "prospects")
_FOLD: Final = re.compile(r"[^a-z0-9]")
_HUMP: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _fold(key: object) -> str:
    return _FOLD.sub("", str(key).lower())


def _person(raw: Mapping[str, Any]) -> dict[str, Any]:
    folded = {_fold(k): v for k, v in raw.items()}
    person: dict[str, Any] = {}
    for key, spellings in _SYNONYMS.items():
        value = next((folded[s] for s in spellings if folded.get(s) is not None), None)
        if key in ("companyName", "companyDomain") and isinstance(value, Mapping):
            value = lookup(value, ("name" if key == "companyName" else "domain",))
        person[key] = text_line(value) if key == "location" else cell_text(value)
    company = folded.get("company")
    if isinstance(company, Mapping) and person["companyDomain"] is None:
        person["companyDomain"] = cell_text(lookup(company, ("domain",)))
    name = cell_text(folded.get("name") or folded.get("fullname"))
    if name and person["firstName"] is None and person["lastName"] is None:
        first, _, last = name.partition(" ")
        person["firstName"], person["lastName"] = first, last.strip() or None
    return person


def prospect_rows(bodies: Sequence[Mapping[str, Any] | None]) -> list[list[dict[str, Any]]]:
    """The people each prospector answer found, with normalised keys.

    People are read from ``data.contacts`` (also ``data.people``, ``data.results``,
    ``data.prospects``, or ``data`` itself as a list); items that are not objects
    are skipped. Each person carries exactly :data:`PERSON_KEYS`, values text or None.

    Args:
        bodies: One parsed answer envelope per input row, or None.

    Returns:
        Per body, its list of people (empty when none were found or readable).

    Example:
        >>> prospect_rows([{"data": {"contacts": [{"first_name": "Ann"}]}}])[0][0]["firstName"]
        'Ann'

    """
    out: list[list[dict[str, Any]]] = []
    for body in bodies:
        data = body.get("data") if isinstance(body, Mapping) else None
        found: object = data
        if isinstance(data, Mapping):
            found = next((data[k] for k in _LISTS if isinstance(data.get(k), list)), None)
        people = found if isinstance(found, list) else []
        out.append([_person(p) for p in people if isinstance(p, Mapping)])
    return out


def qualifying_answers(
    bodies: Sequence[Mapping[str, Any] | None],
    labels: Sequence[Hashable],
    *,
    prefix: str = "",
) -> pd.DataFrame:
    """One row per qualifying question answered, over every body.

    Args:
        bodies: qualify-person / qualify-company answers, one per input row.
        labels: The input row label of each body (e.g. the frame's index).
        prefix: Prepended to every column name.

    Returns:
        Columns ``row`` (the label), ``section``, ``question``, ``answer`` (``"boolean"``:
        Yes is True), ``confidence`` (:data:`CONFIDENCE_DTYPE`; an unknown level is NA
        and kept as ``"[confidence: X] "`` before the rationale) and ``rationale``,
        on a RangeIndex. Sections go product, segment, playbook, then any other.

    Raises:
        ArgumentError: ``labels`` and ``bodies`` differ in length.

    Example:
        >>> body = {"data": {"product": {"qualification": {"answers": [{"answer": "Yes"}]}}}}
        >>> qualifying_answers([body], ["r1"]).loc[0, "answer"]
        np.True_

    """
    if len(labels) != len(bodies):
        raise ArgumentError(f"labels ({len(labels)}) and bodies ({len(bodies)}) must pair up")
    rows: list[int] = []
    cells: dict[str, list[Any]] = {k: [] for k in ("section", "question", "answer", "rationale")}
    codes: list[int] = []
    for position, body in enumerate(bodies):
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, Mapping):
            continue
        order = [*QUALIFYING_SECTIONS, *(k for k in data if k not in QUALIFYING_SECTIONS)]
        for section in order:
            answers = lookup(data.get(section), ("qualification", "answers"))
            for item in answers if isinstance(answers, list) else []:
                if not isinstance(item, Mapping):
                    continue
                code, odd = confidence_code(item.get("confidence"))
                rationale = cell_text(item.get("rationale"))
                if odd is not None:
                    rationale = f"[confidence: {odd}] {rationale or ''}".rstrip()
                rows.append(position)
                cells["section"].append(str(section))
                cells["question"].append(cell_text(item.get("question")))
                cells["answer"].append(flag(item.get("answer")))
                cells["rationale"].append(rationale)
                codes.append(code)
    out: dict[str, Any] = {"row": pd.Index(list(labels), tupleize_cols=False).take(rows)}
    for key in ("section", "question"):
        out[key] = pd.array(cells[key], dtype="string")
    out["answer"] = pd.array(cells["answer"], dtype="boolean")
    out["confidence"] = pd.Categorical.from_codes(
        np.array(codes, dtype=np.int8), dtype=CONFIDENCE_DTYPE
    )
    out["rationale"] = pd.array(cells["rationale"], dtype="string")
    index = pd.RangeIndex(len(rows))
    return pd.DataFrame(
        {prefix + k: pd.Series(v, index=index, copy=False) if k == "row" else v
         for k, v in out.items()},
        index=index,
    )  # fmt: skip


def _snake(key: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", _HUMP.sub("_", str(key)).lower()).strip("_")


def _flatten(value: object, name: str, depth: int, max_depth: int, into: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and depth < max_depth:
        for key, item in value.items():
            _flatten(item, f"{name}.{_snake(key)}" if name else _snake(key), depth + 1, max_depth,
                     into)  # fmt: skip
    elif isinstance(value, list) and all(not isinstance(v, Mapping | list) for v in value):
        into.setdefault(name, "; ".join(t for t in map(cell_text, value) if t) or None)
    elif isinstance(value, Mapping | list):
        into.setdefault(name, json_text(value))
    else:
        into.setdefault(name, value)


def generic_columns(
    bodies: Sequence[Mapping[str, Any] | None], *, prefix: str = "", max_depth: int = 2
) -> pd.DataFrame:
    """Flatten ``data`` of an agent this package does not know into columns.

    Keys become snake_case, nested objects dotted (``company.employee_count``) up to
    ``max_depth`` levels, lists of scalars joined by ``"; "``, deeper or mixed parts JSON
    text. A column whose values are all numbers is ``"Float64"``, all true/false
    ``"boolean"``, else ``"string"``; numbers in text stay text.

    Example:
        >>> generic_columns([{"data": {"fitScore": 3}}]).dtypes["fit_score"]
        Float64Dtype()

    """
    flat: list[dict[str, Any]] = []
    for body in bodies:
        data = body.get("data") if isinstance(body, Mapping) else None
        row: dict[str, Any] = {}
        if isinstance(data, Mapping):
            _flatten(data, "", 0, max_depth, row)
        flat.append(row)
    names = list(dict.fromkeys(name for row in flat for name in row))
    out: dict[str, Any] = {}
    for name in names:
        values = [row.get(name) for row in flat]
        present = {type(v) for v in values if v is not None}
        if present and present <= {int, float}:
            out[prefix + name] = pd.array(
                [np.nan if (n := number(v)) is None else n for v in values], dtype="Float64"
            )
        elif present == {bool}:
            out[prefix + name] = pd.array(values, dtype="boolean")
        else:
            out[prefix + name] = pd.array(list(map(cell_text, values)), dtype="string")
    return pd.DataFrame(out, index=pd.RangeIndex(len(flat)))
