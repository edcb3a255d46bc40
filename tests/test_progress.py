"""The progress bar: counts and credits when someone watches, silence otherwise, no warnings."""

from __future__ import annotations

import pytest

from octave_frames import _progress
from octave_frames._progress import Progress


def test_bar_shows_done_failed_and_credits(capsys: pytest.CaptureFixture[str]) -> None:
    """A forced-on bar reports ok, failed and credits on stderr."""
    bar = Progress(3, enabled=True)
    bar.update("ok", 2.0)
    bar.update("not_found", 0.0)
    bar.update("failed", None)
    bar.close()
    err = capsys.readouterr().err
    assert "3/3" in err and "ok=2" in err and "failed=1" in err and "credits=2" in err


def test_off_when_nobody_watches(capsys: pytest.CaptureFixture[str]) -> None:
    """progress=None in a non-interactive process prints nothing."""
    bar = Progress(5, enabled=None)
    bar.update("ok", 1.0)
    bar.close()
    assert capsys.readouterr().err == ""
    assert bar.counts["ok"] == 1 and bar.credits == 1.0


def test_notebook_without_ipywidgets_does_not_warn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In Jupyter without ipywidgets the text bar is used, not tqdm.auto's warning one."""
    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(_progress.importlib.util, "find_spec", lambda name: None)
    bar = Progress(1, enabled=None)  # filterwarnings=error turns a TqdmWarning into a failure
    bar.update("ok", 1.0)
    bar.close()
    assert "1/1" in capsys.readouterr().err


def test_notebook_with_ipywidgets_uses_the_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ipywidgets importable the notebook widget bar is chosen."""
    chosen: list[str] = []

    class FakeBar:
        def __init__(self, **kwargs: object) -> None:
            chosen.append("widget")

        def close(self) -> None:
            """Nothing to close."""

    import tqdm.notebook

    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(_progress.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(tqdm.notebook, "tqdm", FakeBar)
    Progress(2, enabled=None).close()
    assert chosen == ["widget"]
