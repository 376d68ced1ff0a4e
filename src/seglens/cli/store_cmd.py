"""`seglens db`, `seglens labels`, `seglens forget`, `seglens track`, `seglens history`.

Thin commands over :mod:`seglens.store` and :mod:`seglens.tracking`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import polars as pl
import typer
from rich.table import Table

from seglens.cli._app import (
    FailUnderOption,
    RequireIntervalOption,
    app,
    check_options,
    console,
    emit_json,
    err_console,
    quality_gate,
    sub_app,
)
from seglens.cli._ingest_options import IngestArgs, with_ingest_options
from seglens.cli._stdio import source_name, stdin_path
from seglens.errors import UsageError
from seglens.settings import DEFAULT_SETTINGS
from seglens.spark.cli import (
    EngineOption,
    SparkConfigOption,
    SparkMasterOption,
    SparkSampleOption,
    import_hash,
    rows_loaded,
    track_input,
    track_runner,
)

if TYPE_CHECKING:
    from seglens.store import Policy
    from seglens.tracking.webhook import WebhookFormat

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
def db_status(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show where the database is, its schema revision and how many rows each table holds."""
    from seglens.store import current_revision, open_store, table_counts

    with open_store(db) as store:
        counts = table_counts(store)
        url = store.engine.url.render_as_string()
        revision = current_revision(store.engine)
        if as_json:
            emit_json({"database": url, "revision": revision, "tables": dict(counts)})
            return
        console.print(f"database: {url}")
        console.print(f"schema revision: {revision}")
        table = Table("table", "rows")
        for name, n in counts.items():
            table.add_row(name, f"{n:,}")
        console.print(table)


@labels_app.command("import")
def labels_import(
    file: Annotated[
        Path, typer.Argument(help="CSV, TSV, XLSX or Parquet file of labels; - for CSV on stdin.")
    ],
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
    run: Annotated[
        int | None,
        typer.Option(
            help="The run the reviewers judged (default: the file's run_id column, else the "
            "latest run)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Tracking settings used to re-measure the run (see `seglens track`)."),
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            help="kpi (counts for the KPI) or teach (teaches a model, never counts); default: "
            "the file's purpose column, else kpi."
        ),
    ] = None,
    pad_ids: Annotated[
        bool | None,
        typer.Option(
            "--pad-ids/--no-pad-ids",
            help="Ids that match stored customers only with their leading zeros restored (461 "
            "for 00461, as Excel writes them): restore the zeros, or keep the ids as written. "
            "Such a file is refused until one is given.",
        ),
    ] = None,
) -> None:
    """Import labels for the run they judged and re-measure that run's KPI.

    Re-importing the same file adds nothing. Unknown names are reported. Teaching labels
    (a `seglens labels suggest` sheet, or --purpose teach) are stored but never counted.
    """
    from seglens.store import file_sha256, open_store, store_labels
    from seglens.store.files import read_labels_file

    if policy not in ("latest", "majority"):
        raise UsageError(f"unknown policy {policy!r}", hint="use latest or majority")
    name = source_name(file)
    with stdin_path(file) as path:  # stdin: its bytes in a private temporary file
        loaded = read_labels_file(path, columns=columns)  # refuses missing files, folders, devices
        digest = file_sha256(path)
    known = [s.strip() for s in (segments or "").split(",") if s.strip()]
    with open_store(db) as store:
        res = store_labels(
            store,
            loaded.table,
            source=name,
            file_hash=digest,
            lines=loaded.lines,
            report=loaded.report,
            known_segments=known,
            allow_unknown_segments=allow_unknown_segments,
            run_id=run,
            purpose=purpose,
            pad_ids=pad_ids,
        )
        if res.duplicate_file:
            console.print(
                f"{name}: already imported on {res.previous_import_at:%Y-%m-%d %H:%M} UTC; "
                "nothing added"
            )
            return
        bound = f"judging run {res.bound_to_run}" if res.bound_to_run else "not bound to a run"
        console.print(f"{name}: {res.added:,} labels added (import {res.import_id}), {bound}")
        if res.purpose == "teach":
            console.print("stored as teaching labels: they teach models, never count in a KPI")
        _print_skipped(loaded.report)
        _print_import_problems(res)
        if res.bound_to_run is not None:
            _remeasure(store, res.bound_to_run, config, policy)


def _print_skipped(report: dict[str, Any]) -> None:
    """Rows the reader skipped for a blank customer id or segment, with their lines."""
    words = {"missing_customer_id": "without a customer id", "missing_segment": "without a segment"}
    counts = {r["rule"]: r["rows"] for r in report.get("rules", [])}
    for rule, lines in report.get("details", {}).get("excluded_lines", {}).items():
        if rule in words and lines:
            shown = ", ".join(map(str, lines[:10])) + (", ..." if counts[rule] > 10 else "")
            err_console.print(
                f"skipped {counts[rule]:,} rows {words[rule]} (lines {shown})",
                markup=False,
                highlight=False,
            )


def _remeasure(store: Any, run_id: int, config: Path | None, policy: str | None = None) -> None:
    """Measure ``run_id`` again with the tracking settings and print its stored figures."""
    from seglens.tracking import deliver_alerts
    from seglens.tracking.config import load_tracking_config
    from seglens.tracking.measure import measure_configured

    res = measure_configured(store, run_id, load_tracking_config(config).override(policy=policy))
    _print_kpis(res.kpis, res.selection.counts, f"run {run_id} ({res.period.label})")
    if res.resolved_alerts:
        console.print(
            f"{len(res.resolved_alerts)} alert(s) resolved: their condition no longer holds"
        )
    with _alerts_to_log_file():
        deliver_alerts(res.alerts)
    _show_alerts(res.alerts)


def _label_counts(counts: dict[str, int]) -> str:
    return (
        f"labels: {counts['fresh']:,} fresh (judged this run), {counts['carried']:,} carried "
        f"from earlier runs, {counts['expired']:,} expired (not counted)"
    )


def _print_kpis(kpis: Sequence[Any], counts: dict[str, int], title: str) -> None:
    """The accuracy KPIs (or "not measured"), then label-free signals apart, as monitoring."""
    from seglens.tracking.measure import PROXY_METRICS

    measured = [k for k in kpis if k.metric not in PROXY_METRICS]
    if measured:
        table = Table("metric", "value", "95 % CI", "n", "change", "method", title=title)
        for k in measured:
            change = (
                "" if k.change_pts is None else f"{k.change_pts:+.1f} pts ({_p(k.change_p_value)})"
            )
            table.add_row(
                k.metric,
                f"{k.value:.1f} %",
                f"{k.ci_low:.1f}–{k.ci_high:.1f}",
                f"{k.n:,}",
                change,
                k.method,
            )
        console.print(table)
    else:
        console.print(
            f"{title}: segmentation accuracy not measured (n = 0): no label judged this run",
            highlight=False,
        )
    console.print(_label_counts(counts), highlight=False)
    _print_monitoring([k for k in kpis if k.metric in PROXY_METRICS])


def _print_monitoring(proxies: Sequence[Any]) -> None:
    """Label-free signals with their calibrated error: never shown as the KPI."""
    from seglens.accuracy import proxy_caveat
    from seglens.tracking.measure import PROXY_METRICS

    for k in proxies:
        console.print(
            f"monitoring (label-free, not the KPI): {k.metric} {k.value:.1f} % "
            f"(n={k.n:,}) — {proxy_caveat(PROXY_METRICS[k.metric])}",
            highlight=False,
        )


def _print_audit_plan(sizes: dict[str, int]) -> None:
    """Labels a stratified audit needs for ±5 and ±3 points, overall and per segment."""
    from seglens.audit import plan_rows, plans_for_margins

    plans = plans_for_margins(sizes)
    table = Table(
        "segment", "customers", *[f"labels for ±{m:g}" for m in plans], title="audit plan"
    )
    for row in plan_rows(plans):
        labels = [f"{n:,}" for n in row.labels]
        table.add_row(row.segment or "total", f"{row.customers:,}", *labels)
    console.print(table)
    console.print(
        "draw it with `seglens audit-sample --db ... --margin 5` and measure it with "
        "`seglens audit-estimate SHEET --db ...`",
        highlight=False,
    )


def _p(p: float | None) -> str:
    if p is None:
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _print_import_problems(res: object) -> None:
    from seglens.store import LabelImportResult

    assert isinstance(res, LabelImportResult)
    if res.checked_against_run is None:
        err_console.print(
            "[yellow]no segmentation run in the store yet:[/yellow] customer ids and segment "
            "names could not be checked, and the labels judge no run, so they will not count "
            "for any KPI (run `seglens track` first)"
        )
    if res.not_in_bound_run:
        err_console.print(
            f"[yellow]{len(res.not_in_bound_run):,} customers are not in run "
            f"{res.bound_to_run}[/yellow] (kept, not counted for it): "
            f"{_few(res.not_in_bound_run)}"
        )
    if res.padded_ids:
        first, padded = next(iter(res.padded_ids.items()))
        console.print(
            f"restored the leading zeros of {len(res.padded_ids):,} ids (e.g. {first} -> "
            f"{padded}), as --pad-ids asked",
            markup=False,
            highlight=False,
        )
    if res.already_present or res.duplicate_rows:
        console.print(
            f"skipped {res.already_present:,} labels already stored and "
            f"{res.duplicate_rows:,} repeated rows"
        )
    if res.invalid_lines:
        err_console.print(
            f"[yellow]{len(res.invalid_lines):,} rows without customer or segment[/yellow] "
            f"(rows {_few(res.invalid_lines)})"
        )
    for seg, lines in res.unknown_segments.items():
        err_console.print(
            f"[yellow]unknown segment {seg!r}[/yellow]: {len(lines):,} rows skipped "
            f"(rows {_few(lines)}); accept it with --segments or --allow-unknown-segments"
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
    run: Annotated[
        int | None, typer.Option(help="The run the reviewer judged (default: the latest).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Tracking settings used to re-measure the run (see `seglens track`)."),
    ] = None,
) -> None:
    """Record one confirmation or correction of the segment a run gave, and re-measure it."""
    from seglens.store import add_label, label_history, open_store
    from seglens.store.labels import label_warnings

    with open_store(db) as store:
        label_id = add_label(
            store, customer_id, segment, labeled_by=by, source=source, note=note, run_id=run
        )
        row = label_history(store, customer_id).filter(pl.col("id") == label_id).row(0, named=True)
        judged = row["run_id"]
        console.print(
            f"label {label_id} recorded"
            + (f" for run {judged} (shown: {row['judged_segment']})" if judged else " (no run yet)")
        )
        for warning in label_warnings(store, customer_id, segment, judged):
            err_console.print(f"warning: {warning}", markup=False, highlight=False)
        if judged is not None:
            _remeasure(store, judged, config)


@labels_app.command("show")
def labels_show(
    customer_id: Annotated[str | None, typer.Argument(help="Show one customer's history.")] = None,
    db: DbOption = None,
    policy: Annotated[str, typer.Option(help="latest|majority")] = "latest",
    output: Annotated[Path | None, typer.Option(help="Write the table to CSV.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every row as JSON (no 50-row cut).")
    ] = False,
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
        from seglens.io.atomic import write_bytes_atomic

        write_bytes_atomic(output, frame.write_csv().encode("utf-8"), option="--output")
        if not as_json:
            console.print(f"{frame.height:,} rows written to {output}")
            return
    if as_json:
        emit_json(
            {
                "customer_id": customer_id,
                "policy": None if customer_id else policy,
                "rows": frame.height,
                "labels": frame.to_dicts(),
            }
        )
        return
    table = Table(*frame.columns)
    for row in frame.head(50).iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if frame.height > 50:
        console.print(f"... {frame.height - 50:,} more rows (use --output)")


@labels_app.command("suggest")
def labels_suggest(
    n: Annotated[int, typer.Argument(help="How many customers to suggest.")],
    db: DbOption = None,
    run: Annotated[
        int | None,
        typer.Option(help="The run whose customers and features to use (default: the latest)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the sheet (CSV).")] = Path(
        "teach_sheet.csv"
    ),
    seed: Annotated[int, typer.Option(help="Random seed (ties, a first random batch).")] = 0,
) -> None:
    """Pick the customers whose labels would teach a model most, as a sheet to fill in.

    Margin sampling over the run's stored features, spread over predicted segments. Import the
    filled sheet with `seglens labels import`: its labels are teaching labels, never counted.
    """
    from seglens.segmenters import latest_labels, suggest_labels, teaching_sheet
    from seglens.store import (
        label_events,
        latest_run,
        open_store,
        run_assignments,
        run_features,
        run_info,
    )

    with open_store(db) as store:
        info = latest_run(store) if run is None else run_info(store, run)
        if info is None:
            raise UsageError("no such segmentation run in the store", hint="see `seglens history`")
        features = run_features(store, info.id)
        assigned = run_assignments(store, info.id)
        labels = latest_labels(label_events(store))
    if features.width < 2:
        raise UsageError(f"run {info.id} stored no customer features to learn from")
    picks = suggest_labels(features, labels, n, assigned=assigned, random_state=seed)
    sheet = teaching_sheet(picks, assigned, info.id)
    from seglens.io.atomic import write_bytes_atomic

    sheet_bytes = b"\xef\xbb\xbf" + sheet.write_csv().encode("utf-8")  # Excel-friendly
    write_bytes_atomic(out, sheet_bytes, option="--out")
    console.print(f"{picks.method}: {picks.reason}", highlight=False)
    if picks.method == "margin":
        per = picks.customers.group_by("predicted_segment").len().sort("predicted_segment")
        spread = ", ".join(f"{s} {k:,}" for s, k in per.iter_rows())
        margins = picks.customers["margin"].to_numpy()
        console.print(
            f"margins {margins.min():.2f}–{margins.max():.2f}; predicted segments: {spread}",
            highlight=False,
        )
    console.print(
        f"wrote {sheet.height:,} of {picks.n_candidates:,} unlabelled customers of run {info.id} "
        f"to {out}: fill in reviewer_segment, then `seglens labels import {out}` (teaching "
        "labels: never counted in the KPI)",
        highlight=False,
    )


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


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise UsageError(f"not a date: {text!r}", hint="write --as-of YYYY-MM-DD") from err


@app.command()
@with_ingest_options(config_alias=False)  # --config is the tracking settings here
def track(
    transactions: Annotated[  # a str: a Path would turn s3a://b/x into s3a:/b/x for Spark
        str, typer.Argument(help="Transactions file (CSV, Parquet, XLSX).")
    ],
    as_of: Annotated[str, typer.Option("--as-of", help="Cut-off date YYYY-MM-DD.")],
    db: DbOption = None,
    labels: Annotated[
        Path | None, typer.Option(help="Labels file to import before measuring.")
    ] = None,
    label_columns: Annotated[
        str | None, typer.Option(help="Labels column mapping canonical=source,...")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Tracking settings (default $XDG_CONFIG_HOME/seglens/tracking.toml)."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(help="Segmenter saved with save_model (refitted each period); default RFM."),
    ] = None,
    period: Annotated[str | None, typer.Option(help="quarter (default) or month.")] = None,
    policy: Annotated[str | None, typer.Option(help="Label conflicts: latest|majority.")] = None,
    target: Annotated[
        float | None, typer.Option(help=f"KPI target in percent [{DEFAULT_SETTINGS.target_pct:g}].")
    ] = None,
    drop_points: Annotated[
        float | None, typer.Option(help="Alert on a significant drop of N points [5].")
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(help=f"Wanted CI half-width, points [{DEFAULT_SETTINGS.margin_pts:g}]."),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(help="Slack/Teams webhook URL for alerts (default $SEGLENS_WEBHOOK_URL)."),
    ] = None,
    webhook_format: Annotated[str | None, typer.Option(help="slack or teams.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored KPI as JSON.")] = False,
    fail_under: FailUnderOption = None,
    require_interval: RequireIntervalOption = False,
    engine: EngineOption = "embedded",
    spark_master: SparkMasterOption = None,
    spark_config: SparkConfigOption = None,
    sample: SparkSampleOption = None,
    *,
    ingest_args: IngestArgs,
) -> None:
    """Segment as of a date, store the run and the period's KPI, compare and raise alerts."""
    check_options(fail_under, require_interval)
    from seglens.store import file_sha256, open_store, record_import
    from seglens.store.files import read_labels_file
    from seglens.store.id_padding import customers_among, refuse_lost_zeros
    from seglens.tracking import LabelsInput, check_as_of, deliver_alerts
    from seglens.tracking.config import load_tracking_config

    settings = load_tracking_config(config).override(
        period=period,
        policy=policy,
        target=target,
        drop_points=drop_points,
        margin=margin,
        webhook_url=webhook,
        webhook_format=webhook_format,
        model=str(model) if model else None,
    )
    day = _parse_day(as_of)
    segmenter = None
    if settings.model:
        from seglens.segmenters.persistence import load_model

        segmenter = load_model(settings.model)
    spark = (spark_master, spark_config)  # --engine spark: lines cleaned and kept in Spark
    loaded = track_input(engine, spark, transactions, ingest_args.keywords(), day)
    source = transactions
    if loaded is None:
        source = str(Path(transactions))
        loaded = ingest_args.load(Path(transactions))
        check_as_of(loaded.table, day)  # before anything is written to the store
    labels_in = None
    if labels is not None:
        lf = read_labels_file(labels, columns=label_columns)
        labels_in = LabelsInput(lf.table, str(labels), file_sha256(labels), lf.report, lf.lines)
        ids = lf.table["customer_id"].to_list()  # lost leading zeros: refused before any write
        refuse_lost_zeros(ids, customers_among(loaded.table, ids), lf.lines, str(labels))
    with open_store(db) as store:
        report = loaded.report.to_dict()
        record_import(
            store,
            kind="transactions",
            source=source,
            file_hash=import_hash(source, loaded),
            rows_read=int(report.get("rows_read", rows_loaded(loaded))),
            rows_loaded=rows_loaded(loaded),
            report=report,
        )
        res = track_runner(loaded, sample)(
            store,
            loaded.table,
            as_of=day,
            labels=labels_in,
            segmenter=segmenter,
            period_kind=settings.period,
            policy=cast("Policy", settings.policy),
            rules=settings.rules,
            carry=settings.carry,
        )
    if as_json:
        emit_json(_track_json(res))
    else:
        _print_track(res, day)
    fmt = cast("WebhookFormat", settings.webhook_format)
    with _alerts_to_log_file():
        sent = deliver_alerts(res.alerts, webhook_url=settings.webhook_url, webhook_format=fmt)
    if sent is not None and not sent.ok:
        err_console.print(f"[yellow]webhook delivery failed:[/yellow] {sent.error}")
    elif sent is not None:
        console.print(f"{len(res.alerts)} alert(s) sent to the webhook")
    # the stored headline: the audit estimate, else the labelled accuracy
    head = None if res.measurement is None else res.measurement.headline
    value, low, n = (None, None, 0) if head is None else (head.value, head.ci_low, head.n)
    what = f"{res.period.label} {'KPI' if head is None else head.metric}"
    quality_gate(what, value, low, n, fail_under, require_interval)


def alert_log_path() -> Path:
    """Where the CLI appends alerts: ``$XDG_STATE_HOME/seglens/alerts.log``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "seglens" / "alerts.log"


@contextmanager
def _alerts_to_log_file() -> Iterator[None]:
    """Send the alerts logger to the alert log file (the terminal already shows them)."""
    import logging

    logger = logging.getLogger("seglens.tracking.alerts")
    path = alert_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        handler.close()


def _print_track(res: Any, day: date) -> None:
    console.print(
        f"run {res.run_id}: {res.n_customers:,} customers segmented as of {day} "
        f"(period {res.period.label}); {res.n_labelled:,} labelled customers count for it"
    )
    if res.labels_import is not None:
        _print_import_problems(res.labels_import)
    m = res.measurement
    _print_kpis(res.kpis, m.selection.counts, f"KPI {res.period.label}")
    if m.audit is not None:
        a = m.audit
        state = (
            f"strata without a reviewed customer: {', '.join(a.missing_strata)}"
            if a.missing_strata
            else "every stratum reviewed"
        )
        console.print(
            f"audit design {a.design_id}: {a.reviewed:,} of {a.members:,} sampled customers "
            f"reviewed; {state}",
            highlight=False,
        )
    if m.headline is None:
        _print_audit_plan(res.segment_sizes)
    if res.migration is not None:
        moved = res.migration.flows.filter(_moved())
        console.print(
            f"migration since run {res.previous_run}: {int(moved['customers'].sum()):,} customers "
            "changed segment (see `seglens history`)"
        )
    _show_alerts(res.alerts)


def _history_row(r: dict[str, Any]) -> list[str]:
    change = "" if r["change_pts"] is None else f"{r['change_pts']:+.1f} pts"
    if r["significant_drop"]:
        change += " (drop)"
    ci = "" if r["ci_low"] is None else f"{r['ci_low']:.1f}–{r['ci_high']:.1f}"
    counts = (
        "" if r["n_fresh"] is None else f"{r['n_fresh']:,}/{r['n_carried']:,}/{r['n_expired']:,}"
    )
    return [
        r["metric"],
        r["period"],
        f"{r['value']:.1f} %",
        ci,
        f"{r['n']:,}",
        counts,
        change,
        _p(r["p_value"]),
    ]


def _track_json(res: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from seglens.audit import plan_audit

    head = res.measurement.headline
    plan = (
        None
        if head is not None
        else {f"{m:g}": plan_audit(res.segment_sizes, margin_pct=m).to_dict() for m in (3.0, 5.0)}
    )
    return {
        "run_id": res.run_id,
        "period": res.period.label,
        "n_customers": res.n_customers,
        "labels": res.measurement.selection.counts,
        "measured": head is not None,
        "headline": None if head is None else head.metric,
        "audit_plan": plan,
        "kpis": [asdict(k) for k in res.kpis],
        "alerts": [
            {"rule": a.rule, "severity": a.severity, "message": a.message} for a in res.alerts
        ],
    }


def _moved() -> Any:
    """Flows where the segment changed (customers who moved, arrived or left)."""
    import polars as pl

    return pl.col("from_segment") != pl.col("to_segment")


def _show_alerts(alerts: Sequence[Any]) -> None:
    for a in alerts:
        colour = "red" if a.severity == "critical" else "yellow"
        err_console.print(f"[bold {colour}]ALERT[/bold {colour}] {a.rule}: {a.message}")


@app.command()
def history(
    db: DbOption = None,
    metric: Annotated[str | None, typer.Option(help="Only this metric.")] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Also write trend.csv and the migration matrices (CSV) to this folder."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the trend as JSON.")] = False,
) -> None:
    """Show the KPI trend per period with its stored change test, label counts and migration."""
    from seglens.store import list_alerts, open_store
    from seglens.tracking import kpi_history, latest_migration

    with open_store(db) as store:
        trend = kpi_history(store, metric)
        moved = latest_migration(store)
        alerts = list_alerts(store, open_only=True)
    if as_json:
        emit_json({"trend": trend.to_dicts(), "open_alerts": alerts.height})
        return
    if trend.is_empty():
        console.print("no KPI measurements yet: run `seglens track`")
        return
    if output is not None:
        from seglens.io.atomic import check_folder, write_bytes_atomic

        if not output.is_dir():  # the folder itself is made; its parent must exist
            check_folder(output, option="--output")
            output.mkdir()
        tables = {"trend.csv": trend}
        if moved is not None:
            tables["migration_customers.csv"] = moved[2].wide("customers")
            tables["migration_revenue.csv"] = moved[2].wide("revenue")
        for name, frame in tables.items():
            write_bytes_atomic(output / name, frame.write_csv().encode("utf-8"))
        console.print(f"tables written to {output}")
    from seglens.accuracy import proxy_caveat
    from seglens.tracking.measure import PROXY_METRICS

    kpi = trend.filter(~pl.col("metric").is_in(list(PROXY_METRICS)))
    unmeasured = sorted(set(trend["period"].to_list()) - set(kpi["period"].to_list()))
    table = Table(
        "metric",
        "period",
        "value",
        "95 % CI",
        "n",
        "labels f/c/e",
        "change",
        "p",
        title="segmentation accuracy",
    )
    for r in kpi.iter_rows(named=True):
        table.add_row(*_history_row(r))
    for period in unmeasured:
        table.add_row("accuracy", period, "not measured", "", "0", "", "", "")
    console.print(table)
    monitoring = trend.filter(pl.col("metric").is_in(list(PROXY_METRICS)))
    if monitoring.height:
        mon = Table(
            "metric",
            "period",
            "value",
            "95 % CI",
            "n",
            "change",
            "p",
            title="monitoring (label-free signals, not the KPI)",
        )
        for r in monitoring.iter_rows(named=True):
            cells = _history_row(r)
            mon.add_row(*cells[:5], *cells[6:])
        console.print(mon)
        for name in sorted(set(monitoring["metric"].to_list())):
            console.print(f"{name}: {proxy_caveat(PROXY_METRICS[name])}", highlight=False)
    console.print(
        "labels f/c/e: fresh (judged that run) / carried from an earlier run / expired; "
        "change: against the previous period, tested with both estimates' standard errors"
    )
    if moved is not None:
        a, b, matrix = moved
        for values in ("customers", "revenue"):
            wide = matrix.wide(values)
            t = Table(
                f"{values}: run {a} → run {b}",
                *[c for c in wide.columns if c != "from_segment"],
                title=f"segment migration ({values})",
            )
            for row in wide.iter_rows():
                cells = [f"{v:,.0f}" if isinstance(v, float | int) else str(v) for v in row[1:]]
                t.add_row(str(row[0]), *cells)
            console.print(t)
        stab = ", ".join(f"{k} {v:.0%}" for k, v in matrix.stability.items())
        console.print(f"stayed in their segment: {stab}")
    if alerts.height:
        console.print(f"{alerts.height} open alert(s): `seglens alerts` lists them")


@app.command()
def alerts(
    db: DbOption = None,
    ack: Annotated[int | None, typer.Option(help="Acknowledge the alert with this id.")] = None,
    all_alerts: Annotated[bool, typer.Option("--all", help="Include acknowledged ones.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the alerts as JSON.")] = False,
) -> None:
    """List open alerts, or acknowledge one."""
    from seglens.store import acknowledge_alert, list_alerts, open_store

    with open_store(db) as store:
        if ack is not None:
            acknowledge_alert(store, ack)
            if as_json:
                emit_json({"acknowledged": ack})
            else:
                console.print(f"alert {ack} acknowledged")
            return
        frame = list_alerts(store, open_only=not all_alerts)
    if as_json:
        emit_json({"open_only": not all_alerts, "count": frame.height, "alerts": frame.to_dicts()})
        return
    table = Table("id", "raised", "period", "rule", "severity", "message", "acknowledged")
    for r in frame.iter_rows(named=True):
        table.add_row(
            str(r["id"]),
            f"{r['created_at']:%Y-%m-%d %H:%M}",
            r["period"] or "",
            r["rule"],
            r["severity"],
            r["message"],
            r["acknowledged_by"] or "",
        )
    console.print(table)
