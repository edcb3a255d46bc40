"""Shared fixtures: every test runs in its own directory with no Octave settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, the loop Jupyter and aiohttp use."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the default cache (.octave/) and environment of each test to itself."""
    monkeypatch.chdir(tmp_path)
    for name in ("OCTAVE_API_KEY", "OCTAVE_BASE_URL", "OCTAVE_AGENT_OID"):
        monkeypatch.delenv(name, raising=False)
    yield
