"""Imports point one way: backend <- scheduling <- billing <- console/worker (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package, and the packages it must never import.
FORBIDDEN = {
    "backend": {"scheduling", "billing", "outcomes", "console", "worker"},
    "scheduling": {"billing", "outcomes", "console", "worker"},
    "billing": {"outcomes", "console", "worker"},
    "outcomes": {"billing", "console", "worker"},
    "worker": {"console"},
    "console": {"worker"},  # the console reads and writes through services; it never reaches into tasks
}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_what_stands_above_it(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {name: found for name, found in offenders.items() if found} == {}
