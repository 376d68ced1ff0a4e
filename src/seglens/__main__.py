"""``python -m seglens``: the same command line as the ``seglens`` script."""

from __future__ import annotations

from seglens.cli import app

if __name__ == "__main__":
    app(prog_name="seglens")
