"""The main job on the embedded data: ingest → features → segment → accuracy → track → report.

:func:`run_demo` is what ``seglens demo`` runs. It uses only the data shipped inside the package:

- the real sample of the UCI Online Retail data (``seglens/data/online_retail_sample.csv.gz``,
  CC BY 4.0): ingested with its cleaning report, turned into customer features, segmented with
  the rule-based RFM segmenter, tracked over two quarters (2011Q2 and 2011Q3) in a fresh store
  and reviewed in the quarterly report. There are no human labels for it, so its Segmentation
  Accuracy is **not measured (n = 0)**: the review shows the audit plan that would measure it, and
  the label-free *out-of-time hold rate* and bootstrap stability only as monitoring signals with
  their calibrated caveats, never as the KPI;
- a synthetic population with *planted* true segments (:func:`seglens.synthetic.make_population`):
  clustered with k-means and checked against the truth, which is the labelled accuracy a real
  feedback loop would give.

Every output goes into one folder, listed in the returned :class:`DemoResult`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seglens.io.atomic import atomic_path, check_folder, write_text_atomic

if TYPE_CHECKING:
    import polars as pl

    from seglens.report import LearningSummary, ReviewSnapshot

__all__ = [
    "CURVE_SIZES",
    "DEMO_AS_OF",
    "REVIEWER_AGREEMENT",
    "TRUTH_RULE",
    "DemoResult",
    "LearningLoop",
    "run_demo",
    "run_learning_loop",
    "sample_data_path",
]

DEMO_AS_OF: tuple[date, date] = (date(2011, 6, 30), date(2011, 9, 30))
"""The two quarter ends the demo tracks (2011Q2, 2011Q3)."""

_SAMPLE = "online_retail_sample.csv.gz"

REVIEWER_AGREEMENT = 0.9
"""How often a simulated reviewer gives the planted true segment (else a random other one)."""

TRUTH_RULE = (
    "the planted truth is the RFM segment with monetary value measured as spend in the last "
    "90 days (spend_last_90d) instead of all-time spend: a reproducible rule over the sample's "
    "own features, standing in for what reviewers would say"
)
"""The stated, reproducible rule the simulated reviewers' answers come from."""

_AUDIT_BEFORE = 80
"""Customers in the first audit (of the ~170 in the sample's 2011Q3 run)."""
_AUDIT_AFTER = 60
"""Customers in the fresh audit of the learnt run, drawn among those not learnt from."""
_SEED = 18
CURVE_SIZES: tuple[int, ...] = (20, 40, 60)
"""Learning-curve sizes drawn from the first audit's 80 labels (the last point is all 80, out
of fold)."""
_CURVE_DRAWS = 5


@dataclass(frozen=True)
class LearningLoop:
    """The demo's feedback loop: audit → measured KPI → learn → fresh audit → re-measured KPI.

    ``before`` / ``after`` are the stored headline KPI rows (``value``, ``ci_low``, ``ci_high``,
    ``n``, ``metric``, ``design_id``, ...) of the RFM run and of the learnt run. ``after`` is
    measured on a fresh audit whose customers the model never saw (``overlap`` = 0).
    """

    truth_rule: str
    reviewer_agreement: float
    before_run_id: int
    after_run_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    n_learnt_from: int
    """Audit labels the supervised segmentation was fitted on."""
    overlap: int
    """Customers in both audits (0: the after figure never scores a label it learnt from)."""
    after_unaudited: tuple[str, ...] = ()
    """Segments of the learnt run with no customer outside the first audit: the fresh audit
    cannot reach them, so the after figure is the share of fresh labels that agree
    (``accuracy``), not the design-weighted ``accuracy_audit``."""
    learned: Any = None
    """The :class:`seglens.segmenters.LearnedSegmentation` (out-of-fold figures)."""
    curve: Any = None
    """The :class:`seglens.segmenters.LearningCurve` over :data:`CURVE_SIZES` and all labels."""

    def summary(self) -> LearningSummary:
        """The review's :class:`seglens.report.LearningSummary`: the curve, the inputs and the
        before/after KPI estimates with their n and intervals (after: the fresh audit)."""
        from seglens.report import summarize_learning

        return summarize_learning(
            self.learned.out_of_fold,
            self.curve,
            n_labels=self.n_learnt_from,
            before=_estimate(self.before),
            before_run_id=str(self.before_run_id),
            before_metric=str(self.before["metric"]),
            after=_estimate(self.after),
            after_run_id=str(self.after_run_id),
            after_metric=str(self.after["metric"]),
            after_fresh=self.overlap == 0,
            overlap=self.overlap,
            labels_source="simulated reviewers, not real people",
        )

    def story(self) -> tuple[str, ...]:
        """The loop in plain sentences, each figure with its n and interval (CLI and review)."""
        lines = [
            "Feedback loop with simulated reviewers - simulated reviewers, not real people: they "
            f"confirm the true segment with probability {self.reviewer_agreement * 100:.0f} % "
            f"(else name another segment at random); {self.truth_rule}.",
            f"Before - RFM run {self.before_run_id}, measured on a stratified audit: "
            f"{_figure(self.before)}.",
            f"Learnt a supervised segmentation from those {self.n_learnt_from:,} audit labels "
            f"(stored as run {self.after_run_id}).",
            f"After - re-measured on a fresh audit of {self.after['n']:,} other customers "
            f"({self.overlap} learnt from): {_figure(self.after)}.",
        ]
        if self.after_unaudited:
            lines.append(
                "Segments the fresh audit cannot reach (every customer was learnt from): "
                f"{', '.join(self.after_unaudited)} - so the after figure is the share of fresh "
                "labels that agree, not the design-weighted estimate."
            )
        return tuple(lines)


def _estimate(row: dict[str, Any]) -> Any:
    """A stored KPI row as a :class:`seglens.stats.Estimate` (n, interval, standard error)."""
    from seglens.stats import Estimate

    value = float(row["value"])
    low = value if row["ci_low"] is None else float(row["ci_low"])
    high = value if row["ci_high"] is None else float(row["ci_high"])
    return Estimate(
        value, int(row["n"]), low, high, method=str(row["method"]), se_pct=row.get("se"),
        successes=row.get("successes"),
    )  # fmt: skip


def _figure(row: dict[str, Any]) -> str:
    value, low, high, n = (row[k] for k in ("value", "ci_low", "ci_high", "n"))
    return f"{value:.1f} % (95 % CI {low:.1f}-{high:.1f}, n = {n:,} labels, {row['metric']})"


def sample_data_path() -> Path:
    """Path of the embedded Online Retail sample (a real file inside the installed package).

    >>> sample_data_path().name
    'online_retail_sample.csv.gz'
    """
    with as_file(files("seglens.data") / _SAMPLE) as path:
        return Path(path)


@dataclass
class DemoResult:
    """What the demo produced: the output files and the headline figures."""

    output_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    cleaning: dict[str, Any] = field(default_factory=dict)
    n_customers: int = 0
    n_segments: int = 0
    planted_accuracy_pct: float = float("nan")
    planted_ci_pct: tuple[float, float] = (float("nan"), float("nan"))
    planted_n: int = 0
    kpis: list[dict[str, Any]] = field(default_factory=list)
    """Every stored KPI row of the tracked quarters (accuracy and label-free alike)."""
    review: ReviewSnapshot | None = None
    """The quarterly review's snapshot (what ``review.html`` and ``review.json`` show)."""
    loop: LearningLoop | None = None
    """The simulated feedback loop's before/after figures."""

    @property
    def measured(self) -> list[dict[str, Any]]:
        """The stored Segmentation Accuracy rows (empty: not measured, no labels)."""
        from seglens.tracking.measure import PROXY_METRICS

        return [k for k in self.kpis if k["metric"] not in PROXY_METRICS]

    @property
    def monitoring(self) -> list[dict[str, Any]]:
        """The stored label-free rows: monitoring signals, not the KPI."""
        from seglens.tracking.measure import PROXY_METRICS

        return [k for k in self.kpis if k["metric"] in PROXY_METRICS]


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (an earlier demo output stays whole on failure)."""
    with atomic_path(path) as tmp:
        frame.write_parquet(tmp)


def run_demo(
    output_dir: str | Path = "seglens-output",
    *,
    pdf: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the whole pipeline on the embedded data and write every output to ``output_dir``.

    Parameters
    ----------
    output_dir
        Folder for the outputs (created; files from an earlier demo run are replaced, the store
        is started afresh so the two tracked quarters are the only ones in it).
    pdf
        Also render the review as PDF.
    on_step
        Called with a short description before each step (the CLI shows it as progress).
    """
    from seglens.accuracy import accuracy_report, bootstrap_stability
    from seglens.features import customer_features
    from seglens.io import load_transactions
    from seglens.report import write_report, write_snapshot
    from seglens.report.collect_store import collect_from_store
    from seglens.segmenters import KMeansSegmenter, RFMSegmenter
    from seglens.store import kpi_table, open_store
    from seglens.synthetic import make_population
    from seglens.tracking import track

    step = on_step or (lambda _msg: None)
    out = Path(output_dir)
    if not out.is_dir():  # the output folder is made; a missing parent is an error
        check_folder(out, option="-o/--output")
        out.mkdir()
    result = DemoResult(out)

    step("ingest the embedded Online Retail sample")
    loaded = load_transactions(sample_data_path())
    result.cleaning = loaded.report.to_dict()
    result.files["transactions"] = out / "transactions.parquet"
    _write_parquet(loaded.table, result.files["transactions"])
    result.files["cleaning_report"] = out / "cleaning_report.json"
    write_text_atomic(
        result.files["cleaning_report"], json.dumps(result.cleaning, indent=2, default=str)
    )

    step("customer features as of 2011-09-30")
    feats = customer_features(loaded.table, as_of=DEMO_AS_OF[1]).table
    result.files["features"] = out / "features.parquet"
    _write_parquet(feats, result.files["features"])

    step("rule-based RFM segments")
    rfm = RFMSegmenter().fit(feats)
    segments = rfm.assign(feats)
    result.files["segments"] = out / "segments.parquet"
    _write_parquet(segments, result.files["segments"])
    result.n_customers = segments.height
    result.n_segments = segments["segment"].n_unique()

    step("accuracy against a planted truth (synthetic population)")
    pop = make_population(5_000, n_segments=4, separation=4.0, seed=7)
    found = KMeansSegmenter(4, random_state=0).fit_predict(pop.features)
    rep = accuracy_report(pop.truth, found, match="hungarian")
    result.planted_accuracy_pct = rep.accuracy.value_pct
    result.planted_ci_pct = (rep.accuracy.ci_low_pct, rep.accuracy.ci_high_pct)
    result.planted_n = rep.accuracy.n
    stability = bootstrap_stability(
        feats.select("days_since_last_purchase", "n_orders", "total_spend").to_numpy(),
        RFMSegmenter(),
        n_resamples=20,
        random_state=0,
    )
    result.files["accuracy"] = out / "accuracy.json"
    write_text_atomic(
        result.files["accuracy"],
        json.dumps(
            {
                "planted_truth": rep.to_dict(),
                "real_sample_rfm_stability": stability.to_dict(),
            },
            indent=2,
            default=str,
        ),
    )

    step("track two quarters in a fresh store")
    db = out / "seglens.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    result.files["store"] = db
    with open_store(str(db)) as store:
        for as_of in DEMO_AS_OF:
            track(store, loaded.table, as_of=as_of)
        result.loop = run_learning_loop(store, on_step=step)
        result.kpis = kpi_table(store).to_dicts()

        step("write the quarterly review")
        snap = collect_from_store(store)
    if result.loop is not None:
        snap = replace(
            snap, notes=(*snap.notes, *result.loop.story()), learning=result.loop.summary()
        )
    result.review = snap
    html, pdf_path = out / "review.html", (out / "review.pdf" if pdf else None)
    files_written = write_report(snap, html, pdf_path=pdf_path)
    result.files["report_html"] = files_written.html
    if files_written.pdf is not None:
        result.files["report_pdf"] = files_written.pdf
    result.files["report_json"] = write_snapshot(snap, out / "review.json")
    return result


def _simulated_answers(truth: list[str], vocabulary: list[str], seed: int) -> list[str]:
    """Each simulated reviewer gives the true segment with probability
    :data:`REVIEWER_AGREEMENT`, else one of the other segments at random."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for t in truth:
        if rng.random() < REVIEWER_AGREEMENT:
            out.append(t)
        else:
            others = [v for v in vocabulary if v != t]
            out.append(str(others[int(rng.integers(len(others)))]))
    return out


def _audit(store: Any, run_id: int, assigned: Any, eligible: Any, total: int, seed: int) -> Any:
    """Plan (fixed total, stratified by the run's segments), draw among ``eligible`` customers
    and store the design; returns the stored design."""
    import numpy as np
    import polars as pl

    from seglens.audit import plan_audit
    from seglens.store import audit_design, record_audit_design

    sizes = dict(assigned.group_by("segment").len().sort("segment").iter_rows())
    pool = assigned.join(eligible, on="customer_id", how="semi")
    avail = dict(pool.group_by("segment").len().iter_rows())
    plan = plan_audit(sizes, total=total, min_per_segment=2)
    rng = np.random.default_rng(seed)
    members = []
    for st in plan.strata:
        ids = sorted(pool.filter(pl.col("segment") == st.segment)["customer_id"].to_list())
        k = min(st.sample, avail.get(st.segment, 0))
        members += [(str(c), st.segment) for c in rng.choice(ids, size=k, replace=False)]
    frame = pl.DataFrame(members, schema={"customer_id": pl.String, "stratum": pl.String},
                         orient="row")  # fmt: skip
    design_id = record_audit_design(
        store,
        run_id,
        frame,
        [
            {"segment": s.segment, "population": s.population, "sample": s.sample}
            for s in plan.strata
        ],
        seed=seed,
        allocation=plan.allocation,
        confidence=plan.confidence,
        actor="seglens demo",
    )
    return audit_design(store, design_id=design_id)


def _review(store: Any, run_id: int, design: Any, truth: Any, vocabulary: list[str], seed: int
            ) -> Any:  # fmt: skip
    """Simulated reviewers answer every member of ``design``; the answers are stored as KPI
    labels of ``run_id``. Returns ``customer_id``, ``segment`` (the answers)."""
    import polars as pl

    from seglens.store import add_label

    rows = design.members.join(truth, on="customer_id").sort("customer_id")
    answers = _simulated_answers(rows["truth"].to_list(), vocabulary, seed)
    for cid, ans in zip(rows["customer_id"].to_list(), answers, strict=True):
        add_label(
            store, cid, ans, run_id=run_id, labeled_by="simulated reviewer",
            source="seglens demo (simulated reviewers)", purpose="kpi", actor="seglens demo",
        )  # fmt: skip
    return pl.DataFrame({"customer_id": rows["customer_id"], "segment": answers})


def run_learning_loop(store: Any, *, on_step: Callable[[str], None] | None = None) -> LearningLoop:
    """The feedback loop on the store's latest (RFM) run, with simulated reviewers.

    1. a stratified audit of the run (:data:`_AUDIT_BEFORE` customers) is stored as its design;
    2. simulated reviewers answer it (the planted truth, :data:`TRUTH_RULE`, with probability
       :data:`REVIEWER_AGREEMENT`), stored as ``kpi`` labels; ``measure_run`` → *before*;
    3. a supervised segmentation is learnt from those labels
       (:func:`seglens.segmenters.learn_from_labels`) and stored as a new run;
    4. a fresh audit of the new run, among customers the model did not learn from, is answered
       and measured with only fresh labels counting → *after*.
    """
    import polars as pl

    from seglens.segmenters import (
        RFMSegmenter,
        SupervisedSegmenter,
        learn_from_labels,
        learning_curve,
    )
    from seglens.store import latest_run, record_run, run_assignments, run_features
    from seglens.tracking import measure_run
    from seglens.tracking.labels import CarryPolicy

    step = on_step or (lambda _msg: None)
    run = latest_run(store)
    if run is None:  # pragma: no cover - the demo tracks first
        raise RuntimeError("no run to audit")
    assigned = run_assignments(store, run.id).select("customer_id", "segment")
    feats = run_features(store, run.id)
    truth = (
        RFMSegmenter(monetary="spend_last_90d")
        .fit(feats)
        .assign(feats)
        .select("customer_id", pl.col("segment").alias("truth"))
    )
    vocabulary = sorted(set(truth["truth"].to_list()) | set(assigned["segment"].to_list()))

    step("audit plan for the 2011Q3 RFM run; simulated reviewers answer it")
    first = _audit(store, run.id, assigned, assigned.select("customer_id"), _AUDIT_BEFORE, _SEED)
    labels = _review(store, run.id, first, truth, vocabulary, _SEED)
    before = measure_run(store, run.id).headline

    step("learn a supervised segmentation from the audit labels")
    learned = learn_from_labels(feats, labels, curve=False, random_state=0)
    known = feats.with_columns(pl.col("customer_id").cast(pl.String)).join(
        labels, on="customer_id", how="inner"
    )
    curve = learning_curve(
        SupervisedSegmenter(random_state=0),
        known.drop("segment", *learned.dropped_columns),
        known["segment"].to_list(),
        sizes=CURVE_SIZES,
        n_draws=_CURVE_DRAWS,
        final=learned.out_of_fold.accuracy,
        random_state=0,
    )
    new_id = record_run(
        store,
        learned.assignments.select("customer_id", "segment"),
        segmenter="supervised",
        parameters={
            "learnt_from": "audit labels of run " + str(run.id),
            "labels": learned.n_labelled,
        },
        as_of=run.as_of,
        data_hash=f"demo-learnt-from-run-{run.id}",
        features=feats,
        actor="seglens demo",
    )

    step("fresh audit of the learnt segmentation; simulated reviewers answer it")
    new_assigned = run_assignments(store, new_id).select("customer_id", "segment")
    unseen = new_assigned.join(labels, on="customer_id", how="anti").select("customer_id")
    second = _audit(store, new_id, new_assigned, unseen, _AUDIT_AFTER, _SEED + 1)
    _review(store, new_id, second, truth, vocabulary, _SEED + 1)
    after = measure_run(store, new_id, carry=CarryPolicy(mode="none")).headline
    if before is None or after is None:  # pragma: no cover - every stratum is reviewed
        raise RuntimeError("the simulated audits did not produce a measurement")
    overlap = first.members.join(second.members, on="customer_id").height
    reached = set(second.members["stratum"].to_list())
    unaudited = tuple(sorted(str(h) for h in second.population if h not in reached))
    return LearningLoop(
        truth_rule=TRUTH_RULE,
        reviewer_agreement=REVIEWER_AGREEMENT,
        before_run_id=run.id,
        after_run_id=new_id,
        before=_row(before),
        after=_row(after),
        n_learnt_from=learned.n_labelled,
        overlap=overlap,
        after_unaudited=unaudited,
        learned=learned,
        curve=curve,
    )


def _row(rec: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(rec)
