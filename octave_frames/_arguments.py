"""The machinery of declared arguments: one `Arg` per keyword, everything else derived.

Each argument is one :class:`Arg`: its name, the type shown in the signature, its
default, one line of help, the check that validates and normalises it, and how it
appears on the command line. From a tuple of them come:

- the real keyword-only signature and the ``Args:`` section of a public call
  (:func:`takes`), so ``help(df.octave.sequence)`` and Jupyter's Shift-Tab show them;
- :func:`check_arguments`, which refuses an unknown keyword with "did you mean ...?" and
  checks every value before any payload is built or any credit spent;
- the CLI flags of a command (:func:`add_flags`, :func:`kwargs_from_flags`).

The declarations themselves live with what they configure: the run's in `_options`,
each endpoint's request arguments in `_endpoints`.
"""

from __future__ import annotations

import difflib
import inspect
import json
import math
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import pandas as pd

from ._constants import DEFAULT_CACHE_PATH
from ._exceptions import ArgumentError
from ._ratelimit import parse_rate

if TYPE_CHECKING:
    import argparse

    from ._client import Client

__all__ = [
    "Arg",
    "Flag",
    "add_flags",
    "check_arguments",
    "check_cache",
    "check_choice",
    "check_client",
    "check_credits",
    "check_flag",
    "check_mapping",
    "check_maybe_flag",
    "check_rate",
    "check_seconds",
    "check_string",
    "check_text",
    "check_whole",
    "kwargs_from_flags",
    "parse_json_object",
    "takes",
]

F = TypeVar("F", bound=Callable[..., Any])


class _Type:
    """A type as the signature shows it (``inspect`` prints the repr of an annotation)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


@dataclass(frozen=True, slots=True)
class Flag:
    """How an argument appears on the command line.

    Attributes:
        metavar: The value's placeholder in ``--help``.
        parse: Turns the flag's text into the argument's value (None: the text itself).
        pairs: The flag repeats as ``KEY=VALUE`` and the values form a dict.
        choices: The values argparse accepts.
        switch: A flag without a value that sets the argument to True.
        help: Help for the CLI when it differs from the argument's own.
        name: The flag when it is not ``--`` + the argument's name with dashes.
        negate: A second flag that sets the argument to False (``--no-cache``).

    """

    metavar: str | None = None
    parse: Callable[[str], Any] | None = None
    pairs: bool = False
    choices: tuple[str, ...] | None = None
    switch: bool = False
    help: str | None = None
    name: str | None = None
    negate: str | None = None


@dataclass(frozen=True, slots=True)
class Arg:
    """One keyword argument of a run.

    Attributes:
        name: The keyword.
        type: The type as the signature shows it.
        default: Its default value.
        help: One line for the docstring and ``--help``.
        check: Validates a value and returns it normalised; raises `ArgumentError`.
        flag: How it appears on the command line; None keeps it off the CLI.

    """

    name: str
    type: str
    default: Any
    help: str
    check: Callable[[str, Any], Any]
    flag: Flag | None = None

    @property
    def option(self) -> str:
        """The command-line flag, e.g. ``--max-credits``."""
        if self.flag is not None and self.flag.name is not None:
            return self.flag.name
        return "--" + self.name.replace("_", "-")


# --- checks: (argument name, value) -> normalised value, or ArgumentError -----------------


def check_choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if isinstance(value, str) and value in choices:
            return value
        near = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ArgumentError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}{hint}")

    return check


def check_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    raise ArgumentError(f"{name} must be a string, not {type(value).__name__} ({value!r:.40})")


def check_string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be a string, not {value!r}")
    return value


def check_whole(minimum: int) -> Callable[[str, Any], int]:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ArgumentError(f"{name} must be a whole number >= {minimum}, not {value!r}")
        return value

    return check


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArgumentError(f"{name} must be True or False, not {value!r}")
    return value


def check_maybe_flag(name: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ArgumentError(f"{name} must be True, False or None, not {value!r}")
    return value


def check_credits(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ArgumentError(f"{name} must be a number >= 0, not {value!r}")
    return float(value)


def check_seconds(name: str, value: Any) -> float | None:
    if value is None:
        return None
    # `not > 0` also refuses NaN, which would reach anyio as a NaN deadline.
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ArgumentError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


_EXAMPLES: Final = {"fields": "{'email': 'Work Email'}", "custom_context": "{'region': 'EMEA'}"}


def check_mapping(name: str, value: Any) -> Mapping[Any, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    example = _EXAMPLES.get(name, "{'all': '...'}")
    # context / instructions take step keys; a bare spec is one step away from right.
    wrap = name not in _EXAMPLES and isinstance(value, str | list | pd.Series)
    raise ArgumentError(
        f"{name} must be a dict such as {example}, not {type(value).__name__}"
        + (" (wrap it: {'all': ...})" if wrap else "")
    )


def check_rate(name: str, value: Any) -> float:
    return parse_rate(value)


def check_cache(name: str, value: Any) -> Path | None:
    if value is False or value is None:
        return None
    if value is True:
        return Path(DEFAULT_CACHE_PATH)
    if isinstance(value, str | os.PathLike):
        return Path(value)
    raise ArgumentError(f"{name} must be True, False or a file path, not {value!r}")


def check_client(name: str, value: Any) -> Client | None:
    from ._client import Client

    if value is not None and not isinstance(value, Client):
        raise ArgumentError(f"{name} must be an octave_frames.Client, not {type(value).__name__}")
    return value


def parse_json_object(text: str) -> Any:
    """CLI: a JSON object such as ``{"persona": {"oId": "p_1"}}``."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ArgumentError(f"expected a JSON object, not {text!r}: {exc}") from None


def _unknown(name: str, args: Sequence[Arg]) -> ArgumentError:
    names = [arg.name for arg in args]
    near = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return ArgumentError(
        f"unknown argument {name!r}{hint} (the arguments are {', '.join(sorted(names))})"
    )


def check_arguments(kwargs: Mapping[str, Any], args: Sequence[Arg]) -> dict[str, Any]:
    """Check the keyword arguments of a call against its declared ``args``.

    Args:
        kwargs: The keyword arguments as the user gave them; missing ones take their default.
        args: The call's declared arguments.

    Returns:
        Every declared argument by name, checked and normalised.

    Raises:
        ArgumentError: An unknown keyword (with the nearest name) or a wrong type or value
            (naming the argument and what would work).

    """
    declared = {arg.name: arg for arg in args}
    for name in kwargs:
        if name not in declared:
            raise _unknown(name, args)
    return {name: arg.check(name, kwargs.get(name, arg.default)) for name, arg in declared.items()}


# --- derived: signatures and docstrings -------------------------------------------------------


def _parameters(args: Sequence[Arg]) -> list[inspect.Parameter]:
    return [
        inspect.Parameter(
            arg.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=arg.default,
            annotation=_Type(arg.type),
        )
        for arg in args
    ]


def _args_section(args: Sequence[Arg], indent: str) -> str:
    lines = []
    for arg in args:
        default = "" if arg.default is None else f" Default ``{arg.default!r}``."
        text = f"{arg.name}: {arg.help}{default}"
        lines.append(
            textwrap.fill(text, 92, initial_indent=indent, subsequent_indent=indent + "    ")
        )
    return "\n".join(lines)


def takes(args: Sequence[Arg]) -> Callable[[F], F]:
    """Give a ``(..., **kwargs)`` function the real signature and docs of ``args``.

    The function's own positional parameters stay first; the declared arguments follow as
    keyword-only parameters with their defaults and types. Their help lines replace the
    docstring's ``**kwargs:`` line (or end its ``Args:`` section, before ``Returns:``).

    Args:
        args: The declared arguments the function accepts through ``**kwargs``.

    Returns:
        A decorator returning the same function with ``__signature__`` and ``__doc__`` set.

    """

    def decorate(func: F) -> F:
        own = inspect.signature(func)
        kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
        func.__signature__ = own.replace(parameters=[*kept, *_parameters(args)])  # type: ignore[attr-defined]
        doc = inspect.cleandoc(func.__doc__ or "")
        section = _args_section(args, "    ")
        lines = doc.splitlines()
        marker = [i for i, line in enumerate(lines) if line.strip().startswith("**kwargs:")]
        if marker:
            lines[marker[0]] = section
            doc = "\n".join(lines)
        elif "\nReturns:" in doc:
            head, _, tail = doc.partition("\nReturns:")
            title = "" if "\nArgs:" in head else "\nArgs:"
            doc = f"{head.rstrip()}\n{title}\n{section}\n\nReturns:{tail}".replace("\n\n\n", "\n\n")
        else:
            doc = f"{doc}\n\nArgs:\n{section}"
        func.__doc__ = doc
        return func

    return decorate


# --- derived: the command line ----------------------------------------------------------------


def add_flags(parser: argparse.ArgumentParser, args: Sequence[Arg]) -> None:
    """Add a flag to ``parser`` for every argument of ``args`` that has one.

    Args:
        parser: The subcommand's parser.
        args: Declared arguments; those with ``flag=None`` are left off.

    """
    for arg in args:
        flag = arg.flag
        if flag is None:
            continue
        text = flag.help or arg.help.replace("``", "")
        if not isinstance(arg.default, bool | type(None)) and arg.default != "" and not flag.switch:
            text += f" (default {arg.default})"
        text = text.replace("%", "%%")
        if flag.negate is not None:
            group = parser.add_mutually_exclusive_group()
            group.add_argument(
                arg.option, dest=arg.name, metavar=flag.metavar or arg.name.upper(), help=text
            )
            group.add_argument(
                flag.negate,
                dest=arg.name,
                action="store_false",
                default=None,
                help=f"no {arg.name}",
            )
        elif flag.switch:
            parser.add_argument(arg.option, dest=arg.name, action="store_true", help=text)
        elif flag.pairs:
            parser.add_argument(
                arg.option, dest=arg.name, action="append", metavar=flag.metavar, help=text
            )
        else:
            parser.add_argument(
                arg.option,
                dest=arg.name,
                metavar=None if flag.choices else flag.metavar or arg.name.upper(),
                choices=flag.choices,
                help=text,
            )


def kwargs_from_flags(
    namespace: argparse.Namespace,
    args: Sequence[Arg],
    pairs: Callable[[list[str], Arg], dict[str, Any]],
) -> dict[str, Any]:
    """Turn the parsed flags back into keyword arguments; flags not given are left out.

    Args:
        namespace: What argparse parsed.
        args: The declared arguments behind the flags.
        pairs: Turns the repeated ``KEY=VALUE`` texts of one argument into its dict.

    Returns:
        The keyword arguments for the run, so the library's defaults (one place) apply.

    Raises:
        ArgumentError: A flag's text cannot be turned into the argument's value.

    """
    out: dict[str, Any] = {}
    for arg in args:
        flag = arg.flag
        value = getattr(namespace, arg.name, None)
        if flag is None or value is None or (flag.switch and value is False):
            continue
        if value is False:  # the negating flag
            out[arg.name] = False
        elif flag.pairs:
            out[arg.name] = pairs(value, arg)
        elif flag.parse is not None:
            try:
                out[arg.name] = flag.parse(value)
            except ValueError:
                raise ArgumentError(f"{arg.option} {value!r} is not a {flag.metavar}") from None
        else:
            out[arg.name] = value
    return out
