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
    ctx: typer.Context,
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
    db_connect_timeout: Annotated[
        float | None,
        typer.Option(
            "--db-connect-timeout",
            metavar="SECONDS",
            help="Give up on a database (store, --db, a source or export URL) that does not "
            "answer within SECONDS. Default: $SEGLENS_DB_CONNECT_TIMEOUT, else 30.",
            show_default=False,
        ),
    ] = None,
    db_statement_timeout: Annotated[
        float | None,
        typer.Option(
            "--db-statement-timeout",
            metavar="SECONDS",
            help="Cancel a database statement that runs longer than SECONDS (0: no limit; "
            "PostgreSQL). Default: $SEGLENS_DB_STATEMENT_TIMEOUT, else 600.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build customer segments and measure, track and improve Customer Segmentation Accuracy.

    Exit codes: 0 ok, 1 a check failed (--fail-under, seglens check), 2 usage or data error.
    Logs and progress go to stderr; stdout carries results only.
    """
    configure_logging(verbose, quiet)
    if db_connect_timeout is not None or db_statement_timeout is not None:
        from seglens.db_guard import use_db_timeouts

        # in force for the command, undone when it ends (the click context closes)
        ctx.with_resource(use_db_timeouts(db_connect_timeout, db_statement_timeout))


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


def check_output(path: object, option: str) -> None:
    """Refuse, before any work, an output or store path whose folder does not exist (the one
    path check behind every ``-o/--out``, ``--json-out`` and ``--db``; ``-`` is stdout and a
    database URL is checked when it is opened)."""
    if path is None or str(path) == "-" or "://" in str(path):
        return
    from seglens.io.atomic import check_folder

    check_folder(str(path), option=option)


def sub_app(name: str, help_text: str) -> typer.Typer:
    """Create and register a command group (``seglens NAME ...``) with the same error boundary."""
    group = typer.Typer(cls=SeglensGroup, help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


FAIL_UNDER_HELP = (
    "Quality gate: exit 1 when the KPI is below PCT percent, or not measured (n = 0). "
    "See --require-interval."
)
REQUIRE_INTERVAL_HELP = (
    "With --fail-under: judge the lower bound of the KPI's confidence interval instead of the "
    "point estimate (exit 1 unless the whole interval reaches PCT)."
)


def check_options(fail_under: float | None, require_interval: bool) -> None:
    """Refuse ``--require-interval`` without ``--fail-under`` and a PCT outside 0-100 (exit 2),
    before any work is done."""
    from seglens.errors import UsageError

    if require_interval and fail_under is None:
        raise UsageError("--require-interval needs --fail-under PCT", hint="e.g. --fail-under 70")
    if fail_under is not None and not 0.0 <= fail_under <= 100.0:
        raise UsageError(f"--fail-under {fail_under:g} is not a percentage between 0 and 100")


def gate_verdict(
    value: float | None,
    ci_low: float | None,
    n: int | None,
    fail_under: float,
    require_interval: bool,
) -> tuple[bool, str]:
    """``(passed, reason)`` of the quality gate for one KPI (percent, its CI lower bound, n)."""
    if value is None or not n or not math.isfinite(value):
        return False, "not measured (n = 0)"
    if require_interval:
        if ci_low is None or not math.isfinite(ci_low):
            return False, f"{value:.1f} % has no confidence interval to judge"
        if ci_low < fail_under:
            return False, f"CI lower bound {ci_low:.1f} % is below {fail_under:g} %"
        return True, f"CI lower bound {ci_low:.1f} % reaches {fail_under:g} %"
    if value < fail_under:
        return False, f"{value:.1f} % is below {fail_under:g} %"
    return True, f"{value:.1f} % reaches {fail_under:g} %"


def quality_gate(
    what: str,
    value: float | None,
    ci_low: float | None,
    n: int | None,
    fail_under: float | None,
    require_interval: bool,
) -> None:
    """After a command has printed its result: with ``--fail-under``, say the verdict on stderr
    and exit with :data:`EXIT_CHECK_FAILED` when the KPI (or its CI lower bound) misses it."""
    if fail_under is None:
        return
    passed, reason = gate_verdict(value, ci_low, n, fail_under, require_interval)
    if passed:
        if not _Quiet.on:
            err_console.print(f"check passed: {what} {reason}", highlight=False)
        return
    err_console.print(f"[bold red]check failed:[/bold red] {what} {reason}", highlight=False)
    raise typer.Exit(EXIT_CHECK_FAILED)


FailUnderOption = Annotated[
    float | None, typer.Option("--fail-under", metavar="PCT", help=FAIL_UNDER_HELP)
]
RequireIntervalOption = Annotated[
    bool, typer.Option("--require-interval", help=REQUIRE_INTERVAL_HELP)
]
