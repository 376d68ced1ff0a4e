"""User errors reach the terminal as a clear message and exit code 2, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

import seglens
from seglens.cli._app import SeglensGroup
from seglens.errors import DataError


def _app_raising(err: Exception) -> typer.Typer:
    app = typer.Typer(cls=SeglensGroup)

    @app.command()
    def boom() -> None:
        raise err

    @app.command()
    def other() -> None:
        """Second command so Typer builds a group."""

    return app


def test_seglens_error_is_printed_without_traceback() -> None:
    err = DataError(
        "text in a numeric column",
        source="orders.csv",
        column="amount",
        lines=[3, 7],
        values=["abc", "x"],
        hint="fix the cells or map another column with --columns amount=...",
    )
    result = CliRunner().invoke(_app_raising(err), ["boom"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "orders.csv" in result.output
    assert "line 3: 'abc'" in result.output
    assert "what to do:" in result.output


def test_programming_errors_are_not_swallowed() -> None:
    result = CliRunner().invoke(_app_raising(ZeroDivisionError("bug")), ["boom"])
    assert isinstance(result.exception, ZeroDivisionError)


def test_version_command() -> None:
    from seglens.cli import app

    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert "seglens" in result.output


def test_real_process_prints_error_on_stderr_and_exits_2(tmp_path: Path) -> None:
    """The installed entry point: ``error: <message>`` on stderr, exit code 2, no traceback."""
    missing = tmp_path / "missing.csv"
    code = "import sys; from seglens.cli import app; sys.argv[0] = 'seglens'; app()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(missing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.lstrip().startswith("error:"), proc.stderr
    assert "missing.csv" in "".join(proc.stderr.split())  # Rich wraps to the terminal width
    assert "Traceback" not in proc.stderr + proc.stdout


def test_no_private_typer_imports() -> None:
    """seglens uses Typer's public API only: its private click copy (``typer._click``) may move
    in any release, which is why the dependency once had to be capped."""
    src = Path(seglens.__file__).parent
    offenders = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if re.search(r"\btyper\._click\b|from typer import _click", path.read_text("utf-8"))
    ]
    assert offenders == []
