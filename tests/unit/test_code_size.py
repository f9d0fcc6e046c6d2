"""Rooms a newcomer can read: no module over 600 lines and no class over 15 public methods,
in the product, its tests and its benchmarks (migrations are generated and exempt). A file or
class that outgrows this has more than one job: split it by job, as ``orders/services/`` and
``orders/repository/`` are."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "kernel",
    "apikit",
    "orders",
    "integrators",
    "webhooks",
    "operations",
    "facilities",
    "aws",
    "workers",
    "portal",
    "deploy",
    "bench",
    "tests",
)
MAX_LINES = 600
MAX_PUBLIC_METHODS = 15


def python_files() -> list[Path]:
    files = [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    return sorted(files)


def public_methods(node: ast.ClassDef) -> list[str]:
    """Methods defined in the class's own body (parts it inherits are counted in theirs)."""
    return [
        item.name
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        and not item.name.startswith("_")
    ]


def test_the_checks_see_the_code():
    files = python_files()
    assert len(files) > 300
    assert ROOT / "orders" / "services" / "intake.py" in files


def test_no_module_is_over_600_lines():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in python_files()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_no_class_has_more_than_15_public_methods():
    too_wide = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                methods = public_methods(node)
                if len(methods) > MAX_PUBLIC_METHODS:
                    too_wide[f"{path.relative_to(ROOT)}::{node.name}"] = len(methods)
    assert too_wide == {}


def test_a_wide_class_is_caught():
    """The counting itself, on a class one method too wide (a check that cannot fail proves
    nothing)."""
    methods = "".join(f"    def m{i}(self): ...\n" for i in range(MAX_PUBLIC_METHODS + 1))
    source = f"class Wide:\n{methods}    def _private(self): ...\n"
    (node,) = ast.parse(source).body
    assert len(public_methods(node)) == MAX_PUBLIC_METHODS + 1
