"""Issue 19 item 4: every command that reads transactions takes the ingest options, defined
once (``seglens.cli._ingest_options``), and they reach the loader.

A European export whose amounts are ambiguous without ``--decimal ,`` (``3.668`` = 3,668 euros)
is read by each command with the option, and gives exactly what the command gives on the
canonical table ``seglens ingest --decimal , -o t.parquet`` wrote; without the option each
command stops with the loader's message. Options that cannot apply (``--decimal`` on a Parquet
table's numbers, ``--encoding`` on Parquet, anything with ``--engine spark``) are refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from seglens.cli._ingest_options import _FLAGS
from tests.transactions import random_transactions

runner = CliRunner()

READERS = ("ingest", "features", "track", "clv", "economics", "forecast", "discover")
"""Every command that reads transactions."""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """eu.csv (``;``, dd/mm/yyyy, amounts with a thousands dot only, Windows-1252 header) and
    the canonical table ``ingest eu.csv --decimal , -o t.parquet`` wrote."""
    tmp = tmp_path_factory.mktemp("eu")
    tx = random_transactions(40, seed=3)
    lines = ["Kunde;Rechnung;Datum;Betrag;Bemerkung"]
    for r in tx.iter_rows(named=True):
        amount = f"{round(r['amount'] * 10):,}".replace(",", ".")
        lines.append(
            f"{r['customer_id']};{r['order_id']};{r['timestamp']:%d/%m/%Y %H:%M};{amount};Grüße"
        )
    raw = tmp / "eu.csv"
    raw.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    table = tmp / "t.parquet"
    made = runner.invoke(app, ["ingest", str(raw), "--decimal", ",", "-o", str(table)])
    assert made.exit_code == 0, made.output
    config = tmp / "ingest.toml"
    config.write_text('[ingest]\ndecimal = ","\n', encoding="utf-8")
    return {"raw": raw, "table": table, "config": config, "tmp": tmp}


def _args(command: str, source: Path, out: Path) -> list[str]:
    """The command line of ``command`` on ``source``; its outputs go under ``out``."""
    extra: dict[str, list[str]] = {
        "ingest": ["-o", str(out / "canonical.parquet")],
        "features": ["-o", str(out / "features.parquet")],
        "track": ["--as-of", "2011-09-29", "--db", f"sqlite:///{out / 'store.db'}"],
        "clv": ["--as-of", "2011-08-31"],
        "economics": ["--as-of", "2011-08-31"],
        "forecast": ["--cutoff", "2011-06-30", "--actual-end", "2011-09-29"],
        "discover": ["--as-of", "2011-08-31"],
    }
    return [command, str(source), *extra[command], "--json"]


def _run(args: list[str], code: int = 0) -> Any:
    out = runner.invoke(app, args)
    assert out.exit_code == code, out.output
    return out


def _result(command: str, source: Path, out: Path, *options: str) -> Any:
    """What ``command`` produced: its JSON (without the output path) and any file it wrote."""
    out.mkdir()
    data = json.loads(_run([*_args(command, source, out), *options]).stdout)
    for key in ("output", "seconds", "source"):
        data.pop(key, None)
    for plan in (data.get("audit_plan") or {}).values():  # track: strata come in any order
        plan["strata"].sort(key=lambda s: s["segment"])
    written = sorted(out.glob("*.parquet"))
    return data, [pl.read_parquet(p) for p in written]


@pytest.mark.parametrize("command", READERS)
def test_the_option_reaches_the_loader_and_equals_ingest_then_command(
    command: str, files: dict[str, Path]
) -> None:
    tmp = files["tmp"] / command
    tmp.mkdir()
    with_option = _result(command, files["raw"], tmp / "raw", "--decimal", ",")
    canonical = _result(command, files["table"], tmp / "canonical")
    if command == "ingest":  # the reports differ (a CSV and a Parquet); the tables must not
        with_option, canonical = with_option[1:], canonical[1:]
    else:
        assert with_option[0] == canonical[0]
    for left, right in zip(with_option[-1], canonical[-1], strict=True):
        assert_frame_equal(left, right)
    # the amounts really are thousands: 3.668 read as 3,668 euros
    if command == "features":
        spend = with_option[1][0]["total_spend"].sum()
        assert spend == pytest.approx(random_transactions(40, seed=3)["amount"].sum() * 10, 1e-3)


@pytest.mark.parametrize("command", READERS)
def test_without_the_option_each_command_stops_with_the_loaders_message(
    command: str, files: dict[str, Path]
) -> None:
    tmp = files["tmp"] / f"{command}-bare"
    tmp.mkdir()
    out = _run(_args(command, files["raw"], tmp), code=2)
    assert "cannot tell whether '.' in these numbers separates thousands or decimals" in out.output
    assert "'3.668' could be 3668 or 3.668" in out.output
    assert "--decimal" in out.output
    assert str(files["raw"]) in out.output


@pytest.mark.parametrize("command", ["features", "track", "clv"])
def test_the_ingest_config_file_is_read_by_every_command(
    command: str, files: dict[str, Path]
) -> None:
    tmp = files["tmp"] / f"{command}-config"
    tmp.mkdir()
    by_flag = _result(command, files["raw"], tmp / "flag", "--decimal", ",")
    by_file = _result(command, files["raw"], tmp / "file", "--ingest-config", str(files["config"]))
    assert by_flag[0] == by_file[0]


def test_options_that_cannot_apply_are_refused(files: dict[str, Path]) -> None:
    table = str(files["table"])
    out = _run(["clv", table, "--decimal", ","], code=2)
    assert "decimal (--decimal) applies to numbers written as text" in out.output
    assert "'amount' (Float64), 'quantity' (Float64) already hold numbers" in out.output
    assert table in out.output
    assert "drop --decimal" in out.output
    out = _run(["economics", table, "--encoding", "cp1252"], code=2)
    assert "encoding (--encoding) applies to delimited text files, not to this parquet" in (
        out.output
    )
    out = _run(["discover", table, "--date-format", "%d/%m/%Y"], code=2)
    assert "'timestamp' already holds Datetime(time_unit='us', time_zone=None) values" in (
        out.output
    )
    # with --engine spark (and --customers) the lines are cleaned on Spark with these options,
    # and an option that cannot apply is refused there too: tests/features/
    # test_spark_cleaning_parity.py::test_an_option_that_cannot_apply_is_refused_on_spark


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas >= 3.0.0")
def test_features_on_spark_cleans_with_the_same_options(files: dict[str, Path], spark: Any) -> None:
    """``--engine spark`` cleans the raw lines on Spark with the options it was given."""
    target = files["tmp"] / "spark-features.parquet"
    args = ["features", str(files["raw"]), "--engine", "spark", "--as-of", "2011-08-31"]
    _run([*args, "--decimal", ",", "-o", str(target)])
    embedded = files["tmp"] / "embedded-features.parquet"
    _run(["features", str(files["table"]), "--as-of", "2011-08-31", "-o", str(embedded)])
    assert_frame_equal(
        pl.read_parquet(target), pl.read_parquet(embedded), check_dtypes=False, rel_tol=1e-9
    )
    assert pl.read_parquet(target)["total_spend"].min() > 100  # thousands, not 3.668


def _ingest_params(command: Any) -> dict[str, tuple[Any, ...]]:
    return {
        p.name: (tuple(p.opts), tuple(p.secondary_opts), getattr(p, "help", None), p.default)
        for p in command.params
        if p.name in _FLAGS
    }


def test_one_definition_every_reader_has_the_same_options() -> None:
    group: Any = typer.main.get_command(app)
    ingest = _ingest_params(group.commands["ingest"])
    assert set(ingest) == set(_FLAGS)
    assert ingest["ingest_config"][0] == ("--config", "--ingest-config")
    assert ingest["keep_zero_price"][:2] == (("--keep-zero-price",), ("--drop-zero-price",))
    for name in READERS[1:]:
        params = _ingest_params(group.commands[name])
        if name == "track":  # --config is the tracking settings there
            assert params.pop("ingest_config")[0] == ("--ingest-config",)
            assert {k: v for k, v in ingest.items() if k != "ingest_config"} == params
        else:
            assert params == ingest, name
    # commands that read other tables (a feature table, a segments file) do not take them
    # (export's --table is the database table it writes)
    assert not _ingest_params(group.commands["segment"])
    assert set(_ingest_params(group.commands["export"])) == {"table"}
