"""Where Spark runs: the master and settings from the command line, environment and TOML."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from seglens.errors import UsageError
from seglens.spark import SparkSettings, open_spark, spark_settings


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seglens.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_table_gives_master_app_and_settings(tmp_path: Path) -> None:
    cfg = _toml(
        tmp_path,
        '[spark]\nmaster = "spark://head:7077"\napp_name = "q4"\n'
        '[spark.conf]\n"spark.executor.memory" = "8g"\n"spark.sql.adaptive.enabled" = true\n'
        '"spark.sql.shuffle.partitions" = 400\n',
    )
    got = spark_settings(config=cfg, environ={})
    assert got == SparkSettings(
        "spark://head:7077",
        "q4",
        {
            "spark.executor.memory": "8g",
            "spark.sql.adaptive.enabled": "true",
            "spark.sql.shuffle.partitions": "400",
        },
        f"[spark] in {cfg}",
    )


def test_environment_beats_file_and_command_line_beats_both(tmp_path: Path) -> None:
    cfg = _toml(tmp_path, '[spark]\nmaster = "yarn"\n[spark.conf]\n"spark.a" = "file"\n')
    env = {
        "SEGLENS_SPARK_MASTER": "local[4]",
        "SEGLENS_SPARK_CONF_A": "spark.a=env",
        "SEGLENS_SPARK_CONF_MEM": " spark.driver.memory = 4g ",
    }
    got = spark_settings(config=cfg, environ=env)
    assert (got.master, got.origin) == ("local[4]", "SEGLENS_SPARK_MASTER")
    assert dict(got.conf) == {"spark.a": "env", "spark.driver.memory": "4g"}
    cli = spark_settings("sc://gw:15002", config=cfg, environ=env)
    assert (cli.master, cli.origin, cli.is_connect) == ("sc://gw:15002", "--spark-master", True)
    assert spark_settings(environ={}) == SparkSettings("local[2]", "seglens", {}, "default")


def test_bad_environment_setting_names_the_variable_and_the_form() -> None:
    with pytest.raises(UsageError) as err:
        spark_settings(environ={"SEGLENS_SPARK_CONF_X": "spark.executor.memory"})
    assert str(err.value) == (
        "cannot read SEGLENS_SPARK_CONF_X='spark.executor.memory'\n"
        "what to do: write one Spark setting per variable as key=value, e.g. "
        'SEGLENS_SPARK_CONF_X="spark.executor.memory=8g"'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[spark]\nmaster = "local"\nmemory = "8g"\n', "unknown key(s) ['memory'] in [spark]"),
        ("[spark]\nmaster = 7\n", "[spark] master must be text, got 7"),
        ('[spark]\nconf = "x"\n', "[spark.conf] must be a table"),
        ("[spark\n", "the config file is not valid TOML"),
    ],
)
def test_bad_toml_is_refused_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    cfg = _toml(tmp_path, text)
    with pytest.raises(UsageError) as err:
        spark_settings(config=cfg, environ={})
    assert str(err.value).startswith(f"file {cfg}: {message}")


@pytest.mark.skipif(
    importlib.util.find_spec("grpc") is not None, reason="Spark Connect extras are installed"
)
def test_spark_connect_without_its_extras_says_what_to_install() -> None:
    settings = spark_settings("sc://gw:15002", environ={})
    with pytest.raises(UsageError) as err:
        open_spark(settings)
    text = str(err.value)
    assert text.startswith(
        "Spark Connect (sc://gw:15002, from --spark-master) needs PySpark's connect extras; "
        "missing module(s): grpc"
    )
    assert "what to do: pip install 'pyspark[connect]" in text


def test_one_config_file_holds_ingest_and_spark_tables(tmp_path: Path) -> None:
    from seglens.io.config import read_config

    cfg = _toml(
        tmp_path,
        '[columns]\ncustomer_id = "CustID"\n[ingest]\ndrop_duplicates = false\n'
        '[spark]\nmaster = "local[3]"\n',
    )
    assert read_config(cfg) == ({"customer_id": "CustID"}, {"drop_duplicates": False})
    assert spark_settings(config=cfg, environ={}).master == "local[3]"
