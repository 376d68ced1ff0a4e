"""Segment profiles of a stored run and the scoring model behind ``POST /api/score``.

The store records each run's segmenter, its parameters and the feature rows it was fitted on,
but not the fitted model itself. :func:`scoring_model` therefore rebuilds the segmenter from its
recorded parameters, refits it on the run's stored features and **checks** that it reproduces the
run's assignments exactly before using it; when it does not (a parameter that was not plain JSON,
a random segmenter without a seed), scoring is refused with a clear error rather than silently
using a different model.
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import Any

import polars as pl

from seglens.errors import DataError, SeglensError, UsageError
from seglens.segmenters.profiles import SegmentProfiles, profile_segments
from seglens.store import RunInfo, Store, run_assignments, run_features

__all__ = ["ScoringModel", "score_customers", "scoring_model", "segment_profiles"]

log = logging.getLogger(__name__)

_lock = threading.Lock()
# Keyed by (database URL, run id): runs never change once recorded.
_profiles: dict[tuple[str, int], SegmentProfiles | None] = {}
_models: dict[tuple[str, int], ScoringModel] = {}


def segment_profiles(store: Store, run_id: int) -> SegmentProfiles | None:
    """Profiles (size, revenue share, medians, rule) of a run's segments; cached per run."""
    key = (store.url, run_id)
    with _lock:
        if key in _profiles:
            return _profiles[key]
    feats = run_features(store, run_id)
    result: SegmentProfiles | None = None
    if feats.height and len(feats.columns) > 1:
        assigned = run_assignments(store, run_id).select("customer_id", "segment")
        revenue = "total_spend" if "total_spend" in feats.columns else None
        try:
            result = profile_segments(feats, assigned, revenue=revenue)
        except SeglensError as err:
            log.warning("run %d cannot be profiled: %s", run_id, err.message)
    with _lock:
        _profiles[key] = result
    return result


class ScoringModel:
    """A run's segmenter refitted on the run's own features and checked against its output."""

    def __init__(self, run: RunInfo, model: Any, columns: list[str]) -> None:
        self.run = run
        self.model = model
        self.columns = columns

    def assign(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``customer_id`` and ``segment`` for each row (which must carry :attr:`columns`)."""
        missing = [c for c in self.columns if c not in rows.columns]
        if missing:
            raise DataError(
                f"missing feature column(s): {', '.join(missing)}",
                hint=f"the current model (run {self.run.id}) needs {', '.join(self.columns)}",
            )
        out: pl.DataFrame = self.model.assign(rows)
        return out.select(pl.col("customer_id").cast(pl.String), pl.col("segment"))


def _segmenter_class(name: str) -> Any:
    import seglens.segmenters as segmenters

    cls = getattr(segmenters, name, None)
    if cls is None or not inspect.isclass(cls):
        raise UsageError(f"run uses segmenter {name!r}, which this seglens does not provide")
    return cls


def _build(store: Store, run: RunInfo, features: pl.DataFrame) -> ScoringModel:
    cls = _segmenter_class(run.segmenter)
    try:
        model = cls(**run.parameters).fit(features)
    except (TypeError, ValueError, SeglensError) as err:
        raise UsageError(
            f"cannot rebuild the {run.segmenter} of run {run.id} from its stored parameters: {err}",
            hint="re-run `seglens track` with a segmenter whose parameters are plain values",
        ) from err
    again = model.assign(features).select(pl.col("customer_id").cast(pl.String), "segment")
    stored = run_assignments(store, run.id).select("customer_id", "segment")
    check = stored.join(again, on="customer_id", how="left", suffix="_refit")
    differ = int((check["segment"] != check["segment_refit"]).fill_null(True).sum())
    if differ:
        raise UsageError(
            f"the {run.segmenter} refitted on run {run.id}'s features puts {differ} customer(s) "
            "in another segment than the run did, so it is not the run's model",
            hint="score with a seeded segmenter (random_state) or re-run `seglens track`",
        )
    numeric = [c for c in features.columns if c != "customer_id"]
    columns = list(getattr(model, "columns", None) or numeric)
    return ScoringModel(run, model, columns)


def scoring_model(store: Store, run: RunInfo) -> ScoringModel:
    """The checked scoring model of ``run`` (built once per run and process)."""
    key = (store.url, run.id)
    with _lock:
        hit = _models.get(key)
    if hit is not None:
        return hit
    features = run_features(store, run.id)
    if features.height == 0 or len(features.columns) < 2:
        raise UsageError(
            f"run {run.id} stored no customer features, so its model cannot be rebuilt",
            hint="record runs with `seglens track`, which keeps the features",
        )
    model = _build(store, run, features)
    with _lock:
        _models[key] = model
    return model


def score_customers(store: Store, run: RunInfo, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Assign each feature row to a segment with the current model.

    Each row holds ``customer_id`` (optional) and the model's feature columns as numbers;
    other keys are ignored.
    """
    model = scoring_model(store, run)
    if not rows:
        return pl.DataFrame(schema={"customer_id": pl.String, "segment": pl.String})
    missing = [c for c in model.columns if any(c not in r for r in rows)]
    if missing:
        raise DataError(
            f"missing feature column(s): {', '.join(missing)}",
            hint=f"the current model (run {run.id}) needs {', '.join(model.columns)}",
        )
    data: dict[str, list[Any]] = {
        "customer_id": [
            None if r.get("customer_id") is None else str(r["customer_id"]) for r in rows
        ]
    }
    for col in model.columns:
        values = [_number(r[col]) for r in rows]
        bad = [i + 1 for i, v in enumerate(values) if v is None]
        if bad:
            raise DataError(
                f"feature {col!r} must be a number in every row",
                column=col,
                lines=tuple(bad[:10]),
            )
        data[col] = values
    frame = pl.DataFrame(
        data, schema={"customer_id": pl.String, **dict.fromkeys(model.columns, pl.Float64)}
    )
    return model.assign(frame)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out and abs(out) != float("inf") else None
