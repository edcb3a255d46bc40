r"""``context`` / ``instructions`` specs: checking them and rendering them per row.

A spec map is ``{step_key: spec}``. Step keys are ``"all"`` and ``"1"``…``"7"`` (ints 1-7
and any case of ``"all"`` are accepted and sent as ``"all"``, ``"1"``…). A ``None`` spec
is the same as leaving the key out. Specs:

- ``str``: a template. ``{Column Name}`` is the cleaned value of that column (the whole
  text between the braces is the name, spaces and punctuation included); ``{{`` and ``}}``
  are literal braces. A template with placeholders renders empty for a row where every
  placeholder is empty, so ``"RESEARCH:\n{Research}"`` is not sent as a bare label.
  A template without placeholders is the same text for every row.
- a list of columns: labelled blocks ``"COLUMN NAME:\nvalue"`` joined by a blank line;
  empty cells are left out.
- ``pd.Series``: one text per row, aligned on the frame's index. With a duplicated index
  (on either side) it must carry exactly the frame's index and is taken positionally. A
  Series may cover only some rows; a label the frame lacks is an error (it means the
  Series was built from another frame or lost its index).
- a callable ``(row: pd.Series) -> str | None``: called once per row with the row's
  original values (``dtype=object``, named by the index label). An exception it raises
  makes that row ``invalid`` with the step key and the exception as the reason. A
  callable that raises the same exception type on each of the first rows (up to five)
  is broken, not unlucky: that raises :class:`ArgumentError` before anything is sent.

Everything rendered is cleaned like field values and stripped; empty means "leave the
key out of this row's request".
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import numpy as np
import pandas as pd

from ._clean import clean_scalar, clean_text, strip_control
from ._constants import STEP_KEYS
from ._exceptions import ArgumentError
from ._fields import ColumnFinder

__all__ = ["ColumnTexts", "CompiledSpec", "Rendered", "Spec", "normalize_steps", "parse_template"]

if TYPE_CHECKING:
    #: What ``context`` / ``instructions`` values may be (see the module doc).
    Spec: TypeAlias = (
        str | Sequence[Hashable] | pd.Series[Any] | Callable[[pd.Series[Any]], str | None]
    )
else:  # pd.Series is not subscriptable at run time
    Spec = str | Sequence[Hashable] | pd.Series | Callable[[pd.Series], str | None]

_VALID_KEYS: Final = "'all', '1'…'7' (or the ints 1-7)"
# A callable's return value that is a container, not one text: not stringified blindly.
_CONTAINERS: Final = (list, tuple, dict, set, frozenset, pd.Series, pd.DataFrame, np.ndarray)
# A callable failing alike on this many leading rows (or on all rows of a smaller frame)
# is a bug in the callable: one error beats a whole frame of `invalid` rows.
_PROBE_ROWS: Final = 5


def _step_key(key: object, argument: str) -> str:
    if isinstance(key, str) and key.strip().lower() in STEP_KEYS:
        return key.strip().lower()
    integral = isinstance(key, numbers.Integral) and not isinstance(key, bool | np.bool_)
    if integral and str(int(key)) in STEP_KEYS:  # type: ignore[call-overload]
        return str(int(key))  # type: ignore[call-overload]
    raise ArgumentError(f"{argument}: unknown step key {key!r}; valid keys are {_VALID_KEYS}")


def parse_template(template: str) -> tuple[list[str], list[str]]:
    """Split a template into literal texts and placeholder names.

    Returns:
        ``(literals, names)`` with ``len(literals) == len(names) + 1``: the text is
        ``literals[0] + value(names[0]) + literals[1] + ...``.

    Raises:
        ArgumentError: A single ``{`` or ``}``, or an empty placeholder.

    Example:
        >>> parse_template("Hi {First Name} {{x}}")
        (['Hi ', ' {x}'], ['First Name'])

    """
    literals: list[str] = []
    names: list[str] = []
    buffer: list[str] = []
    i, n = 0, len(template)
    while i < n:
        char = template[i]
        if char in "{}" and template[i + 1 : i + 2] == char:
            buffer.append(char)
            i += 2
        elif char == "}":
            raise ArgumentError(f"single '}}' at position {i}; write '}}}}' for a literal brace")
        elif char == "{":
            end = template.find("}", i + 1)
            name = template[i + 1 : end]
            if end < 0 or "{" in name:
                raise ArgumentError(
                    f"unclosed '{{' at position {i}; write '{{{{' for a literal brace"
                )
            if not name:
                raise ArgumentError(f"empty placeholder '{{}}' at position {i}; name a column")
            literals.append("".join(buffer))
            names.append(name)
            buffer = []
            i = end + 1
        else:
            buffer.append(char)
            i += 1
    literals.append("".join(buffer))
    return literals, names


def _check_spec(spec: object, where: str) -> object:
    if isinstance(spec, str):
        try:
            parse_template(spec)
        except ArgumentError as exc:
            raise ArgumentError(f"{where}: bad template: {exc}") from None
        return spec
    if isinstance(spec, pd.Series) or callable(spec):
        return spec
    if isinstance(spec, list | tuple | pd.Index):
        items = list(spec)
        bad = [item for item in items if not isinstance(item, Hashable)]
        if bad:
            raise ArgumentError(
                f"{where}: a list spec holds column names; {bad[0]!r} is not a column name"
            )
        return items
    raise ArgumentError(
        f"{where}: a spec is a template string, a list of columns, a pd.Series or a "
        f"callable(row) -> str; got {type(spec).__name__}"
    )


def normalize_steps(spec_map: Mapping[Any, object] | None, *, argument: str) -> dict[str, Spec]:
    """Check a ``context`` / ``instructions`` mapping and key it by the sent step keys.

    Args:
        spec_map: ``{step_key: spec}`` as the user gave it, or None.
        argument: ``"context"`` or ``"instructions"``, for messages.

    Returns:
        ``{"all" | "1"…"7": spec}`` in step order; lists of columns come back as lists.

    Raises:
        ArgumentError: Not a mapping, an unknown or repeated step key, a spec of the
            wrong type, or a malformed template; the message names the key.

    Example:
        >>> normalize_steps({1: "Hi", "ALL": ["Notes"]}, argument="context")
        {'all': ['Notes'], '1': 'Hi'}

    """
    if spec_map is None:
        return {}
    if not isinstance(spec_map, Mapping):
        raise ArgumentError(
            f"{argument} must be a dict such as {{'all': ...}}, not {type(spec_map).__name__}"
        )
    found: dict[str, tuple[object, object]] = {}
    for key, spec in spec_map.items():
        step = _step_key(key, argument)
        if step in found:
            raise ArgumentError(
                f"{argument}: keys {found[step][0]!r} and {key!r} both mean step {step!r}"
            )
        found[step] = (key, spec)
    return {
        step: _check_spec(found[step][1], f"{argument}[{step!r}]")  # type: ignore[misc]
        for step in STEP_KEYS
        if step in found and found[step][1] is not None
    }


@dataclass
class Rendered:
    """One spec rendered for every row: the texts (None = leave out) and per-row failures."""

    texts: list[str | None]
    errors: dict[int, str]


class ColumnTexts:
    """Cleaned column texts and row values of one frame, each built at most once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._texts: dict[int, list[str | None]] = {}
        self._arrays: list[np.ndarray[Any, Any]] | None = None

    def text(self, position: int) -> list[str | None]:
        """Return the cleaned text of the column at ``position``, one entry per row."""
        if position not in self._texts:
            self._texts[position] = clean_text(self.frame.iloc[:, position])
        return self._texts[position]

    def rows(self) -> Iterator[pd.Series[Any]]:
        """Yield every row as a new object Series holding each cell's own value.

        Built from object arrays so a row keeps each cell's type (``iterrows`` turns an
        int id into a float next to a float column: the 12345.0 bug). Each call yields
        new Series, so one callable writing into its row cannot affect another, and
        100,000 rows are never all held at once.
        """
        frame = self.frame
        if self._arrays is None:
            self._arrays = [frame.iloc[:, j].to_numpy(dtype=object) for j in range(frame.shape[1])]
        cells = zip(*self._arrays, strict=True) if self._arrays else repeat((), len(frame))
        for label, values in zip(frame.index, cells, strict=True):
            yield pd.Series(list(values), index=frame.columns, name=label, dtype=object)


class CompiledSpec:
    """A spec checked against one frame (columns exist, a Series aligns), ready to render.

    Args:
        key: The step key it is sent under.
        spec: A spec as :func:`normalize_steps` returns it.
        frame: The contacts.
        finder: The frame's :class:`ColumnFinder`.
        argument: ``"context"`` or ``"instructions"``, for messages.

    Raises:
        ColumnError: A placeholder or listed column is not in the frame (nearest named).
        ArgumentError: A Series whose index does not match the frame's.

    """

    def __init__(
        self, key: str, spec: object, frame: pd.DataFrame, finder: ColumnFinder, *, argument: str
    ) -> None:
        self.key, self.spec = key, spec
        self.where = where = f"{argument}[{key!r}]"
        self.positions: list[int] = []
        # A template's literal texts, or a list spec's "NAME:\n" block heads.
        self.literals: list[str] = []
        self.aligned: list[int] | None = None
        if isinstance(spec, str):
            literals, names = parse_template(spec)
            self.literals = [strip_control(text) for text in literals]
            self.positions = [
                finder.locate(name, what=f"{where} placeholder {{{name}}}") for name in names
            ]
        elif isinstance(spec, list):
            self.positions = [finder.locate(label, what=where) for label in spec]
            self.literals = [f"{finder.names[p].upper()}:\n" for p in self.positions]
        elif isinstance(spec, pd.Series):
            self.aligned = _alignment(spec, frame.index, where)

    def render(self, columns: ColumnTexts) -> Rendered:
        """Render for every row of the frame the spec was compiled against."""
        spec = self.spec
        if isinstance(spec, str):
            return Rendered(self._render_template(columns), {})
        if isinstance(spec, list):
            if not self.positions:
                return Rendered([None] * len(columns.frame), {})
            texts = [columns.text(p) for p in self.positions]
            heads = self.literals
            out = [
                "\n\n".join([head + v for head, v in zip(heads, row, strict=True) if v]) or None
                for row in zip(*texts, strict=True)
            ]
            return Rendered(out, {})
        if isinstance(spec, pd.Series):
            assert self.aligned is not None
            values = clean_text(spec)
            return Rendered([values[j] if j >= 0 else None for j in self.aligned], {})
        return self._render_callable(columns)

    def _render_template(self, columns: ColumnTexts) -> list[str | None]:
        n = len(columns.frame)
        if not self.positions:
            return [self.literals[0].strip() or None] * n
        fmt = "".join(
            text.replace("{", "{{").replace("}", "}}")
            + (f"{{{i}}}" if i < len(self.positions) else "")
            for i, text in enumerate(self.literals)
        )
        values = [columns.text(p) for p in self.positions]
        filled = [[v or "" for v in column] for column in values]
        return [
            (fmt.format(*row).strip() or None) if any(present) else None
            for present, row in zip(
                zip(*values, strict=True), zip(*filled, strict=True), strict=True
            )
        ]

    def _render_callable(self, columns: ColumnTexts) -> Rendered:
        """Call the spec on every row; per-row failures become reasons.

        Raises:
            ArgumentError: The callable raised the same exception type on each of the
                first ``min(rows, 5)`` rows; chained from the first row's exception.

        """
        func: Callable[[pd.Series[Any]], object] = self.spec  # type: ignore[assignment]
        probe = min(len(columns.frame), _PROBE_ROWS)
        leading: list[tuple[Hashable, Exception]] = []
        texts: list[str | None] = []
        errors: dict[int, str] = {}
        for i, row in enumerate(columns.rows()):
            try:
                value = func(row)
            except Exception as exc:
                if i < probe and len(leading) == i:  # every row so far failed
                    leading.append((row.name, exc))
                    if len(leading) == probe:
                        self._refuse_if_broken(leading)
                errors[i] = f"{self.where} raised {type(exc).__name__}: {exc}"
                texts.append(None)
                continue
            if isinstance(value, _CONTAINERS):
                errors[i] = f"{self.where} returned {type(value).__name__}, not str or None"
                texts.append(None)
            else:
                texts.append(clean_scalar(value))
        return Rendered(texts, errors)

    def _refuse_if_broken(self, leading: list[tuple[Hashable, Exception]]) -> None:
        """Raise when every leading row failed with the same exception type."""
        label, first = leading[0]
        if any(type(exc) is not type(first) for _, exc in leading):
            return
        scope = (
            "the frame's only row"
            if len(leading) == 1
            else f"and the same on each of the first {len(leading)} rows"
        )
        raise ArgumentError(
            f"{self.where}: the callable raised {type(first).__name__}: {first} on row "
            f"{label!r} ({scope}); nothing was sent. Fix the callable (try it on one row, "
            "e.g. df.iloc[0]) and run again"
        ) from first


def _alignment(series: pd.Series[Any], index: pd.Index, where: str) -> list[int]:
    """For each frame row, the position of its value in ``series`` (-1 when absent)."""
    if series.index.equals(index):
        return list(range(len(index)))
    if not index.is_unique or not series.index.is_unique:
        raise ArgumentError(
            f"{where}: the Series' index differs from the frame's and one of them has "
            "duplicate labels, so rows cannot be matched; build the Series from the frame "
            "(e.g. df['a'] + df['b']) or pass its values with index=df.index"
        )
    extra = index.get_indexer(series.index) < 0
    if extra.any():
        shown = ", ".join(repr(label) for label in series.index[extra][:3])
        raise ArgumentError(
            f"{where}: the Series' index does not match the frame's (labels not in the frame: "
            f"{shown}); build the Series from the frame or pass its values with index=df.index"
        )
    return [int(j) for j in series.index.get_indexer(index)]
