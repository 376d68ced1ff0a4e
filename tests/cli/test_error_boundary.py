"""User errors reach the terminal as a clear message and exit code 2, never a traceback."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

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
