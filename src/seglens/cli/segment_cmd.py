"""`seglens segment` and `seglens profile` (registered on import).

Thin layers over :mod:`seglens.segmenters`: read a feature table, fit, write assignments,
print the evidence and the profiles as Rich tables. ``--method supervised`` learns from a
labels file (:func:`seglens.segmenters.learn_from_labels`) and prints its out-of-fold evidence.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table

from seglens.cli._app import app, check_output, console, emit_json
from seglens.errors import UsageError
from seglens.spark.cli import (
    EngineOption,
    SparkConfigOption,
    SparkMasterOption,
    SparkSampleOption,
)

_METHODS = ("rfm", "kmeans", "gmm", "mixed", "supervised")


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _parse_k(k: str) -> int | str:
    if k == "auto":
        return "auto"
    try:
        value = int(k)
    except ValueError:
        raise UsageError(f"--k must be 'auto' or a whole number, not {k!r}") from None
    if value < 1:
        raise UsageError(f"--k must be at least 1, not {value}")
    return value


def _parse_range(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in text.split("-"))
    except ValueError:
        raise UsageError(f"--k-range must look like 2-12, not {text!r}") from None
    if not 2 <= lo <= hi:
        raise UsageError(f"--k-range must satisfy 2 <= low <= high, not {text!r}")
    return lo, hi


def _parse_cut_points(text: str | None) -> dict[str, list[float]] | None:
    """``recency=30,90,180,365;monetary=100,250,500,1000`` -> mapping."""
    if not text:
        return None
    out: dict[str, list[float]] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, values = part.partition("=")
        try:
            out[name.strip()] = [float(v) for v in values.split(",")]
        except ValueError:
            sep = ""
        if not sep:
            raise UsageError(
                f"--cut-points part {part!r} is not NAME=v1,v2,...",
                hint="e.g. --cut-points 'recency=30,90,180,365;monetary=100,250,500,1000'",
            )
    return out


def _parse_renames(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        old, sep, new = part.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise UsageError(f"--rename part {part!r} is not OLD=NEW")
        out[old.strip()] = new.strip()
    return out


def _build(
    method: str,
    k: int | str,
    *,
    features: list[str] | None,
    categorical: list[str] | None,
    k_range: tuple[int, int],
    seed: int,
    id_column: str,
    segment_map: Path | None,
    bins: int,
    cut_points: dict[str, list[float]] | None,
    rfm_columns: list[str] | None,
    algorithm: str,
) -> Any:
    from seglens.segmenters import (
        GaussianMixtureSegmenter,
        KMeansSegmenter,
        MixedSegmenter,
        RFMSegmenter,
    )

    if method == "rfm":
        cols = rfm_columns or ["days_since_last_purchase", "n_orders", "total_spend"]
        if len(cols) != 3:
            raise UsageError("--rfm-columns takes three names: recency,frequency,monetary")
        return RFMSegmenter(
            recency=cols[0],
            frequency=cols[1],
            monetary=cols[2],
            n_bins=bins,
            cut_points=cut_points,
            segment_map=segment_map,
            id_column=id_column,
        )
    common: dict[str, Any] = {
        "k_range": k_range,
        "features": features,
        "categorical": categorical,
        "random_state": seed,
        "id_column": id_column,
    }
    if method == "kmeans":
        if algorithm not in ("lloyd", "minibatch"):
            raise UsageError(f"--algorithm must be lloyd or minibatch, not {algorithm!r}")
        return KMeansSegmenter(k, algorithm=algorithm, **common)  # type: ignore[arg-type]
    if method == "gmm":
        return GaussianMixtureSegmenter(k, **common)
    return MixedSegmenter(k, **common)


def _print_evidence(model: Any) -> None:
    sel = getattr(model, "k_selection_", None)
    if sel is None:
        return
    table = Table(
        title=f"Automatic k ({sel.method}; {sel.n_sample:,} customers sampled, silhouette on "
        f"{sel.n_silhouette:,}, {sel.n_bootstrap} bootstrap refits)"
    )
    for col in ("k", "silhouette", "stability", "BIC", "cost", ""):
        table.add_column(col, justify="right")
    for row in sel.table.iter_rows(named=True):
        bic = "" if row["bic"] is None else f"{row['bic']:,.0f}"
        table.add_row(
            str(row["k"]),
            f"{row['silhouette']:.3f}",
            f"{row['stability']:.2f}",
            bic,
            f"{row['cost']:,.1f}",
            "← chosen" if row["chosen"] else "",
            style="bold" if row["chosen"] else None,
        )
    console.print(table)
    console.print(f"[bold]k = {sel.k}[/bold]: {sel.reason}", highlight=False)


def _print_rfm_cuts(model: Any) -> None:
    table = Table(title="RFM score cut points (bins are right-closed: a tie gets the lower bin)")
    table.add_column("score")
    for dim, col in zip(("recency", "frequency", "monetary"), model.columns, strict=True):
        table.add_column(f"{dim} ({col})")
    rules = model.score_rules()
    for score in range(model.n_bins, 0, -1):
        cells = [
            next(r["rule"] for r in rules if r["dimension"] == d and r["score"] == score)
            for d in ("recency", "frequency", "monetary")
        ]
        table.add_row(str(score), *cells)
    console.print(table)


def _print_counts(out: pl.DataFrame) -> None:
    counts = out.group_by("segment").len().sort("len", descending=True)
    table = Table(title=f"Segments ({out.height:,} customers)")
    table.add_column("segment")
    table.add_column("customers", justify="right")
    table.add_column("share", justify="right")
    for seg, n in counts.iter_rows():
        table.add_row(seg, f"{n:,}", f"{n / out.height:.1%}")
    console.print(table)


@app.command()
def segment(
    features_file: Annotated[  # str, as -o: a Path would turn s3a://b/x into s3a:/b/x
        str, typer.Argument(help="Feature table (CSV/Parquet), one row per customer.")
    ],
    method: Annotated[
        str, typer.Option("--method", "-m", help="rfm, kmeans, gmm, mixed or supervised.")
    ] = "rfm",
    k: Annotated[str, typer.Option("--k", "-k", help="Number of segments or 'auto'.")] = "auto",
    output: Annotated[
        str, typer.Option("--output", "-o", help="Where to write assignments (.parquet or .csv).")
    ] = "segments.parquet",
    features: Annotated[
        str | None,
        typer.Option(help="Numeric columns to cluster on (comma-separated; default all)."),
    ] = None,
    categorical: Annotated[
        str | None,
        typer.Option(help="Categorical columns (mixed/kmeans; default all text columns)."),
    ] = None,
    k_range: Annotated[str, typer.Option(help="Candidates for --k auto, e.g. 2-12.")] = "2-12",
    algorithm: Annotated[str, typer.Option(help="k-means variant: lloyd or minibatch.")] = "lloyd",
    segment_map: Annotated[
        Path | None,
        typer.Option("--map", help="RFM segment map (TOML); default: the 11-segment map."),
    ] = None,
    bins: Annotated[int, typer.Option(help="RFM scores per dimension.")] = 5,
    cut_points: Annotated[
        str | None,
        typer.Option(
            help="RFM cut points, e.g. 'recency=30,90,180,365;monetary=100,250,500,1000'."
        ),
    ] = None,
    rfm_columns: Annotated[
        str | None, typer.Option(help="recency,frequency,monetary column names.")
    ] = None,
    id_column: Annotated[str, typer.Option(help="Customer id column.")] = "customer_id",
    seed: Annotated[int, typer.Option(help="Random seed (clustering).")] = 0,
    save_model: Annotated[
        Path | None, typer.Option(help="Also save the fitted model here (.seglens).")
    ] = None,
    show_map: Annotated[
        bool, typer.Option(help="Print the RFM segment map as TOML and exit.")
    ] = False,
    labels: Annotated[
        Path | None,
        typer.Option(help="Labels file (customer_id, segment) to learn from (supervised)."),
    ] = None,
    label_columns: Annotated[
        str | None, typer.Option(help="Labels column mapping canonical=source,...")
    ] = None,
    folds: Annotated[int, typer.Option(help="Folds for the out-of-fold figures (supervised).")] = 5,
    curve: Annotated[
        bool, typer.Option(help="Draw the learning curve and its projection (supervised).")
    ] = True,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the result (method, segment sizes, evidence) as JSON."),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Also store the segmentation as a run in this database (with --as-of), so it "
            "can be audited, labelled and tracked like any run.",
            show_default=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="With --db: the date the features describe (YYYY-MM-DD)."),
    ] = None,
    engine: EngineOption = "embedded",
    spark_master: SparkMasterOption = None,
    spark_config: SparkConfigOption = None,
    sample: SparkSampleOption = None,
) -> None:
    """Segment customers by RFM rules, clustering or labels and write one row per customer."""
    from seglens.segmenters import SegmentMap
    from seglens.segmenters.tables_io import read_feature_table
    from seglens.spark.sources import is_uri

    if show_map:
        smap = SegmentMap.from_toml(segment_map) if segment_map else SegmentMap.default()
        console.print(smap.to_toml(), markup=False, highlight=False)
        return
    if method not in _METHODS:
        raise UsageError(f"--method must be one of {', '.join(_METHODS)}, not {method!r}")
    if (method == "supervised") != (labels is not None):
        raise UsageError("--labels goes with --method supervised (and it needs them)")
    if (db is None) != (as_of is None):
        raise UsageError("--db and --as-of go together: a stored run needs the date it describes")
    if engine != "spark" or not is_uri(output):  # Spark resolves a URI (dbfs:/x) itself
        check_output(Path(output), "-o/--output")
    check_output(save_model, "--save-model")
    check_output(db, "--db")

    def build() -> Any:
        """The unfitted segmenter the options describe (not the supervised one)."""
        return _build(
            method,
            _parse_k(k) if method != "rfm" else 0,
            features=_split(features),
            categorical=_split(categorical),
            k_range=_parse_range(k_range),
            seed=seed,
            id_column=id_column,
            segment_map=segment_map,
            bins=bins,
            cut_points=_parse_cut_points(cut_points),
            rfm_columns=_split(rfm_columns),
            algorithm=algorithm,
        )

    if _on_spark(engine, method):  # fit on a sample, score and write in Spark (docs/spark.md)
        model = build()
        spark = (spark_master, spark_config, sample)
        _segment_spark(
            model, method, features_file, output, spark, seed, save_model, db, as_of, as_json
        )
        return
    out_path = Path(output)
    df = read_feature_table(Path(features_file), id_column=id_column)
    if labels is not None:
        from seglens.segmenters import SupervisedSegmenter

        est = SupervisedSegmenter(
            features=_split(features), categorical=_split(categorical), random_state=seed
        )
        res = _supervised(
            df, labels, label_columns, est, folds, curve, seed, id_column, show=not as_json
        )
        model = res.model
        out = model.assign(df)
        if not as_json:
            _print_counts(out)
        _finish(model, out, out_path, save_model, show=not as_json)
        run_id = _store_run(db, as_of, model, out, df, show=not as_json)
        if as_json:
            payload = _segment_json(method, out, out_path, save_model)
            payload["run_id"] = run_id
            payload["labels_used"] = res.n_labelled
            payload["labels_without_features"] = res.labels_without_features
            payload["dropped_columns"] = list(res.dropped_columns)
            payload["out_of_fold"] = res.out_of_fold.to_dict()
            payload["learning_curve"] = None if res.curve is None else res.curve.to_dict()
            emit_json(payload)
        return
    model = build()
    with _status(f"fitting {method} on {df.height:,} customers", show=not as_json):
        model.fit(df)
        out = model.assign(df)
    if as_json:
        _finish(model, out, out_path, save_model, show=False)
        payload = _segment_json(method, out, out_path, save_model)
        payload["run_id"] = _store_run(db, as_of, model, out, df, show=False)
        sel = getattr(model, "k_selection_", None)
        payload["k_selection"] = None if sel is None else sel.to_dict()
        payload["rfm_rules"] = model.score_rules() if method == "rfm" else None
        emit_json(payload)
        return
    if method == "rfm":
        _print_rfm_cuts(model)
    _print_evidence(model)
    _print_counts(out)
    _finish(model, out, out_path, save_model)
    _store_run(db, as_of, model, out, df, show=True)


def _on_spark(engine: str, method: str) -> bool:
    from seglens.spark.cli import check_engine

    if check_engine(engine) and method == "supervised":
        raise UsageError("--method supervised runs on the embedded engine (labels are few)")
    return engine == "spark"


def _segment_spark(
    model: Any,
    method: str,
    source: str,
    output: str,
    spark: tuple[str | None, Path | None, int | None],
    seed: int,
    save_model: Path | None,
    db: str | None,
    as_of: str | None,
    as_json: bool,
) -> None:
    """``--engine spark``: seglens.spark fits, scores and writes; a run is stored as usual."""
    from seglens.spark.cli import segment_command, segment_payload, settings_for
    from seglens.spark.sources import local_path

    settings = settings_for(spark[0], spark[1])
    fitted, sizes, feats = segment_command(
        settings, source, output, model, sample=spark[2], seed=seed, as_json=as_json
    )
    if save_model is not None:
        from seglens.segmenters.persistence import save_model as _save

        _save(fitted, save_model)
    run_id = None
    if db is not None:  # the store keeps every customer's segment: collected for it
        folder = local_path(output)
        out = pl.read_parquet(folder) if folder is not None and folder.is_dir() else None
        if out is None:
            raise UsageError("--db with --engine spark needs a Parquet folder as -o")
        df = pl.from_arrow(feats.toArrow())
        assert isinstance(df, pl.DataFrame)
        run_id = _store_run(db, as_of, fitted, out, df.sort("customer_id"), show=not as_json)
    if as_json:
        emit_json({**segment_payload(method, sizes, output, save_model), "run_id": run_id})


def _store_run(
    db: str | None,
    as_of: str | None,
    model: Any,
    out: pl.DataFrame,
    df: pl.DataFrame,
    *,
    show: bool,
) -> int | None:
    """With ``--db``: record the segmentation (and its feature rows) as a run; its id."""
    if db is None or as_of is None:
        return None
    from datetime import date

    from seglens.segmenters.persistence import model_parameters
    from seglens.store import frame_sha256, open_store, record_run

    try:
        day = date.fromisoformat(as_of)
    except ValueError as err:
        raise UsageError(f"not a date: {as_of!r}", hint="write --as-of YYYY-MM-DD") from err
    with open_store(db) as store:
        run_id = record_run(
            store,
            out.select(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String)),
            segmenter=type(model).__name__,
            parameters=model_parameters(model),
            as_of=day,
            data_hash=frame_sha256(df),
            features=df,
        )
    if show:
        console.print(f"stored as run {run_id} (as of {day}) in the database", highlight=False)
    return run_id


def _status(text: str, *, show: bool) -> Any:
    """A spinner while fitting, or nothing (with --json stdout carries the JSON alone)."""
    return console.status(text) if show else nullcontext()


def _segment_json(
    method: str, out: pl.DataFrame, output: Path, save_model: Path | None
) -> dict[str, Any]:
    """The fitted result's summary: method, segments with their sizes, where it was written."""
    counts = out.group_by("segment").len().sort(["len", "segment"], descending=[True, False])
    return {
        "method": method,
        "customers": out.height,
        "n_segments": counts.height,
        "segments": [
            {"segment": seg, "customers": n, "share": n / out.height if out.height else None}
            for seg, n in counts.iter_rows()
        ],
        "output": str(output),
        "model": None if save_model is None else str(save_model),
    }


def _finish(
    model: Any, out: pl.DataFrame, output: Path, save_model: Path | None, *, show: bool = True
) -> None:
    from seglens.segmenters.persistence import save_model as _save
    from seglens.segmenters.tables_io import write_assignments

    write_assignments(out, output)
    if show:
        console.print(f"wrote {out.height:,} assignments to {output}", highlight=False)
    if save_model is not None:
        _save(model, save_model)
        if show:
            console.print(f"saved the model to {save_model}", highlight=False)


def _supervised(
    df: pl.DataFrame,
    labels: Path,
    label_columns: str | None,
    estimator: Any,
    folds: int,
    curve: bool,
    seed: int,
    id_column: str,
    *,
    show: bool = True,
) -> Any:
    """Learn from the labels file and print the evidence (unless ``show`` is off); return the
    result, whose ``model`` is fitted on all labels."""
    from seglens.segmenters import learn_from_labels
    from seglens.store.files import read_labels_file

    lab = read_labels_file(labels, columns=label_columns).table
    with _status(f"learning from {lab.height:,} labels (out of fold, {folds} folds)", show=show):
        res = learn_from_labels(
            df, lab, estimator=estimator, n_splits=folds, curve=curve, random_state=seed,
            id_column=id_column,
        )  # fmt: skip
    if not show:
        return res
    if res.dropped_columns:
        console.print(
            f"left out {', '.join(res.dropped_columns)}: it repeats the labels", highlight=False
        )
    if res.labels_without_features:
        console.print(
            f"{res.labels_without_features:,} labelled customers are not in the feature table "
            "(not used)",
            highlight=False,
        )
    _print_out_of_fold(res.out_of_fold, res.n_labelled)
    if res.curve is not None:
        _print_curve(res.curve)
    return res


def _print_out_of_fold(oof: Any, n: int) -> None:
    console.print(
        f"[bold]Out-of-fold agreement with the labels[/bold] ({oof.n_folds}-fold; each customer "
        f"predicted by a model that never saw its label): {oof.accuracy}; always guessing the "
        f"largest segment: {oof.chance_pct:.1f} %. This is the model's cross-validated "
        "agreement with the labels, not the KPI of the deployed segmentation.",
        highlight=False,
    )
    table = Table("segment", "labelled", "predicted", "precision (95 % CI)", "recall (95 % CI)")
    for s in oof.segments:
        table.add_row(
            s.segment,
            f"{s.labelled:,}",
            f"{s.predicted:,}",
            _pct_ci(s.precision),
            _pct_ci(s.recall),
        )
    console.print(table)
    for c in oof.confused:
        console.print(
            f"confused: {c.customers:,} customers labelled {c.labelled} were put in "
            f"{c.predicted} ({c.share_pct:.1f} % of {c.labelled})",
            highlight=False,
        )
    for i in oof.importance:
        console.print(f"input {i.sentence()} [{i.kind}]", highlight=False, markup=False)
    beh, dem = oof.share_pct("behavioural"), oof.share_pct("demographic")
    if beh is not None and dem is not None:
        console.print(
            f"what carries it: behavioural inputs {beh:.0f} %, demographic inputs {dem:.0f} % "
            "(shares of the accuracy lost when each input is shuffled)",
            highlight=False,
        )


def _pct_ci(e: Any) -> str:
    if e.n == 0:
        return "–"
    return f"{e.value_pct:.1f} % ({e.ci_low_pct:.1f}–{e.ci_high_pct:.1f})"


def _print_curve(lc: Any) -> None:
    table = Table("labels", "seen per model", "agreement (95 % CI)", "draws", "scored on", title=(
        "Learning curve: agreement with labels the model did not see"
    ))  # fmt: skip
    for p in lc.points:
        table.add_row(
            f"{p.n_labels:,}",
            f"{p.n_train:,}",
            _pct_ci(p.accuracy),
            f"{len(p.draws_pct)}",
            "labels not drawn" if p.method == "held-out" else "out of fold",
        )
    console.print(table)
    console.print(f"projection: {lc.projection.message}", highlight=False, markup=False)
    console.print(f"method: {lc.projection.method}", highlight=False, markup=False)


@app.command()
def profile(
    features_file: Annotated[Path, typer.Argument(help="Feature table (CSV/Parquet).")],
    segments_file: Annotated[
        Path, typer.Argument(help="Assignments from `seglens segment` (customer_id, segment).")
    ],
    depth: Annotated[
        int | None,
        typer.Option(help="Depth of the rule tree (conditions per rule); default 3-5 by k."),
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="Feature columns to profile (default all).")
    ] = None,
    revenue: Annotated[
        str, typer.Option(help="Column summed for the revenue share.")
    ] = "total_spend",
    rename: Annotated[
        str | None, typer.Option(help="Rename segments: 'old=new;old2=new2'.")
    ] = None,
    id_column: Annotated[str, typer.Option(help="Customer id column.")] = "customer_id",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the profiles as JSON.")
    ] = None,
) -> None:
    """Print what each segment is (size, shares, medians, what sets it apart) and CRM rules."""
    from seglens.segmenters.profiles import profile_segments
    from seglens.segmenters.tables_io import read_feature_table

    check_output(json_out, "--json")
    feats = read_feature_table(features_file, id_column=id_column)
    segs = read_feature_table(segments_file, id_column=id_column)
    with console.status(f"profiling {feats.height:,} customers"):
        prof = profile_segments(
            feats,
            segs,
            columns=_split(columns),
            revenue=revenue,
            id_column=id_column,
            max_depth=depth,
        )
    prof = prof.rename(_parse_renames(rename))
    overview = Table(title=f"Segment profiles ({prof.n_customers:,} customers)")
    for col, just in [
        ("segment", "left"),
        ("auto name", "left"),
        ("customers", "right"),
        ("share", "right"),
        ("revenue", "right"),
        ("rule precision", "right"),
        ("rule recall", "right"),
    ]:
        overview.add_column(col, justify=just)  # type: ignore[arg-type]
    for p in prof.profiles:
        overview.add_row(
            p.segment,
            p.auto_name,
            f"{p.size:,}",
            f"{p.share:.1%}",
            "" if p.revenue_share is None else f"{p.revenue_share:.1%}",
            f"{p.rule_precision:.0%}",
            f"{p.rule_recall:.0%}",
        )
    console.print(overview)
    for p in prof.profiles:
        t = Table(title=f"{p.segment} — {p.auto_name}", title_justify="left")
        for col in ("feature", "", "effect size d", "segment median", "others' median"):
            t.add_column(col, justify="left" if col in ("feature", "") else "right")
        for d in p.distinguishing:
            t.add_row(
                d.feature,
                d.direction,
                f"{d.effect_size:+.2f}",
                f"{d.segment_median:,.4g}",
                f"{d.rest_median:,.4g}",
            )
        if not p.distinguishing:
            t.add_row("(nothing stands out)", "", "", "", "")
        console.print(t)
        console.print(f"  [bold]rule:[/bold] {p.rule}", highlight=False)
    console.print(
        f"Rule fidelity: {prof.rule_fidelity:.1%} of {prof.n_customers:,} customers are placed "
        f"in their own segment by the depth-{prof.rule_depth} rules.",
        highlight=False,
    )
    for note in prof.notes:
        console.print(f"note: {note}", highlight=False)
    if json_out is not None:
        import json

        from seglens.io.atomic import write_text_atomic

        write_text_atomic(json_out, json.dumps(prof.to_dict(), indent=2), option="--json")
        console.print(f"wrote {json_out}", highlight=False)
