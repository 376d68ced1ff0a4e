"""The ``--engine spark`` side of the commands: each a few lines over :mod:`seglens.spark`.

The commands in :mod:`seglens.cli` keep their options and call these functions when
``--engine spark`` is given; what is printed follows the embedded engine's output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from seglens.cli._app import console, emit_json
from seglens.errors import UsageError
from seglens.spark.connect import SparkSettings, open_spark, spark_settings
from seglens.spark.sources import describe, read_source

__all__ = [
    "EngineOption",
    "SparkConfigOption",
    "SparkMasterOption",
    "SparkSampleOption",
    "accuracy_command",
    "check_engine",
    "export_command",
    "features_command",
    "import_hash",
    "rows_loaded",
    "segment_command",
    "segment_payload",
    "segments_frame",
    "settings_for",
    "track_input",
    "track_runner",
]

EngineOption = Annotated[
    str,
    typer.Option(
        "--engine", help="embedded (this process) or spark (reads, computes and writes on Spark)."
    ),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="spark.master or sc://host:port for --engine spark (default $SEGLENS_SPARK_MASTER, "
        "the \\[spark] table, local[2]).",
    ),
]
SparkConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--spark-config",
        help="TOML file with a \\[spark] table (master, app_name, \\[spark.conf]) for "
        "--engine spark.",
    ),
]
SparkSampleOption = Annotated[
    int | None,
    typer.Option(
        "--sample",
        help="With --engine spark: customers to fit on (default: enough to pin every centre "
        "within 0.05 SD, 76,830; see docs/spark.md).",
    ),
]


def check_engine(engine: str) -> bool:
    """Whether ``--engine`` asks for Spark (``embedded`` or ``spark``; anything else refused)."""
    if engine not in ("embedded", "spark"):
        raise UsageError(f"unknown engine {engine!r}", hint="use embedded or spark")
    return engine == "spark"


def segment_payload(
    method: str, sizes: dict[str, int], output: str, save_model: Path | None
) -> dict[str, Any]:
    """``segment --json`` on Spark: the same keys as the embedded engine's summary."""
    total = sum(sizes.values())
    ordered = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "method": method,
        "customers": total,
        "n_segments": len(sizes),
        "segments": [
            {"segment": seg, "customers": n, "share": n / total if total else None}
            for seg, n in ordered
        ],
        "output": output,
        "model": None if save_model is None else str(save_model),
        "engine": "spark",
    }


def settings_for(master: str | None, config: Path | None) -> SparkSettings:
    """The Spark connection of a command: ``--spark-master``, environment, ``--spark-config``."""
    return spark_settings(master, config)


def features_command(
    settings: SparkSettings,
    source: str,
    output: str,
    as_of: str | None,
    columns: dict[str, str],
    feature_set: str,
    as_json: bool,
    keywords: dict[str, Any] | None = None,
) -> None:
    """``seglens features --engine spark``: computed and written by Spark (the lines cleaned
    there with the ingest options ``keywords``)."""
    from seglens.spark.commands import features_on_spark

    started = time.perf_counter()
    feats, summary = features_on_spark(
        settings,
        source,
        output,
        as_of=as_of,
        columns=columns,
        feature_set=feature_set,
        keywords=keywords,
    )
    rows = int(read_source(feats.frame.sparkSession, output).count())
    seconds = time.perf_counter() - started
    if as_json:
        emit_json(
            {
                "rows": rows,
                "columns": summary["columns"],
                "n_features": len(summary["columns"]) - 1,
                "as_of": feats.as_of,
                "engine": "spark",
                "output": output,
                "seconds": round(seconds, 3),
                "omitted": list(feats.omitted),
                "demographics": None,
            }
        )
        return
    console.print(
        f"{rows:,} customers x {len(summary['columns']) - 1} features as of "
        f"{feats.as_of:%Y-%m-%d %H:%M} on spark ({settings.master}) in {seconds:.1f} s -> "
        f"{summary['output']}",
        highlight=False,
        markup=False,
    )
    if feats.omitted:
        console.print(
            f"not computed (source column absent): {', '.join(feats.omitted)}", markup=False
        )


def segments_frame(settings: SparkSettings, source: str) -> Any:
    """The ``customer_id, segment`` table of ``source`` as a Spark DataFrame."""
    from seglens.errors import DataError

    sdf = read_source(open_spark(settings), source)
    missing = [c for c in ("customer_id", "segment") if c not in sdf.columns]
    if missing:
        raise DataError(
            f"the segmentation lacks column(s) {', '.join(missing)}; "
            f"found {', '.join(sdf.columns)}",
            source=describe(source),
            column=missing[0],
            hint="select or rename them in the query, e.g. sql:SELECT id AS customer_id, ...",
        )
    return sdf


def segment_command(
    settings: SparkSettings,
    source: str,
    output: str,
    model: Any,
    *,
    sample: int | None,
    seed: int,
    as_json: bool,
) -> tuple[Any, dict[str, int], Any]:
    """``seglens segment --engine spark``: fit on a sample, score and write in Spark.

    Returns the fitted model, the customers per segment, and the Spark feature table.
    """
    from seglens.spark.commands import segment_on_spark, segment_sizes
    from seglens.spark.fit import sample_size
    from seglens.spark.sources import write_output

    if sample is not None and sample < 2:
        raise UsageError(f"--sample must be at least 2 customers, not {sample}")
    features = read_source(open_spark(settings), source)
    if "customer_id" not in features.columns:
        from seglens.errors import DataError

        raise DataError(
            "the feature table has no 'customer_id' column",
            source=describe(source),
            column="customer_id",
            hint=f"columns are: {', '.join(features.columns[:15])}",
        )
    res = segment_on_spark(features, model, sample_target=sample or sample_size(), seed=seed)
    where = write_output(res.assignments.orderBy("customer_id"), output)
    sizes = segment_sizes(read_source(features.sparkSession, output))
    if not as_json:
        console.print(res.how, highlight=False, markup=False)
        for seg, n in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
            console.print(f"{seg}: {n:,}", highlight=False, markup=False)
        console.print(f"wrote {sum(sizes.values()):,} assignments to {where}", markup=False)
    return res.model, sizes, features


def accuracy_command(
    settings: SparkSettings,
    source: str,
    labels: Any,
    vocabulary: Callable[[Any], tuple[Any, str]],
    confidence: float,
    rule: Any,
) -> tuple[Any, dict[str, Any]]:
    """``seglens accuracy --engine spark``: the report and the segmentation's input note.

    ``vocabulary`` gets a one-column frame of the segment names and returns the labels table
    and the match rule (the embedded command's own check of the labels' vocabulary).
    """
    import polars as pl

    from seglens.spark.accuracy import segment_sizes, spark_accuracy_report

    sdf = segments_frame(settings, source)
    sizes = segment_sizes(sdf)
    label_table, method = vocabulary(pl.DataFrame({"segment": sorted(sizes)}, orient="col"))
    rep = spark_accuracy_report(
        sdf, label_table, match=method, confidence=confidence, rule=rule, sizes=sizes
    )
    n = sum(sizes.values())
    note = {
        "source": describe(source),
        "rows_read": n,
        "rows_kept": n,
        "mapping": {},
        "rules": {},
        "file": "segments",
        "engine": "spark",
    }
    return rep, note


def track_input(
    engine: str,
    spark: tuple[str | None, Path | None],
    source: str,
    keywords: dict[str, Any],
    day: Any,
) -> Any:
    """``track --engine spark``: the lines cleaned on Spark (checked against the as-of date
    before anything is stored), or None on the embedded engine."""
    if not check_engine(engine):
        return None
    from seglens.spark.commands import ingest_on_spark
    from seglens.spark.track import check_lines_as_of
    from seglens.tracking.track import _end_of

    cleaned, _ = ingest_on_spark(settings_for(*spark), source, None, as_of=None, keywords=keywords)
    lines = cleaned.table.localCheckpoint()
    check_lines_as_of(lines, _end_of(day))
    return type(cleaned)(lines, cleaned.report)


def rows_loaded(loaded: Any) -> int:
    """Rows kept by the cleaning: a Polars table's height, or the Spark report's count."""
    import polars as pl

    table = loaded.table
    # isinstance, not hasattr: a Spark Connect DataFrame answers any attribute with a Column
    return table.height if isinstance(table, pl.DataFrame) else int(loaded.report.rows_kept)


def import_hash(source: str, loaded: Any) -> str:
    """The imported data's hash: the file's SHA-256 (a path or a ``file:`` URI), or for a Spark
    table, query or cluster URI its lines'."""
    from seglens.spark.sources import local_path
    from seglens.store import file_sha256

    path = local_path(source)
    if path is not None and path.is_file():
        return file_sha256(path)
    from seglens.spark.track import spark_data_hash

    return spark_data_hash(loaded.table)


def track_runner(loaded: Any, sample: int | None) -> Callable[..., Any]:
    """The tracking step for ``loaded``: :func:`seglens.tracking.track`, or its Spark twin."""
    import polars as pl

    if isinstance(loaded.table, pl.DataFrame):
        from seglens.tracking import track

        return track
    from functools import partial

    from seglens.spark.fit import sample_size
    from seglens.spark.track import track_on_spark

    return partial(track_on_spark, sample=sample or sample_size())


def export_command(
    settings: SparkSettings,
    source: str,
    output: str,
    *,
    format: str,
    as_of: Any,
    extra_columns: list[str],
    pseudonym_key: bytes | None,
    segments_columns: str | None,
) -> Any:
    """``seglens export --engine spark``: checked, pseudonymized, escaped and written by Spark
    (:func:`seglens.spark.export.export_on_spark`); the :class:`ExportResult`."""
    from seglens.spark.export import export_on_spark

    if segments_columns:
        raise UsageError(
            "--segments-columns is for files the embedded engine reads",
            hint='rename in a query: "sql:SELECT id AS customer_id, cluster AS segment FROM ..."',
        )
    sdf = read_source(open_spark(settings), source)
    return export_on_spark(
        sdf,
        output,
        format=format,
        as_of=as_of,
        extra_columns=extra_columns,
        pseudonym_key=pseudonym_key,
    )
