"""A Spark session for the features engine: local mode by default, any ``spark.master``."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from typing import Any

from seglens.errors import UsageError

__all__ = ["LOCAL_CONF", "spark_session"]

LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
}
"""Settings that keep a local session quiet and its day boundaries in UTC."""


def spark_session(
    master: str | None = None, conf: Mapping[str, str] | None = None, app_name: str = "seglens"
) -> Any:
    """Get the active Spark session or start one (``master`` defaults to ``local[2]``).

    The session time zone is UTC, so the day of a naive timestamp is the same as on the
    embedded engine. For a local master, ``SPARK_LOCAL_IP`` defaults to 127.0.0.1 and the JVM's
    temporary files go to a private temporary folder.

    Raises
    ------
    UsageError
        If PySpark is not installed (``pip install 'seglens[spark]'``).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the spark engine needs PySpark", hint="pip install 'seglens[spark]' (and Java 17+)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or os.environ.get("SEGLENS_SPARK_MASTER", "local[2]")
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = dict(LOCAL_CONF)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Python workers (mapInArrow scoring) must run this interpreter, which has seglens'
        # dependencies, not whatever `python3` is first on the PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings["spark.pyspark.python"] = sys.executable
        tmp = tempfile.mkdtemp(prefix="seglens-spark-")
        settings["spark.driver.extraJavaOptions"] = f"-Djava.io.tmpdir={tmp} -XX:-UsePerfData"
        settings["spark.local.dir"] = tmp
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
