"""seglens over a real Spark Connect server (``sc://``) gives what local mode gives.

One Connect server of the installed PySpark (its ``SparkConnectServer`` started with
``spark-submit``, ``local[2]``, on a free port of 127.0.0.1) serves the module. The commands
run over it in a child process (``python -m seglens ... --spark-master sc://127.0.0.1:PORT``):
a Python process holds either a classic Spark session or a Connect client (PySpark refuses a
Connect session beside a running SparkContext), and this process holds the suite's classic
session (``tests/conftest.py``), which is the local-mode reference, run in-process through the
same CLI. The input is the features of the real Online Retail file, made once by the embedded
engine (4,335 customers).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]

CLIENT_MODULES = ("grpc", "grpc_status", "google.protobuf", "zstandard")
"""What PySpark's Connect client imports (its ``connect`` extra: grpcio, grpcio-status,
googleapis-common-protos, zstandard)."""
START_TIMEOUT_S = 240.0
PCT = ("accuracy_pct", "ci_low_pct", "ci_high_pct")


@dataclass
class ConnectServer:
    """A Spark Connect server started for the tests: its URL once it answers, and its log."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self) -> str:
        """``sc://127.0.0.1:PORT`` once the server accepts gRPC connections (waits for it)."""
        import grpc

        deadline = time.monotonic() + START_TIMEOUT_S
        target = f"127.0.0.1:{self.port}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                pytest.fail(f"the Connect server exited ({code}):\n{self._tail()}")
            with grpc.insecure_channel(target) as channel:
                try:
                    grpc.channel_ready_future(channel).result(timeout=2)
                    return f"sc://{target}"
                except grpc.FutureTimeoutError:
                    continue
        wait = f"{START_TIMEOUT_S:.0f} s"
        pytest.fail(f"the Connect server did not answer in {wait}:\n{self._tail()}")

    def _tail(self) -> str:
        return "\n".join(self.log.read_text("utf-8", errors="replace").splitlines()[-30:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    """One Spark Connect server for the run, started now and awaited by :meth:`ConnectServer.url`
    (so the local-mode work overlaps its start-up), stopped at the end."""
    missing = [m for m in CLIENT_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(
            f"Spark Connect client packages are not installed (no {', '.join(missing)}): "
            "pip install -e '.[spark]'"
        )
    pyspark = pytest.importorskip("pyspark")
    tmp = tmp_path_factory.mktemp("connect")
    python = sys.executable  # the server's Python workers (mapInArrow scoring) need seglens
    port = _free_port()
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.pyspark.python": python,
        "spark.local.dir": str(tmp),
        "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={tmp} -XX:-UsePerfData",
    }
    command = [
        str(Path(pyspark.__file__).parent / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master",
        "local[2]",
        "--name",
        "seglens-tests",
        *[a for k, v in conf.items() for a in ("--conf", f"{k}={v}")],
    ]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": python}
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield ConnectServer(port, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_local(*args: object) -> dict[str, Any]:
    """A command in this process: ``--engine spark`` uses the suite's local-mode session."""
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    return out


def run_connect(url: str, *args: object) -> dict[str, Any]:
    """A command in a child process, with ``--engine spark --spark-master sc://...``."""
    command = [sys.executable, "-m", "seglens", *map(str, args), "--engine", "spark"]
    proc = subprocess.run(
        [*command, "--spark-master", url], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def segments(folder: Path) -> pl.DataFrame:
    """The part files Spark wrote, in customer order."""
    return pl.read_parquet(folder / "*.parquet").sort("customer_id")


@pytest.fixture(scope="module")
def features(
    connect_server: ConnectServer,
    online_retail_loaded: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The Online Retail features (embedded engine) as Parquet; the server starts meanwhile."""
    from seglens.features import customer_features

    path = tmp_path_factory.mktemp("connect-input") / "features.parquet"
    lines = online_retail_loaded.table
    customer_features(lines, as_of="2011-12-09").table.write_parquet(path)
    return path


def wilson_pct(hits: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The 95 % Wilson score interval of ``hits / n``, in percent (written out independently)."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def test_segments_and_kpi_over_connect_equal_local_mode(
    connect_server: ConnectServer, features: Path, spark: Any, tmp_path: Path
) -> None:
    """RFM fitted on a 1,000-customer stratified draw (xxhash64, a window and ``percentile``
    over all customers on the server), every customer scored by ``mapInArrow`` on the server's
    Python workers, then the KPI: the same segments, KPI and interval as local mode."""
    seg = ["segment", features, "-m", "rfm", "--sample", "1000", "--json"]
    local = run_local(*seg, "--engine", "spark", "-o", tmp_path / "local")
    want = segments(tmp_path / "local")
    names = sorted(want["segment"].unique())
    # 300 reviewed customers; every fourth answer names the next segment: 225 of 300 agree
    other = dict(zip(names, names[1:] + names[:1], strict=True))
    labels = (
        want.select("customer_id", "segment")
        .sample(300, seed=1)
        .with_columns(
            pl.when(pl.int_range(pl.len()) % 4 == 0)
            .then(pl.col("segment").replace_strict(other))
            .otherwise("segment")
            .alias("segment")
        )
    )
    labels.write_csv(tmp_path / "labels.csv")
    acc = ["accuracy", "--labels", tmp_path / "labels.csv", "--json"]
    local_kpi = run_local(*acc, "--segments", tmp_path / "local", "--engine", "spark")

    url = connect_server.url()
    remote = run_connect(url, *seg, "-o", tmp_path / "remote")
    remote_kpi = run_connect(url, *acc, "--segments", tmp_path / "remote")

    got = segments(tmp_path / "remote")
    assert_frame_equal(got, want)
    assert {**remote, "output": None} == {**local, "output": None}
    assert got.height == remote["customers"] == 4335 and len(names) == remote["n_segments"] > 5
    # cut points from all customers: the embedded engine's segments, though fitted on 1,000
    embedded = run_local(*seg, "-o", tmp_path / "embedded.parquet")
    assert embedded["segments"] == remote["segments"]

    assert (remote_kpi["n"], remote_kpi["method"], remote_kpi["match"]) == (300, "wilson", "names")
    for key in PCT:
        assert remote_kpi[key] == pytest.approx(local_kpi[key], rel=1e-9, abs=1e-9)
    assert remote_kpi["accuracy_pct"] == pytest.approx(75.0, rel=1e-9)
    low, high = wilson_pct(225, 300)
    interval = (remote_kpi["ci_low_pct"], remote_kpi["ci_high_pct"])
    assert interval == pytest.approx((low, high), rel=1e-9)
    rest = {k: v for k, v in remote_kpi.items() if k not in (*PCT, "inputs")}
    assert rest == {k: v for k, v in local_kpi.items() if k not in (*PCT, "inputs")}
