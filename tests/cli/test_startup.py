"""The CLI starts fast: `seglens --help` must not import the numeric and web stacks."""

from __future__ import annotations

import subprocess
import sys


def test_cli_import_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, seglens.cli; "
        "heavy = [m for m in ('sklearn', 'scipy', 'sqlalchemy', 'fastapi', 'pyspark', "
        "'weasyprint', 'vl_convert') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
