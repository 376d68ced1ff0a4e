"""CLI conventions (issue 21): --version, -q/-v, logs on stderr only, shell completion."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

import seglens
from seglens.cli import app
from seglens.cli._app import SeglensGroup, configure_logging, console


def _transactions(path: Path) -> Path:
    pl.DataFrame(
        {
            "order_id": ["a", "b", "c", "d"],
            "customer_id": ["1", "1", "2", "3"],
            "timestamp": ["2024-01-02", "2024-02-03", "2024-01-05", "2024-03-01"],
            "amount": [10.0, 20.0, 5.5, 7.0],
        }
    ).write_csv(path)
    return path


def test_version_option_prints_the_version_and_exits_0() -> None:
    out = CliRunner().invoke(app, ["--version"])
    assert out.exit_code == 0
    assert out.stdout == f"seglens {seglens.__version__}\n"


def test_version_option_is_eager() -> None:
    # eager: it wins over a command that would otherwise fail on missing options
    out = CliRunner().invoke(app, ["--version", "accuracy"])
    assert out.exit_code == 0
    assert out.stdout.startswith("seglens ")


def test_python_dash_m_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "seglens", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"seglens {seglens.__version__}"


@pytest.mark.parametrize(
    ("verbosity", "quiet", "level"),
    [
        (0, False, logging.WARNING),
        (1, False, logging.INFO),
        (2, False, logging.DEBUG),
        (5, False, logging.DEBUG),
        (0, True, logging.ERROR),
        (2, True, logging.ERROR),
    ],
)
def test_verbosity_sets_the_seglens_logger_level(verbosity: int, quiet: bool, level: int) -> None:
    configure_logging(verbosity, quiet)
    assert logging.getLogger("seglens.features.api").getEffectiveLevel() == level


def test_verbose_logs_go_to_stderr_never_stdout(tmp_path: Path) -> None:
    tx = _transactions(tmp_path / "tx.csv")
    out_file = tmp_path / "f.csv"
    result = CliRunner().invoke(app, ["-v", "features", str(tx), "-o", str(out_file)])
    assert result.exit_code == 0, result.output
    assert "INFO seglens.features.api: features on" in result.stderr
    assert "seglens.features" not in result.stdout
    assert "customers x" in result.stdout


def test_default_and_quiet_hide_info_logs(tmp_path: Path) -> None:
    tx = _transactions(tmp_path / "tx.csv")
    for flags in ([], ["-q"]):
        args = [*flags, "features", str(tx), "-o", str(tmp_path / "f.csv")]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "INFO" not in result.stderr
        assert "customers x" in result.stdout  # -q hides logs and progress, not the result
        if flags:
            assert result.stderr == ""


def test_console_log_progress_goes_to_stderr_without_file_and_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `seglens demo` reports its steps with console.log: they must not mix with the results
    console.log("building features")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "building features" in captured.err
    assert ".py:" not in captured.err


def test_quiet_silences_progress_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(0, quiet=True)
    console.log("building features")
    assert capsys.readouterr().err == ""


def test_quiet_and_verbose_are_root_options_documented_in_help() -> None:
    out = CliRunner().invoke(app, ["--help"])
    assert out.exit_code == 0
    for opt in ("--version", "--quiet", "-q", "--verbose", "-v", "--install-completion"):
        assert opt in out.stdout


def test_shell_completion_script_is_available() -> None:
    out = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="seglens")
    assert out.exit_code == 0, out.output
    assert "complete" in out.stdout and "seglens" in out.stdout


def test_usage_errors_exit_2() -> None:
    assert CliRunner().invoke(app, ["no-such-command"]).exit_code == 2
    assert CliRunner().invoke(app, ["--no-such-option"]).exit_code == 2


def test_error_boundary_still_exits_2_with_root_options() -> None:
    from seglens.errors import UsageError

    sub = typer.Typer(cls=SeglensGroup)

    @sub.command()
    def boom() -> None:
        raise UsageError("bad")

    @sub.command()
    def other() -> None:
        """Second command so Typer builds a group."""

    assert CliRunner().invoke(sub, ["boom"]).exit_code == 2


def _all_commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, cmd in group.commands.items():
        found.append((*path, name))
        if hasattr(cmd, "commands"):
            found += _all_commands(cmd, (*path, name))
    return found


# Rich reads "[word]" in help text as a style tag and drops it ("TOML file with  and  tables");
# a bracket meant literally must be written "\[word]".
_MARKUP_LIKE = re.compile(r"(?<!\\)\[[A-Za-z/#@.][^\]]*\]")


def test_no_help_text_loses_brackets_to_rich_markup() -> None:
    root: Any = typer.main.get_command(app)
    commands = _all_commands(root)
    assert len(commands) > 20
    eaten = []
    for path in commands:
        cmd = root
        for name in path:
            cmd = cmd.commands[name]
        texts = [cmd.help or ""] + [getattr(p, "help", None) or "" for p in cmd.params]
        eaten += [f"{' '.join(path)}: {m}" for t in texts for m in _MARKUP_LIKE.findall(t)]
    assert eaten == []
