"""``python -m seglens`` runs the command line, with the same exit codes."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "seglens", "version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    from seglens import __version__

    assert out.stdout.strip() == f"seglens {__version__}"
    bad = subprocess.run(
        [sys.executable, "-m", "seglens", "track", "missing.csv", "--as-of", "31/12/2011"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
