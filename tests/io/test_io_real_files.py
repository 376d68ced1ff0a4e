"""Real files in, right values out (issue 19): every case of the generated corpus in
``tests/io/real_files*.py`` gives the values it must or the exact error, under a deadline; no
file of that corpus or of ``tests/data/bad`` ends in a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.errors import DataError
from seglens.store.files import read_labels_file

from .real_files import ENCODINGS, NUMBERS, Case
from .real_files_reading import DATES, LABEL_FILES, READING

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
CASES = ENCODINGS + NUMBERS + DATES + LABEL_FILES + READING


pytestmark = pytest.mark.usefixtures("deadline")


def test_the_corpus_covers_every_class() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert sum(c.error is None for c in CASES) >= 20  # values checked, not only errors


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_real_file(case: Case, tmp_path: Path) -> None:
    case.holds(tmp_path)


_CLI_OPTIONS = {
    "encoding": "--encoding",
    "decimal": "--decimal",
    "date_format": "--date-format",
    "as_of": "--as-of",
    "sheet": "--sheet",
}


def _ingest(path: Path, options: dict[str, str]) -> list[str]:
    args = ["ingest", str(path), "--json"]
    for key, value in options.items():
        args += [_CLI_OPTIONS[key], value]
    return args


def _bad_corpus() -> list[tuple[str, dict[str, str]]]:
    from .test_io_bad_corpus import CORPUS

    return [(name, opts) for name, opts, _, _ in CORPUS]


def test_no_traceback_over_both_corpora(tmp_path: Path) -> None:
    """`seglens ingest` on every file exits 0 or 2 with a message, never an exception."""
    runner = CliRunner()
    runs = [(BAD / name, opts) for name, opts in _bad_corpus()]
    runs += [(c.write(tmp_path), c.options) for c in CASES if c.table == "transactions"]
    assert len(runs) >= 90
    for path, options in runs:
        result = runner.invoke(app, _ingest(path, options))
        assert result.exit_code in (0, 2), (path, result.output, result.exception)
        assert "Traceback" not in result.output, path
        if result.exit_code == 2:
            assert result.output.startswith("error: "), (path, result.output)


def test_error_messages_are_printed_as_text_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "markup.csv"
    path.write_text("customer_id,order_id,timestamp,amount\nC1,O1,2024-01-05,[/b]\n")
    result = CliRunner().invoke(app, ["ingest", str(path)])
    assert result.exit_code == 2, result.output
    assert "line 2: '[/b]'" in result.output
    renamed = tmp_path / "[bold]orders[b].csv"
    renamed.write_text("[/b],order_id,timestamp,amount\nC1,O1,2024-01-05,5\n")
    result = CliRunner().invoke(app, ["ingest", str(renamed), "--columns", "customer_id=[/b]"])
    assert result.exit_code == 0, result.output
    assert "[bold]orders[b].csv" in result.output
    assert "[/b]" in result.output


def test_ingest_help_reads_correctly() -> None:
    result = CliRunner().invoke(app, ["ingest", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())  # Rich's box, wrapped
    assert "TOML file with [columns] and [ingest] tables" in text
    assert "--decimal" in text


def test_a_real_process_refuses_a_pipe_and_a_device_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "orders.csv"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/zero"), Path("/dev/urandom")):
        proc = subprocess.run(
            [sys.executable, "-c", "from seglens.cli import app; app()", "ingest", str(target)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "what to do:" in proc.stderr
        assert ("named pipe" if target == fifo else "a device") in proc.stderr


@pytest.mark.parametrize("kind", ["missing", "folder", "fifo", "device"])
def test_labels_file_is_checked_before_anything_opens_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "labels.csv"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    expected = {
        "missing": "no such file",
        "folder": "folder",
        "fifo": "named pipe",
        "device": "device",
    }[kind]
    with pytest.raises(DataError, match=expected):
        read_labels_file(path)
