"""The progress bar: done/failed counts and credits, on only where someone watches."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from typing import Any

from ._status import Status

__all__ = ["Progress", "interactive"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    if get_ipython is None:
        return False
    ip = get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def interactive() -> bool:
    """Whether a person is likely watching: a notebook, or a terminal on stderr."""
    return _in_notebook() or sys.stderr.isatty()


class Progress:
    """A tqdm bar over the calls of a run, or nothing when disabled.

    ``tqdm.auto`` picks the notebook widget, which warns without ipywidgets; in
    that case the plain text bar is used instead (it renders fine in Jupyter).
    """

    def __init__(self, total: int, *, enabled: bool | None, desc: str = "octave") -> None:
        self.counts: Counter[str] = Counter()
        self.credits = 0.0
        self._bar: Any = None
        if not (interactive() if enabled is None else enabled) or total == 0:
            return
        if _in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
            from tqdm.notebook import tqdm
        else:
            from tqdm.std import tqdm
        self._bar = tqdm(total=total, desc=desc, unit="call", dynamic_ncols=True, file=sys.stderr)

    def update(self, status: str, usage: float | None) -> None:
        """Count one finished call."""
        self.counts[status] += 1
        self.credits += usage or 0.0
        if self._bar is not None:
            self._bar.set_postfix(
                ok=self.counts[Status.OK] + self.counts[Status.NOT_FOUND],
                failed=self.counts[Status.FAILED],
                credits=f"{self.credits:g}",
                refresh=False,
            )
            self._bar.update(1)

    def close(self) -> None:
        """Close the bar, leaving its last line on screen."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
