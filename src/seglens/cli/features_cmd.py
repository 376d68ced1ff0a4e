"""`seglens features`: transactions in, one row of features per customer out."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, cast

import polars as pl
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from seglens.cli._app import app, check_output, console, emit_json, err_console, quiet
from seglens.cli._ingest_options import IngestArgs, with_ingest_options
from seglens.errors import UsageError
from seglens.spark.cli import SparkConfigOption

__all__ = ["features", "parse_columns"]


def parse_columns(text: str | None) -> dict[str, str]:
    """``"customer_id=CustID,timestamp=OrderDate"`` -> ``{"customer_id": "CustID", ...}``."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        canonical, sep, source = part.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise UsageError(
                f"cannot read the column mapping {part!r}",
                hint="write canonical=source pairs, e.g. customer_id=CustID,amount=Total",
            )
        out[canonical.strip()] = source.strip()
    return out


@contextmanager
def _step(progress: Progress, text: str) -> Iterator[None]:
    task = progress.add_task(text, total=None)
    try:
        yield
    finally:
        progress.update(task, total=1, completed=1, description=f"[green]✓[/green] {text}")


def _spark_lines(source: str, master: str | None, as_of: str | None, args: IngestArgs) -> Any:
    """The lines of ``source`` read and cleaned by Spark with the ingest options (the one
    cleaning definition: :func:`seglens.io.spark_cleaning.clean_on_spark`)."""
    from seglens.features.spark import spark_session
    from seglens.spark.commands import read_lines, spark_options

    opts = spark_options(source, args.keywords())
    columns = opts.pop("columns", None)
    return read_lines(spark_session(master), source, columns, as_of=as_of, **opts).table


@app.command()
@with_ingest_options()
def features(
    transactions: Annotated[
        str,
        typer.Argument(
            help="Transactions: a CSV/Parquet/Excel file or database URL (with --engine spark: "
            "a Parquet/CSV file or folder, or table:NAME read by Spark)."
        ),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write (.parquet/.csv).")],
    as_of: Annotated[
        str | None,
        typer.Option(help="Cut-off date or date-time; later lines are ignored. Default: latest."),
    ] = None,
    engine: Annotated[str, typer.Option(help="auto (Polars), polars, duckdb or spark.")] = "auto",
    spark_master: Annotated[
        str | None,
        typer.Option(help="spark.master for --engine spark (default local[2])."),
    ] = None,
    spark_config: SparkConfigOption = None,
    feature_set: Annotated[str, typer.Option("--set", help="lifetimes, rfm or all.")] = "all",
    customers: Annotated[
        Path | None, typer.Option(help="Customers table (customer_id + demographics) to join.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the summary (rows, columns, as_of, output) as JSON."),
    ] = False,
    *,
    ingest_args: IngestArgs,
) -> None:
    """Compute one row of features per customer and write them to a file."""
    from seglens.features import customer_features
    from seglens.features._cutoff import resolve_cutoff
    from seglens.features._input import ENGINES
    from seglens.features.catalog import FEATURE_SETS, FeatureSet
    from seglens.spark.sources import is_spark_source, is_uri

    if feature_set not in FEATURE_SETS:
        raise UsageError(f"unknown feature set {feature_set!r}", hint="use lifetimes, rfm or all")
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    if as_of is not None:
        resolve_cutoff(as_of, None)  # a bad date fails before any loading
    # a str until the engine is known: a Path would turn s3a://bucket/x into s3a:/bucket/x
    if Path(output).suffix.lower() not in (".parquet", ".csv"):
        shown = output if is_uri(output) else str(Path(output))
        raise UsageError("the output must be a .parquet or .csv file", source=shown)
    columns = ingest_args.columns
    if engine == "spark" and customers is None:  # computed and written by Spark (docs/spark.md)
        from seglens.spark.cli import features_command, settings_for

        settings = settings_for(spark_master, spark_config)
        mapping = parse_columns(columns)
        keywords = ingest_args.keywords()  # the lines are cleaned on Spark with these
        features_command(
            settings, transactions, output, as_of, mapping, feature_set, as_json, keywords
        )
        return
    out = Path(output)
    check_output(out, "-o/--output")
    started = time.perf_counter()
    # Quiet: the progress draws into a sink (older Rich still ends a disabled live display
    # with a newline on its console).
    sink = Console(file=io.StringIO()) if quiet() else err_console
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=sink,
        disable=quiet(),
    )
    with progress:
        with _step(progress, f"reading {transactions}"):
            kwargs: dict[str, Any] = {"engine": engine}
            if engine == "spark" and is_spark_source(transactions):
                data: Any = _spark_lines(transactions, spark_master, as_of, ingest_args)
                kwargs["spark"] = data.sparkSession
            else:
                data = ingest_args.load(transactions, as_of=as_of).table
                if engine == "spark":
                    from seglens.features.spark import spark_session

                    kwargs["spark"] = spark_session(spark_master)
            extra = None
            if customers is not None:
                from seglens.io import load_table
                from seglens.tables import CUSTOMERS

                extra = load_table(customers, CUSTOMERS).table
        with _step(progress, f"computing features on {engine}"):
            result = customer_features(
                data,
                as_of=as_of,
                feature_set=cast(FeatureSet, feature_set),
                customers=extra,
                **kwargs,
            )
        with _step(progress, f"writing {out}"):
            _write(result.table, out)
    seconds = time.perf_counter() - started
    if as_json:
        emit_json(_summary_json(result, out, seconds))
    else:
        _summary(result, out, seconds)


def _summary_json(result: Any, output: Path, seconds: float) -> dict[str, Any]:
    """The feature table's summary as JSON: rows, columns, as_of, output path."""
    table: pl.DataFrame = result.table
    report = result.demographics
    return {
        "rows": table.height,
        "columns": table.columns,
        "n_features": table.width - 1,
        "as_of": result.as_of,
        "engine": result.engine,
        "output": str(output),
        "seconds": round(seconds, 3),
        "omitted": list(result.omitted),
        "demographics": None
        if report is None
        else {
            "numeric": list(report.numeric),
            "encoded": list(report.encoded),
            "without_row": report.without_row,
            "missing": dict(report.missing),
            "dropped": dict(report.dropped),
        },
    }


def _write(table: pl.DataFrame, output: Path) -> None:
    from seglens.io.atomic import atomic_path

    with atomic_path(output, option="-o/--output") as tmp:
        if output.suffix.lower() == ".csv":
            table.write_csv(tmp)
        else:
            table.write_parquet(tmp)


def _summary(result: Any, output: Path, seconds: float) -> None:
    table: pl.DataFrame = result.table
    console.print(
        f"{table.height:,} customers x {table.width - 1} features"
        f" as of {result.as_of:%Y-%m-%d %H:%M} on {result.engine} in {seconds:.1f} s -> {output}"
    )
    if result.omitted:
        console.print(
            f"[dim]not computed (source column absent): {', '.join(result.omitted)}[/dim]"
        )
    report = result.demographics
    if report is not None:
        console.print(
            f"demographics: {len(report.numeric)} numeric, {len(report.encoded)} encoded, "
            f"{report.without_row:,} customers without a row"
        )
        for name, n in report.missing.items():
            console.print(f"[yellow]missing[/yellow] {name}: {n:,} customers")
        for name, why in report.dropped.items():
            console.print(f"[dim]dropped {name}: {why}[/dim]")
