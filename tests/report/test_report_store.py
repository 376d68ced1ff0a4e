"""`seglens report --db`: the review of a period tracked into a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import seglens.cli.report_cmd  # noqa: F401  (registers `seglens report`)
from seglens.cli._app import app
from seglens.report import read_snapshot
from seglens.report.collect_store import collect_from_store
from seglens.report.diagnose import risks
from seglens.report.render import planned_engine
from seglens.store import Store, kpi_table, open_store, run_assignments, store_labels
from seglens.synthetic import make_population
from seglens.tracking import track
from tests.postgres import fresh_schema, pg_schema_url


@pytest.fixture(scope="module", autouse=True)
def _private_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep keys and default databases out of the user's home; no webhook."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            mp.setenv(var, str(home / var.lower()))
        mp.setenv("SEGLENS_PSEUDONYM_KEY", "report-tests")
        mp.delenv("SEGLENS_WEBHOOK_URL", raising=False)
        mp.delenv("SEGLENS_DB", raising=False)
        yield


def _fill(store: Store) -> None:
    """Two quarters tracked with `track`; sales labels added after the first run."""
    pop = make_population(300, n_segments=3, seed=4)
    tx = pop.transactions(start=datetime(2011, 1, 1), days=365)
    first = track(store, tx, as_of=date(2011, 6, 30))
    assigned = run_assignments(store, first.run_id)
    rng = np.random.default_rng(1)
    sample = assigned[rng.choice(assigned.height, 120, replace=False).tolist()]
    names = sorted(assigned["segment"].unique().to_list())
    flip = rng.random(120) < 0.15
    labels = sample.select("customer_id").with_columns(
        pl.Series(
            "segment",
            [
                names[(names.index(s) + 1) % len(names)] if f else s
                for s, f in zip(sample["segment"], flip, strict=True)
            ],
        ),
        pl.lit(datetime(2011, 7, 2)).alias("labeled_at"),
        pl.lit("sales <b>team</b>").alias("source"),
    )
    store_labels(store, labels, source="sales <b>team</b>", file_hash="f" * 64)
    track(store, tx, as_of=date(2011, 6, 30))  # re-measure Q2 with the labels
    track(store, tx, as_of=date(2011, 9, 30))


@pytest.fixture(scope="module")
def tracked_db(tmp_path_factory: pytest.TempPathFactory, _private_env: None) -> Path:
    """A SQLite store with two tracked quarters."""
    path = tmp_path_factory.mktemp("store") / "seglens.db"
    with open_store(str(path)) as store:
        _fill(store)
    return path


def _stored(path: Path, metric: str, period: str) -> dict[str, object]:
    with open_store(str(path)) as store:
        rows = kpi_table(store, metric).filter(pl.col("period") == period)
    return rows.sort("created_at", "id").row(-1, named=True)


def test_headline_and_trend_are_the_stored_kpi(tracked_db: Path) -> None:
    with open_store(str(tracked_db)) as store:
        snap = collect_from_store(store)
    q3, q2 = _stored(tracked_db, "accuracy", "2011Q3"), _stored(tracked_db, "accuracy", "2011Q2")
    assert snap.period == "2011Q3" and snap.method == "labelled"
    assert snap.accuracy.value_pct == q3["value"] and snap.accuracy.n == q3["n"]
    assert [h.period for h in snap.history] == ["2011Q2"]
    assert snap.history[0].accuracy.value_pct == q2["value"]
    change = snap.change
    assert change is not None and change.delta_points == pytest.approx(
        float(q3["value"]) - float(q2["value"])  # type: ignore[arg-type]
    )
    # The run behind Q3 gives the segments; the previous run the migration.
    with open_store(str(tracked_db)) as store:
        assigned = run_assignments(store, int(q3["run_id"]))  # type: ignore[call-overload]
    assert snap.population == assigned.height
    assert sum(s.customers for s in snap.segments) == assigned.height
    assert snap.migration is not None and snap.migration.from_period == "2011Q2"
    assert snap.profiles is not None and "recency" in snap.profiles.features
    # Stored alerts become findings, except those the review computes itself.
    alerts = {f.source for f in snap.findings if f.source and f.source.startswith("alert ")}
    assert alerts and "alert below_target" not in alerts
    assert "below-target" in {r.kind for r in risks(snap)}
    assert [p.name for p in snap.proxies] == ["held (out of time)"]


def test_cli_writes_html_pdf_and_json(tracked_db: Path, tmp_path: Path) -> None:
    out, pdf, js = tmp_path / "review.html", tmp_path / "review.pdf", tmp_path / "snap.json"
    res = CliRunner().invoke(
        app,
        [
            "report",
            "--db",
            str(tracked_db),
            "--period",
            "2011Q3",
            "-o",
            str(out),
            "--pdf",
            str(pdf),
            "--json",
            str(js),
        ],
    )
    assert res.exit_code == 0, res.output
    q3 = _stored(tracked_db, "accuracy", "2011Q3")
    headline = f"{float(q3['value']):.1f} %"  # type: ignore[arg-type]
    assert f"Segmentation Accuracy {headline}" in res.output
    page = out.read_text("utf-8")
    assert f'data-value="{q3["value"]}">{headline}<' in page
    assert "<b>team</b>" not in page and "&lt;b&gt;team&lt;/b&gt;" in page  # import source
    assert pdf.read_bytes().startswith(b"%PDF")
    # The engine named in the output and in the document is the one `auto` picked.
    engine = planned_engine("auto")
    named = {"chromium": "Chromium", "weasyprint": "WeasyPrint"}[engine]
    assert f"pdf: {pdf} ({named})" in " ".join(res.output.split())
    assert {"chromium": "PDF: headless Chromium", "weasyprint": "PDF: WeasyPrint"}[engine] in page
    snap = read_snapshot(js)
    assert snap.accuracy.value_pct == q3["value"]
    # The saved snapshot renders again without the store.
    again = tmp_path / "again.html"
    res2 = CliRunner().invoke(app, ["report", "--snapshot", str(js), "-o", str(again)])
    assert res2.exit_code == 0, res2.output
    assert f'data-value="{q3["value"]}"' in again.read_text("utf-8")


def test_cli_user_errors(tracked_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app, ["report", "--db", str(tracked_db), "--period", "2010Q1", "-o", str(tmp_path / "x")]
    )
    assert res.exit_code == 2 and "no KPI stored for period '2010Q1'" in res.output
    assert "2011Q2, 2011Q3" in res.output
    res = runner.invoke(app, ["report", "--db", str(tmp_path / "empty.db"), "-o", "x.html"])
    assert res.exit_code == 2 and "holds no KPI" in res.output
    res = runner.invoke(
        app, ["report", "--snapshot", "s.json", "--period", "2011Q3", "-o", "x.html"]
    )
    assert res.exit_code == 2 and "cannot be combined" in res.output
    res = runner.invoke(app, ["report", "--pdf-engine", "prince", "-o", "x.html"])
    assert res.exit_code == 2 and "unknown PDF engine 'prince'" in res.output


@pytest.mark.postgres
def test_collect_from_a_postgresql_store() -> None:
    """The same review from the real PostgreSQL server (a fresh schema, dropped afterwards)."""
    with fresh_schema("seglens_report") as schema, open_store(pg_schema_url(schema)) as store:
        _fill(store)
        snap = collect_from_store(store, period="2011Q3")
        stored = (
            kpi_table(store, "accuracy")
            .filter(pl.col("period") == "2011Q3")
            .sort("created_at", "id")
            .row(-1, named=True)
        )
    assert snap.accuracy.value_pct == stored["value"] and snap.accuracy.n == stored["n"]
    assert [h.period for h in snap.history] == ["2011Q2"]
    assert snap.store_url is not None and snap.store_url.startswith("postgresql")
    assert snap.migration is not None and snap.confusion is not None
