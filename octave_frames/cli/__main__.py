"""``python -m octave_frames.cli``: the same as the ``octave-frames`` command."""

from __future__ import annotations

from octave_frames.cli._main import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
