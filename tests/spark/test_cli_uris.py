"""A URI typed on the command line reaches Spark as typed (a ``pathlib.Path`` would have
turned ``s3a://bucket/x`` into ``s3a:/bucket/x``, losing the bucket).

``ingest -o file://localhost/<path>``: its ``//`` matters (collapsed it names
``/localhost/<path>``, a folder that does not exist) and seglens writes it as the local
folder, checked against the embedded engine's output. The other URIs are ``file:///``
ones, whose exact text the commands' JSON ``output`` shows (collapsed: ``file:/...``); the
sources of the other commands are shown to arrive as typed
by Spark's own error for ``s3a://bucket/...`` (no S3 connector here), which names it.
A CSV at a cluster URI is refused (its encoding and delimiter cannot be sniffed there); at a
``file:`` URI it is read as the local file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from tests.transactions import random_transactions

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]

AS_OF = "2011-10-01"


def run(*args: object) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.stdout


def uri(path: Path) -> str:
    """``file://localhost/...``: a URI whose ``//`` a Path would collapse to another folder."""
    return f"file://localhost{path.resolve()}"


def read_uri(path: Path) -> str:
    """``file:///...``, which Spark reads (a Path would make it ``file:/...``)."""
    return f"file://{path.resolve()}"


def test_ingest_features_segment_outputs_at_uris(tmp_path: Path, spark: Any) -> None:
    tx = random_transactions(80, seed=5)
    tx.write_csv(tmp_path / "tx.csv", datetime_format="%Y-%m-%d %H:%M:%S")
    assert not Path("/localhost").exists()  # where the collapsed URIs would point
    # ingest: a file: URI source (CSV read as the local file) and -o at a URI
    lines = uri(tmp_path / "lines")
    emb_i = json.loads(run("ingest", tmp_path / "tx.csv", "-o", tmp_path / "e.parquet", "--json"))
    sp_i = json.loads(
        run("ingest", uri(tmp_path / "tx.csv"), "-o", lines, "--json", "--engine", "spark")
    )
    assert sp_i["output"] == lines
    keys = ["customer_id", "order_id", "timestamp"]
    emb = pl.read_parquet(tmp_path / "e.parquet").sort(keys)
    got = pl.read_parquet(tmp_path / "lines").sort(keys)  # an extensionless folder: Parquet
    assert_frame_equal(got, emb, check_dtypes=False)
    assert sp_i["rows_kept"] == emb_i["rows_kept"] == emb.height
    assert [(r["rule"], r["rows"]) for r in sp_i["rules"]] == [
        (r["rule"], r["rows"]) for r in emb_i["rules"]
    ]
    # features: read from the URI folder just written, -o at a URI
    feats = read_uri(tmp_path / "f.parquet")
    run("features", tmp_path / "tx.csv", "-o", tmp_path / "ef.parquet", "--as-of", AS_OF)
    out = json.loads(
        run(
            "features",
            read_uri(tmp_path / "lines"),
            *("-o", feats, "--as-of", AS_OF, "--engine", "spark", "--json"),
        )
    )
    assert out["output"] == feats
    emb_f = pl.read_parquet(tmp_path / "ef.parquet")
    assert out["rows"] == emb_f.height
    assert_frame_equal(
        pl.read_parquet(tmp_path / "f.parquet"), emb_f, check_dtypes=False, rel_tol=1e-9
    )
    # segment: source and -o at URIs
    seg = ["segment", "-m", "kmeans", "-k", "3", "--json"]
    emb_s = json.loads(run(*seg, tmp_path / "ef.parquet", "-o", tmp_path / "es.parquet"))
    segs = read_uri(tmp_path / "s.parquet")
    sp_s = json.loads(run(*seg, read_uri(tmp_path / "f.parquet"), "-o", segs, "--engine", "spark"))
    assert sp_s["output"] == segs
    assert sp_s["segments"] == emb_s["segments"] and sp_s["customers"] == emb_f.height
    assert_frame_equal(
        pl.read_parquet(tmp_path / "s.parquet"),
        pl.read_parquet(tmp_path / "es.parquet"),
        check_dtypes=False,
    )
    assert not Path("/localhost").exists()


@pytest.mark.parametrize("source", ["s3a://bucket/shop/tx.csv", "hdfs:///shop/tx.tsv.gz"])
def test_csv_at_a_cluster_uri_is_refused(source: str, spark: Any) -> None:
    res = CliRunner().invoke(app, ["ingest", source, "--engine", "spark"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert source in text  # as typed, bucket and all
    assert "CSV/TSV only from local files" in text
    assert "Parquet" in text and "CREATE TABLE" in text and "USING csv" in text


S3 = "s3a://bucket/shop/segments"


@pytest.mark.parametrize(
    "command",
    [
        ["segment", S3, "-o", "{d}/s.parquet"],
        ["accuracy", "--segments", S3, "--labels", "{d}/labels.csv"],
        ["audit-sample", "--segments", S3, "--out", "{d}/sheet.csv"],
        ["export", S3, "--output", "{d}/export"],
        ["track", S3, "--as-of", AS_OF, "--db", "{d}/t.db"],
    ],
    ids=lambda c: c[0],
)
def test_sources_reach_spark_as_typed(command: list[str], tmp_path: Path, spark: Any) -> None:
    pl.DataFrame({"customer_id": ["1", "2"], "segment": ["a", "b"]}).write_csv(
        tmp_path / "labels.csv"
    )
    args = [a.format(d=tmp_path) for a in command] + ["--engine", "spark"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert f"{S3}: Spark could not read it" in text, text
