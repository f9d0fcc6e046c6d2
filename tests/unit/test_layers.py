"""The layers hold: the domain imports nothing of the framework, and no lower layer imports a
higher one (.importlinter, checked by import-linter over the real code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def run(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(config)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_import_contract_is_kept():
    result = run(ROOT / ".importlinter", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_repository_that_imports_the_services_breaks_the_layers(tmp_path):
    """The same contract over a copy of the layer modules' shape, with one import turned the
    wrong way: the check must catch it (a contract that cannot fail proves nothing)."""
    package = tmp_path / "shop"
    for name in ("domain", "repository", "services", "api"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "repository" / "store.py").write_text("from shop.services import checkout\n")
    (package / "services" / "checkout.py").write_text("from shop.repository import store\n")
    config = tmp_path / ".importlinter"
    layers = (ROOT / ".importlinter").read_text().split("[importlinter:contract:layers]")[1]
    assert "\n    portal.container\n    orders.services : " in layers
    assert "\n    orders.repository : aws\n    orders.events\n    orders.domain" in layers
    config.write_text(
        "[importlinter]\nroot_packages =\n    shop\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\n"
        "layers =\n    shop.api\n    shop.services\n    shop.repository\n    shop.domain\n"
    )

    result = run(config, tmp_path)

    assert result.returncode == 1
    assert "shop.repository is not allowed to import shop.services" in result.stdout


def test_one_apps_api_that_imports_anothers_admin_breaks_the_layers(tmp_path):
    """Adapters are independent siblings of the top layer (``|``): one app's API importing
    another app's admin pages is caught, whatever the direction."""
    package = tmp_path / "shop"
    for name in ("orders/api", "orders/admin", "billing/admin", "services"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    for name in ("", "orders", "billing"):
        (package / name / "__init__.py").write_text("")
    (package / "orders" / "api" / "views.py").write_text("from shop.billing.admin import pages\n")
    (package / "billing" / "admin" / "pages.py").write_text("from shop.services import pay\n")
    (package / "services" / "pay.py").write_text("")
    config = tmp_path / ".importlinter"
    layers = (ROOT / ".importlinter").read_text().split("[importlinter:contract:layers]")[1]
    assert "\n    workers | orders.api | orders.admin | " in layers
    config.write_text(
        "[importlinter]\nroot_packages =\n    shop\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\n"
        "layers =\n    shop.orders.api | shop.billing.admin\n    shop.services\n"
    )

    result = run(config, tmp_path)

    assert result.returncode == 1
    assert "shop.orders.api is not allowed to import shop.billing.admin" in result.stdout


def test_a_kernel_that_imports_an_app_breaks_its_contract(tmp_path):
    """The kernel's contract over a kernel that reaches into an app: caught."""
    for name in ("kernel", "orders"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "kernel" / "clock.py").write_text("from orders import model\n")
    (tmp_path / "orders" / "model.py").write_text("")
    contract = (
        (ROOT / ".importlinter")
        .read_text()
        .split("[importlinter:contract:kernel-stands-alone]")[1]
        .split("\n\n")[0]
    )
    config = tmp_path / ".importlinter"
    config.write_text(
        "[importlinter]\nroot_packages =\n    kernel\n    orders\n"
        "include_external_packages = True\n\n"
        "[importlinter:contract:kernel-stands-alone]" + contract + "\n"
    )

    result = run(config, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "kernel is not allowed to import orders" in result.stdout
