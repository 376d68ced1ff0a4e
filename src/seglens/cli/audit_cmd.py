"""`seglens audit-sample`, `seglens audit-estimate` (registered on import).

Thin layers over :mod:`seglens.audit` (and, with ``--db``, the store and
:func:`seglens.tracking.measure.measure_configured`): draw the stratified sample as a sheet, and
estimate the accuracy from the filled-in sheet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from seglens.cli._app import (
    FailUnderOption,
    RequireIntervalOption,
    app,
    check_options,
    check_output,
    console,
    emit_json,
    quality_gate,
)
from seglens.cli._stdio import is_dash, stdout_to_stderr, write_stdout
from seglens.cli.accuracy_cmd import COLUMNS_HELP, SEGMENTS_HELP, load_table_arg, read_match
from seglens.errors import UsageError
from seglens.io.atomic import write_bytes_atomic
from seglens.settings import DEFAULT_SETTINGS
from seglens.spark.cli import EngineOption, SparkConfigOption, SparkMasterOption, check_engine

if TYPE_CHECKING:
    from seglens.audit.estimate import StratifiedEstimate

__all__ = ["audit_estimate", "audit_sample"]


@app.command("audit-sample")
def audit_sample(
    out: Annotated[
        Path,
        typer.Option(
            help="Where to write the audit sheet (CSV); - writes it to stdout and the summary "
            "to stderr."
        ),
    ],
    segments: Annotated[
        str | None,  # a str: a Path would turn s3a://b/x into s3a:/b/x before Spark reads it
        typer.Option(help=SEGMENTS_HELP + " Not with --db, which samples a stored run."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Sample a run stored in this database and keep the design there, so the "
            "estimate uses its weights (see `seglens track`).",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        int | None, typer.Option(help="With --db: the run to audit (default: the latest).")
    ] = None,
    margin: Annotated[
        float, typer.Option(help="Target margin in points at the confidence level (±).")
    ] = DEFAULT_SETTINGS.margin_pts,
    total: Annotated[
        int | None, typer.Option(help="Audit exactly this many customers instead.")
    ] = None,
    allocation: Annotated[str, typer.Option(help="neyman or proportional.")] = "neyman",
    min_per_segment: Annotated[
        int, typer.Option(help="Least customers per segment.")
    ] = DEFAULT_SETTINGS.min_per_segment,
    expected_accuracy: Annotated[
        float, typer.Option(help="Planning accuracy in percent (50 = worst case).")
    ] = 50.0,
    confidence: Annotated[
        float, typer.Option(help="Confidence level.")
    ] = DEFAULT_SETTINGS.confidence,
    seed: Annotated[int, typer.Option(help="Random seed of the draw.")] = 0,
    columns: Annotated[str | None, typer.Option(help=COLUMNS_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    engine: EngineOption = "embedded",
    spark_master: SparkMasterOption = None,
    spark_config: SparkConfigOption = None,
) -> None:
    """Draw the stratified sample of customers to check, as a CSV ready for a spreadsheet.

    With --db the sample is drawn from a stored run and its design (strata, sizes, seed) is
    stored; the sheet carries run_id and design_id so its labels are bound to that run.
    With --engine spark the segmentation stays in Spark; the same seed draws the same customers.
    """
    from seglens.audit import draw_audit_sample, plan_audit
    from seglens.tables import ASSIGNMENTS

    if (segments is None) == (db is None):
        raise UsageError("give either --segments FILE or --db (a stored run), not both")
    check_output(out, "--out")
    spark_table = None
    if check_engine(engine):
        spark_table, sizes = _spark_sizes(segments, columns, spark_master, spark_config)
    elif segments is not None:
        assigned = load_table_arg(Path(segments), ASSIGNMENTS, columns).table
    else:
        assigned, run = _stored_run(db, run)
    if spark_table is None:
        sizes = dict(assigned.group_by("segment").len().sort("segment").rows())
    plan = plan_audit(
        {str(k): int(v) for k, v in sizes.items()},
        margin_pct=margin,
        total=total,
        confidence=confidence,
        allocation=allocation,  # type: ignore[arg-type]
        min_per_segment=min_per_segment,
        expected_accuracy_pct=expected_accuracy,
    )
    if spark_table is not None:
        from seglens.spark.audit import spark_draw_audit_sample

        sheet = spark_draw_audit_sample(spark_table, plan, random_state=seed)
    else:
        sheet = draw_audit_sample(assigned, plan, random_state=seed)
    if db is not None and run is not None:
        sheet = _store_design(db, run, sheet, plan, seed, margin if total is None else None)
    if is_dash(out):  # the sheet alone on stdout (no BOM: it is piped, not opened in Excel)
        write_stdout(sheet.write_csv().encode("utf-8"))
        with stdout_to_stderr(console):
            if as_json:
                typer.echo(json.dumps({**plan.to_dict(), "out": "<stdout>"}, indent=2), err=True)
            else:
                _print_plan(plan, confidence, expected_accuracy, out, db)
        return
    # UTF-8 with BOM so Excel shows accents correctly; every id stays text as written
    write_bytes_atomic(out, b"\xef\xbb\xbf" + sheet.write_csv().encode("utf-8"), option="--out")
    if as_json:
        emit_json({**plan.to_dict(), "out": str(out)})
        return
    _print_plan(plan, confidence, expected_accuracy, out, db)


def _print_plan(
    plan: Any, confidence: float, expected_accuracy: float, out: Path, db: str | None
) -> None:
    table = Table(title=f"Audit plan ({plan.allocation} allocation)")
    for col in ("segment", "customers", "to audit", "weight"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for s in plan.strata:
        table.add_row(s.segment, f"{s.population:,}", f"{s.sample:,}", f"{s.weight:.1f}")
    console.print(table)
    console.print(
        f"{plan.total:,} customers to audit; expected margin ±{plan.expected_margin_pct:.1f} "
        f"points at {round(confidence * 100)} % (planning accuracy {expected_accuracy:g} %).",
        highlight=False,
    )
    console.print(
        f"Wrote {'<stdout>' if is_dash(out) else out}: fill in reviewer_segment (and note), "
        f"then run `seglens audit-estimate {'SHEET' if is_dash(out) else out}"
        f"{' --db ...' if db else ''}`.",
        highlight=False,
    )


def _spark_sizes(
    segments: str | None, columns: str | None, master: str | None, config: Path | None
) -> tuple[Any, dict[str, int]]:
    """``--engine spark``: the segmentation ranked in Spark for the draw, and its customers per
    segment (:func:`seglens.spark.audit.ranked_segments`)."""
    from seglens.spark.audit import ranked_segments
    from seglens.spark.cli import segments_frame, settings_for

    if segments is None:  # a stored run is read by the store, in this process: Spark adds nothing
        raise UsageError(
            "--engine spark draws from --segments (a Parquet/CSV file or folder, table:db.name "
            "or sql:SELECT ...); a stored run (--db) is read from the database",
            hint="drop --engine spark: --db draws the same customers on the embedded engine",
        )
    if columns:
        raise UsageError(
            "--columns is not applied by --engine spark",
            hint='rename in a query, e.g. --segments "sql:SELECT id AS customer_id, '
            'seg AS segment FROM db.t"',
        )
    if is_dash(segments):
        raise UsageError("--engine spark reads a Spark source, not stdin (-)")
    return ranked_segments(segments_frame(settings_for(master, config), segments), segments)


def _stored_run(db: str | None, run: int | None) -> tuple[Any, int]:
    """The assignments of stored run ``run`` (default: the latest) and its id."""
    from seglens.store import list_runs, open_store, run_assignments

    with open_store(db) as store:
        if run is None:
            runs = list_runs(store)
            if runs.is_empty():
                raise UsageError(
                    "the database holds no segmentation run", hint="run `seglens track` first"
                )
            run = int(runs["run_id"][-1])
        table = run_assignments(store, run)
    if table.is_empty():
        raise UsageError(f"no segmentation run {run} in the database", hint="see `seglens history`")
    return table, run


def _store_design(db: str, run: int, sheet: Any, plan: Any, seed: int, margin: float | None) -> Any:
    """Record the drawn sample as the run's audit design; the sheet gains run and design ids."""
    import polars as pl

    from seglens.store import open_store, record_audit_design

    with open_store(db) as store:
        design = record_audit_design(
            store,
            run,
            sheet.select("customer_id", pl.col("assigned_segment").alias("stratum")),
            [
                {"segment": s.segment, "population": s.population, "sample": s.sample}
                for s in plan.strata
            ],
            seed=seed,
            allocation=plan.allocation,
            confidence=plan.confidence,
            margin_pts=margin,
        )
    console.print(f"audit design {design} stored for run {run}", highlight=False)
    return sheet.with_columns(pl.lit(run).alias("run_id"), pl.lit(design).alias("design_id"))


def _print_estimate(est: StratifiedEstimate) -> None:
    e = est.estimate
    console.print(
        f"[bold]Estimated accuracy: {e.value_pct:.1f} %[/bold] (n={e.n:,} audited, "
        f"{round(e.confidence * 100)} % CI {e.ci_low_pct:.1f}–{e.ci_high_pct:.1f}; "
        f"stratified, weighted by segment size)",
        highlight=False,
    )
    if est.match == "hungarian":
        console.print(
            "answers met segments by a one-to-one mapping learnt from the sheet, cross-fitted "
            "(no row was scored by a mapping that saw its own answer)",
            highlight=False,
        )
    elif est.mapping:
        pairs = ", ".join(f"{k} → {v}" for k, v in est.mapping.items())
        console.print(f"answers translated by the mapping file: {pairs}", highlight=False)
    if est.n_unrecognised:
        console.print(
            f"[yellow]note:[/yellow] {est.n_unrecognised:,} answer(s) are not segment names and "
            "count as wrong (--match names)",
            highlight=False,
        )
    if est.coverage_pct < 100:
        missing = ", ".join(est.missing_strata) or "rows of at least one segment"
        console.print(
            f"[yellow]incomplete (allowed):[/yellow] the estimate covers "
            f"{est.coverage_pct:.1f} % of the customers; missing: {missing}",
            highlight=False,
        )
    if est.n_not_reviewed:
        console.print(
            f"[yellow]note:[/yellow] {est.n_not_reviewed:,} row(s) not reviewed yet were left "
            "out; the estimate assumes they are like the reviewed ones",
            highlight=False,
        )
    table = Table(title="Per segment")
    for col in ("segment", "weight", "audited", "accuracy %", "95 % CI"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for s, p in est.per_stratum.items():
        table.add_row(
            s,
            f"{est.weights[s]:.3f}",
            f"{p.n:,}",
            f"{p.value_pct:.1f}",
            f"{p.ci_low_pct:.1f}–{p.ci_high_pct:.1f}",
        )
    console.print(table)


@app.command("audit-estimate")
def audit_estimate(
    sheet: Annotated[
        Path,
        typer.Argument(help="The audit sheet (CSV or .xlsx) with reviewer_segment filled in."),
    ],
    confidence: Annotated[
        float, typer.Option(help="Confidence level.")
    ] = DEFAULT_SETTINGS.confidence,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store the reviewers' answers as labels of the sheet's run and measure that "
            "run from its stored audit design (the figure `track` and `history` show).",
            show_default=False,
        ),
    ] = None,
    match: Annotated[
        str | None,
        typer.Option(
            help="How answers meet segment names when reviewers used other words: names "
            "(count them as wrong), hungarian (learn the mapping from the sheet, cross-fitted; "
            "not with --db) or a CSV file with columns label,segment. Default: refuse answers "
            "that are not segment names.",
        ),
    ] = None,
    allow_incomplete: Annotated[
        bool,
        typer.Option(
            help="Estimate even when a segment's rows are missing or unanswered, or the sheet's "
            "segment sizes differ from the stored design (the output says so)."
        ),
    ] = False,
    pad_ids: Annotated[
        bool | None,
        typer.Option(
            "--pad-ids/--no-pad-ids",
            help="With --db: ids that match the run's customers only with their leading zeros "
            "restored (Excel writes 461 for 00461): restore them, or keep them as written. Such "
            "a sheet is refused until one is given.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print stable JSON.")] = False,
    fail_under: FailUnderOption = None,
    require_interval: RequireIntervalOption = False,
) -> None:
    """Estimate population accuracy from a filled-in audit sheet (stratified, weighted)."""
    check_options(fail_under, require_interval)
    from seglens.audit import estimate_from_sheet
    from seglens.io import open_source

    raw = open_source(str(sheet))  # sniffs delimiter / encoding; .xlsx saved by Excel works too
    frame = raw.frame.collect().select(raw.columns)
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})
    rule = read_match(match)
    est = estimate_from_sheet(
        frame,
        confidence=confidence,
        match=rule,
        allow_incomplete=allow_incomplete,
        source=str(sheet),
    )
    if db is not None:
        if rule == "hungarian":
            raise UsageError(
                "--match hungarian learns a mapping from this sheet only; it cannot label a run",
                hint="run without --db to see the learnt mapping, then write it as a label,segment "
                "file and pass --match FILE",
            )
        kpi = _estimate_in_store(db, sheet, frame, as_json, rule, allow_incomplete, pad_ids)
        value, low, n = (None, None, 0) if kpi is None else (kpi.value, kpi.ci_low, kpi.n)
        quality_gate("audit accuracy", value, low, n, fail_under, require_interval)
        return
    if as_json:
        emit_json(est.to_dict())
    else:
        _print_estimate(est)
    e = est.estimate
    quality_gate("audit accuracy", e.value_pct, e.ci_low_pct, e.n, fail_under, require_interval)


def _check_design(store: Any, frame: Any, sheet: Path, allow_incomplete: bool) -> list[str]:
    """Compare the sheet with its stored design; returns the problems (refused unless allowed)."""
    import polars as pl

    from seglens.errors import DataError
    from seglens.store import audit_design

    if "design_id" not in frame.columns:
        if not allow_incomplete:
            raise DataError(
                "the sheet names no stored audit design (no design_id column)",
                source=str(sheet),
                hint="use the sheet `seglens audit-sample --db` wrote, or pass --allow-incomplete",
            )
        return ["the sheet names no stored audit design (no design_id column)"]
    ids = frame["design_id"].cast(pl.Int64, strict=False).drop_nulls().unique().to_list()
    design = audit_design(store, design_id=int(ids[0])) if len(ids) == 1 else None
    if design is None:
        raise DataError(
            f"the sheet's design_id {ids} is not a stored audit design",
            source=str(sheet),
            column="design_id",
            hint="use the sheet `seglens audit-sample --db` wrote for this database",
        )
    sizes = (
        frame.group_by(pl.col("assigned_segment").cast(pl.String))
        .agg(pl.col("stratum_size").cast(pl.Int64, strict=False).max())
        .rows()
    )
    problems = [
        f"segment {seg!r}: the sheet says {n} customers, design {design.id} says "
        f"{design.population.get(seg)}"
        for seg, n in sizes
        if design.population.get(seg) != n
    ]
    absent = sorted(set(design.population) - {seg for seg, _ in sizes})
    problems += [f"segment {seg!r} of design {design.id} has no row in the sheet" for seg in absent]
    if problems and not allow_incomplete:
        raise DataError(
            "the sheet does not match its stored audit design: " + "; ".join(problems[:5]),
            source=str(sheet),
            hint="restore the sheet as `seglens audit-sample` wrote it, or pass "
            "--allow-incomplete (the stored design's weights are used either way)",
        )
    return problems


def _estimate_in_store(
    db: str,
    sheet: Path,
    frame: Any,
    as_json: bool,
    rule: Any,
    allow_incomplete: bool,
    pad_ids: bool | None = None,
) -> Any:
    """Import the sheet's answers as labels of its run, then measure that run from the store;
    the stored audit KPI (``None`` while a stratum has no reviewed customer)."""
    from collections.abc import Mapping

    import polars as pl

    from seglens.audit.estimate import map_answers
    from seglens.errors import DataError
    from seglens.store import file_sha256, open_store, store_labels
    from seglens.tracking.measure import measure_configured

    need = ["customer_id", "assigned_segment", "reviewer_segment", "run_id"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise DataError(
            f"the audit sheet lacks column(s) {', '.join(missing)}",
            source=str(sheet),
            column=missing[0],
            hint="use a sheet written by `seglens audit-sample --db`, which names its run",
        )
    answers = frame["reviewer_segment"].cast(pl.String)
    if isinstance(rule, Mapping):
        answers = map_answers(answers, rule)
    labels = frame.select(
        pl.col("customer_id").cast(pl.String),
        answers.alias("segment"),
        pl.col("assigned_segment").cast(pl.String).alias("judged_segment"),
        pl.col("run_id").cast(pl.Int64),
        (pl.col("note").cast(pl.String) if "note" in frame.columns else pl.lit(None, pl.String)),
        pl.lit("audit").alias("source"),
    )
    with open_store(db) as store:
        problems = _check_design(store, frame, sheet, allow_incomplete)
        res = store_labels(
            store,
            labels,
            source=str(sheet),
            file_hash=file_sha256(sheet),
            allow_unknown_segments=True,  # a reviewer may name any segment; it counts as wrong
            pad_ids=pad_ids,
        )
        if res.bound_to_run is None:
            raise DataError("the sheet names no run", source=str(sheet), column="run_id")
        m = measure_configured(store, res.bound_to_run)
    audit = next((k for k in m.kpis if k.metric == "accuracy_audit"), None)
    if as_json:
        from dataclasses import asdict

        emit_json(
            {
                "run_id": m.run_id,
                "period": m.period.label,
                "labels_added": res.added,
                "problems_allowed": problems,
                "audit": None
                if m.audit is None
                else {
                    "design_id": m.audit.design_id,
                    "members": m.audit.members,
                    "reviewed": m.audit.reviewed,
                    "missing_strata": list(m.audit.missing_strata),
                },
                "kpi": None if audit is None else asdict(audit),
            }
        )
        return audit
    console.print(f"{res.added:,} answers stored as labels of run {m.run_id}", highlight=False)
    for problem in problems:
        console.print(f"[yellow]allowed:[/yellow] {problem}", highlight=False)
    if audit is None:
        missing_strata = ", ".join(m.audit.missing_strata) if m.audit else "no stored design"
        console.print(f"no audit estimate yet: no reviewed customer in {missing_strata}")
        return None
    console.print(
        f"[bold]Estimated accuracy ({m.period.label}, run {m.run_id}): {audit.value:.1f} %"
        f"[/bold] (n={audit.n:,} reviewed, 95 % CI {audit.ci_low:.1f}–{audit.ci_high:.1f}; "
        "stratified by the stored design)",
        highlight=False,
    )
    return audit
