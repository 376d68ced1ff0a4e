"""`seglens db`, `seglens labels`, `seglens forget`, `seglens track`, `seglens history`.

Thin commands over :mod:`seglens.store` and :mod:`seglens.tracking`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.table import Table

from seglens.cli._app import app, console, err_console, sub_app
from seglens.errors import UsageError

if TYPE_CHECKING:
    from seglens.store import Policy

db_app = sub_app("db", "Create, upgrade and inspect the seglens database.")
labels_app = sub_app("labels", "Import and inspect segment labels (feedback from sales/service).")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite file (default: $SEGLENS_DB, else "
        "$XDG_DATA_HOME/seglens/seglens.db).",
        show_default=False,
    ),
]


@db_app.command("upgrade")
def db_upgrade(
    db: DbOption = None,
    revision: Annotated[str, typer.Option(help="Target schema revision.")] = "head",
) -> None:
    """Create the database or bring its schema up to date (also done automatically)."""
    from seglens.store import resolve_db_url, upgrade
    from seglens.store.engine import make_engine

    engine = make_engine(resolve_db_url(db))
    try:
        before, after = upgrade(engine, revision)
    finally:
        engine.dispose()
    if before == after:
        console.print(f"schema already at revision {after} ({engine.url.render_as_string()})")
    else:
        console.print(f"schema upgraded from {before or 'empty'} to {after}")


@db_app.command("status")
def db_status(db: DbOption = None) -> None:
    """Show where the database is, its schema revision and how many rows each table holds."""
    from seglens.store import current_revision, open_store, table_counts

    with open_store(db) as store:
        counts = table_counts(store)
        console.print(f"database: {store.engine.url.render_as_string()}")
        console.print(f"schema revision: {current_revision(store.engine)}")
        table = Table("table", "rows")
        for name, n in counts.items():
            table.add_row(name, f"{n:,}")
        console.print(table)


@labels_app.command("import")
def labels_import(
    file: Annotated[Path, typer.Argument(help="CSV, TSV, XLSX or Parquet file of labels.")],
    db: DbOption = None,
    columns: Annotated[
        str | None,
        typer.Option(help="Column mapping canonical=source,... (customer_id, segment, ...)."),
    ] = None,
    policy: Annotated[
        str,
        typer.Option(help="How conflicting labels decide the current segment: latest|majority."),
    ] = "latest",
    segments: Annotated[
        str | None,
        typer.Option(help="Comma-separated segment names to accept besides the latest run's."),
    ] = None,
    allow_unknown_segments: Annotated[
        bool, typer.Option(help="Keep labels naming segments no run uses.")
    ] = False,
) -> None:
    """Import labels; re-importing the same file adds nothing. Unknown names are reported."""
    from seglens.store import current_labels, file_sha256, open_store, store_labels
    from seglens.store.files import parse_columns, read_labels_file

    if policy not in ("latest", "majority"):
        raise UsageError(f"unknown policy {policy!r}", hint="use latest or majority")
    mapping = parse_columns(columns)
    digest = file_sha256(file)
    loaded = read_labels_file(file, columns=mapping)
    known = [s.strip() for s in (segments or "").split(",") if s.strip()]
    with open_store(db) as store:
        res = store_labels(
            store,
            loaded.table,
            source=str(file),
            file_hash=digest,
            lines=loaded.lines,
            report=loaded.report,
            known_segments=known,
            allow_unknown_segments=allow_unknown_segments,
        )
        if res.duplicate_file:
            console.print(
                f"{file}: already imported on {res.previous_import_at:%Y-%m-%d %H:%M} UTC; "
                "nothing added"
            )
            return
        console.print(f"{file}: {res.added:,} labels added (import {res.import_id})")
        _print_import_problems(res)
        current = current_labels(store, cast("Policy", policy))
        console.print(
            f"{current.height:,} customers labelled; current segment by {policy!r} policy"
        )


def _print_import_problems(res: object) -> None:
    from seglens.store import LabelImportResult

    assert isinstance(res, LabelImportResult)
    if res.already_present or res.duplicate_rows:
        console.print(
            f"skipped {res.already_present:,} labels already stored and "
            f"{res.duplicate_rows:,} repeated rows"
        )
    if res.invalid_lines:
        err_console.print(
            f"[yellow]{len(res.invalid_lines):,} rows without customer or segment[/yellow] "
            f"(lines {_few(res.invalid_lines)})"
        )
    for seg, lines in res.unknown_segments.items():
        err_console.print(
            f"[yellow]unknown segment {seg!r}[/yellow]: {len(lines):,} rows skipped "
            f"(lines {_few(lines)}); accept it with --segments or --allow-unknown-segments"
        )
    if res.unknown_customers:
        err_console.print(
            f"[yellow]{len(res.unknown_customers):,} customers not in any run[/yellow] "
            f"(kept): {_few(res.unknown_customers)}"
        )
    if res.conflicting_customers:
        err_console.print(
            f"{len(res.conflicting_customers):,} customers have conflicting labels in this file: "
            f"{_few(res.conflicting_customers)}"
        )


def _few(values: list[int] | list[str], k: int = 10) -> str:
    shown = ", ".join(str(v) for v in values[:k])
    return shown + (f" and {len(values) - k:,} more" if len(values) > k else "")


@labels_app.command("add")
def labels_add(
    customer_id: Annotated[str, typer.Argument(help="The customer checked.")],
    segment: Annotated[str, typer.Argument(help="The segment the reviewer says is right.")],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option(help="Who checked.")] = None,
    source: Annotated[str | None, typer.Option(help="sales, service, audit, ...")] = None,
    note: Annotated[str | None, typer.Option(help="The reviewer's reason.")] = None,
) -> None:
    """Record one confirmation or correction."""
    from seglens.store import add_label, open_store

    with open_store(db) as store:
        label_id = add_label(store, customer_id, segment, labeled_by=by, source=source, note=note)
    console.print(f"label {label_id} recorded")


@labels_app.command("show")
def labels_show(
    customer_id: Annotated[str | None, typer.Argument(help="Show one customer's history.")] = None,
    db: DbOption = None,
    policy: Annotated[str, typer.Option(help="latest|majority")] = "latest",
    output: Annotated[Path | None, typer.Option(help="Write the table to CSV.")] = None,
) -> None:
    """Show the current segment per labelled customer, or one customer's full history."""
    from seglens.store import current_labels, label_history, open_store

    if policy not in ("latest", "majority"):
        raise UsageError(f"unknown policy {policy!r}", hint="use latest or majority")
    with open_store(db) as store:
        frame = (
            label_history(store, customer_id)
            if customer_id
            else current_labels(store, cast("Policy", policy))
        )
    if output is not None:
        frame.write_csv(output)
        console.print(f"{frame.height:,} rows written to {output}")
        return
    table = Table(*frame.columns)
    for row in frame.head(50).iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if frame.height > 50:
        console.print(f"... {frame.height - 50:,} more rows (use --output)")


@app.command()
def forget(
    customer_id: Annotated[str, typer.Argument(help="The customer to erase.")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a customer from the store everywhere (right to erasure); audited by pseudonym."""
    from seglens.store import forget_customer, open_store

    if not yes and not typer.confirm(f"Erase every record of customer {customer_id!r}?"):
        raise typer.Exit(1)
    with open_store(db) as store:
        res = forget_customer(store, customer_id)
    removed = ", ".join(f"{n:,} {t}" for t, n in res.removed.items())
    console.print(f"removed {removed}; audit pseudonym {res.pseudonym}")
