"""The ``octave-frames`` command: ``demo``, ``run`` and ``simulator``.

A thin front over the library, like the accessor: it turns arguments into a
``sequence`` call and results into files and a printed summary. Exit codes:

====  ==========================================================================
0     done (rows that failed are data: see the summary; re-running retries them)
1     any other failure (Octave unreachable, a disk error, ...)
2     a usage or input problem: bad argument, missing file, unknown column
3     no API key in the environment, or Octave refused it
130   interrupted (Ctrl-C); answers already received are kept in the cache
====  ==========================================================================

The API key is read only from the environment (``$OCTAVE_API_KEY``, or the variable
``--api-key-env`` names): a key on the command line would land in shell history and
in ``ps``. Nothing the command prints contains it.
"""

from __future__ import annotations

from octave_frames.cli._main import main

__all__ = ["main"]
