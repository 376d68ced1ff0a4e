"""The Typer application object and the error boundary shared by every command."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape

from seglens.errors import SeglensError

__all__ = ["app", "console", "emit_json", "err_console"]


def _console(*, stderr: bool = False) -> Console:
    """A terminal console as Rich sets it up; piped or redirected, plain lines that are never
    wrapped or truncated (a table as wide as its content), so output can be parsed and grepped."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, soft_wrap=True, width=100_000, highlight=False)


console = _console()
err_console = _console(stderr=True)


class SeglensGroup(typer.core.TyperGroup):
    """A command group that turns :class:`SeglensError` into a clear message and exit code 2.

    User errors (bad files, bad options) never show a traceback; programming errors still do.
    """

    # ``ctx`` is the click Context Typer builds (a ``typer.Context``); typed loosely because
    # Typer keeps its click private, and seglens uses only Typer's public API.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SeglensError as err:
            # the message is text, never markup: a value such as '[/b]' is printed as it is
            err_console.print("[bold red]error:[/bold red]", escape(str(err)), highlight=False)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=SeglensGroup,
    name="seglens",
    help="Build customer segments and measure, track and improve Customer Segmentation Accuracy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _main() -> None:
    """Build customer segments and measure, track and improve Customer Segmentation Accuracy."""


@app.command()
def version() -> None:
    """Print the seglens version."""
    from seglens import __version__

    console.print(f"seglens {__version__}")


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit_json(payload: dict[str, Any]) -> None:
    """Print ``payload`` as indented JSON on stdout (dates as ISO text, NaN as null)."""
    typer.echo(json.dumps(_plain(payload), indent=2, ensure_ascii=False, allow_nan=False))


def sub_app(name: str, help_text: str) -> typer.Typer:
    """Create and register a command group (``seglens NAME ...``) with the same error boundary."""
    group = typer.Typer(cls=SeglensGroup, help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group
