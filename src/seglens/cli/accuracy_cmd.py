"""`seglens accuracy` (registered on import), and the file helpers the audit commands share.

A thin layer over :mod:`seglens.accuracy`: load the ``customer_id, segment`` files through
:func:`seglens.io.load_table`, compute, print a Rich table or stable JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from seglens.cli._app import (
    FailUnderOption,
    RequireIntervalOption,
    app,
    check_options,
    console,
    emit_json,
    quality_gate,
)
from seglens.cli._stdio import is_dash, stdin_path
from seglens.errors import UsageError
from seglens.settings import DEFAULT_SETTINGS
from seglens.spark.cli import EngineOption, SparkConfigOption, SparkMasterOption, check_engine

if TYPE_CHECKING:  # the library is imported inside each command: `seglens --help` stays fast
    from seglens.accuracy import AccuracyReport
    from seglens.io import LoadedTable

__all__ = ["COLUMNS_HELP", "SEGMENTS_HELP", "accuracy", "load_table_arg", "read_match"]

SEGMENTS_HELP = (
    "CSV/Parquet/Excel with one row per customer: customer_id, segment (- for CSV on stdin)."
)
COLUMNS_HELP = "Column mapping for both files, canonical=source pairs (e.g. customer_id=ID)."
_STATUS = {
    "accurate": "yes",
    "not_accurate": "no",
    "undetermined": "undetermined",
    "not_analysed": "—",
}


def load_table_arg(path: Path, spec: Any, columns: str | None) -> LoadedTable:
    from seglens.io import load_table

    with stdin_path(path) as source:  # - : stdin, copied to a private temporary file
        return load_table(str(source), spec, columns=columns or None)


def _input_notes(name: str, loaded: LoadedTable) -> dict[str, Any]:
    rep = loaded.report
    return {
        "source": rep.source,
        "rows_read": rep.rows_read,
        "rows_kept": rep.rows_kept,
        "mapping": {m.canonical: m.source for m in rep.mapping},
        "rules": {r.rule: r.rows for r in rep.rules if r.rows},
        "file": name,
    }


def _headline(rep: AccuracyReport) -> str:
    acc = rep.accuracy
    verdict = {
        "meets": f"meets the {rep.target_pct:g} % target",
        "below": f"below the {rep.target_pct:g} % target",
    }.get(rep.verdict, f"undetermined: the interval straddles the {rep.target_pct:g} % target")
    how = "; cross-fitted: the segment→label mapping was learnt from these labels"
    return (
        f"[bold]Customer Segmentation Accuracy: {acc.value_pct:.1f} %[/bold]  "
        f"(n={acc.n:,}, {round(acc.confidence * 100)} % CI {acc.ci_low_pct:.1f}–"
        f"{acc.ci_high_pct:.1f}{how if rep.fitted_mapping else ''}) — {verdict}"
    )


def _print_baseline(rep: AccuracyReport) -> None:
    """The null baseline (learnt mapping) or the chance level (declared mapping)."""
    null = rep.null_baseline
    if null is None:
        console.print(
            f"Match: {rep.match}   chance level {rep.chance_pct:.1f} %   kappa {rep.kappa:.3f}   "
            f"ARI {rep.ari:.3f}   NMI {rep.nmi:.3f}",
            highlight=False,
        )
        return
    beaten = "beaten" if rep.accuracy.ci_low_pct > null.threshold else "NOT beaten"
    console.print(
        f"Random segments of the same sizes, matched the same way: up to {null.threshold:.1f} % "
        f"({100 * null.quantile:g}th percentile of {null.n_permutations} label shuffles; "
        f"p = {null.p_value:.3f}) — {beaten} by the lower bound",
        highlight=False,
    )
    console.print(
        f"Match: {rep.match} (learnt)   apparent accuracy {rep.apparent_accuracy.value_pct:.1f} % "
        f"(in-sample)   kappa {rep.kappa:.3f}   ARI {rep.ari:.3f}   NMI {rep.nmi:.3f}",
        highlight=False,
    )


def _print_segment_level(rep: AccuracyReport) -> None:
    seg = rep.segment_level
    value = "not decided" if seg.estimate is None else f"{seg.estimate.value_pct:.1f} %"
    console.print(
        f"Segment-level accuracy: {value} ({seg.summary()}; rule: {seg.rule})", highlight=False
    )
    if seg.undetermined:
        need = ", ".join(
            f"{v.segment} (~{v.labels_to_decide:,} labels in all)"
            if v.labels_to_decide is not None
            else v.segment
            for v in seg.undetermined
        )
        console.print(f"Undetermined (label more to decide): {need}", highlight=False)


def _print_accuracy(rep: AccuracyReport, inputs: list[dict[str, Any]]) -> None:
    notes = list(rep.caveats)
    if rep.unserved_labels:  # said first: no accuracy figure can make up for it
        console.print(f"[yellow]labels not served:[/yellow] {notes.pop(0)}", highlight=False)
    console.print(_headline(rep), highlight=False)
    _print_segment_level(rep)
    _print_baseline(rep)
    cov = rep.coverage
    if cov is not None:
        console.print(
            f"Labels: {cov.n_matched:,} labelled customers checked of {cov.n_customers:,} "
            f"segmented ({cov.label_coverage_pct:.1f} %); {cov.n_labels_unknown_customer:,} "
            f"label(s) name customers not in the segmentation; {cov.n_superseded_labels:,} "
            f"superseded by a later label; {cov.n_blank_labels:,} blank",
            highlight=False,
        )
    for note in inputs:
        for rule, rows in note["rules"].items():
            console.print(f"{note['file']}: {rows:,} row(s) {rule.replace('_', ' ')}")
    table = Table(title="Per segment (precision = share of the segment's customers it got right)")
    heads = ("segment", "label", "n", "right", "prec %", "95 % CI", "rec %", "F1 %", "accurate")
    for col in heads:
        table.add_column(col, justify="left" if col in ("segment", "label") else "right")
    for r in rep.per_segment:
        table.add_row(
            r.segment,
            r.matched_label or "—",
            f"{r.size:,}",
            f"{r.correct:,}",
            f"{r.precision.value_pct:.1f}",
            f"{r.precision.ci_low_pct:.1f}–{r.precision.ci_high_pct:.1f}",
            f"{r.recall_pct:.1f}",
            f"{r.f1_pct:.1f}",
            _STATUS[r.status],
        )
    console.print(table)
    conf = Table(title="Confusion (rows: labels, columns: segments)")
    conf.add_column("label")
    for s in rep.segments:
        conf.add_column(s, justify="right")
    for lab, row in zip(rep.labels, rep.confusion.tolist(), strict=True):
        conf.add_row(lab, *[f"{v:,}" for v in row])
    console.print(conf)
    for c in notes:
        console.print(f"[yellow]note:[/yellow] {c}", highlight=False)


@app.command()
def accuracy(
    segments: Annotated[str, typer.Option(help=SEGMENTS_HELP)],  # str: s3a://b/x reaches Spark
    labels: Annotated[
        Path,
        typer.Option(help="File of reference labels: customer_id, segment (one row per check)."),
    ],
    match: Annotated[
        str | None,
        typer.Option(
            help="How segments meet labels: names, hungarian, majority, auto, or a CSV with "
            "columns label,segment. Default: names, refusing labels that name no segment."
        ),
    ] = None,
    target: Annotated[
        float, typer.Option(help="Target accuracy in percent.")
    ] = DEFAULT_SETTINGS.target_pct,
    rule: Annotated[
        str,
        typer.Option(
            help="Rule for segments and the headline verdict: lower-bound (accurate when the "
            "precision CI is above the target, not accurate when below, undetermined when it "
            "straddles) or point (precision >= target)."
        ),
    ] = "lower-bound",
    confidence: Annotated[
        float, typer.Option(help="Confidence level of every interval.")
    ] = DEFAULT_SETTINGS.confidence,
    columns: Annotated[str | None, typer.Option(help=COLUMNS_HELP)] = None,
    segments_columns: Annotated[
        str | None, typer.Option(help="Column mapping for the segments file only.")
    ] = None,
    labels_columns: Annotated[
        str | None, typer.Option(help="Column mapping for the labels file only.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print stable JSON.")] = False,
    fail_under: FailUnderOption = None,
    require_interval: RequireIntervalOption = False,
    engine: EngineOption = "embedded",
    spark_master: SparkMasterOption = None,
    spark_config: SparkConfigOption = None,
) -> None:
    """Customer Segmentation Accuracy of a segmentation against labels, with its CI."""
    check_options(fail_under, require_interval)
    from seglens.accuracy import SegmentRule, accuracy_report_from_tables
    from seglens.tables import ASSIGNMENTS, LABELS

    basis = {"lower-bound": "lower_bound", "point": "point"}.get(rule)
    if basis is None:
        raise UsageError(f"unknown rule {rule!r}", hint="use lower-bound or point")
    seg_rule = SegmentRule(target_pct=target, basis=basis)  # type: ignore[arg-type]
    if is_dash(segments) and is_dash(labels):
        raise UsageError("only one of --segments and --labels can be - (stdin)")
    if check_engine(engine):  # the segmentation stays in Spark (docs/spark.md)
        from seglens.spark.cli import accuracy_command, settings_for

        lab = load_table_arg(labels, LABELS, labels_columns or columns)
        rep, seg_note = accuracy_command(
            settings_for(spark_master, spark_config),
            segments,
            lab.table,
            lambda names: _label_vocabulary(names, lab.table, match, labels),
            confidence,
            seg_rule,
        )
        inputs = [seg_note, _input_notes("labels", lab)]
    else:
        seg = load_table_arg(Path(segments), ASSIGNMENTS, segments_columns or columns)
        lab = load_table_arg(labels, LABELS, labels_columns or columns)
        label_table, method = _label_vocabulary(seg.table, lab.table, match, labels)
        rep = accuracy_report_from_tables(
            seg.table, label_table, match=method, confidence=confidence, rule=seg_rule
        )
        inputs = [_input_notes("segments", seg), _input_notes("labels", lab)]
    if as_json:
        emit_json({**rep.to_dict(), "inputs": inputs})
    else:
        _print_accuracy(rep, inputs)
    a = rep.accuracy
    quality_gate("accuracy", a.value_pct, a.ci_low_pct, a.n, fail_under, require_interval)


def _label_vocabulary(
    segments: Any, labels: Any, match: str | None, source: Path
) -> tuple[Any, str]:
    """The labels table and the match rule to score it with; refuse another vocabulary unless
    ``--match`` says how to read it."""
    import polars as pl

    from seglens.accuracy import MATCH_METHODS
    from seglens.errors import DataError

    if match in MATCH_METHODS:
        return labels, str(match)
    if match is not None:
        from seglens.audit.estimate import map_answers

        mapping = read_match(match, MATCH_METHODS)
        mapped = labels.with_columns(map_answers(labels["segment"].cast(pl.String), mapping))
        return mapped, "names"
    names = set(segments["segment"].cast(pl.String).to_list())
    said = labels["segment"].cast(pl.String).drop_nulls()
    unknown = said.filter(~said.is_in(sorted(names))).value_counts(sort=True)
    if unknown.height:
        shown = ", ".join(f"{v!r} ({n} labels)" for v, n in unknown.head(8).iter_rows())
        raise DataError(
            f"the labels name segments the segmentation does not have: {shown}; its segments "
            f"are {', '.join(repr(s) for s in sorted(names)[:20])}",
            source=str(source),
            column="segment",
            hint="say how labels meet segments: --match hungarian (one-to-one, learnt from the "
            "labels and cross-fitted), --match majority, --match FILE (a CSV with columns "
            "label,segment), or --match names to count those labels as wrong",
        )
    return labels, "names"


def read_match(match: str | None, rules: tuple[str, ...] = ("names", "hungarian")) -> Any:
    """``--match``: None, one of ``rules``, or a label,segment CSV read into a dict."""
    if match is None or match in rules:
        return match
    import polars as pl

    from seglens.errors import DataError
    from seglens.io import open_source

    path = Path(match)
    if not path.is_file():
        raise UsageError(
            f"--match {match!r} is not a match rule ({', '.join(rules)}) nor an existing file",
            hint="give one of those rules, or a CSV with columns label,segment",
        )
    raw = open_source(str(path))
    table = raw.frame.collect().select(raw.columns)
    table = table.rename({c: c.lstrip("\ufeff").strip().lower() for c in table.columns})
    if not {"label", "segment"} <= set(table.columns):
        raise DataError(
            f"the mapping file has columns {table.columns}, not label and segment",
            source=str(path),
            hint="one row per reviewer answer: label (what reviewers wrote), segment (its name)",
        )
    rows = table.select(pl.col("label").cast(pl.String), pl.col("segment").cast(pl.String))
    return dict(rows.drop_nulls().iter_rows())
