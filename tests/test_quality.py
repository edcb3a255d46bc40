"""The code stays lint-clean, formatted and type-checked: ruff and mypy strict run as tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import octave_frames as of
import octave_frames.testing as of_testing

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["octave_frames", "tests", "benchmarks"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a module of this interpreter from the project root."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_ruff_check() -> None:
    """Ruff finds nothing to complain about."""
    result = run("ruff", "check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_ruff_format() -> None:
    """Every file is formatted as ruff formats it."""
    result = run("ruff", "format", "--check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict() -> None:
    """The package type-checks under mypy --strict (settings in pyproject.toml)."""
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_exported_members_are_sorted_and_real() -> None:
    """The top-level __all__ is sorted, unique and complete; no internals or test helpers show."""
    names = list(of.__all__)
    assert len(names) == len(set(names))
    # RUF022's order: SCREAMING_CASE, then CamelCase, then the rest, each alphabetical.
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in names:
        assert hasattr(of, name), name
    public = {n for n in dir(of) if not n.startswith("_")}
    assert public == {n for n in names if not n.startswith("_")}
    for helper in ("annotations", "FakeClock", "SYSTEM_CLOCK", "Clock", "SystemClock"):
        assert helper not in dir(of), helper
        assert not hasattr(of, helper), helper
    assert {"FakeClock", "SYSTEM_CLOCK", "Clock"} <= set(of_testing.__all__)
