"""Every benchmark: now ``python -m benchmarks`` (kept so the old command still works).

Usage: ``python benchmarks/run_all.py [--quick] [--only NAME] [--json PATH]``
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    args = [sys.executable, "-m", "benchmarks", *sys.argv[1:]]
    raise SystemExit(subprocess.run(args, cwd=root, check=False).returncode)
