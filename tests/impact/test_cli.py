"""The impact commands end to end, in process (Typer's runner), on real files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app

runner = CliRunner()
SAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "seglens" / "data" / "online_retail_sample.csv.gz"
)


def _run(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory, cdnow_transactions: pl.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    cdnow_transactions.rename({"customer_id": "Cust", "amount": "Dollars"}).write_csv(path)
    return path


def test_clv_json_reproduces_paper_on_cdnow(cdnow_csv: Path) -> None:
    out = _run("clv", str(cdnow_csv), "--as-of", "1997-09-30", "--unit", "weeks", "--json",
               "--columns", "customer_id=Cust,amount=Dollars")  # fmt: skip
    d = json.loads(out)
    want = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for k, v in want.items():
        got = d["bgnbd"]["params"][k]
        assert abs(got["value"] - v) / v < 0.02
        assert got["low"] < got["value"] < got["high"]
    # seglens.io drops zero-value lines by default: 8 CDNOW customers bought only for $0
    assert d["bgnbd"]["customers"] in (2349, 2357)
    segs = {s["segment"]: s for s in d["segments"]}
    assert segs["(all)"]["customers"] == d["bgnbd"]["customers"]
    for s in segs.values():
        assert s["clv_mean_low"] <= s["clv_mean"] <= s["clv_mean_high"]


def test_clv_table_and_budget_on_sample() -> None:
    out = _run("clv", str(SAMPLE), "--budget", "1000")
    assert "CLV per segment" in out and "Suggested split" in out and "assumption:" in out


def test_clv_rejects_bad_unit_and_date() -> None:
    res = runner.invoke(app, ["clv", str(SAMPLE), "--unit", "months"])
    assert res.exit_code == 2 and "unknown unit" in res.stderr
    res = runner.invoke(app, ["clv", str(SAMPLE), "--as-of", "30/06/2011"])
    assert res.exit_code == 2 and "date like" in res.stderr


def test_economics_json_on_sample() -> None:
    d = json.loads(_run("economics", str(SAMPLE), "--json"))
    eco = d["economics"]
    assert sum(e["revenue_share"] for e in eco) == pytest.approx(1.0)
    assert {r["segment"] for r in d["retention"]} >= {"(all)"}
    for r in d["simple_clv"]:
        assert r["simple_clv_low"] <= r["simple_clv"] <= r["simple_clv_high"]


def test_lift_on_hillstrom(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "hillstrom-email" / "hillstrom.csv.gz"
    csv = tmp_path / "h.csv"
    pl.read_csv(src, infer_schema_length=None).write_csv(csv)
    d = json.loads(_run("lift", str(csv), "--arm", "segment", "--control", "No E-Mail",
                        "--response", "visit", "--spend", "spend", "--segment-col",
                        "history_segment", "--json"))  # fmt: skip
    rates = {a["arm"]: a["rate"] for a in d["arms"]}
    assert abs(rates["No E-Mail"] - 0.106) < 0.002
    assert abs(rates["Womens E-Mail"] - 0.151) < 0.002
    assert abs(rates["Mens E-Mail"] - 0.183) < 0.002
    assert len({r["segment"] for r in d["lift"]}) == 8  # 7 history bands + (all)


def test_discover_on_sample() -> None:
    d = json.loads(_run("discover", str(SAMPLE), "--json"))
    assert d["proposals"], "a candidate segment for the sample"
    p = d["proposals"][0]
    assert p["size"] > 0 and p["rule"].startswith("served badly now and ")
    assert "fit_agreement_change_pp" in p and "segment_fit_agreement_after" in p
    assert "not the segmentation accuracy KPI" in d["fit_measure"]
    out = _run("discover", str(SAMPLE))
    assert "if adopted" in out and "Fit accuracy" not in out
    assert "Nearest-centre fit agreement now (not the segmentation accuracy KPI)" in " ".join(
        out.split()
    )


def test_forecast_on_sample() -> None:
    d = json.loads(_run("forecast", str(SAMPLE), "--cutoff", "2011-06-30",
                        "--actual-end", "2011-09-30", "--json"))  # fmt: skip
    rows = {r["segment"]: r for r in d["segments"]}
    assert rows["(all)"]["actual_revenue"] > 0
    assert "model_error_pct" in rows["(all)"]


def test_export_round_trip_through_the_loader(tmp_path: Path) -> None:
    seg = pl.DataFrame(
        {"customer_id": ["00042", "17850", "13047"], "segment": ["Champions", "At risk", "Ünï"],
         "email": ["a@x.org", "b@x.org", "c@x.org"]}
    )  # fmt: skip
    src = tmp_path / "seg.csv"
    seg.write_csv(src)
    out = tmp_path / "out" / "hubspot.csv"
    out.parent.mkdir()  # a missing output folder is an error (issue 19), not created
    d = json.loads(_run("export", str(src), "--output", str(out), "--format", "hubspot",
                        "--extra", "email", "--as-of", "2024-05-31", "--json"))  # fmt: skip
    assert d["rows"] == 3 and d["files"] == [str(out)]
    io = pytest.importorskip("seglens.io")
    from seglens.tables import ASSIGNMENTS

    back = io.load_table(
        str(out), ASSIGNMENTS, columns="customer_id=seglens_customer_id,segment=seglens_segment"
    ).table
    assert back["customer_id"].to_list() == seg["customer_id"].to_list()
    assert back["segment"].to_list() == seg["segment"].to_list()


def test_export_pseudonyms_and_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seg = pl.DataFrame({"customer_id": ["1", "2"], "segment": ["=HYPERLINK(1)", "b"]})
    src = tmp_path / "seg.csv"
    seg.write_csv(src)
    monkeypatch.setenv("SEGLENS_TEST_KEY", "k" * 32)
    d = json.loads(_run("export", str(src), "--output", str(tmp_path / "p.csv"),
                        "--pseudonym-key-env", "SEGLENS_TEST_KEY", "--json"))  # fmt: skip
    assert d["pseudonymized"] and d["escaped_cells"] == 1
    text = (tmp_path / "p.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in text and ",1," not in text
    # --pseudonymize uses the store's key: the same pseudonyms as in the seglens database
    monkeypatch.setenv("SEGLENS_PSEUDONYM_KEY", "s" * 32)
    _run("export", str(src), "--output", str(tmp_path / "q.csv"), "--pseudonymize")
    from seglens.store.core import pseudonym

    ids = pl.read_csv(tmp_path / "q.csv", infer_schema=False)["customer_id"].to_list()
    assert ids == [pseudonym("1", b"s" * 32), pseudonym("2", b"s" * 32)]
    url = f"sqlite:///{tmp_path / 's.db'}"
    out = _run("export", str(src), "--output", url, "--format", "db", "--table", "segs")
    assert "wrote 2 customers (db) to table segs" in out
    res = runner.invoke(app, ["export", str(src), "--output", "x", "--format", "xml"])
    assert res.exit_code == 2 and "unknown format" in res.stderr
    res = runner.invoke(app, ["export", str(src), "--output", "x", "--pseudonym-key-env", "NOPE_X"])
    assert res.exit_code == 2 and "NOPE_X" in res.stderr


def test_export_refuses_rows_the_reader_would_drop(tmp_path: Path) -> None:
    """A CRM export writes every customer of the file or nothing: a repeated id or a row
    without a segment stops it, naming the lines, and an earlier export stays as it was."""
    src = tmp_path / "seg.csv"
    src.write_text("customer_id,segment\n1,A\n2,B\n1,C\n3,\n\n4,D\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("earlier export\n", encoding="utf-8")
    res = runner.invoke(app, ["export", str(src), "--output", str(out)])
    assert res.exit_code == 2
    assert (
        "2 row(s) cannot be exported: no segment (1); customer id already seen on an "
        "earlier row (1)" in res.stderr
    )
    assert "line 4: 'customer_id=1', line 5: 'segment=(empty)'" in res.stderr
    assert out.read_text(encoding="utf-8") == "earlier export\n"
    # a blank line alone is not a customer: the export goes ahead
    src.write_text("customer_id,segment\n1,A\n\n4,D\n", encoding="utf-8")
    _run("export", str(src), "--output", str(out), "--as-of", "2024-05-31")
    assert out.read_text(encoding="utf-8").splitlines() == [
        "customer_id,segment,segment_date",
        "1,A,2024-05-31",
        "4,D,2024-05-31",
    ]


def test_commands_read_online_retail_through_the_loader() -> None:
    """The impact commands read transactions with seglens.io (no reader of their own)."""
    from seglens.cli._ingest_options import IngestArgs
    from seglens.cli.impact_cmd import _load
    from seglens.io import load_transactions

    tx, end = _load(SAMPLE, IngestArgs(), None)
    assert_frame_equal(tx, load_transactions(SAMPLE).table)
    assert end == tx["timestamp"].max().date()  # type: ignore[union-attr]
    # 200 customers in the file; 15369's only line is a non-product code ("M"), excluded
    assert tx["customer_id"].n_unique() == 199
    assert not tx["customer_id"].str.ends_with(".0").any()
    assert tx.filter(pl.col("order_id").str.starts_with("C"))["is_return"].all()
    line = tx.filter(pl.col("order_id") == "536425").row(0, named=True)
    assert line["amount"] == pytest.approx(8 * 4.65)


def test_nps_command(tmp_path: Path) -> None:
    csv = tmp_path / "survey.csv"
    pl.DataFrame(
        {"segment": ["a"] * 5 + ["b"] * 5, "score": [10, 9, 9, 3, 8, 0, 6, 10, 5, 7]}
    ).write_csv(csv)
    d = json.loads(_run("nps", str(csv), "--json"))
    rows = {r["segment"]: r for r in d["nps"]}
    assert rows["a"]["nps"] == pytest.approx(40.0)
    assert rows["b"]["nps"] == pytest.approx(-40.0)
    assert rows["(all)"]["n"] == 10
    assert rows["a"]["nps_low"] < 40 < rows["a"]["nps_high"]
