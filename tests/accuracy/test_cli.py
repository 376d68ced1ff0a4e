"""`seglens accuracy`, `seglens audit-sample`, `seglens audit-estimate` end to end, in-process."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app

runner = CliRunner()

DOCUMENTED_KEYS = {
    "accuracy_pct",
    "ci_low_pct",
    "ci_high_pct",
    "confidence",
    "n",
    "method",
    "target_pct",
    "meets_target",
    "verdict",
    "unserved_labels",
    "match",
    "fitted_mapping",
    "mapping",
    "apparent_accuracy",
    "cross_fit",
    "null_baseline",
    "per_segment",
    "per_label",
    "confusion",
    "chance_accuracy_pct",
    "kappa",
    "ari",
    "nmi",
    "segment_accuracy_pct",
    "segment_accuracy",
    "coverage",
    "caveats",
    "inputs",
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    # 100 customers, clusters 0/1; labels loyal/new for 100 of them plus 3 unknown customers
    seg = tmp_path / "segments.csv"
    lab = tmp_path / "labels.csv"
    ids = [f"{i:04d}" for i in range(100)]
    clusters = [0] * 45 + [1] * 5 + [1] * 45 + [0] * 5
    truth = ["loyal"] * 50 + ["new"] * 50
    pl.DataFrame({"CustID": ids, "cluster": clusters}).write_csv(seg)
    pl.DataFrame(
        {"customer_id": [*ids, "X1", "X2", "X3"], "segment": [*truth, "new", "new", "loyal"]}
    ).write_csv(lab)
    return seg, lab


def _run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.output


def test_accuracy_json_has_the_documented_keys(files: tuple[Path, Path]) -> None:
    seg, lab = files
    code, out = _run(
        "accuracy",
        "--segments", str(seg),
        "--labels", str(lab),
        "--segments-columns", "customer_id=CustID,segment=cluster", "--match", "hungarian",
        "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert set(d) == DOCUMENTED_KEYS
    assert d["accuracy_pct"] == 90.0
    assert d["n"] == 100
    assert d["ci_low_pct"] == pytest.approx(82.6, abs=0.05)
    assert d["mapping"] == {"0": "loyal", "1": "new"}
    assert d["match"] == "hungarian"
    assert d["confusion"]["matrix"] == [[45, 5], [5, 45]]
    assert d["coverage"]["n_labels_unknown_customer"] == 3
    assert d["coverage"]["n_customers_without_label"] == 0
    assert d["inputs"][0]["mapping"]["customer_id"] == "CustID"
    # cluster ids: the mapping is learnt, so the figure is cross-fitted (stable here: the plain
    # Wilson interval) and compared with what random segments of the same sizes reach
    assert d["fitted_mapping"] is True and d["method"] == "cross-fitted-wilson"
    assert d["apparent_accuracy"]["value_pct"] == 90.0
    assert d["cross_fit"]["folds"] == 10 and d["cross_fit"]["n_effective"] == 100.0
    assert d["null_baseline"]["threshold_pct"] < 65 and d["null_baseline"]["beaten"] is True
    assert d["verdict"] == "undetermined"  # 82.6-94.5 straddles 85
    assert d["unserved_labels"] == []
    # 45/50 per segment: 78.6-95.7 straddles 85 -> undetermined, no segment decided yet
    assert d["segment_accuracy_pct"] is None
    assert [r["accurate"] for r in d["per_segment"]] == [False, False]
    assert [r["status"] for r in d["per_segment"]] == ["undetermined", "undetermined"]
    assert d["segment_accuracy"]["n_undetermined"] == 2


def test_accuracy_point_rule_and_majority(files: tuple[Path, Path]) -> None:
    seg, lab = files
    code, out = _run(
        "accuracy", "--segments", str(seg), "--labels", str(lab),
        "--segments-columns", "customer_id=CustID,segment=cluster", "--match", "hungarian",
        "--rule", "point", "--match", "majority", "--target", "90", "--json",
    )  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert d["segment_accuracy_pct"] == 100.0
    assert d["match"] == "majority"
    assert d["target_pct"] == 90.0 and d["meets_target"] is True


def test_accuracy_table_output(files: tuple[Path, Path]) -> None:
    seg, lab = files
    code, out = _run(
        "accuracy", "--segments", str(seg), "--labels", str(lab),
        "--segments-columns", "customer_id=CustID,segment=cluster", "--match", "hungarian",
    )  # fmt: skip
    assert code == 0, out
    flat = " ".join(out.split())
    assert "Customer Segmentation Accuracy: 90.0 %" in flat
    assert "cross-fitted" in flat and "Random segments of the same sizes" in flat
    assert "chance level" not in flat  # the null baseline replaces it for a learnt mapping
    assert "3 label(s) name customers not in the segmentation" in flat
    assert "Per segment" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--match", "best"], "is not a match rule"),
        (["--rule", "mean"], "unknown rule"),
        (["--confidence", "2"], "confidence"),
    ],
)
def test_accuracy_user_errors(files: tuple[Path, Path], extra: list[str], message: str) -> None:
    seg, lab = files
    code, out = _run(
        "accuracy", "--segments", str(seg), "--labels", str(lab),
        "--segments-columns", "customer_id=CustID,segment=cluster", "--match", "hungarian", *extra,
    )  # fmt: skip
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_audit_sample_then_estimate(tmp_path: Path) -> None:
    seg = tmp_path / "seg.csv"
    ids = [f"00{i}" for i in range(2000)]
    segs = ["big"] * 1500 + ["mid"] * 400 + ["small"] * 100
    pl.DataFrame({"customer_id": ids, "segment": segs}).write_csv(seg)
    sheet = tmp_path / "audit" / "sheet.csv"
    sheet.parent.mkdir()  # a missing --out folder is an error (issue 19), not created
    code, out = _run(
        "audit-sample", "--segments", str(seg), "--out", str(sheet), "--margin", "6", "--json"
    )
    assert code == 0, out
    plan = json.loads(out)
    assert plan["expected_margin_pct"] <= 6.0
    assert {s["segment"]: s["population"] for s in plan["strata"]} == {
        "big": 1500,
        "mid": 400,
        "small": 100,
    }
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == plan["total"]
    assert list(rows[0]) == [
        "customer_id",
        "assigned_segment",
        "stratum_size",
        "sample_weight",
        "population",
        "reviewer_segment",
        "note",
    ]
    assert all(r["customer_id"].startswith("00") for r in rows)
    assert all(r["reviewer_segment"] == "" for r in rows)
    # reviewers: everything right except every 'small' customer and the first 10 'big' ones
    seen = 0
    for r in rows:
        if r["assigned_segment"] == "small":
            r["reviewer_segment"] = "big"
        elif r["assigned_segment"] == "big" and seen < 10:
            r["reviewer_segment"] = "mid"
            seen += 1
        else:
            r["reviewer_segment"] = r["assigned_segment"]
    filled = tmp_path / "filled.csv"
    with filled.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    code, out = _run("audit-estimate", str(filled), "--json")
    assert code == 0, out
    est = json.loads(out)
    n_big = next(s["sample"] for s in plan["strata"] if s["segment"] == "big")
    expected = 100 * (0.75 * (1 - 10 / n_big) + 0.2 * 1.0 + 0.05 * 0.0)
    assert est["accuracy_pct"] == pytest.approx(expected)
    assert est["ci_low_pct"] < expected < est["ci_high_pct"]
    code, out = _run("audit-estimate", str(filled))
    assert code == 0 and "Estimated accuracy" in out


def test_audit_sample_table_output(tmp_path: Path) -> None:
    seg = tmp_path / "seg.csv"
    pl.DataFrame({"customer_id": ["1", "2", "3", "4"], "segment": ["a", "a", "b", "b"]}).write_csv(
        seg
    )
    code, out = _run(
        "audit-sample", "--segments", str(seg), "--out", str(tmp_path / "s.csv"), "--total", "2",
        "--min-per-segment", "1",
    )  # fmt: skip
    assert code == 0, out
    assert "2 customers to audit" in " ".join(out.split())


def test_audit_estimate_missing_file(tmp_path: Path) -> None:
    code, out = _run("audit-estimate", str(tmp_path / "nope.csv"))
    assert code == 2 and "no such file" in " ".join(out.split())


def test_loader_counts_reach_the_report(tmp_path: Path) -> None:
    seg = tmp_path / "seg.csv"
    lab = tmp_path / "lab.csv"
    seg.write_text("customer_id,segment\n1,a\n1,b\n2,b\n,a\n", encoding="utf-8")
    lab.write_text("customer_id,segment\n1,a\n2,b\n3,a\n", encoding="utf-8")
    code, out = _run("accuracy", "--segments", str(seg), "--labels", str(lab), "--json")
    assert code == 0, out
    d = json.loads(out)
    rules = d["inputs"][0]["rules"]
    assert rules["duplicate_customer_id"] == 1
    assert rules["missing_customer_id"] == 1
    assert d["n"] == 2 and d["coverage"]["n_labels_unknown_customer"] == 1


def test_audit_estimate_reads_excel_and_cp1252_semicolon_sheets(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["007", "8", "9"],
            "assigned_segment": ["a", "b", "b"],
            "stratum_size": [10, 5, 5],
            "reviewer_segment": ["a", "Größe", "b"],
        }
    )
    xlsx = tmp_path / "sheet.xlsx"
    frame.write_excel(xlsx)
    csv_cp = tmp_path / "sheet.csv"
    text = (
        "customer_id;assigned_segment;stratum_size;reviewer_segment\n"
        "007;a;10;a\n8;b;5;Größe\n9;b;5;b\n"
    )
    csv_cp.write_bytes(text.encode("cp1252"))
    for path in (xlsx, csv_cp):
        code, out = _run("audit-estimate", str(path), "--json")
        assert code == 2 and "'Größe'" in out  # read correctly, and refused: not a segment
        code, out = _run("audit-estimate", str(path), "--json", "--match", "names")
        assert code == 0, out
        d = json.loads(out)
        assert d["accuracy_pct"] == pytest.approx(100 * (10 / 15 + 5 / 15 * 0.5))
        assert d["n_unrecognised"] == 1


def test_audit_estimate_rejects_a_broken_stratum_size(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "customer_id,assigned_segment,stratum_size,reviewer_segment\n1,a,ten,a\n", encoding="utf-8"
    )
    code, out = _run("audit-estimate", str(path))
    assert code == 2 and "whole number" in out and "line 2" in out


def test_columns_maps_both_files(tmp_path: Path) -> None:
    seg = tmp_path / "seg.csv"
    lab = tmp_path / "lab.csv"
    seg.write_text("ID,Seg\n01,x\n02,x\n03,y\n04,y\n", encoding="utf-8")
    lab.write_text("ID,Seg\n01,vip\n02,vip\n03,new\n04,vip\n", encoding="utf-8")
    args = ["accuracy", "--segments", str(seg), "--labels", str(lab),
            "--columns", "customer_id=ID,segment=Seg", "--json"]  # fmt: skip
    code, out = _run(*args)  # labels in another vocabulary: refused, both listed
    flat = " ".join(out.split())
    assert code == 2 and "'vip' (3 labels)" in flat and "'x', 'y'" in flat and "--match" in flat
    mapping = tmp_path / "map.csv"
    mapping.write_text("label,segment\nvip,x\nnew,y\n", encoding="utf-8")
    code, out = _run(*args, "--match", str(mapping))
    assert code == 0, out
    d = json.loads(out)
    assert d["accuracy_pct"] == 75.0 and d["mapping"] == {"x": "x", "y": "y"}
    assert d["inputs"][1]["mapping"] == {"customer_id": "ID", "segment": "Seg"}


def _sales_sheet(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    """An audit sheet where reviewers wrote the sales team's codes A-D instead of segments."""
    rng = np.random.default_rng(8)
    segments = ["Champions", "Loyal", "At risk", "Hibernating"]
    codes = dict(zip(segments, ["A", "B", "C", "D"], strict=True))
    rows = []
    for seg in segments:
        for i in range(40):
            right = rng.random() < 0.8
            answer = codes[seg] if right else codes[segments[(segments.index(seg) + 1) % 4]]
            rows.append((f"{seg[:2]}{i}", seg, 1000, answer))
    frame = pl.DataFrame(
        rows,
        schema=["customer_id", "assigned_segment", "stratum_size", "reviewer_segment"],
        orient="row",
    ).with_columns(pl.lit(4000).alias("population"))
    path = tmp_path / "sheet.csv"
    frame.write_csv(path)
    return path, frame


def test_audit_estimate_refuses_answers_in_another_vocabulary_and_names_match(
    tmp_path: Path,
) -> None:
    path, frame = _sales_sheet(tmp_path)
    code, out = _run("audit-estimate", str(path))
    assert code == 2
    flat = " ".join(out.split())
    assert "reviewers answered with names the segmentation does not use" in flat
    assert "'A'" in flat and "'Champions'" in flat and "--match" in flat
    truth = 100 * float(
        (
            frame["reviewer_segment"]
            == frame["assigned_segment"].replace_strict(
                {"Champions": "A", "Loyal": "B", "At risk": "C", "Hibernating": "D"}
            )
        ).mean()
    )
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "label,segment\nA,Champions\nB,Loyal\nC,At risk\nD,Hibernating\n", encoding="utf-8"
    )
    code, out = _run("audit-estimate", str(path), "--match", str(mapping), "--json")
    assert code == 0, out
    d = json.loads(out)
    assert d["match"] == "mapping" and d["accuracy_pct"] == pytest.approx(truth)
    code, out = _run("audit-estimate", str(path), "--match", "hungarian", "--json")
    assert code == 0, out
    d = json.loads(out)
    assert d["match"] == "hungarian"
    assert abs(d["accuracy_pct"] - truth) < 5  # cross-fitted: each row scored by other rows
    code, out = _run("audit-estimate", str(path), "--match", "names", "--json")
    assert code == 0 and json.loads(out)["accuracy_pct"] == 0.0  # explicitly asked for


def test_audit_estimate_refuses_a_sheet_that_lost_a_segment(tmp_path: Path) -> None:
    path, frame = _sales_sheet(tmp_path)
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "label,segment\nA,Champions\nB,Loyal\nC,At risk\nD,Hibernating\n", encoding="utf-8"
    )
    frame.filter(pl.col("assigned_segment") != "Loyal").write_csv(path)
    code, out = _run("audit-estimate", str(path), "--match", str(mapping))
    assert code == 2 and "hold 3,000 of the 4,000 customers" in " ".join(out.split())
    code, out = _run(
        "audit-estimate", str(path), "--match", str(mapping), "--allow-incomplete", "--json"
    )
    assert code == 0, out
    assert json.loads(out)["coverage_pct"] == pytest.approx(75.0)
    blank = frame.with_columns(
        pl.when(pl.col("assigned_segment") == "Loyal")
        .then(None)
        .otherwise(pl.col("reviewer_segment"))
        .alias("reviewer_segment")
    )
    blank.write_csv(path)
    code, out = _run("audit-estimate", str(path), "--match", str(mapping))
    assert code == 2 and "no reviewer answer yet for segment(s) 'Loyal'" in " ".join(out.split())
