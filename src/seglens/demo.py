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
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seglens.report import ReviewSnapshot

__all__ = ["DEMO_AS_OF", "DemoResult", "run_demo", "sample_data_path"]

DEMO_AS_OF: tuple[date, date] = (date(2011, 6, 30), date(2011, 9, 30))
"""The two quarter ends the demo tracks (2011Q2, 2011Q3)."""

_SAMPLE = "online_retail_sample.csv.gz"


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
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out)

    step("ingest the embedded Online Retail sample")
    loaded = load_transactions(sample_data_path())
    result.cleaning = loaded.report.to_dict()
    result.files["transactions"] = out / "transactions.parquet"
    loaded.table.write_parquet(result.files["transactions"])
    result.files["cleaning_report"] = out / "cleaning_report.json"
    result.files["cleaning_report"].write_text(json.dumps(result.cleaning, indent=2, default=str))

    step("customer features as of 2011-09-30")
    feats = customer_features(loaded.table, as_of=DEMO_AS_OF[1]).table
    result.files["features"] = out / "features.parquet"
    feats.write_parquet(result.files["features"])

    step("rule-based RFM segments")
    rfm = RFMSegmenter().fit(feats)
    segments = rfm.assign(feats)
    result.files["segments"] = out / "segments.parquet"
    segments.write_parquet(result.files["segments"])
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
    result.files["accuracy"].write_text(
        json.dumps(
            {
                "planted_truth": rep.to_dict(),
                "real_sample_rfm_stability": stability.to_dict(),
            },
            indent=2,
            default=str,
        )
    )

    step("track two quarters in a fresh store")
    db = out / "seglens.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    result.files["store"] = db
    with open_store(str(db)) as store:
        for as_of in DEMO_AS_OF:
            track(store, loaded.table, as_of=as_of)
        result.kpis = kpi_table(store).to_dicts()

        step("write the quarterly review")
        snap = collect_from_store(store)
    result.review = snap
    html, pdf_path = out / "review.html", (out / "review.pdf" if pdf else None)
    files_written = write_report(snap, html, pdf_path=pdf_path)
    result.files["report_html"] = files_written.html
    if files_written.pdf is not None:
        result.files["report_pdf"] = files_written.pdf
    result.files["report_json"] = write_snapshot(snap, out / "review.json")
    return result
