"""Dependency floors, the lock and the package metadata agree with ``pyproject.toml``.

The floor job (``scripts/test-floors``) installs every direct dependency at the lowest version
``pyproject.toml`` allows and runs this file with ``SEGLENS_TEST_FLOORS=1``: a floor that the job
did not install (a version that does not exist, or a dependency that forces a higher one) fails
here, so the floors in ``pyproject.toml`` are always the versions the floor job tested.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCK = REPO_ROOT / "requirements" / "lock.txt"
# The command that writes requirements/lock.txt (README, CONTRIBUTING.md); uv puts it in the header.
LOCK_COMMAND = (
    "uv pip compile pyproject.toml --extra dev --extra spark --universal --python-version 3.11 "
    "-o requirements/lock.txt"
)


def _project() -> dict[str, Any]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
        project: dict[str, Any] = tomllib.load(fh)["project"]
    return project


def _direct_requirements() -> list[Requirement]:
    """Every direct dependency: the runtime ones, then each extra's."""
    project = _project()
    texts = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts += extra
    return [Requirement(text) for text in texts]


def _floor(req: Requirement) -> Version:
    (spec,) = req.specifier  # one specifier: the floor
    return Version(spec.version)


def _lock_pins() -> dict[str, list[tuple[Version, Marker | None]]]:
    pins: dict[str, list[tuple[Version, Marker | None]]] = {}
    for line in LOCK.read_text("utf-8").splitlines():
        if not line or line[0] in " #":
            continue
        requirement, _, marker = line.partition(";")
        name, _, version = requirement.strip().partition("==")
        pins.setdefault(canonicalize_name(name), []).append(
            (Version(version), Marker(marker) if marker.strip() else None)
        )
    return pins


def test_every_direct_dependency_has_one_floor_and_no_cap() -> None:
    bad = [
        str(req)
        for req in _direct_requirements()
        if len(req.specifier) != 1 or next(iter(req.specifier)).operator not in (">=", "==")
    ]
    assert bad == [], "each dependency needs exactly one '>=' floor (or '==' pin), no upper cap"


def test_lock_pins_every_direct_dependency_within_its_range() -> None:
    pins = _lock_pins()
    problems = []
    for req in _direct_requirements():
        found = pins.get(canonicalize_name(req.name))
        if not found:
            problems.append(f"{req.name}: not in {LOCK.name}")
            continue
        problems += [
            f"{req.name}=={version} in {LOCK.name} is outside '{req}'"
            for version, _ in found
            if version not in req.specifier
        ]
    assert problems == [], f"regenerate the lock with: {LOCK_COMMAND}"


def test_lock_says_how_it_was_made() -> None:
    head = LOCK.read_text("utf-8")[:600]
    assert LOCK_COMMAND in head


@pytest.mark.skipif(
    not os.environ.get("SEGLENS_TEST_FLOORS"), reason="only in the floor job (scripts/test-floors)"
)
def test_floor_job_installed_exactly_the_floors() -> None:
    mismatches = []
    for req in _direct_requirements():
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            mismatches.append(f"{req.name}: not installed (floor {_floor(req)})")
            continue
        if Version(installed) != _floor(req):
            mismatches.append(f"{req.name}: pyproject floor {_floor(req)}, installed {installed}")
    assert mismatches == [], (
        "pyproject.toml floors and the floor job disagree; set each floor to the version the job "
        "installs (and passes with): " + "; ".join(mismatches)
    )


def test_wheel_metadata_names_the_license_file() -> None:
    meta = metadata.metadata("seglens")
    assert meta.get("License-Expression") == "Apache-2.0"
    assert "LICENSE" in (meta.get_all("License-File") or [])
    assert re.match(r"\s*Apache License", (REPO_ROOT / "LICENSE").read_text("utf-8"))


def test_readme_installs_from_the_lock() -> None:
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    assert ".venv/bin/pip install -q -c requirements/lock.txt -e ." in readme


def test_readme_lists_every_environment_variable_the_code_reads() -> None:
    code = "\n".join(p.read_text("utf-8") for p in (REPO_ROOT / "src").rglob("*.py"))
    read = set(re.findall(r"\bSEGLENS_[A-Z_]+[A-Z]\b", code))
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    assert read, "no SEGLENS_* variable found: the pattern is wrong"
    assert sorted(v for v in read if f"| `{v}` |" not in readme) == []
