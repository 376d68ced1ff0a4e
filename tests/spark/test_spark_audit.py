"""``seglens audit-sample --engine spark`` writes the embedded engine's sheet, byte for byte.

Real segmentations: the sales team's segments A-D of the 8,068 labelled automobile customers
(``../shared/data``), and the RFM segments of the Online Retail customers shipped with seglens
(``seglens/data``). The rows are shuffled before they are written, so the draw cannot lean on the
file's order; the drawn ids are also checked against numpy's draw computed here from the sorted
ids. Ids that sort differently as text and as numbers, and non-ASCII ids, check that Spark ranks
ids as the embedded engine does.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.audit import draw_audit_sample, plan_audit
from seglens.cli import app
from seglens.spark.audit import ranked_segments, spark_draw_audit_sample

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]


def invoke(*args: object) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def run(*args: object) -> str:
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    return str(res.stdout)


@pytest.fixture(scope="module")
def automobile(shared_data: Path, tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Path:
    """The labelled automobile customers' segments, rows shuffled, as one Parquet file (the
    commands use the suite's Spark session)."""
    train = pl.read_csv(shared_data / "automobile-segmentation-labeled" / "Train.csv")
    seg = train.select(
        pl.col("ID").cast(pl.String).alias("customer_id"), pl.col("Segmentation").alias("segment")
    ).sample(fraction=1.0, shuffle=True, seed=5)
    path = tmp_path_factory.mktemp("audit") / "automobile.parquet"
    seg.write_parquet(path)
    return path


@pytest.fixture(scope="module")
def retail(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """RFM segments of the shipped Online Retail customers (199 once cleaned): a Parquet file
    and a Spark view of the same rows spread over three partitions."""
    from seglens.features import customer_features
    from seglens.io import load_transactions
    from seglens.segmenters import RFMSegmenter

    raw = files("seglens") / "data" / "online_retail_sample.csv.gz"
    feats = customer_features(load_transactions(str(raw)).table, as_of="2011-12-09").table
    seg = RFMSegmenter().fit(feats).assign(feats).select("customer_id", "segment")
    seg = seg.sample(fraction=1.0, shuffle=True, seed=9)
    path = tmp_path_factory.mktemp("audit") / "retail.parquet"
    seg.write_parquet(path)
    spark.createDataFrame(seg.to_arrow()).repartition(3).createOrReplaceTempView("audit_retail")
    return path, "table:audit_retail"


def sheets(tmp: Path, source: str, spark_source: str, *args: object) -> tuple[bytes, bytes, Any]:
    """Both engines' sheets (bytes) and the embedded --json plan."""
    plan = json.loads(
        run("audit-sample", "--segments", source, "--out", tmp / "e.csv", "--json", *args)
    )
    spark_args = ["--out", tmp / "s.csv", "--json", "--engine", "spark", *args]
    assert json.loads(run("audit-sample", "--segments", spark_source, *spark_args)) == {
        **plan,
        "out": str(tmp / "s.csv"),
    }
    return (tmp / "e.csv").read_bytes(), (tmp / "s.csv").read_bytes(), plan


def numpy_draw(segments: pl.DataFrame, plan: dict[str, Any], seed: int) -> list[str]:
    """The definition, computed here: per stratum in the plan's order, numpy's choice of
    positions among the stratum's ids sorted as text."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for s in plan["strata"]:
        ids = sorted(segments.filter(pl.col("segment") == s["segment"])["customer_id"])
        out += [ids[i] for i in sorted(rng.choice(len(ids), s["sample"], replace=False))]
    return out


@pytest.mark.parametrize(("seed", "allocation"), [(0, "neyman"), (7, "proportional")])
def test_automobile_sheet_is_the_embedded_sheet(
    automobile: Path, tmp_path: Path, seed: int, allocation: str
) -> None:
    args = ["--seed", seed, "--allocation", allocation, "--margin", 3]
    emb, got, plan = sheets(tmp_path, str(automobile), str(automobile), *args)
    assert got == emb and emb.startswith(b"\xef\xbb\xbfcustomer_id,assigned_segment,")
    sheet = pl.read_csv(tmp_path / "s.csv", infer_schema=False)
    segments = pl.read_parquet(automobile)
    assert plan["population"] == segments.height == 8068 and sheet.height == plan["total"]
    counts = dict(sheet.group_by("assigned_segment").len().iter_rows())
    assert counts == {s["segment"]: s["sample"] for s in plan["strata"]}
    assert [s["segment"] for s in plan["strata"]] == ["A", "B", "C", "D"]
    assert sheet["customer_id"].to_list() == numpy_draw(segments, plan, seed)
    drawn = sheet.join(segments, on="customer_id")
    assert (drawn["segment"] == drawn["assigned_segment"]).all() and drawn.height == sheet.height


def test_online_retail_rfm_sheet_from_a_table_is_the_embedded_sheet(
    retail: tuple[Path, str], tmp_path: Path
) -> None:
    path, table = retail
    seed = 1
    args = ["--seed", seed, "--total", 60, "--min-per-segment", 3]
    emb, got, plan = sheets(tmp_path, str(path), table, *args)
    assert got == emb
    segments = pl.read_parquet(path)
    assert plan["population"] == segments.height == 199 and len(plan["strata"]) >= 8
    sheet = pl.read_csv(tmp_path / "s.csv", infer_schema=False)
    assert sheet["customer_id"].to_list() == numpy_draw(segments, plan, seed)


def test_ids_are_ranked_as_text_in_the_embedded_order(spark: Any) -> None:
    ids = ["9", "10", "100", "a", "B", "é1", "e2", "ß", "Z", "0009", " 7", "日本", "Ω", "z"] * 3
    ids = [f"{v}{i // 14}" for i, v in enumerate(ids)]
    segments = pl.DataFrame(
        {"customer_id": ids, "segment": ["x"] * 25 + ["y"] * 16 + ["é"]}
    ).sample(fraction=1.0, shuffle=True, seed=3)
    plan = plan_audit({"x": 25, "y": 16, "é": 1}, total=20, min_per_segment=1)
    sdf, sizes = ranked_segments(spark.createDataFrame(segments.to_arrow()).repartition(4), "x")
    assert sizes == {"x": 25, "y": 16, "é": 1}
    for seed in (0, 1):
        want = draw_audit_sample(segments, plan, random_state=seed)
        assert_frame_equal(spark_draw_audit_sample(sdf, plan, random_state=seed), want)
    census = plan_audit({"x": 25, "y": 16, "é": 1}, total=42)
    got = spark_draw_audit_sample(sdf, census)
    assert got["customer_id"].to_list() == [*sorted(ids[:25]), *sorted(ids[25:41]), ids[41]]
    assert_frame_equal(got, draw_audit_sample(segments, census))


def test_spark_errors_are_clear(automobile: Path, tmp_path: Path) -> None:
    out = ["--out", tmp_path / "x.csv", "--engine", "spark"]
    res = invoke("audit-sample", "--db", f"sqlite:///{tmp_path / 'x.db'}", *out)
    assert res.exit_code == 2 and "a stored run (--db) is read from the database" in res.output
    query = f"sql:SELECT customer_id FROM parquet.`{automobile}`"
    res = invoke("audit-sample", "--segments", query, *out)
    assert res.exit_code == 2
    assert "the segmentation lacks column(s) segment; found customer_id" in res.output
    empty = f"sql:SELECT * FROM parquet.`{automobile}` WHERE segment = 'none'"
    res = invoke("audit-sample", "--segments", empty, *out)
    assert res.exit_code == 2 and "the segmentation has no rows" in res.output
    twice = f"sql:SELECT * FROM parquet.`{automobile}` UNION ALL SELECT '462809', 'A'"
    res = invoke("audit-sample", "--segments", twice, *out)
    assert res.exit_code == 2 and "1 row(s) of the segmentation repeat a customer id" in res.output
    res = invoke("audit-sample", "--segments", automobile, "--columns", "segment=s", *out)
    assert res.exit_code == 2 and "--columns is not applied by --engine spark" in res.output
    assert not (tmp_path / "x.csv").exists()
