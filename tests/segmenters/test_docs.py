"""docs/segmenters.md stays in step with the code: every CLI option and export is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

import seglens.segmenters
from seglens.cli import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "segmenters.md").read_text()


@pytest.mark.parametrize("command", ["segment", "profile"])
def test_every_option_is_documented(command: str) -> None:
    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    opts = [o for p in cmd.params for o in p.opts if o.startswith("--")]
    assert opts, command
    missing = [o for o in opts if o not in DOC and o != "--help"]
    assert not missing, f"undocumented options of seglens {command}: {missing}"


def test_public_classes_are_documented() -> None:
    for name in seglens.segmenters.__all__:
        if name[0].isupper() and name not in {"Segment", "SegmentProfile", "KSelection"}:
            assert name in DOC, name
