"""The run arguments are declared once; signatures, docs, checks and CLI flags follow from it."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pandas as pd
import pytest

import octave_frames as of
from octave_frames._endpoints import SEQUENCE
from octave_frames._options import RUN_ARGS, SEQUENCE_CALL, Options, parse_options
from octave_frames.cli._main import build_parser

PUBLIC_CALLS = {
    "of.sequence": of.sequence,
    "of.asequence": of.asequence,
    "df.octave.sequence": pd.DataFrame().octave.sequence,
    "df.octave.asequence": pd.DataFrame().octave.asequence,
}


@pytest.mark.parametrize("name", list(PUBLIC_CALLS))
def test_every_public_call_shows_the_real_keyword_only_signature(name: str) -> None:
    """inspect.signature (help(), Shift-Tab) lists every declared argument, keyword-only."""
    signature = inspect.signature(PUBLIC_CALLS[name])
    keywords = [p for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY]
    assert [p.name for p in keywords] == [arg.name for arg in SEQUENCE_CALL]
    assert not [p for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    by_name = {p.name: p for p in keywords}
    assert by_name["concurrency"].default == 32
    assert by_name["rate"].default == "60/min"
    assert repr(by_name["agent"].annotation) == "str | None"


@pytest.mark.parametrize("name", list(PUBLIC_CALLS))
def test_every_public_call_documents_every_argument(name: str) -> None:
    """The docstring's Args section has a line for each declared argument, no **kwargs."""
    doc = inspect.getdoc(PUBLIC_CALLS[name]) or ""
    assert "Args:" in doc and "**kwargs" not in doc and "Unpack" not in doc
    for arg in SEQUENCE_CALL:
        assert f"\n    {arg.name}: " in doc, arg.name


def test_the_options_hold_exactly_the_declared_arguments() -> None:
    """Options has a field per run argument and the endpoint's in `request`: no drift."""
    assert {f.name for f in fields(Options)} == {arg.name for arg in RUN_ARGS} | {
        "endpoint",
        "request",
    }
    opts = parse_options({"agent": "ca_1"})
    assert set(opts.request) == {arg.name for arg in SEQUENCE.args}
    assert {arg.name for arg in SEQUENCE_CALL} == set(opts.request) | {a.name for a in RUN_ARGS}


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("contxt", "context"), ("max_credit", "max_credits"), ("concurency", "concurrency")],
)
def test_a_misspelled_keyword_is_an_argument_error_with_did_you_mean(typo: str, meant: str) -> None:
    """A typo is an ArgumentError suggesting the right name, not a TypeError about internals."""
    frame = pd.DataFrame({"Email": ["a@acme.com"]})
    with pytest.raises(
        of.ArgumentError, match=rf"unknown argument '{typo}'; did you mean '{meant}'"
    ):
        frame.octave.sequence(agent="ca_1", **{typo: 1})


def test_an_unrecognisable_keyword_lists_the_arguments() -> None:
    """A name close to nothing gets the list of arguments instead of a guess."""
    with pytest.raises(of.ArgumentError, match=r"unknown argument 'zzz' \(the arguments are "):
        parse_options({"zzz": 1, "agent": "ca_1"})


def test_the_cli_flags_come_from_the_same_declaration() -> None:
    """`run --help` has a flag for every declared argument that has one, with its help."""
    parser = build_parser()
    run = next(
        action.choices["run"]
        for action in parser._actions
        if getattr(action, "choices", None) and "run" in action.choices
    )
    text = run.format_help()
    for arg in SEQUENCE_CALL:
        if arg.flag is not None:
            assert arg.option in text, arg.option
    assert "--no-cache" in text and "--dedupe {request,person}" in text
    assert "--api-key " not in text  # never on the command line


def test_settings_record_templates_and_options_but_never_the_key() -> None:
    """The settings a workbook keeps name each template and option, not the API key."""
    opts = parse_options(
        {
            "agent": "ca_1",
            "api_key": "sk-secret-123",
            "context": {"all": "RESEARCH: {Notes}", 1: ["Event"]},
            "instructions": {"all": "Under 100 words."},
            "rate": "120/min",
        }
    )
    settings = opts.settings()
    assert settings["context[all]"] == "RESEARCH: {Notes}"
    assert settings["context[1]"] == "columns 'Event'"
    assert settings["instructions[all]"] == "Under 100 words."
    assert settings["rate"] == "2/s" and settings["agent"] == "ca_1"
    assert "sk-secret-123" not in repr(settings)
