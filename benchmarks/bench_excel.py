"""Time octave_frames' Excel export and import against plain pandas, side by side.

Usage: ``python benchmarks/bench_excel.py [--rows 10000] [--repeat 1]``

Builds a result frame shaped like ``df.octave.sequence`` output (3 email steps,
all columns) and times, in one process:

* ``of.to_excel`` (Contacts + Emails + Run sheets, formatted, with metadata)
  vs ``DataFrame.to_excel(engine="openpyxl")`` of the same frame;
* ``of.read_excel`` (calamine and openpyxl) vs ``pd.read_excel`` (openpyxl and
  calamine) of the workbook ``to_excel`` wrote.

The ratios are ours / pandas; the brief's bar for the export is 1.5.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from octave_frames.io import read_excel, to_excel
from octave_frames.io._sample import sample_result_frame


def _best(action: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    frame = sample_result_frame(args.rows, steps=3)
    print(f"frame: {frame.shape[0]:,} rows x {frame.shape[1]} columns")
    with tempfile.TemporaryDirectory() as folder:
        ours = Path(folder) / "ours.xlsx"
        plain = Path(folder) / "plain.xlsx"
        # Warm both writers up (imports, caches) so the first timing is not penalised.
        frame.head(200).to_excel(plain, engine="openpyxl")
        to_excel(frame.head(200), ours)
        t_plain = _best(lambda: frame.to_excel(plain, engine="openpyxl"), args.repeat)

        def fresh() -> None:
            ours.unlink(missing_ok=True)
            to_excel(frame, ours)

        t_new = _best(fresh, args.repeat)
        t_again = _best(lambda: to_excel(frame, ours), args.repeat)
        plain_mb, ours_mb = plain.stat().st_size / 1e6, ours.stat().st_size / 1e6
        print(f"write  pandas to_excel(openpyxl)      {t_plain:7.2f} s  {plain_mb:6.1f} MB")
        print(f"write  of.to_excel (new file)         {t_new:7.2f} s  {ours_mb:6.1f} MB", end="")
        print(f"  ratio {t_new / t_plain:.2f}")
        print(
            f"write  of.to_excel (over its output)  {t_again:7.2f} s  ratio {t_again / t_plain:.2f}"
        )

        engines = ["openpyxl"]
        if importlib.util.find_spec("python_calamine"):
            engines.append("calamine")
        # Our workbook (restored from its metadata) and pandas' plain one (inferred).
        for label, book in (("of.to_excel output", ours), ("plain pandas output", plain)):
            print(f"read   {label}:")
            for engine in engines:
                theirs = _best(
                    lambda e=engine, b=book: pd.read_excel(b, sheet_name=0, engine=e), args.repeat
                )
                took = _best(
                    lambda e=engine, b=book: read_excel(b, engine=e),  # type: ignore[misc]
                    args.repeat,
                )
                print(
                    f"         pd.read_excel({engine:<9}) {theirs:7.2f} s   "
                    f"of.read_excel({engine:<9}) {took:7.2f} s  ratio {took / theirs:.2f}"
                )


if __name__ == "__main__":
    main()
