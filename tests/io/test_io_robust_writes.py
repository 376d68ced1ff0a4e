"""Outputs are written atomically and a missing output folder is an error (issue 19, item 6).

A write that fails part-way — an exception in the writer, a real file size limit, a really full
file system — leaves the earlier output byte for byte as it was, and no temporary file behind.
Every option that names an output or store path refuses a folder that does not exist, naming
it and saying to create it, without creating anything.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.errors import DataError, UsageError
from seglens.io.atomic import atomic_path, check_folder, write_bytes_atomic
from seglens.store import list_runs, open_store, record_run, run_assignments
from tests.transactions import random_transactions

EARLIER = b"customer_id,order_id\nEARLIER,1\n"
AS_OF = dt.date(2011, 9, 30)


@pytest.fixture(scope="module")
def raw_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A transaction log whose canonical table is ~60 KB as CSV (over the limits used below)."""
    path = tmp_path_factory.mktemp("raw") / "raw.csv"
    random_transactions(200, seed=3).write_csv(path)
    return path


@pytest.fixture(scope="module")
def segments_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 customers in three segments (~50 KB as CSV)."""
    path = tmp_path_factory.mktemp("segments") / "segments.csv"
    ids = [f"C{i:05d}" for i in range(3000)]
    pl.DataFrame({"customer_id": ids, "segment": ["A", "B", "C"] * 1000}).write_csv(path)
    return path


def _earlier(folder: Path, name: str) -> Path:
    out = folder / name
    out.write_bytes(EARLIER)
    return out


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_writer_that_fails_midway_keeps_the_earlier_file(tmp_path: Path) -> None:
    out = _earlier(tmp_path, "segments.csv")

    class WriterError(RuntimeError):
        pass

    with pytest.raises(WriterError), atomic_path(out) as tmp:
        with tmp.open("wb") as fh:
            fh.write(b"half a new file")
        raise WriterError("the writer failed after writing part of the file")
    assert out.read_bytes() == EARLIER
    assert _names(tmp_path) == ["segments.csv"]


def test_an_interrupt_midway_keeps_the_earlier_file(tmp_path: Path) -> None:
    out = _earlier(tmp_path, "segments.parquet")
    with pytest.raises(KeyboardInterrupt), atomic_path(out) as tmp:
        tmp.write_bytes(b"PAR1 partial")
        raise KeyboardInterrupt
    assert out.read_bytes() == EARLIER
    assert _names(tmp_path) == ["segments.parquet"]


def test_a_successful_write_replaces_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    out = _earlier(tmp_path, "a.csv")
    frame = pl.DataFrame({"customer_id": ["C1", "C2"], "segment": ["x", "y"]})
    with atomic_path(out) as tmp:
        frame.write_csv(tmp)
    assert out.read_text() == "customer_id,segment\nC1,x\nC2,y\n"
    assert _names(tmp_path) == ["a.csv"]
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_a_private_output_stays_private(tmp_path: Path) -> None:
    out = _earlier(tmp_path, "audit.csv")
    out.chmod(0o600)
    write_bytes_atomic(out, b"customer_id\nC1\n")
    assert out.read_bytes() == b"customer_id\nC1\n"
    assert out.stat().st_mode & 0o777 == 0o600


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _limited(limit: int) -> None:
    """Child process: a real kernel file size limit (writes past it fail with EFBIG)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["ingest", "{raw}", "-o", "{out}"], "canonical.csv"),
        (["ingest", "{raw}", "-o", "{out}"], "canonical.parquet"),
        (["features", "{raw}", "-o", "{out}"], "features.csv"),
        (["export", "{segments}", "--output", "{out}", "--format", "hubspot"], "hubspot.csv"),
        (["audit-sample", "--segments", "{segments}", "--out", "{out}"], "sheet.csv"),
    ],
)
def test_a_real_file_size_limit_keeps_the_earlier_output(
    tmp_path: Path, raw_csv: Path, segments_csv: Path, command: list[str], name: str
) -> None:
    out = _earlier(tmp_path, name)
    args = [a.format(raw=raw_csv, segments=segments_csv, out=out) for a in command]
    proc = subprocess.run(
        [sys.executable, "-m", "seglens", *args],
        capture_output=True,
        text=True,
        preexec_fn=lambda: _limited(4096),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-2:] == [
        f"error: file {out}: writing stopped: a file size limit was reached (File too large); "
        f"the earlier {name} was kept unchanged",
        "what to do: raise the limit (ulimit -f) or write to a file system that allows larger "
        "files, then run the command again",
    ]
    assert "Traceback" not in proc.stderr
    assert out.read_bytes() == EARLIER
    assert _names(tmp_path) == [name]


def _mount(folder: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``folder`` (root only; skipped where mounting is refused)."""
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system."""
    yield from _mount(tmp_path / "disk", "64k")


@pytest.fixture
def store_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB file system: room for a store and a few runs."""
    yield from _mount(tmp_path / "disk", "1m")


def test_a_full_disk_under_the_store_rolls_back_and_keeps_every_run(store_disk: Path) -> None:
    db = store_disk / "s.db"
    kept = 0
    with open_store(str(db)) as store:
        with pytest.raises(DataError) as info:
            for i in range(50):
                ids = [f"C{i}-{k:06d}" for k in range(3000)]
                segments = pl.DataFrame({"customer_id": ids, "segment": ["A"] * 3000})
                record_run(
                    store, segments, segmenter="rfm", parameters={}, as_of=AS_OF, data_hash="h"
                )
                kept += 1
        assert kept >= 1
        assert list_runs(store).height == kept
        assert run_assignments(store, kept)["customer_id"].to_list()[-1] == f"C{kept - 1}-002999"
    assert str(info.value) == (
        f"file sqlite:///{db}: the disk is full (database or disk is full); the transaction was "
        "rolled back and the database keeps its earlier data\n"
        "what to do: free disk space (or move the database to another disk) and run the "
        "command again"
    )
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()


def test_a_full_disk_names_the_file_and_keeps_the_earlier_output(
    small_disk: Path, raw_csv: Path
) -> None:
    out = _earlier(small_disk, "canonical.csv")
    result = CliRunner().invoke(app, ["ingest", str(raw_csv), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-2:] == [
        f"error: file {out}: writing stopped: the disk is full (No space left on device); "
        "the earlier canonical.csv was kept unchanged",
        "what to do: free disk space (or write to another disk) and run the command again",
    ]
    assert out.read_bytes() == EARLIER
    assert _names(small_disk) == ["canonical.csv"]


def test_a_full_disk_for_a_new_file_says_nothing_was_written(small_disk: Path) -> None:
    out = small_disk / "big.bin"
    with pytest.raises(DataError) as info:
        write_bytes_atomic(out, b"x" * 200_000)
    assert str(info.value) == (
        f"file {out}: writing stopped: the disk is full (No space left on device); "
        "no big.bin was written\n"
        "what to do: free disk space (or write to another disk) and run the command again"
    )
    assert _names(small_disk) == []


def test_check_folder_messages(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        check_folder(tmp_path / "nope" / "x.csv", option="-o/--output")
    assert str(info.value) == (
        f"file {tmp_path}/nope/x.csv: the folder {tmp_path}/nope does not exist "
        "(given with -o/--output)\n"
        f"what to do: create it first (mkdir -p {tmp_path}/nope) or choose another path"
    )
    (tmp_path / "plain").write_text("")
    with pytest.raises(UsageError, match=r"plain is a file, not a folder"):
        check_folder(tmp_path / "plain" / "x.csv")
    with pytest.raises(UsageError, match=r"this is a folder; a file name is needed"):
        check_folder(tmp_path)


# Every option that names an output or store path: (command line, option named in the error).
MISSING = [
    (["ingest", "{raw}", "-o", "{out}.csv"], "-o/--output"),
    (["features", "{raw}", "-o", "{out}.parquet"], "-o/--output"),
    (["segment", "{raw}", "-o", "{out}.csv"], "-o/--output"),
    (["audit-sample", "--out", "{out}.csv", "--segments", "{raw}"], "--out"),
    (["export", "{raw}", "--output", "{out}.csv"], "--output"),
    (["report", "-o", "{out}.html", "--snapshot", "{raw}"], "-o/--output"),
    (["track", "{raw}", "--db", "{out}.db", "--as-of", "2011-09-30"], "--db or SEGLENS_DB"),
    (["history", "--db", "{out}.db"], "--db or SEGLENS_DB"),
    (["labels", "show", "--db", "{out}.db"], "--db or SEGLENS_DB"),
    (["demo", "-o", "{out}"], "-o/--output"),
]


@pytest.mark.parametrize(("command", "option"), MISSING, ids=[m[0][0] for m in MISSING])
def test_a_missing_output_folder_is_an_error_and_nothing_is_created(
    tmp_path: Path, raw_csv: Path, command: list[str], option: str
) -> None:
    folder = tmp_path / "not-there"
    args = [a.format(raw=raw_csv, out=folder / "x") for a in command]
    target = next(a for a in args if a.startswith(str(folder)))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: file {target}: the folder {folder} does not exist (given with {option})",
        f"what to do: create it first (mkdir -p {folder}) or choose another path",
    ]
    assert not folder.exists()


def test_a_refused_weasyprint_pdf_keeps_the_earlier_pdf(tmp_path: Path) -> None:
    from seglens.report.render import weasyprint_pdf

    out = _earlier(tmp_path, "review.pdf")
    html = '<html><body><img src="http://127.0.0.1:9/chart.png"></body></html>'
    with pytest.raises(UsageError) as info:
        weasyprint_pdf(html, out)
    assert info.value.message == (
        "the report tried to load external resources while rendering the PDF"
    )
    assert out.read_bytes() == EARLIER
    assert _names(tmp_path) == ["review.pdf"]


def test_a_failing_chromium_keeps_the_earlier_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seglens.report.pdf_chromium import chromium_pdf

    monkeypatch.setenv("SEGLENS_CHROMIUM", "/bin/false")  # a real program that fails
    out = _earlier(tmp_path, "review.pdf")
    with pytest.raises(UsageError) as info:
        chromium_pdf("<html><body>x</body></html>", out)
    assert info.value.message == "Chromium could not print the PDF (exit 1)"
    assert out.read_bytes() == EARLIER
    assert _names(tmp_path) == ["review.pdf"]
