"""The proxy-calibration table: enough scenarios, reproducible rows, docs and caveats in sync."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from seglens.accuracy import proxy_caveat
from seglens.accuracy.calibration import PROXIES, make_scenarios, run_scenario, summarise


def _load_script(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` by path (the repository root is not on ``sys.path``)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_seglens_bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_CAL = _load_script("calibrate_proxies")
CSV, DOC, JSON, table_markdown = _CAL.CSV, _CAL.DOC, _CAL.JSON, _CAL.table_markdown


def test_published_table_has_at_least_50_varied_scenarios() -> None:
    rows = pl.read_csv(CSV)
    assert rows.height >= 50
    for knob in ("separation", "period_noise", "n_segments", "imbalance"):
        assert rows[knob].n_unique() > 3, knob
    assert rows["true_accuracy"].min() < 50 < 90 < rows["true_accuracy"].max()


def test_docs_json_and_csv_agree() -> None:
    rows = pl.read_csv(CSV).to_dicts()
    summary = json.loads(JSON.read_text(encoding="utf-8"))
    assert summary == json.loads(json.dumps(summarise(rows)))
    assert table_markdown(summary) in DOC.read_text(encoding="utf-8")
    assert set(summary["proxies"]) == set(PROXIES)


def test_caveat_quotes_the_calibration() -> None:
    summary = json.loads(JSON.read_text(encoding="utf-8"))
    text = proxy_caveat("silhouette")
    assert f"over {summary['n_scenarios']} planted-truth scenarios" in text
    assert f"{summary['proxies']['silhouette']['spearman']:+.2f}" in text


def test_scenarios_are_deterministic() -> None:
    assert make_scenarios(5) == make_scenarios(5)
    assert make_scenarios(5, seed=1) != make_scenarios(5)


@pytest.mark.slow
def test_stored_rows_reproduce() -> None:
    stored = pl.read_csv(CSV).head(2).to_dicts()
    for sc, row in zip(make_scenarios(2), stored, strict=True):
        got = run_scenario(sc)
        for key in ("true_accuracy", *PROXIES):
            assert got[key] == pytest.approx(row[key], abs=0.5), key
