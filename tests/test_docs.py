"""Docs are checked against code: every CLI command is documented (datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from seglens.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _command_paths() -> list[str]:
    group = typer.main.get_command(app)
    paths: list[str] = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        paths.append(name)
        for sub in getattr(cmd, "commands", {}):
            paths.append(f"{name} {sub}")
    return sorted(paths)


def _docs_text() -> str:
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(texts)


@pytest.mark.parametrize("command", _command_paths())
def test_every_command_is_documented(command: str) -> None:
    assert f"seglens {command}" in _docs_text(), f"`seglens {command}` is not in README or docs/"


def test_readme_lists_every_top_level_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _command_paths() if " " not in c and f"`seglens {c}`" not in readme]
    assert not missing, f"README.md does not mention: {missing}"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./scripts/test" in readme
    assert "./scripts/test" in ci
