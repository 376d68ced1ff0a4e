"""Where Spark runs: ``spark.master``, Spark Connect (``sc://``) and extra Spark settings.

Settings come, in this order of precedence, from the command line (``--spark-master``), the
environment (``SEGLENS_SPARK_MASTER``; ``SEGLENS_SPARK_CONF_<ANY>="key=value"``, one Spark
setting per variable), the ``[spark]`` table of a TOML file, and the default ``local[2]``::

    [spark]
    master = "spark://head:7077"     # or yarn, local[8], sc://host:15002 (Spark Connect)
    app_name = "seglens-q4"

    [spark.conf]
    "spark.executor.memory" = "8g"
    "spark.sql.shuffle.partitions" = "400"

A classic master (``local[...]``, ``spark://``, ``yarn``, ``k8s://``) starts a driver in this
process through :func:`seglens.features.spark.spark_session`; when none is chosen, a session
already active in the process is used. An ``sc://`` URL opens a Spark Connect client (the
``spark`` extra installs PySpark's ``connect`` client packages); tested against a local Connect
server of PySpark 4.3.0 (``tests/spark/test_connect_server.py``). Every command runs the same
code on both kinds of session: the Spark code uses only what Spark Connect also has (no
``sparkContext``, RDDs or broadcast variables). A process holds one kind of session, not both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seglens.errors import UsageError
from seglens.io.config import read_toml

__all__ = ["SparkSettings", "open_spark", "spark_settings"]

DEFAULT_MASTER = "local[2]"
_ENV_MASTER = "SEGLENS_SPARK_MASTER"
_ENV_CONF = "SEGLENS_SPARK_CONF_"
_CONNECT_MODULES = ("grpc", "grpc_status", "google.protobuf", "zstandard")
_CONNECT_CONF = {"spark.sql.session.timeZone": "UTC"}
"""Set on every Connect session (a runtime setting the client may change, unlike the server's
static ones): day boundaries of naive timestamps in UTC, as on a local session and the embedded
engine. A ``[spark.conf]`` value overrides it."""


@dataclass(frozen=True)
class SparkSettings:
    """A resolved Spark connection: the master (or ``sc://`` URL), app name and settings."""

    master: str = DEFAULT_MASTER
    app_name: str = "seglens"
    conf: Mapping[str, str] = field(default_factory=dict)
    origin: str = "default"
    """Where the master came from: ``--spark-master``, the environment, a file, or default."""

    @property
    def is_connect(self) -> bool:
        """Whether this is a Spark Connect URL (a remote session, no local driver)."""
        return self.master.startswith("sc://")


def _toml_table(path: Path) -> dict[str, Any]:
    data = read_toml(path, docs="docs/spark.md for the [spark] table")
    table = data.get("spark", {})
    if not isinstance(table, dict):
        raise UsageError("[spark] must be a table", source=str(path), hint="see docs/spark.md")
    unknown = set(table) - {"master", "app_name", "conf"}
    if unknown:
        raise UsageError(
            f"unknown key(s) {sorted(unknown)} in [spark]",
            source=str(path),
            hint="[spark] takes master, app_name and a [spark.conf] table of Spark settings",
        )
    conf = table.get("conf", {})
    if not isinstance(conf, dict):
        raise UsageError("[spark.conf] must be a table", source=str(path))
    for key in ("master", "app_name"):
        if key in table and not isinstance(table[key], str):
            raise UsageError(f"[spark] {key} must be text, got {table[key]!r}", source=str(path))
    return {**table, "conf": {str(k): _conf_value(v, str(path)) for k, v in conf.items()}}


def _conf_value(value: object, origin: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise UsageError(
        f"Spark setting values must be text, numbers or booleans, not {value!r}", source=origin
    )


def _env_conf(environ: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sorted(environ):
        if not name.startswith(_ENV_CONF):
            continue
        key, sep, value = environ[name].partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"cannot read {name}={environ[name]!r}",
                hint=f"write one Spark setting per variable as key=value, e.g. {name}="
                '"spark.executor.memory=8g"',
            )
        out[key.strip()] = value.strip()
    return out


def spark_settings(
    master: str | None = None,
    config: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SparkSettings:
    """Resolve the Spark connection from the command line, environment and TOML file."""
    env = os.environ if environ is None else environ
    table = _toml_table(Path(config)) if config is not None else {}
    conf = {**table.get("conf", {}), **_env_conf(env)}
    if master:
        chosen, origin = master, "--spark-master"
    elif env.get(_ENV_MASTER):
        chosen, origin = env[_ENV_MASTER], _ENV_MASTER
    elif table.get("master"):
        chosen, origin = str(table["master"]), f"[spark] in {config}"
    else:
        chosen, origin = DEFAULT_MASTER, "default"
    return SparkSettings(chosen, str(table.get("app_name", "seglens")), conf, origin)


def _missing_connect_modules() -> list[str]:
    import importlib.util

    missing = []
    for name in _CONNECT_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


def open_spark(settings: SparkSettings) -> Any:
    """A Spark session for ``settings``: a local/cluster driver, or a Spark Connect client.

    Raises
    ------
    UsageError
        PySpark missing, or an ``sc://`` URL without PySpark's connect extras installed.
    """
    if not settings.is_connect:
        from seglens.features.spark import spark_session

        # nothing chosen: a session already running here (a notebook, a Databricks job) is used
        master = None if settings.origin == "default" else settings.master
        return spark_session(master, settings.conf, settings.app_name)
    missing = _missing_connect_modules()
    if missing:
        import importlib.metadata as md

        try:
            version = f"=={md.version('pyspark')}"
        except md.PackageNotFoundError:
            version = ""
        raise UsageError(
            f"Spark Connect ({settings.master}, from {settings.origin}) needs PySpark's connect "
            f"extras; missing module(s): {', '.join(missing)}",
            hint=f"pip install 'pyspark[connect]{version}' (or use a classic master such as "
            "spark://host:7077 or local[4])",
        )
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(settings.master).appName(settings.app_name)
    for key, value in {**_CONNECT_CONF, **settings.conf}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
