"""docs/store.md documents every command and option of the store and tracking CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from seglens.cli import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "store.md").read_text()
COMMANDS = [
    ("db", "upgrade"),
    ("db", "status"),
    ("labels", "import"),
    ("labels", "add"),
    ("labels", "show"),
    ("forget",),
    ("track",),
    ("history",),
    ("alerts",),
]


def _command(path: tuple[str, ...]) -> object:
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return cmd


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_command_and_its_options_are_documented(path: tuple[str, ...]) -> None:
    assert f"seglens {' '.join(path)}" in DOC
    cmd = _command(path)
    for param in cmd.params:  # type: ignore[attr-defined]
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}" in DOC or f"{opt} " in DOC, f"{opt} of {path} is undocumented"
