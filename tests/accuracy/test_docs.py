"""docs/accuracy.md documents what the code emits (JSON keys, CLI options, metrics, caveats)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from seglens.accuracy import METRICS, PROXY_CAVEATS, accuracy_report_from_tables
from seglens.cli._app import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "accuracy.md").read_text(encoding="utf-8")


def _json_table_keys() -> set[str]:
    section = DOC.split("### JSON keys", 1)[1].split("`seglens audit-estimate --json`", 1)[0]
    keys: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            keys.update(re.findall(r"`([a-z_]+)`", first_cell))
    return keys


def test_every_json_key_is_documented_and_every_documented_key_exists() -> None:
    seg = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["a", "b", "b"]})
    lab = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["a", "b", "a"]})
    emitted = set(accuracy_report_from_tables(seg, lab).to_dict()) | {"inputs"}
    assert _json_table_keys() == emitted


@pytest.mark.parametrize("command", ["accuracy", "audit-sample", "audit-estimate"])
def test_every_cli_option_is_documented(command: str) -> None:
    import typer.main

    click_cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    for param in click_cmd.params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in DOC, f"{command} {opt} is not in docs/accuracy.md"


def test_metrics_and_proxy_caveats_are_documented() -> None:
    for spec in METRICS.values():
        if spec.sklearn:
            assert spec.sklearn in DOC
    for caveat in PROXY_CAVEATS.values():
        assert caveat.split(":")[0] in DOC
