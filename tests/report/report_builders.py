"""Review snapshots built from real computations (imported by the report tests and conftest).

Nothing here hard-codes a headline number: the automobile snapshot is scikit-learn models scored
against the sales team's labels of ``automobile-segmentation-labeled/Train.csv``; the planted
snapshot is k-means on a generated population whose true segments are known.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from seglens.accuracy import accuracy_report
from seglens.report import (
    ConfusionTable,
    Estimate,
    Finding,
    LabelCoverage,
    MigrationTable,
    PeriodKPI,
    Profiles,
    ProxyValue,
    ReviewSnapshot,
    RunInfo,
    SegmentStat,
    SourceFile,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
QUARTERS = ("2011Q1", "2011Q2", "2011Q3", "2011Q4")


@dataclass(frozen=True)
class Built:
    """A snapshot plus the values scikit-learn (and seglens.accuracy) computed for it."""

    snapshot: ReviewSnapshot
    accuracy_pct: float
    precision_pct: dict[str, float]


def _precision_stats(
    y_true: np.ndarray[Any, Any], y_pred: np.ndarray[Any, Any], labels: list[str]
) -> dict[str, tuple[float, Estimate, Estimate, float, int]]:
    """scikit-learn's precision (%), then precision / recall estimates, F1, support."""
    prec, rec, f1, sup = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    out = {}
    for i, lab in enumerate(labels):
        placed = int((y_pred == lab).sum())
        correct = int(((y_pred == lab) & (y_true == lab)).sum())
        assert placed == 0 or abs(correct / placed - prec[i]) < 1e-12
        assert sup[i] == 0 or abs(correct / sup[i] - rec[i]) < 1e-12
        out[lab] = (
            100.0 * float(prec[i]),
            Estimate.from_counts(correct, placed),
            Estimate.from_counts(correct, int(sup[i])),
            float(f1[i]),
            int(sup[i]),
        )
    return out


def _stability(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], train: np.ndarray[Any, Any], rng: Any
) -> dict[str, float]:
    """Mean bootstrap Jaccard of each predicted segment (refit on resampled training rows)."""
    base = LogisticRegression(max_iter=500).fit(x[train], y[train]).predict(x)
    scores: dict[str, list[float]] = {lab: [] for lab in np.unique(base)}
    for _ in range(5):
        boot = rng.choice(train, size=train.size, replace=True)
        pred = LogisticRegression(max_iter=500).fit(x[boot], y[boot]).predict(x)
        for lab in scores:
            a, b = base == lab, pred == lab
            union = int((a | b).sum())
            scores[lab].append(int((a & b).sum()) / union if union else 1.0)
    return {lab: float(np.mean(v)) for lab, v in scores.items()}


def build_automobile(train_csv: Path) -> Built:
    """Four quarters of a classifier trained on growing label sets, audited on fresh samples."""
    df = pd.read_csv(train_csv)
    spend = df["Spending_Score"].map({"Low": 0.0, "Average": 1.0, "High": 2.0})
    num = pd.DataFrame(
        {
            "Age": df["Age"].astype(float),
            "Work_Experience": df["Work_Experience"].fillna(df["Work_Experience"].median()),
            "Family_Size": df["Family_Size"].fillna(df["Family_Size"].median()),
            "Spending_Score": spend,
        }
    )
    cats = pd.get_dummies(
        df[["Gender", "Ever_Married", "Graduated", "Profession", "Var_1"]].fillna("missing"),
        dtype=float,
    )
    raw = pd.concat([num, cats], axis=1).to_numpy()
    x = (raw - raw.mean(axis=0)) / np.where(raw.std(axis=0) > 0, raw.std(axis=0), 1)
    y = df["Segmentation"].to_numpy().astype(str)
    labels = sorted(str(v) for v in set(y))
    rng = np.random.default_rng(20111)
    order = rng.permutation(len(df))
    audits = [order[i * 400 : (i + 1) * 400] for i in range(4)]
    pool = order[1600:]
    preds, history = [], []
    for q, size in enumerate((60, 150, 400, 1200)):
        train = pool[:size]
        pred = LogisticRegression(max_iter=500).fit(x[train], y[train]).predict(x)
        preds.append(pred)
        audit = audits[q]
        correct = int((pred[audit] == y[audit]).sum())
        history.append(PeriodKPI(QUARTERS[q], Estimate.from_counts(correct, audit.size)))
    pred, audit = preds[-1], audits[-1]
    acc_pct = 100.0 * float(accuracy_score(y[audit], pred[audit]))
    # seglens' own engine gives the same figure (names match names here).
    engine = accuracy_report(y[audit], pred[audit], match="names")
    assert engine.accuracy.value_pct == pytest.approx(acc_pct, abs=1e-9)
    stats = _precision_stats(y[audit], pred[audit], labels)
    stab = _stability(x, y, pool[:1200], rng)
    cm = confusion_matrix(y[audit], pred[audit], labels=labels)
    segments = tuple(
        SegmentStat(
            lab,
            int((pred == lab).sum()),
            precision=stats[lab][1],
            recall=stats[lab][2],
            f1=stats[lab][3],
            support=stats[lab][4],
            stability=stab.get(lab),
            accurate=stats[lab][1].ci_low_pct >= 85.0,
            reason=f"lower bound {stats[lab][1].ci_low_pct:.1f} vs 85",
        )
        for lab in labels
    )
    passing = sum(1 for s in segments if s.accurate)
    prev = preds[-2]
    migration = MigrationTable(
        QUARTERS[2],
        QUARTERS[3],
        tuple(labels),
        tuple(labels),
        tuple(tuple(int(((prev == a) & (pred == b)).sum()) for b in labels) for a in labels),
    )
    profiles = Profiles(
        tuple(num.columns),
        tuple(labels),
        tuple(tuple(float(v) for v in num[pred == lab].mean()) for lab in labels),
    )
    snap = ReviewSnapshot(
        period=QUARTERS[3],
        accuracy=history[-1].accuracy,
        segments=segments,
        generated_at=datetime(2012, 1, 5, 9, 30),
        segment_accuracy=Estimate.from_counts(passing, len(segments)),
        segment_rule="lower 95 % bound of precision >= 85 %",
        population=len(df),
        confusion=ConfusionTable(
            tuple(labels), tuple(labels), tuple(tuple(int(c) for c in row) for row in cm)
        ),
        history=tuple(history[:-1]),
        migration=migration,
        profiles=profiles,
        sources=(SourceFile(train_csv.name, len(df)),),
        run=RunInfo("LogisticRegression", (("max_iter", "500"), ("labels", "1200"))),
        labels=LabelCoverage(400, 400, 0, (("sales team", 400),)),
        findings=(
            Finding(
                "warning",
                "829 customers have no Work_Experience (filled with the median).",
                "Train.csv",
            ),
        ),
    )
    return Built(snap, acc_pct, {lab: stats[lab][0] for lab in labels})


def build_planted(names: tuple[str, ...], *, seed: int = 7, n: int = 3000) -> Built:
    """k-means on a planted population, checked against its truth; two periods with drift."""
    rng = np.random.default_rng(seed)
    k = len(names)
    centres = rng.uniform(0, 12, size=(k, 3))
    truth = rng.integers(0, k, size=n)
    x1 = centres[truth] + rng.normal(0, 0.9, size=(n, 3))
    moved = rng.random(n) < 0.08
    truth2 = np.where(moved, rng.integers(0, k, size=n), truth)
    x2 = centres[truth2] + rng.normal(0, 0.9, size=(n, 3))
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x1)
    c1, c2 = km.predict(x1), km.predict(x2)
    cont = np.zeros((k, k), dtype=int)
    np.add.at(cont, (truth, c1), 1)
    rows, cols = linear_sum_assignment(-cont)
    cluster_to_true = dict(zip(cols.tolist(), rows.tolist(), strict=True))
    seg1 = np.array([names[cluster_to_true[c]] for c in c1])
    seg2 = np.array([names[cluster_to_true[c]] for c in c2])
    true2 = np.array([names[t] for t in truth2])
    true1 = np.array([names[t] for t in truth])
    audit1 = rng.choice(n, size=500, replace=False)
    audit2 = rng.choice(n, size=600, replace=False)
    revenue = np.abs(x2[:, 0]) * 100
    revenue_prev = np.abs(x1[:, 0]) * 100
    stats = _precision_stats(true2[audit2], seg2[audit2], list(names))
    segments = tuple(
        SegmentStat(
            name,
            int((seg2 == name).sum()),
            precision=stats[name][1],
            recall=stats[name][2],
            f1=stats[name][3],
            support=stats[name][4],
            accurate=stats[name][1].ci_low_pct >= 85.0,
            revenue=float(revenue[seg2 == name].sum()),
            revenue_previous=float(revenue_prev[seg1 == name].sum()),
            retention_pct=100.0 * float(np.mean(seg1[seg2 == name] == name)),
        )
        for name in names
    )
    acc_pct = 100.0 * float(accuracy_score(true2[audit2], seg2[audit2]))
    correct1 = int((seg1[audit1] == true1[audit1]).sum())
    cm = confusion_matrix(true2[audit2], seg2[audit2], labels=list(names))
    passing = sum(1 for s in segments if s.accurate)
    snap = ReviewSnapshot(
        period="2011Q3",
        accuracy=Estimate.from_counts(int((seg2[audit2] == true2[audit2]).sum()), 600),
        segments=segments,
        segment_accuracy=Estimate.from_counts(passing, k),
        population=n,
        confusion=ConfusionTable(names, names, tuple(tuple(int(c) for c in r) for r in cm)),
        history=(PeriodKPI("2011Q2", Estimate.from_counts(correct1, 500)),),
        migration=MigrationTable(
            "2011Q2",
            "2011Q3",
            names,
            names,
            tuple(tuple(int(((seg1 == a) & (seg2 == b)).sum()) for b in names) for a in names),
            tuple(
                tuple(float(revenue[(seg1 == a) & (seg2 == b)].sum()) for b in names) for a in names
            ),
        ),
        profiles=Profiles(
            ("recency", "frequency", "spend"),
            names,
            tuple(tuple(float(v) for v in x2[seg2 == name].mean(axis=0)) for name in names),
        ),
        currency="GBP",
    )
    return Built(snap, acc_pct, {s: stats[s][0] for s in names})


def build_label_free() -> ReviewSnapshot:
    """2011Q1–Q2 measured on labels, 2011Q3 without any: only monitoring signals (the issue's
    hold rate, 54 of 136 customers held, and a bootstrap ARI) and the segment sizes."""
    from seglens.accuracy import proxy_caveat
    from seglens.accuracy.caveats import PROXY_MEANINGS

    def proxy(key: str, name: str, value: float, n: int) -> ProxyValue:
        return ProxyValue(name, value, PROXY_MEANINGS[key], proxy_caveat(key), n)

    return ReviewSnapshot(
        "2011Q3",
        None,
        (
            SegmentStat("Loyal", 600, stability=0.9, revenue=52_000.0),
            SegmentStat("New", 300, stability=0.8, revenue=9_000.0),
            SegmentStat("Lost", 90, stability=0.6, revenue=400.0),
        ),
        method="unmeasured",
        generated_at=datetime(2011, 10, 3, 9, 0),
        history=(
            PeriodKPI("2011Q1", Estimate.from_counts(170, 200)),
            PeriodKPI("2011Q2", Estimate.from_counts(180, 200)),
        ),
        proxies=(
            proxy("out_of_time_held", "held (out of time)", 54 / 136, 136),
            proxy("stability_ari", "bootstrap ARI", 0.6123, 990),
        ),
        population=990,
        label_counts=(0, 0, 120),
    )


# --- headless Chromium -------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def need_pdftoppm() -> str:
    """Path of ``pdftoppm`` or skip (fail in CI)."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing: CI must run the PDF tests (poppler-utils)")
        pytest.skip("pdftoppm is not installed (apt-get install -y poppler-utils)")
    return exe
