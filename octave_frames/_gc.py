"""``gc_paused``: hold off Python's cyclic garbage collector around a bulk pass.

Finding people and reviewing emails each allocate a few small containers per row that
become garbage together and form no reference cycles; every collection they trigger
re-walks the caller's whole heap (the payload dicts, the frame's strings), which costs
more than the work itself at 100k rows. The collector's state is put back afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the ``with`` block, then restore its state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
