"""Every malformed input gives a clear DataError or a clean report, never a traceback or a hang."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from seglens.errors import DataError
from seglens.io import load_transactions

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"

# every case under a deadline: a loader that hangs fails instead of waiting
pytestmark = pytest.mark.usefixtures("deadline")


def _corpus() -> list[tuple[str, dict[str, Any], str, str]]:
    rows = []
    for line in (BAD / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 5 or cells[0] in {"file", "---"} or cells[0].startswith("-"):
            continue
        name, _problem, options, outcome, expected = cells
        opts: dict[str, Any] = {}
        for item in filter(None, (o.strip() for o in options.split(";"))):
            key, _, value = item.partition("=")
            opts[key] = value
        rows.append((name, opts, outcome, expected))
    return rows


CORPUS = _corpus()


def test_corpus_is_listed_completely() -> None:
    listed = {name for name, *_ in CORPUS}
    present = {p.name for p in BAD.iterdir() if p.name not in {"README.md", "make_corpus.py"}}
    assert listed == present
    assert len(present) >= 30


@pytest.mark.parametrize(
    ("name", "options", "outcome", "expected"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_bad_input(name: str, options: dict[str, Any], outcome: str, expected: str) -> None:
    path = BAD / name
    if outcome == "error":
        with pytest.raises(DataError) as info:
            load_transactions(path, **options)
        message = str(info.value)
        assert expected.lower() in message.lower()
        assert str(path) in message  # names the file
        assert "what to do:" in message  # and says what to do
        return
    assert outcome == "clean"
    loaded = load_transactions(path, **options)
    report = loaded.report
    assert report.rows_kept == loaded.table.height
    assert report.rows_kept + sum(r.rows_excluded for r in report.rules) == report.rows_read
    for item in (e.strip() for e in expected.split(";")):
        if item.startswith("warning~"):
            phrase = item.removeprefix("warning~")
            assert any(phrase in w for w in report.warnings), report.warnings
            continue
        key, _, value = item.partition("=")
        if key == "kept":
            assert report.rows_kept == int(value)
        else:
            assert report.rule(key).rows == int(value), report.rule(key)


def test_errors_name_lines_column_and_values() -> None:
    with pytest.raises(DataError) as info:
        load_transactions(BAD / "impossible_dates.csv")
    err = info.value
    assert err.column == "timestamp"
    assert list(err.lines) == [2, 3, 4]
    assert list(err.values) == ["2011-02-30", "2011-13-01", "2011-04-31"]


def test_sparse_1gb_file_is_refused_by_the_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "huge.csv"
    with big.open("wb") as fh:
        fh.write(b"customer_id,order_id,timestamp,amount\n")
        fh.truncate(2**30)  # sparse: no disk blocks, reads as NUL bytes
    with pytest.raises(DataError, match="over the size limit"):
        load_transactions(big)
    # with the limit lifted it is still refused quickly, as binary junk, without reading 1 GiB
    with pytest.raises(DataError, match="binary data"):
        load_transactions(big, max_bytes=None)


def test_gzip_bomb_is_refused_by_the_size_limit(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as gz:
        gz.write(b"customer_id,order_id,timestamp,amount\n")
        chunk = b"1,1,2024-01-01,5\n" * 65536
        for _ in range(20):
            gz.write(chunk)
    with pytest.raises(DataError, match="decompresses to"):
        load_transactions(path, max_bytes=10_000_000)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_never_crash(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(os.urandom(512 + seed * 1000))
    with pytest.raises(DataError):
        load_transactions(path)
