"""`seglens clv`, `economics`, `lift`, `forecast`, `discover`, `export` (registered on import).

Thin layers over :mod:`seglens.impact` and :mod:`seglens.export`: load, compute, print a Rich
table or JSON (``--json``). Segments come from ``--segments FILE`` (customer_id, segment) or,
without one, from ``RFMSegmenter`` on ``customer_features`` as of the analysis date (the one RFM
definition; retention takes its own as of the start of its window).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table

from seglens.cli._app import app, check_output, console
from seglens.cli._ingest_options import IngestArgs, with_ingest_options
from seglens.errors import UsageError
from seglens.spark.cli import EngineOption, SparkConfigOption, SparkMasterOption, check_engine

__all__ = ["clv", "discover", "economics", "export", "forecast", "lift", "nps"]

_SEGMENTS = "CSV/Parquet with customer_id, segment (default: RFMSegmenter as of the date)."
_SEG_COLUMNS = "Column mapping for the segments file (e.g. segment=cluster)."
_JSON = "Print JSON instead of tables."


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{name} must be a date like 2011-06-30, got {value!r}") from None


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _emit_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(_clean(payload), indent=2, ensure_ascii=False, allow_nan=False))


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3g}"
    return str(v)


def _table(frame: pl.DataFrame, title: str, cols: list[str] | None = None) -> Table:
    t = Table(title=title)
    cols = cols or frame.columns
    for c in cols:
        t.add_column(c, justify="left" if frame.schema[c] == pl.String else "right")
    for row in frame.select(cols).iter_rows():
        t.add_row(*[_fmt(v) for v in row])
    return t


def _load(
    transactions: Path, ingest_args: IngestArgs, as_of: dt.date | None
) -> tuple[pl.DataFrame, dt.date]:
    tx = ingest_args.load(transactions, as_of=as_of).table
    if tx.height == 0:
        raise UsageError("no transactions were loaded", hint="check the file and --as-of")
    end = as_of or tx["timestamp"].max().date()  # type: ignore[union-attr]
    return tx, end


def _assignments(source: Path, columns: str | None = None) -> pl.DataFrame:
    from seglens.io import load_table
    from seglens.tables import ASSIGNMENTS

    return load_table(source, ASSIGNMENTS, columns=columns).table


def _complete_assignments(source: Path, columns: str | None) -> pl.DataFrame:
    """The segments file for an export, refused if the reader would drop any of its rows.

    A CRM import must get every customer of the file once: a row without an id or a segment,
    or an id already on an earlier row, stops the export (the Spark export refuses them too),
    naming the lines, instead of being left out as the other commands' reader does.
    """
    from seglens.errors import DataError
    from seglens.io import load_table
    from seglens.tables import ASSIGNMENTS

    loaded = load_table(source, ASSIGNMENTS, columns=columns)
    dropped = [
        r
        for r in loaded.report.rules
        if r.action == "excluded" and r.rows_excluded and r.rule != "empty_line"
    ]
    if dropped:
        examples = sorted((e for r in dropped for e in r.examples), key=lambda e: e["line"])
        raise DataError(
            f"{sum(r.rows_excluded for r in dropped)} row(s) cannot be exported: "
            + "; ".join(f"{r.description.split(';')[0]} ({r.rows_excluded})" for r in dropped),
            source=str(source),
            lines=[int(e["line"]) for e in examples],
            values=[
                f"{e['column']}={e['value'] if e['value'] is not None else '(empty)'}"
                for e in examples
            ],
            hint="a CRM import needs one row per customer with its segment: "
            "fix or drop these rows in the file",
        )
    return loaded.table


def _segments(
    tx: pl.DataFrame, segments: Path | None, seg_columns: str | None, as_of: dt.date
) -> tuple[pl.DataFrame, str]:
    """The ``--segments`` file, or the default: ``RFMSegmenter`` on customer features at as_of."""
    from seglens.impact._inputs import rfm_segments

    if segments is not None:
        return _assignments(segments, seg_columns), str(segments)
    return rfm_segments(tx, as_of=as_of), f"RFMSegmenter on customer features as of {as_of}"


@app.command()
@with_ingest_options()
def clv(
    transactions: Annotated[Path, typer.Argument(help="Transactions file (CSV, Parquet, Excel).")],
    as_of: Annotated[str | None, typer.Option(help="End of the calibration period (date).")] = None,
    unit: Annotated[str, typer.Option(help="Time unit of the models: days or weeks.")] = "days",
    segments: Annotated[Path | None, typer.Option(help=_SEGMENTS)] = None,
    horizon_months: Annotated[int, typer.Option(help="CLV horizon in months.")] = 12,
    discount_rate: Annotated[float, typer.Option(help="Annual discount rate.")] = 0.10,
    margin: Annotated[float, typer.Option(help="Margin rate applied to revenue.")] = 1.0,
    budget: Annotated[
        float | None, typer.Option(help="Also split this budget across segments by value.")
    ] = None,
    segments_columns: Annotated[str | None, typer.Option(help=_SEG_COLUMNS)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON)] = False,
    *,
    ingest_args: IngestArgs,
) -> None:
    """Fit BG/NBD + Gamma-Gamma and print the parameters and CLV per segment, with CIs."""
    from seglens.impact.allocation import allocate_budget
    from seglens.impact.clv import segment_clv
    from seglens.impact.summary import clv_summary

    if unit not in ("days", "weeks"):
        raise UsageError(f"unknown unit {unit!r}", hint="use days or weeks")
    tx, end = _load(transactions, ingest_args, _date(as_of, "--as-of"))
    seg, seg_source = _segments(tx, segments, segments_columns, end)
    summary = clv_summary(tx, observation_period_end=end, unit=unit)  # type: ignore[arg-type]
    summary = summary.join(seg.select("customer_id", "segment"), on="customer_id", how="left")
    res = segment_clv(
        summary,
        as_of=end,
        unit=unit,  # type: ignore[arg-type]
        horizon_months=horizon_months,
        annual_discount_rate=discount_rate,
        margin=margin,
    )
    payload = {**res.to_dict(), "segments_from": seg_source}
    alloc = allocate_budget(res.segments, budget) if budget is not None else None
    if alloc is not None:
        payload["allocation"] = {
            "budget": budget,
            "table": alloc.table.to_dicts(),
            "assumptions": alloc.assumptions,
        }
    if as_json:
        _emit_json(payload)
        return
    console.print(f"CLV as of {end} (unit: {unit}; segments: {seg_source})", highlight=False)
    for name, model in (("BG/NBD", res.bgnbd), ("Gamma-Gamma", res.gamma_gamma)):
        parts = [
            f"{k} = {v:.4g} [{model.param_ci_[k][0]:.3g}, {model.param_ci_[k][1]:.3g}]"
            for k, v in model.params_.items()
        ]
        console.print(f"{name} (n={model.n_customers_:,}): " + "; ".join(parts), highlight=False)
    console.print(
        _table(
            res.segments,
            f"CLV per segment, next {horizon_months} months (95% CI)",
            [
                "segment",
                "customers",
                "clv_mean",
                "clv_mean_low",
                "clv_mean_high",
                "clv_total",
                "expected_purchases_mean",
                "prob_alive_mean",
            ],
        )
    )
    for note in res.notes:
        console.print(f"note: {note}", highlight=False)
    if alloc is not None:
        console.print(_table(alloc.table, f"Suggested split of {budget:,.0f}"))
        for a in alloc.assumptions:
            console.print(f"assumption: {a}", highlight=False)


@app.command()
@with_ingest_options()
def economics(
    transactions: Annotated[Path, typer.Argument(help="Transactions file.")],
    as_of: Annotated[str | None, typer.Option(help="Analysis date.")] = None,
    segments: Annotated[Path | None, typer.Option(help=_SEGMENTS)] = None,
    period: Annotated[
        str, typer.Option(help="Retention period: month, quarter or year.")
    ] = "quarter",
    margin_rate: Annotated[float, typer.Option(help="Margin as a share of revenue.")] = 0.3,
    discount_rate: Annotated[float, typer.Option(help="Discount rate per period.")] = 0.025,
    segments_columns: Annotated[str | None, typer.Option(help=_SEG_COLUMNS)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON)] = False,
    *,
    ingest_args: IngestArgs,
) -> None:
    """Customers, revenue share, order value, retention, churn and simple CLV per segment.

    Retention and churn count each customer in the segment they had when the retention window
    started (default segments: recomputed as of that day); a ``--segments`` file is used as is.
    """
    from seglens.impact._inputs import customer_table
    from seglens.impact.economics import segment_economics, segment_retention, simple_clv

    tx, end = _load(transactions, ingest_args, _date(as_of, "--as-of"))
    seg, seg_source = _segments(tx, segments, segments_columns, end)
    feats = customer_table(tx, as_of=end).join(
        seg.select("customer_id", "segment"), on="customer_id"
    )
    eco = segment_economics(feats, revenue_col="total_spend", orders_col="n_orders")
    ret = segment_retention(
        tx,
        None if segments is None else seg,
        period=period,  # type: ignore[arg-type]
        as_of=end,
    )
    start = ret["next_period"][0]
    ret_note = (
        f"retention: segments as of {ret['segments_as_of'][0]}, the day before the {period} "
        f"window starting {start} (RFMSegmenter on customer features as of that day)"
        if segments is None
        else f"retention: segments from {segments} used as given; they should describe the "
        f"customers as of the day before the {period} window starting {start}"
    )
    days = (
        end - feats.select(pl.lit(end) - pl.duration(days=pl.col("tenure_days").max())).item()
    ).days
    periods = max(days / {"month": 30.4375, "quarter": 91.3125, "year": 365.25}[period], 1.0)
    rows = []
    for r in ret.filter(pl.col("segment") != "(all)").iter_rows(named=True):
        e = eco.filter(pl.col("segment") == r["segment"])
        if e.height == 0:
            continue
        m = e.row(0, named=True)
        per_period = margin_rate * m["revenue_per_customer"] / periods
        c = simple_clv(
            per_period,
            r["retention"],
            discount_rate,
            margin_range=(
                margin_rate * m["revenue_per_customer_low"] / periods,
                margin_rate * m["revenue_per_customer_high"] / periods,
            ),
            retention_range=(r["retention_low"], r["retention_high"]),
        )
        rows.append(
            {
                "segment": r["segment"],
                "margin_per_period": c.margin,
                "retention": c.retention,
                "discount_rate": c.discount_rate,
                "simple_clv": c.value,
                "simple_clv_low": c.low,
                "simple_clv_high": c.high,
            }
        )
    simple = pl.DataFrame(rows)
    if as_json:
        _emit_json(
            {
                "as_of": end,
                "segments_from": seg_source,
                "economics": eco.to_dicts(),
                "retention": ret.to_dicts(),
                "retention_segments": ret_note,
                "simple_clv": simple.to_dicts(),
                "simple_clv_formula": "margin * retention / (1 + discount_rate - retention)",
            }
        )
        return
    console.print(f"Segment economics as of {end} (segments: {seg_source})", highlight=False)
    console.print(
        _table(
            eco,
            "Economics (95% bootstrap CI)",
            [
                "segment",
                "customers",
                "revenue",
                "revenue_share",
                "revenue_share_low",
                "revenue_share_high",
                "aov",
                "aov_low",
                "aov_high",
            ],
        )
    )
    console.print(
        _table(
            ret,
            f"Retention {period} over {period} (95% Wilson CI)",
            [
                "segment",
                "base_customers",
                "retained",
                "retention",
                "retention_low",
                "retention_high",
                "churn",
            ],
        )
    )
    console.print(f"note: {ret_note}", highlight=False)
    if simple.height:
        console.print(
            _table(simple, "Simple CLV = margin x retention / (1 + discount - retention)")
        )


@app.command()
def lift(
    data: Annotated[Path, typer.Argument(help="One row per customer of a randomized test (CSV).")],
    arm: Annotated[str, typer.Option(help="Column naming the arm of each customer.")],
    control: Annotated[str, typer.Option(help="Label of the control arm.")],
    response: Annotated[str, typer.Option(help="0/1 response column (visit, conversion).")],
    spend: Annotated[str | None, typer.Option(help="Spend column, for the spend lift.")] = None,
    segment_col: Annotated[str | None, typer.Option(help="Column holding the segment.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON)] = False,
) -> None:
    """Response rate per arm and lift over control per segment, with CIs."""
    from seglens.impact.lift import arm_rates, campaign_lift

    if not data.exists():
        raise UsageError(f"file not found: {data}")
    frame = pl.read_csv(data, infer_schema_length=None)
    rates = arm_rates(frame, arm_col=arm, response_col=response)
    res = campaign_lift(
        frame,
        arm_col=arm,
        control=control,
        response_col=response,
        segment_col=segment_col,
        spend_col=spend,
    )
    if as_json:
        _emit_json({"arms": rates.to_dicts(), "lift": res.to_dicts()})
        return
    console.print(_table(rates, f"{response} rate per arm (95% Wilson CI)"))
    cols = [
        "segment",
        "arm",
        "n_treated",
        "n_control",
        "rate_treated",
        "rate_control",
        "lift",
        "lift_low",
        "lift_high",
    ] + (["spend_lift", "spend_lift_low", "spend_lift_high"] if spend else [])
    console.print(_table(res, "Lift over control (95% Newcombe / Welch CI)", cols))


@app.command()
def nps(
    data: Annotated[Path, typer.Argument(help="Survey answers, one row per respondent (CSV).")],
    score: Annotated[str, typer.Option(help="Column with the 0-10 answer.")] = "score",
    segment_col: Annotated[str, typer.Option(help="Column holding the segment.")] = "segment",
    segments: Annotated[
        Path | None, typer.Option(help="Take segments from this file (joined on customer_id).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON)] = False,
) -> None:
    """Net Promoter Score per segment and overall, with adjusted-Wald CIs."""
    from seglens.impact.nps import nps_by_segment

    if not data.exists():
        raise UsageError(f"file not found: {data}")
    frame = pl.read_csv(data, infer_schema_length=None)
    if segments is not None:
        seg = _assignments(segments).select("customer_id", pl.col("segment").alias("_seg"))
        frame = frame.with_columns(pl.col("customer_id").cast(pl.String)).join(
            seg, on="customer_id", how="left"
        )
        segment_col = "_seg"
    res = nps_by_segment(frame, segment_col=segment_col, score_col=score)
    if as_json:
        _emit_json({"nps": res.to_dicts()})
        return
    console.print(_table(res, "NPS per segment (95% adjusted-Wald CI)"))


@app.command()
@with_ingest_options()
def forecast(
    transactions: Annotated[Path, typer.Argument(help="Transactions file.")],
    cutoff: Annotated[str, typer.Option(help="Forecast from data up to this date.")],
    actual_end: Annotated[str, typer.Option(help="Compare with what came until this date.")],
    segments: Annotated[Path | None, typer.Option(help=_SEGMENTS)] = None,
    unit: Annotated[str, typer.Option(help="days or weeks.")] = "days",
    segments_columns: Annotated[str | None, typer.Option(help=_SEG_COLUMNS)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON)] = False,
    *,
    ingest_args: IngestArgs,
) -> None:
    """Out-of-time check: revenue per segment forecast at a cut-off vs what followed."""
    from seglens.impact.forecast import out_of_time_check

    cut = _date(cutoff, "--cutoff")
    end = _date(actual_end, "--actual-end")
    assert cut is not None and end is not None
    tx, _ = _load(transactions, ingest_args, None)
    seg, seg_source = _segments(tx, segments, segments_columns, cut)
    res = out_of_time_check(tx, seg, cutoff=cut, actual_end=end, unit=unit)  # type: ignore[arg-type]
    if as_json:
        _emit_json(
            {
                "cutoff": cut,
                "actual_end": end,
                "segments_from": seg_source,
                "segments": res.to_dicts(),
            }
        )
        return
    console.print(
        _table(
            res,
            f"Revenue forecast at {cut} vs actual to {end} (95% PI)",
            [
                "segment",
                "customers",
                "expected_revenue",
                "expected_revenue_low",
                "expected_revenue_high",
                "run_rate_revenue",
                "actual_revenue",
                "model_error_pct",
                "run_rate_error_pct",
                "actual_in_interval",
            ],
        )
    )


@app.command()
@with_ingest_options()
def discover(
    transactions: Annotated[Path, typer.Argument(help="Transactions file.")],
    as_of: Annotated[str | None, typer.Option(help="Analysis date.")] = None,
    segments: Annotated[Path | None, typer.Option(help=_SEGMENTS)] = None,
    catch_all: Annotated[str, typer.Option(help="Comma-separated catch-all segments.")] = "Others",
    labels: Annotated[Path | None, typer.Option(help="Labels file (corrections).")] = None,
    segments_columns: Annotated[str | None, typer.Option(help=_SEG_COLUMNS)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON)] = False,
    *,
    ingest_args: IngestArgs,
) -> None:
    """Propose new segments for the customers the current segmentation serves badly.

    The figure it reports is nearest-centre fit agreement (customers nearest their own segment's
    centre), not the Segmentation Accuracy KPI, which needs labels.
    """
    from seglens.impact._inputs import DISCOVER_COLUMNS, customer_table
    from seglens.impact.overlooked import FIT_MEASURE, discover_segments, fit_accuracy
    from seglens.settings import DEFAULT_SETTINGS

    tx, end = _load(transactions, ingest_args, _date(as_of, "--as-of"))
    seg, seg_source = _segments(tx, segments, segments_columns, end)
    lab = _assignments(labels) if labels is not None else None
    feats = customer_table(tx, as_of=end)
    props = discover_segments(
        feats,
        seg.select("customer_id", "segment"),
        columns=list(DISCOVER_COLUMNS),
        revenue_col="total_spend",
        catch_all=[c.strip() for c in catch_all.split(",")],
        labels=lab,
    )
    data = feats.join(seg.select("customer_id", "segment"), on="customer_id", how="inner")
    b = fit_accuracy(data, data["segment"], columns=list(DISCOVER_COLUMNS))
    if as_json:
        _emit_json(
            {
                "as_of": end,
                "segments_from": seg_source,
                "fit_measure": FIT_MEASURE,
                "fit_agreement_now": {
                    "value": b.customer.value_pct,
                    "low": b.customer.ci_low_pct,
                    "high": b.customer.ci_high_pct,
                    "n": b.customer.n,
                },
                "segment_fit_agreement_now": {"value": b.segment.value_pct, "n": b.segment.n},
                "proposals": [p.to_dict() for p in props],
            }
        )
        return
    console.print(
        f"Nearest-centre fit agreement now (not the segmentation accuracy KPI): "
        f"{b.customer.value_pct:.1f} % [{b.customer.ci_low_pct:.1f}, "
        f"{b.customer.ci_high_pct:.1f}] of {b.customer.n:,} customers are nearest their own "
        f"segment's centre; {b.segment.value_pct:.0f} % of {b.segment.n} segments have at least "
        f"{DEFAULT_SETTINGS.target_pct:g} % of their customers so.",
        highlight=False,
    )
    console.print(
        "It measures how compact the segments are in these features, not whether customers "
        "are in the right segment; the KPI needs labels (seglens audit-sample, seglens accuracy).",
        highlight=False,
    )
    if not props:
        console.print("No candidate segment: too few customers are served badly.")
        return
    for p in props:
        console.print(f"\n[bold]{p.name}[/bold]: {p.rule_text}", highlight=False)
        console.print(
            f"  size {p.size:,}, revenue {p.revenue:,.0f} ({100 * p.revenue_share:.1f} %), "
            f"taken from {p.from_segments}",
            highlight=False,
        )
        console.print(
            "  median profile: " + ", ".join(f"{k} {v:,.4g}" for k, v in p.profile.items()),
            highlight=False,
        )
        a = p.after
        console.print(
            f"  if adopted, nearest-centre fit agreement: {a.customer.value_pct:.1f} % "
            f"[{a.customer.ci_low_pct:.1f}, {a.customer.ci_high_pct:.1f}] of customers "
            f"({p.fit_agreement_change:+.1f} pp), {a.segment.value_pct:.0f} % of segments "
            f"({p.segment_fit_agreement_change:+.1f} pp)",
            highlight=False,
        )


@app.command()
def export(
    source: Annotated[  # a str: a Path would turn s3a://b/x into s3a:/b/x before Spark reads it
        str, typer.Argument(help="Segments file (customer_id, segment, ...).")
    ],
    output: Annotated[str, typer.Option(help="Output file, or a database URL for --format db.")],
    format: Annotated[str, typer.Option(help="hubspot, salesforce, csv, parquet or db.")] = "csv",
    as_of: Annotated[
        str | None, typer.Option(help="Segment date to write (default today).")
    ] = None,
    extra: Annotated[str, typer.Option(help="Comma-separated extra columns to export.")] = "",
    pseudonymize: Annotated[
        bool,
        typer.Option(
            help="Replace ids by keyed-hash pseudonyms (the store's key: $SEGLENS_PSEUDONYM_KEY "
            "or the key file), the same pseudonyms as in the seglens database."
        ),
    ] = False,
    pseudonym_key_env: Annotated[
        str | None, typer.Option(help="Pseudonymize with the key in this environment variable.")
    ] = None,
    table: Annotated[str, typer.Option(help="Table name for --format db.")] = "seglens_segments",
    if_exists: Annotated[str, typer.Option(help="replace, append or fail (db).")] = "replace",
    segments_columns: Annotated[str | None, typer.Option(help=_SEG_COLUMNS)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON)] = False,
    engine: EngineOption = "embedded",
    spark_master: SparkMasterOption = None,
    spark_config: SparkConfigOption = None,
) -> None:
    """Write segments for a CRM import (escaped against formula injection) or a DB table.

    With ``--engine spark`` the source may be Parquet, ``table:db.name`` or ``sql:...``, and
    Spark writes a folder of part files or ``table:db.name`` (docs/spark.md).
    """
    from seglens.export import FORMATS, export_segments

    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}", hint=f"use one of {', '.join(FORMATS)}")
    if if_exists not in ("replace", "append", "fail"):
        raise UsageError(f"unknown --if-exists {if_exists!r}", hint="replace, append or fail")
    spark = check_engine(engine)
    if format != "db" and not spark:
        check_output(output, "--output")
    key = None
    if pseudonym_key_env:
        value = os.environ.get(pseudonym_key_env)
        if not value:
            raise UsageError(f"environment variable {pseudonym_key_env} is not set or empty")
        key = value.encode("utf-8")
    elif pseudonymize:
        from seglens.store.core import pseudonym_key

        key = pseudonym_key()
    extra_columns = [c.strip() for c in extra.split(",") if c.strip()]
    if spark:
        from seglens.spark.cli import export_command, settings_for

        res = export_command(
            settings_for(spark_master, spark_config),
            source,
            output,
            format=format,
            as_of=_date(as_of, "--as-of"),
            extra_columns=extra_columns,
            pseudonym_key=key,
            segments_columns=segments_columns,
        )
    else:
        res = export_segments(
            _complete_assignments(Path(source), segments_columns),
            output,
            format=format,  # type: ignore[arg-type]
            as_of=_date(as_of, "--as-of"),
            extra_columns=extra_columns,
            pseudonym_key=key,
            table=table,
            if_exists=if_exists,  # type: ignore[arg-type]
        )
    info = {
        "format": res.format,
        "files": [str(p) for p in res.paths],
        "rows": res.rows,
        "columns": res.columns,
        "escaped_cells": res.escaped_cells,
        "pseudonymized": res.pseudonymized,
        "notes": res.notes,
    }
    if format == "db":
        info["table"] = table
    if spark:
        info["engine"] = "spark"
        if output.startswith("table:"):
            info["table"] = output.removeprefix("table:").strip()
    if as_json:
        _emit_json(info)
        return
    where = ", ".join(str(p) for p in res.paths)
    if "table" in info:
        where = f"table {info['table']}"
    elif spark:
        where = f"folder {output} ({len(res.paths)} part file(s))"
    console.print(
        f"wrote {res.rows:,} customers ({format}) to {where}; "
        f"{res.escaped_cells} cell(s) escaped against formula injection"
        + ("; ids pseudonymized" if res.pseudonymized else ""),
        highlight=False,
    )
