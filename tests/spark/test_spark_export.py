"""``seglens export --engine spark`` writes what the embedded export writes.

Real segments: the 8,068 customers of the labelled Automobile segmentation file (segments A-D,
with Profession, Age and Work_Experience as extra columns, some empty), a few of them given
segment names and professions a spreadsheet would run as formulas, or text with quotes, commas
and a line break. Both engines run through the CLI on the same Parquet file; the files are read
back and compared cell by cell, and the pseudonyms and escaped-cell counts are computed here
independently.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from seglens.errors import DataError, UsageError
from seglens.export import crm
from seglens.export.crm import export_segments, read_export
from seglens.spark.export import export_on_spark

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]

AS_OF = "2024-05-31"
EXTRA = "Profession,Age,Work_Experience"
KEY = "k3y-for-the-export-tests-0123456789"
ODD = {  # row -> (segment, profession)
    0: ("=cmd|' /C calc'!A0", "Engineer"),
    1: ("+1", "-2"),
    2: ("@SUM(A1)", "'=x"),
    3: ("C", 'Zoë, "quoted"\nline'),
    4: ("-5", "#hash"),
}
# (no leading or trailing spaces: the embedded CLI's reader trims them, Spark reads values as
# they are - the cleaning of a segments file is the embedded loader's)


def run(*args: object, env: dict[str, str] | None = None) -> dict[str, Any]:
    res = CliRunner().invoke(app, [str(a) for a in args], env=env)
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.stdout))


@pytest.fixture(scope="module")
def segments(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = pl.read_csv(shared_data / "automobile-segmentation-labeled" / "Train.csv")
    seg = raw.select(
        pl.col("ID").cast(pl.String).alias("customer_id"),
        pl.col("Segmentation").alias("segment"),
        "Profession",
        "Age",
        "Work_Experience",
    )
    segs, profs = seg["segment"].to_list(), seg["Profession"].to_list()
    for i, (s, p) in ODD.items():
        segs[i], profs[i] = s, p
    seg = seg.with_columns(pl.Series("segment", segs), pl.Series("Profession", profs))
    path = tmp_path_factory.mktemp("export") / "segments.parquet"
    seg.write_parquet(path)
    return path


def spark_parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*"))


def expected_escapes(seg: pl.DataFrame) -> int:
    """Text cells starting (after any quotes) with = + - @ tab or CR, counted in Python."""
    cells = [v for c in ("customer_id", "segment", "Profession") for v in seg[c].to_list()]
    return sum(1 for v in cells if v and v.lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("fmt", ["csv", "hubspot", "salesforce", "parquet"])
def test_export_equals_embedded(
    segments: Path, spark: Any, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    d = segments.parent
    seg = pl.read_parquet(segments)
    if fmt == "hubspot":  # small files, so that both engines split
        monkeypatch.setattr(crm, "HUBSPOT_MAX_ROWS", 3000)
    suffix = "parquet" if fmt == "parquet" else "csv"
    args = ["export", segments, "--format", fmt, "--as-of", AS_OF, "--extra", EXTRA, "--json"]
    env = None
    if fmt == "salesforce":  # pseudonyms on this one
        args += ["--pseudonym-key-env", "SEGLENS_TEST_KEY"]
        env = {"SEGLENS_TEST_KEY": KEY}
    emb = run(*args, "--output", d / f"emb_{fmt}.{suffix}", env=env)
    sp = run(*args, "--output", d / f"sp_{fmt}.{suffix}", "--engine", "spark", env=env)

    assert sp.pop("engine") == "spark"
    assert sorted(sp) == sorted(emb)
    for key in ("format", "rows", "columns", "escaped_cells", "pseudonymized"):
        assert sp[key] == emb[key], key
    assert sp["rows"] == seg.height == 8068
    parts = spark_parts(d / f"sp_{fmt}.{suffix}")
    assert sp["files"] == [str(p) for p in parts]
    if fmt == "parquet":
        assert sp["escaped_cells"] == 0
        want = pl.read_parquet(d / "emb_parquet.parquet")
        got = pl.concat([pl.read_parquet(p) for p in parts])
        assert_frame_equal(got.sort("customer_id"), want.sort("customer_id"))
        return
    assert sp["escaped_cells"] == expected_escapes(seg) == 6
    # the cells as written (escaped, dates as text), then as read back (unescaped)
    emb_files = [Path(f) for f in emb["files"]]
    want_raw = pl.concat([pl.read_csv(f, infer_schema=False) for f in emb_files])
    got_raw = pl.concat([pl.read_csv(p, infer_schema=False) for p in parts])
    key = want_raw.columns[0]
    assert_frame_equal(got_raw.sort(key), want_raw.sort(key))
    back = pl.concat([read_export(p, format=fmt) for p in parts])  # type: ignore[arg-type]
    assert back["segment_date"].unique().to_list() == [pl.Series([AS_OF]).str.to_date()[0]]
    if fmt == "salesforce":
        ids = {
            hmac.new(KEY.encode(), i.encode(), hashlib.sha256).hexdigest()[:32]: i
            for i in seg["customer_id"]
        }
        assert sp["pseudonymized"] and set(back["customer_id"]) == set(ids)
        back = back.with_columns(pl.col("customer_id").replace_strict(ids))
    joined = seg.join(back, on="customer_id", suffix="_back")
    assert joined.height == seg.height
    assert joined["segment"].to_list() == joined["segment_back"].to_list()
    assert joined["Profession"].to_list() == joined["Profession_back"].to_list()
    if fmt == "hubspot":
        assert len(parts) == len(emb_files) == 3
        assert all(pl.read_csv(p, infer_schema=False).height <= 3000 for p in parts)
        assert sp["notes"] == emb["notes"] == ["split into 3 files of at most 3,000 rows (HubSpot)"]


def _frames(spark: Any, data: dict[str, list[Any]]) -> tuple[pl.DataFrame, Any]:
    frame = pl.DataFrame(data)
    return frame, spark.createDataFrame(frame.to_arrow()).coalesce(1)


@pytest.mark.parametrize(
    "data",
    [
        {"customer_id": ["1", "2", "2", "3", "1", "4"], "segment": list("abcdef")},
        {"customer_id": ["1", "2", None, "4"], "segment": ["a", None, "c", "d"]},
        {"customer_id": ["1", "2"], "group": ["a", "b"]},
    ],
    ids=["duplicate ids", "no segment", "no segment column"],
)
def test_refused_with_the_embedded_message(spark: Any, tmp_path: Path, data: Any) -> None:
    frame, sdf = _frames(spark, data)
    with pytest.raises(DataError) as want:
        export_segments(frame, tmp_path / "e.csv", format="csv")
    with pytest.raises(DataError) as got:
        export_on_spark(sdf, str(tmp_path / "s.csv"), format="csv")
    assert str(got.value) == str(want.value)
    assert list(got.value.values) == list(want.value.values)
    assert not (tmp_path / "s.csv").exists()


def test_db_format_and_short_key_refused(spark: Any, tmp_path: Path) -> None:
    _, sdf = _frames(spark, {"customer_id": ["1"], "segment": ["a"]})
    with pytest.raises(UsageError, match=r"--format parquet --output table:db\.name"):
        export_on_spark(sdf, "sqlite:///x.db", format="db")
    with pytest.raises(UsageError, match="too short"):
        export_on_spark(sdf, str(tmp_path / "s.csv"), format="csv", pseudonym_key=b"short")


def test_failed_write_keeps_the_earlier_export(spark: Any, tmp_path: Path) -> None:
    """A value that fails while Spark writes (raise_error in an extra column, which the
    checks do not read) stops the write: the earlier folder and table stay as they were."""
    n = 4000
    pl.DataFrame(
        {"customer_id": [f"c{i:05d}" for i in range(n)], "segment": ["a", "b"] * (n // 2)}
    ).write_parquet(tmp_path / "seg.parquet")
    good = f"sql:SELECT *, 'ok' AS note FROM parquet.`{tmp_path / 'seg.parquet'}`"
    bad = (
        "sql:SELECT *, CASE WHEN customer_id = 'c03999' THEN raise_error('boom') "
        f"ELSE 'ok' END AS note FROM parquet.`{tmp_path / 'seg.parquet'}`"
    )
    out = tmp_path / "out.csv"
    spark.sql(f"CREATE DATABASE IF NOT EXISTS seglens_export_t LOCATION '{tmp_path / 'wh'}'")
    try:
        for target in (str(out), "table:seglens_export_t.segs"):
            first = run("export", good, "--engine", "spark", "--extra", "note", "--output", target,
                        "--json")  # fmt: skip
            assert first["rows"] == n
            before = _snapshot(spark, target)
            res = CliRunner().invoke(
                app, ["export", bad, "--engine", "spark", "--extra", "note", "--output", target]
            )
            assert res.exit_code == 2, res.output
            assert "the earlier export was kept unchanged" in res.output
            assert "boom" in res.output
            assert _snapshot(spark, target) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "seg.parquet", "wh"]
        # no staging table left behind (temporary views of other tests are listed too)
        tables = spark.catalog.listTables("seglens_export_t")
        assert [t.name for t in tables if not t.isTemporary] == ["segs"]
    finally:
        spark.sql("DROP DATABASE IF EXISTS seglens_export_t CASCADE")


def _snapshot(spark: Any, target: str) -> Any:
    if target.startswith("table:"):
        return sorted(tuple(r) for r in spark.table(target[6:]).collect())
    return {p.name: p.read_bytes() for p in Path(target).iterdir()}
