"""The Typer application object and the error boundary shared by every command."""

from __future__ import annotations

import json
import logging
import math
import sys
from datetime import date
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape

from seglens.errors import SeglensError

__all__ = ["EXIT_CHECK_FAILED", "EXIT_OK", "EXIT_USAGE", "app", "console", "emit_json"]
__all__ += ["err_console", "log"]

EXIT_OK = 0
"""Exit code: the command did what it was asked and every check passed."""
EXIT_CHECK_FAILED = 1
"""Exit code: a quality gate failed (a KPI, or its interval, below ``--fail-under``)."""
EXIT_USAGE = 2
"""Exit code: bad usage or bad data (the message says what); also Click's usage errors."""

log = logging.getLogger("seglens")
"""The package logger; the CLI's ``-q``/``-v`` set its level and it writes to stderr only."""


class _Quiet:
    """Whether ``-q`` was given: progress lines (``console.log``) are then not shown."""

    on = False


def _console(*, stderr: bool = False) -> Console:
    """A terminal console as Rich sets it up; piped or redirected, plain lines that are never
    wrapped or truncated (a table as wide as its content), so output can be parsed and grepped."""
    probe = Console(stderr=stderr, log_path=False)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, soft_wrap=True, width=100_000, highlight=False, log_path=False)


class _StdoutConsole(Console):
    """The stdout console, whose ``log`` (progress lines) goes to stderr without a file:line
    suffix, and not at all with ``-q``: stdout carries results only, so it can be piped."""

    def log(self, *objects: Any, **kwargs: Any) -> None:
        if _Quiet.on:
            return
        err_console.log(*objects, **kwargs)


def _stdout_console() -> Console:
    plain = _console()
    if plain.is_terminal:
        return _StdoutConsole(log_path=False)
    return _StdoutConsole(soft_wrap=True, width=100_000, highlight=False, log_path=False)


err_console = _console(stderr=True)
console = _stdout_console()


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (tests swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # logging must never break a command
            self.handleError(record)


def quiet() -> bool:
    """Whether ``-q`` was given (commands that show progress leave it out)."""
    return _Quiet.on


def configure_logging(verbosity: int, quiet: bool) -> None:
    """Set the ``seglens`` logger: warnings by default, ``-v`` info, ``-vv`` debug, ``-q``
    errors only; one handler, on stderr (logs are never mixed into stdout)."""
    _Quiet.on = quiet
    if quiet:
        log.setLevel(logging.ERROR)
    elif verbosity:
        log.setLevel(logging.WARNING - 10 * min(verbosity, 2))
    else:  # the root logger's level decides (WARNING unless an embedding program says else)
        log.setLevel(logging.NOTSET)
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        log.addHandler(_StderrHandler())


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
    add_completion=True,
)


def _print_version(value: bool) -> None:
    if value:
        from seglens import __version__

        typer.echo(f"seglens {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the seglens version and exit.",
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="More log lines on stderr (-v info, -vv debug)."
        ),
    ] = 0,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Errors only on stderr: no progress, no warnings."),
    ] = False,
) -> None:
    """Build customer segments and measure, track and improve Customer Segmentation Accuracy.

    Exit codes: 0 ok, 1 a check failed (--fail-under, seglens check), 2 usage or data error.
    Logs and progress go to stderr; stdout carries results only.
    """
    configure_logging(verbose, quiet)


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
