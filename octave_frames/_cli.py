"""Console-script target of ``octave-frames`` (``pyproject.toml``); the code is in `cli`.

``python -m octave_frames._cli ...`` works too.
"""

from __future__ import annotations

from octave_frames.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
