"""`seglens ingest`: load a file and print its cleaning report (registered on import)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from seglens.cli._app import app, check_output, console
from seglens.cli._ingest_options import IngestArgs, parse_size, with_ingest_options
from seglens.cli._stdio import is_dash, stdin_path, stdout_to_stderr, write_stdout
from seglens.errors import UsageError
from seglens.io import CleaningReport, LoadedTable
from seglens.io.atomic import atomic_path
from seglens.spark.cli import EngineOption, SparkConfigOption, SparkMasterOption, check_engine

__all__ = ["ingest", "parse_size", "print_report"]

_SHORT = {
    "empty_line": "empty line: excluded",
    "unparseable_timestamp": "date unreadable: excluded",
    "unparseable_amount": "amount unreadable: excluded",
    "missing_order_id": "no order id: excluded",
    "missing_customer_id": "no customer id: excluded",
    "duplicate_line": "repeat of an earlier line",
    "non_product_code": "postage / fee / adjustment code",
    "zero_price": "price is zero",
    "after_as_of": "after the as-of date: excluded",
    "implausible_year": "year before 1900 or in the future",
    "cancellation": "cancelled order: kept as return",
    "return_flag": "source says return: kept as return",
    "negative_line": "negative line: kept as return",
    "return_sign": "positive return: amount negated",
    "customer_id_decimal": "17850.0 read as 17850",
    "invalid_utf8": "invalid UTF-8 bytes replaced",
    "formula_like_value": "text looks like a formula",
}


def print_report(loaded: LoadedTable) -> None:
    """Print the mapping used and the cleaning report as Rich tables."""
    report: CleaningReport = loaded.report
    # names and values come from the user's file: printed as text, never as Rich markup
    console.print(
        f"[bold]{escape(report.source)}[/bold] ({report.format}"
        + (f", layout: {escape(report.layout)}" if report.layout else "")
        + ")"
    )
    details = ", ".join(f"{k}: {v}" for k, v in report.details.items() if v not in (None, [], ""))
    if details:
        console.print(f"[dim]{escape(details)}[/dim]")
    mapping = Table(title="Column mapping used", title_justify="left")
    mapping.add_column("canonical")
    mapping.add_column("source column")
    mapping.add_column("how")
    for m in report.mapping:
        mapping.add_row(m.canonical, escape(m.source), m.how)
    console.print(mapping)
    rules = Table(title="Cleaning report", title_justify="left")
    rules.add_column("rule", no_wrap=True)
    rules.add_column("rows", justify="right", no_wrap=True)
    rules.add_column("excluded", justify="right", no_wrap=True)
    rules.add_column("action")
    rules.add_column("what")
    rules.add_column("first lines")
    for r in report.rules:
        if r.action == "not_applied":
            style = "dim"
        elif r.rows and r.action == "excluded":
            style = "yellow"
        else:
            style = ""
        lines = ", ".join(str(e["line"]) for e in r.examples[:3])
        what = escape(_SHORT.get(r.rule, r.description))
        rules.add_row(
            r.rule, f"{r.rows:,}", f"{r.rows_excluded:,}", r.action, what, lines, style=style
        )
    console.print(rules)
    console.print(
        f"rows read [bold]{report.rows_read:,}[/bold], kept [bold]{report.rows_kept:,}[/bold], "
        f"excluded {report.rows_excluded:,}; customers read {report.customers_read:,}, "
        f"kept {report.customers_kept:,}"
    )
    console.print(
        "[dim]rows = lines matching the rule; excluded = removed by it and no earlier "
        "rule (--json gives the full descriptions and examples)[/dim]"
    )
    for w in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}", highlight=False)


def _ingest_spark(
    path: str,
    output: str | None,
    as_of: str | None,
    as_json: bool,
    spark: tuple[str | None, Path | None],
    ingest_args: IngestArgs,
) -> None:
    """``--engine spark``: the same report; the canonical lines written by Spark (a folder)."""
    from seglens.spark.cli import settings_for
    from seglens.spark.commands import ingest_on_spark

    if is_dash(path) or is_dash(output):
        raise UsageError("--engine spark reads and writes files or tables, not - (stdin/stdout)")
    cleaned, where = ingest_on_spark(
        settings_for(*spark), path, output, as_of=as_of, keywords=ingest_args.keywords()
    )
    if as_json:
        data = cleaned.report.to_dict()
        if output is not None:
            data["output"] = output
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    print_report(LoadedTable(pl.DataFrame(), cleaned.report, {}, path))
    if where is not None:
        console.print(f"canonical table written by Spark to {escape(where)}")


@app.command()
@with_ingest_options()
def ingest(
    path: Annotated[
        str,
        typer.Argument(
            help="File (CSV/TSV, .gz, Parquet, .xlsx), - for CSV on stdin, or a "
            "SQLAlchemy URL (sqlite:///shop.db, postgresql+psycopg://...)."
        ),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="exclude lines after this date (YYYY-MM-DD = end of that day)"
        ),
    ] = None,
    output: Annotated[
        str | None,  # a str: a Path would turn s3a://bucket/x into s3a:/bucket/x for Spark
        typer.Option(
            "--output",
            "-o",
            help="write the canonical table (.parquet or .csv; - for CSV on stdout)",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="print the report as JSON (stable schema, docs/ingestion.md)"),
    ] = False,
    engine: EngineOption = "embedded",
    spark_master: SparkMasterOption = None,
    spark_config: SparkConfigOption = None,
    *,
    ingest_args: IngestArgs,
) -> None:
    """Load transactions, print the column mapping used and the cleaning report."""
    if check_engine(engine):  # cleaned and written by Spark (docs/spark.md)
        _ingest_spark(path, output, as_of, as_json, (spark_master, spark_config), ingest_args)
        return
    out = None if output is None else Path(output)
    to_stdout = is_dash(out)
    if out is not None and not to_stdout and out.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"cannot write {out.name}", hint="use a .parquet or .csv name")
    check_output(out, "-o/--output")
    with stdin_path(path) if is_dash(path) else nullcontext(path) as source:
        loaded = ingest_args.load(source, as_of=as_of)
    if to_stdout:  # the canonical table as CSV on stdout; the report on stderr
        write_stdout(loaded.table.write_csv().encode("utf-8"))
        if as_json:
            data = loaded.report.to_dict()
            data["output"] = "<stdout>"
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False), err=True)
        else:
            with stdout_to_stderr(console):
                print_report(loaded)
        return
    if out is not None:
        with atomic_path(out, option="-o/--output") as tmp:
            if out.suffix.lower() == ".parquet":
                loaded.table.write_parquet(tmp)
            else:
                loaded.table.write_csv(tmp)
    if as_json:
        data = loaded.report.to_dict()
        if out is not None:
            data["output"] = str(out)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    print_report(loaded)
    if out is not None:
        console.print(f"canonical table written to [bold]{escape(str(out))}[/bold]")
