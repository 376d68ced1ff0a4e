"""Scoring customers with a fitted segmenter on Spark, without collecting them to the driver.

The fitted model (its RFM cut points and segment map, or its preprocessing and centres) travels
inside the scoring function; each executor scores its own partitions with the very same code as
in-process scoring (``mapInArrow`` over Arrow batches), so Spark and in-process assignments are
identical. Only the model travels, never the data. The function (model included) is pickled once
per query and shipped with the stage, which Spark broadcasts to the executors; an explicit
``sparkContext.broadcast`` would do the same on a classic session but does not exist on Spark
Connect (no ``sparkContext`` there), so one path serves both.

Executors need seglens installed (in local mode they share the driver's environment).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.segmenters._tabular import ID_COLUMN

__all__ = ["assign_spark", "output_schema"]

_DETAILS: dict[str, list[tuple[str, str]]] = {
    "RFMSegmenter": [
        ("r_score", "tinyint"),
        ("f_score", "tinyint"),
        ("m_score", "tinyint"),
        ("fm_score", "tinyint"),
        ("rfm_code", "string"),
    ],
    "KMeansSegmenter": [("distance", "double"), ("margin", "double")],
    "GaussianMixtureSegmenter": [("probability", "double")],
    "MixedSegmenter": [("distance", "double")],
}


def _input_columns(model: Any) -> list[str]:
    if hasattr(model, "edges_"):
        return list(model.columns)
    pre = getattr(model, "preprocessor_", None)
    if pre is None:
        raise UsageError("the model is not fitted: call fit before scoring on Spark")
    return list(pre.numeric_columns_) + list(pre.categorical_columns_)


def output_schema(model: Any, id_column: str = ID_COLUMN) -> str:
    """The Spark DDL schema of :func:`assign_spark` output for ``model``."""
    name = type(model).__name__
    if name not in _DETAILS:
        raise UsageError(f"cannot score a {name} on Spark (not a seglens segmenter)")
    cols = [(id_column, "string"), ("segment", "string"), ("cluster", "int"), *_DETAILS[name]]
    return ", ".join(f"`{c}` {t}" for c, t in cols)


def assign_spark(model: Any, sdf: Any, *, id_column: str = ID_COLUMN) -> Any:
    """Segment every customer of a Spark DataFrame with a fitted segmenter.

    Parameters
    ----------
    model : fitted seglens segmenter
        :class:`RFMSegmenter`, :class:`KMeansSegmenter`, :class:`GaussianMixtureSegmenter`
        or :class:`MixedSegmenter`.
    sdf : pyspark.sql.DataFrame
        One row per customer with ``id_column`` and the model's input columns.

    Returns
    -------
    pyspark.sql.DataFrame
        ``id_column``, ``segment``, ``cluster`` and the model's membership details; lazy,
        evaluated on the executors.
    """
    needed = _input_columns(model)
    schema = output_schema(model, id_column)
    missing = [c for c in [id_column, *needed] if c not in sdf.columns]
    if missing:
        raise DataError(
            f"the Spark DataFrame lacks column(s) {', '.join(map(repr, missing))}",
            column=missing[0],
            hint=f"it has: {', '.join(sdf.columns[:20])}",
        )
    from pyspark.sql import functions as F  # noqa: N812 - the usual alias

    selected = sdf.select(F.col(id_column).cast("string").alias(id_column), *needed)

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        fitted = model
        target: pa.Schema | None = None
        for batch in batches:
            if batch.num_rows == 0:
                continue
            df = pl.from_arrow(pa.Table.from_batches([batch]))
            assert isinstance(df, pl.DataFrame)
            out = fitted.assign(df).to_arrow()
            if target is None:
                target = pa.schema(
                    [
                        pa.field(
                            f.name, pa.string() if pa.types.is_large_string(f.type) else f.type
                        )
                        for f in out.schema
                    ]
                )
            yield from out.cast(target).to_batches()

    return selected.mapInArrow(score, schema)
