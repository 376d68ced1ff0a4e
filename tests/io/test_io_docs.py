"""docs/ingestion.md documents every rule id and every report key the code produces."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from seglens.io import load_transactions

DOC = Path(__file__).resolve().parents[2] / "docs" / "ingestion.md"


def test_every_rule_and_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    frame = pl.DataFrame(
        {
            "customer_id": ["1"],
            "order_id": ["1"],
            "timestamp": ["2024-01-01"],
            "amount": ["1"],
            "product_id": ["A"],
            "returned": ["no"],
        }
    )
    report = load_transactions(frame, as_of="2024-12-31").report.to_dict()
    documented_rules = set(re.findall(r"^\| `([a-z_0-9]+)` \|", text, flags=re.M))
    produced = {r["rule"] for r in report["rules"]}
    assert produced <= documented_rules, produced - documented_rules
    for key in report:
        assert f"| `{key}` |" in text, key
