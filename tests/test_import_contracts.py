"""The import contracts hold, and the public-modules contract breaks on what it forbids."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from textwrap import dedent

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "250", "NO_COLOR": "1"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_app_is_under_the_public_modules_contract_and_the_tree_keeps_it():
    # given the project's own configuration
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    public = [c for c in config["contracts"] if c["type"] == "public_modules"]

    # when the contracts are checked as `make lint` and CI check them
    result = _lint_imports(ROOT)

    # then one contract covers every app from every other module, and nothing breaks it
    assert [c["apps"] for c in public] == [["apps.*"]]
    assert set(config["root_packages"]) == {"apps", "martech"}
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))


def _shop(package: str, views: str, overview: str = "") -> dict[str, str]:
    """A tiny project: two apps (orders, billing) and a kernel package beside them."""
    return {
        f"{package}/__init__.py": "",
        f"{package}/apps/__init__.py": "",
        f"{package}/apps/orders/__init__.py": "",
        f"{package}/apps/orders/services.py": f"from {package}.apps.orders.engine import pricing\n",
        f"{package}/apps/orders/selectors.py": "",
        f"{package}/apps/orders/models/__init__.py": "",
        f"{package}/apps/orders/models/order.py": "",
        f"{package}/apps/orders/gate.py": "",
        f"{package}/apps/orders/tasks.py": "",
        f"{package}/apps/orders/engine/__init__.py": "",
        f"{package}/apps/orders/engine/pricing.py": "",
        f"{package}/apps/billing/__init__.py": "",
        f"{package}/apps/billing/services.py": "",
        f"{package}/apps/billing/views.py": views,
        f"{package}/common/__init__.py": "",
        f"{package}/common/overview.py": overview,
    }


def _contract(package: str, name: str, ignore: str = "") -> str:
    return dedent(f"""
        [[tool.importlinter.contracts]]
        name = "{name}"
        type = "public_modules"
        apps = ["{package}.apps.*"]
        public_rooms = ["services", "selectors", "models"]
        ports = ["{package}.apps.orders.gate"]
        ignore_imports = [{ignore}]
    """)


def test_the_public_modules_contract_breaks_on_another_apps_internals_only(tmp_path):
    # given four small projects checked by one configuration: one that imports only public
    # modules, one whose app imports another app's engine, one whose kernel package imports
    # an app's tasks, and one whose such import is declared as ignored
    public_views = """\
        import kept.apps.orders
        from kept.apps.orders import selectors, services
        from kept.apps.orders.gate import *
        from kept.apps.orders.models.order import *
        from kept.apps.billing import services as own
    """
    _write(tmp_path, _shop("kept", public_views))
    _write(tmp_path, _shop("engine", "from engine.apps.orders.engine.pricing import *\n"))
    _write(tmp_path, _shop("kernel", "", overview="from kernel.apps.orders import tasks\n"))
    _write(tmp_path, _shop("ignored", "from ignored.apps.orders import tasks\n"))
    ignore = '"ignored.apps.billing.views -> ignored.apps.orders.tasks"'
    (tmp_path / "contracts.toml").write_text(
        dedent("""
            [tool.importlinter]
            root_packages = ["kept", "engine", "kernel", "ignored"]
            contract_types = ["public_modules: martech.contracts.PublicModulesContract"]
        """)
        + _contract("kept", "only public")
        + _contract("engine", "engine from another app")
        + _contract("kernel", "tasks from the kernel")
        + _contract("ignored", "ignored import", ignore=ignore)
    )

    # when they are checked
    result = _lint_imports(tmp_path, "--config", "contracts.toml")

    # then the two internal imports break their contracts, named with their lines
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "only public KEPT" in out
    assert "ignored import KEPT (1 ignored import)" in out
    assert "engine from another app BROKEN" in out
    assert "tasks from the kernel BROKEN" in out
    assert "- engine.apps.billing.views -> engine.apps.orders.engine.pricing (l.1)" in out
    assert "- kernel.common.overview -> kernel.apps.orders.tasks (l.1)" in out
    assert "Contracts: 2 kept, 2 broken." in out


def test_a_port_that_does_not_exist_is_a_configuration_error(tmp_path):
    # given a contract naming a port its app does not have (say, after a rename)
    _write(tmp_path, _shop("shop", ""))
    (tmp_path / "contracts.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["shop"]\n'
        'contract_types = ["public_modules: martech.contracts.PublicModulesContract"]\n'
        + _contract("shop", "renamed port").replace("orders.gate", "orders.door")
    )

    # when it is checked
    result = _lint_imports(tmp_path, "--config", "contracts.toml")

    # then the check fails and names the port
    assert result.returncode != 0
    assert "shop.apps.orders.door does not exist" in result.stdout + result.stderr
