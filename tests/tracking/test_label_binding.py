"""Labels count for the run they judged; carried and expired labels; stored comparisons; alerts
that resolve; an as-of before the data writes nothing."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.store import (
    add_label,
    kpi_table,
    list_alerts,
    open_store,
    record_audit_design,
    record_run,
    store_labels,
    table_counts,
)
from seglens.tracking import CarryPolicy, kpi_history, measure_run, run_labels

runner = CliRunner()


def _run(store: object, as_of: date, segments: dict[str, str]) -> int:
    frame = pl.DataFrame(
        {"customer_id": list(segments), "segment": list(segments.values())},
        schema={"customer_id": pl.String, "segment": pl.String},
    )
    return record_run(
        store,  # type: ignore[arg-type]
        frame,
        segmenter="hand",
        parameters={},
        as_of=as_of,
        data_hash="h",
    )


def test_labels_are_fresh_carried_or_expired_for_a_later_run(db_url: str) -> None:
    with open_store(db_url) as store:
        q2 = _run(store, date(2011, 6, 30), {"a": "Loyal", "b": "Loyal", "c": "New", "d": "New"})
        at = datetime(2011, 7, 5)
        for cid, seg in (("a", "Loyal"), ("b", "Loyal"), ("c", "Loyal"), ("d", "New")):
            add_label(store, cid, seg, run_id=q2, labeled_at=at)
        q3 = _run(store, date(2011, 9, 30), {"a": "Loyal", "b": "At risk", "c": "New", "d": "New"})
        add_label(store, "d", "At risk", run_id=q3, labeled_at=datetime(2011, 10, 2))
        sel = run_labels(store, q3)
        later = _run(
            store, date(2012, 6, 30), {"a": "Loyal", "b": "At risk", "c": "New", "d": "New"}
        )
        old = run_labels(store, later)
        none = run_labels(store, q3, carry=CarryPolicy(mode="none"))
        m2, m3 = measure_run(store, q2), measure_run(store, q3)
    status = dict(sel.table.select("customer_id", "status").rows())
    # a: same segment, young label -> carried; b moved (Loyal -> At risk) -> expired;
    # c judged New but said Loyal, still New -> carried (and counts as wrong); d: fresh wins
    assert status == {"a": "carried", "b": "expired", "c": "carried", "d": "fresh"}
    assert sel.counts == {"fresh": 1, "carried": 2, "expired": 1}
    # a year later every label is older than the 183-day default: nothing is carried
    assert dict(old.table.select("customer_id", "status").rows()) == {
        "a": "expired",
        "b": "expired",
        "c": "expired",
        "d": "expired",
    }
    assert none.counts == {"fresh": 1, "carried": 0, "expired": 3}
    # the Q2 figure is Q2's own labels: 3 of 4 agree with Q2; it is not re-scored by Q3
    acc2 = next(k for k in m2.kpis if k.metric == "accuracy")
    assert (acc2.n, acc2.successes, acc2.n_fresh) == (4, 3, 4)
    acc3 = next(k for k in m3.kpis if k.metric == "accuracy")
    # Q3 counts a (right), c (wrong: said Loyal, is New), d (fresh, wrong: said At risk)
    assert (acc3.n, acc3.successes, acc3.n_fresh, acc3.n_carried, acc3.n_expired) == (
        3,
        1,
        1,
        2,
        1,
    )


def test_a_label_for_a_later_run_never_counts_for_an_earlier_one(db_url: str) -> None:
    with open_store(db_url) as store:
        q2 = _run(store, date(2011, 6, 30), {"a": "Loyal"})
        q3 = _run(store, date(2011, 9, 30), {"a": "New"})
        add_label(store, "a", "New", run_id=q3)
        assert run_labels(store, q2).table.is_empty()
        assert run_labels(store, q3).counts == {"fresh": 1, "carried": 0, "expired": 0}


def test_imported_labels_bind_to_the_named_run_and_judged_segment(db_url: str) -> None:
    with open_store(db_url) as store:
        q2 = _run(store, date(2011, 6, 30), {"a": "Loyal", "b": "New"})
        _run(store, date(2011, 9, 30), {"a": "New", "b": "New"})
        sheet = pl.DataFrame(
            {
                "customer_id": ["a", "b"],
                "segment": ["Loyal", "New"],
                "run_id": [q2, q2],
                "judged_segment": ["Loyal", "New"],
            }
        )
        res = store_labels(store, sheet, source="s.csv", file_hash="c" * 64)
        latest = store_labels(
            store,
            pl.DataFrame({"customer_id": ["a"], "segment": ["New"]}),
            source="t.csv",
            file_hash="d" * 64,
        )
        two_runs = sheet.with_columns(pl.Series("run_id", [q2, q2 + 1]))
        with pytest.raises(Exception, match="one file per segmentation run"):
            store_labels(store, two_runs, source="u.csv", file_hash="e" * 64)
    assert res.bound_to_run == q2
    assert latest.bound_to_run == q2 + 1


def test_a_fall_from_90_to_60_percent_raises_significant_drop_from_the_stored_comparison(
    db_url: str,
) -> None:
    rng = np.random.default_rng(3)
    with open_store(db_url) as store:
        big = 10_000
        out = {}
        for as_of, rate in ((date(2011, 6, 30), 0.90), (date(2011, 9, 30), 0.60)):
            population = {f"c{i:04d}": ("A" if i % 2 else "B") for i in range(big)}
            run = _run(store, as_of, population)
            segs = [population[f"c{i:04d}"] for i in range(400)]
            ok = np.zeros(400, dtype=bool)
            ok[rng.choice(400, size=round(rate * 400), replace=False)] = True
            _audit_subset(store, run, segs, ok, population)
            out[as_of] = measure_run(store, run)
        hist = kpi_history(store, "accuracy_audit")
        alerts = list_alerts(store)
    q3 = out[date(2011, 9, 30)]
    audit = q3.kpis[0]
    assert audit.metric == "accuracy_audit" and audit.se is not None
    assert audit.change_pts == pytest.approx(-30.0, abs=0.01)
    assert audit.significant_drop is True and (audit.change_p_value or 1) < 1e-6
    assert {"significant_drop", "below_target"} <= {a.rule for a in q3.alerts}
    # history shows exactly the stored comparison, nothing recomputed
    row = hist.row(-1, named=True)
    assert (row["change_pts"], row["p_value"], row["significant_drop"]) == (
        audit.change_pts,
        audit.change_p_value,
        True,
    )
    assert "significant_drop" in alerts["rule"].to_list()


def _audit_subset(
    store: object, run: int, segs: list[str], ok: np.ndarray, population: dict[str, str]
) -> None:
    ids = [f"c{i:04d}" for i in range(len(segs))]
    sizes: dict[str, int] = {}
    for s in population.values():
        sizes[s] = sizes.get(s, 0) + 1
    strata = [{"segment": s, "population": sizes[s], "sample": segs.count(s)} for s in sizes]
    record_audit_design(
        store,  # type: ignore[arg-type]
        run,
        pl.DataFrame({"customer_id": ids, "stratum": segs}),
        strata,
        seed=0,
        allocation="proportional",
        confidence=0.95,
    )
    labels = [s if good else ("B" if s == "A" else "A") for s, good in zip(segs, ok, strict=True)]
    store_labels(
        store,  # type: ignore[arg-type]
        pl.DataFrame({"customer_id": ids, "segment": labels, "run_id": [run] * len(ids)}),
        source=f"audit-{run}.csv",
        file_hash=f"{run:064d}",
    )


def test_customers_labelled_in_both_periods_are_paired(db_url: str) -> None:
    """Carried labels make the two periods' figures share customers: the stored change's
    standard error accounts for it (smaller than the independent-samples one)."""
    with open_store(db_url) as store:
        ids = {f"c{i:03d}": "A" for i in range(200)}
        q2 = _run(store, date(2011, 6, 30), ids)
        for i, cid in enumerate(ids):
            add_label(store, cid, "A" if i % 5 else "B", run_id=q2, labeled_at=datetime(2011, 7, 1))
        measure_run(store, q2)
        q3 = _run(store, date(2011, 9, 30), ids)
        for i, cid in enumerate(list(ids)[:40]):  # 40 fresh labels, 160 carried
            add_label(
                store, cid, "A" if i % 2 else "B", run_id=q3, labeled_at=datetime(2011, 10, 1)
            )
        m3 = measure_run(store, q3)
    acc = next(k for k in m3.kpis if k.metric == "accuracy")
    assert (acc.n_fresh, acc.n_carried, acc.n_paired) == (40, 160, 200)
    prev_se, cur_se = 100 * (0.8 * 0.2 / 200) ** 0.5, acc.se or 0.0
    independent = (prev_se**2 + cur_se**2) ** 0.5
    assert acc.change_se is not None and acc.change_se < 0.8 * independent


def _write(path: Path, frame: pl.DataFrame) -> Path:
    frame.write_csv(path)
    return path


def _tx(n: int = 60) -> pl.DataFrame:
    rows = []
    for c in range(n):
        for k in range(1 + c % 4):
            rows.append(
                (f"C{c:03d}", f"O{c}-{k}", datetime(2011, 1 + (c + k) % 9, 1 + k), 10.0 + c)
            )
    return pl.DataFrame(
        rows, schema=["customer_id", "order_id", "timestamp", "amount"], orient="row"
    )


def test_too_few_labels_resolves_when_the_labels_arrive(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    tx = _write(tmp_path / "tx.csv", _tx())
    config = tmp_path / "tracking.toml"
    config.write_text("[tracking]\nmargin = 25.0\n", encoding="utf-8")  # needs 8 labels at 85 %
    out = runner.invoke(
        app, ["track", str(tx), "--as-of", "2011-09-30", "--db", db, "--config", str(config)]
    )
    assert out.exit_code == 0, out.output
    with open_store(db) as store:
        assert "too_few_labels" in list_alerts(store, open_only=True)["rule"].to_list()
        run = int(kpi_table(store)["run_id"][-1])
        from seglens.store import run_assignments

        assigned = run_assignments(store, run)
    assert assigned.height == 60
    labels = _write(tmp_path / "fb.csv", assigned.select("customer_id", "segment"))
    out = runner.invoke(app, ["labels", "import", str(labels), "--db", db, "--config", str(config)])
    assert out.exit_code == 0, out.output
    assert f"judging run {run}" in out.output
    assert "60 fresh (judged this run)" in out.output
    assert "alert(s) resolved" in out.output
    with open_store(db) as store:
        still_open = list_alerts(store, open_only=True)
        rows = list_alerts(store)
    assert "too_few_labels" not in still_open["rule"].to_list()
    resolved = rows.filter(pl.col("rule") == "too_few_labels")["resolved_at"].to_list()
    assert len(resolved) == 1 and resolved[0] is not None


def test_track_before_the_first_transaction_is_a_clear_error_and_writes_nothing(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    tx = _write(tmp_path / "tx.csv", _tx())
    out = runner.invoke(app, ["track", str(tx), "--as-of", "2010-06-30", "--db", db])
    assert out.exit_code == 2, out.output
    assert "no transaction on or before the as-of date 2010-06-30" in out.output
    assert "Traceback" not in out.output
    with open_store(db) as store:
        counts = table_counts(store)
    assert counts["imports"] == 0 and counts["runs"] == 0


def test_the_same_verdict_about_the_next_run_is_a_new_label(db_url: str) -> None:
    """A reviewer confirming a customer's segment again in next quarter's audit adds evidence
    about the new run; before, the identical row was skipped as a duplicate."""
    rows = pl.DataFrame({"customer_id": ["a"], "segment": ["Loyal"], "source": ["audit"]})
    with open_store(db_url) as store:
        q2 = _run(store, date(2011, 6, 30), {"a": "Loyal"})
        first = store_labels(store, rows, source="q2.csv", file_hash="1" * 64)
        again = store_labels(store, rows, source="q2-copy.csv", file_hash="2" * 64)
        q3 = _run(store, date(2011, 9, 30), {"a": "Loyal"})
        later = store_labels(store, rows, source="q3.csv", file_hash="3" * 64)
        sel = run_labels(store, q3)
    assert (first.added, again.added, again.already_present, later.added) == (1, 0, 1, 1)
    assert (first.bound_to_run, later.bound_to_run) == (q2, q3)
    assert sel.counts == {"fresh": 1, "carried": 0, "expired": 0}


def test_audit_estimate_with_the_store_checks_the_sheet_against_its_design(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(db) as store:
        _run(store, date(2011, 6, 30), {f"c{i:03d}": ("A" if i < 120 else "B") for i in range(200)})
    sheet_path = tmp_path / "audit.csv"
    out = runner.invoke(
        app, ["audit-sample", "--db", db, "--out", str(sheet_path), "--total", "60"]
    )
    assert out.exit_code == 0, out.output
    sheet = pl.read_csv(sheet_path, infer_schema=False)
    assert {"run_id", "design_id", "population"} <= set(sheet.columns)
    answered = sheet.with_columns(pl.col("assigned_segment").alias("reviewer_segment"))
    answered.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("999"))
        .otherwise("stratum_size")
        .alias("stratum_size")
    ).write_csv(sheet_path)
    out = runner.invoke(app, ["audit-estimate", str(sheet_path), "--db", db])
    flat = " ".join(out.output.split())
    assert out.exit_code == 2 and "stratum_size was changed" in flat and "audit.csv" in flat
    # a consistent edit of one segment's size (population too) is caught against the design
    answered.with_columns(
        pl.when(pl.col("assigned_segment") == "B")
        .then(pl.lit("90"))
        .otherwise("stratum_size")
        .alias("stratum_size"),
        pl.lit("210").alias("population"),
    ).write_csv(sheet_path)
    out = runner.invoke(app, ["audit-estimate", str(sheet_path), "--db", db])
    flat = " ".join(out.output.split())
    assert out.exit_code == 2 and "does not match its stored audit design" in flat
    answered.with_columns(pl.lit("Gold").alias("reviewer_segment")).write_csv(sheet_path)
    out = runner.invoke(app, ["audit-estimate", str(sheet_path), "--db", db])
    assert out.exit_code == 2 and "--match" in out.output
    answered.write_csv(sheet_path)
    out = runner.invoke(app, ["audit-estimate", str(sheet_path), "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    kpi = json.loads(out.output)["kpi"]
    assert (kpi["metric"], kpi["value"], kpi["n"], kpi["n_fresh"]) == (
        "accuracy_audit",
        100.0,
        60,
        60,
    )
    with open_store(db) as store:
        assert table_counts(store)["labels"] == 60


def test_teaching_labels_never_count_in_the_kpi(db_url: str) -> None:
    """Labels asked for because a model learns most from them are chosen for being hard: the
    KPI stays on the labels that were not chosen that way (fails if one is counted)."""
    with open_store(db_url) as store:
        run = _run(store, date(2011, 6, 30), {f"c{i}": "A" if i < 5 else "B" for i in range(10)})
        for i in range(4):
            add_label(store, f"c{i}", "A", run_id=run)
        teach = pl.DataFrame({"customer_id": ["c5", "c6", "c7"], "segment": ["A", "A", "A"]})
        res = store_labels(
            store, teach, source="suggested.csv", file_hash="f" * 64, purpose="teach"
        )
        add_label(store, "c8", "A", run_id=run, purpose="teach")
        m = measure_run(store, run)
        with pytest.raises(Exception, match="unknown label purpose"):
            add_label(store, "c9", "B", purpose="curiosity")
    assert res.added == 3
    acc = m.kpis[0]
    assert (acc.metric, acc.n, acc.successes, acc.n_fresh) == ("accuracy", 4, 4, 4)
