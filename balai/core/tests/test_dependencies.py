"""What production installs (`pip install -c requirements.lock .`, no dev extras)
covers everything the code imports.

The code under balai/ (tests excluded) is read, not run: every third-party
module it imports, or names in a dotted setting (apps, middleware, backends,
log formatters), must come from a distribution listed in `[project]
dependencies`, and the lock file must pin each of those.
"""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "balai"
DOTTED = re.compile(r"^[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
# Loaded by Django or the deployment by name, with no import nor module path
# of their own in our code: the Argon2 hasher (PASSWORD_HASHERS), the
# PostgreSQL driver (DATABASE_URL) and the WSGI server of the README.
IMPLICIT = {"argon2": "argon2-cffi", "psycopg": "psycopg", "gunicorn": "gunicorn"}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        normal(re.match(r"[A-Za-z0-9._-]+", spec).group(0))
        for spec in project["dependencies"]
    }


def dev_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        normal(re.match(r"[A-Za-z0-9._-]+", spec).group(0))
        for spec in project["optional-dependencies"]["dev"]
    }


def production_files() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "tests" not in path.relative_to(PACKAGE).parts and path.name != "conftest.py"
    ]


def imported_modules() -> dict[str, set[str]]:
    """Top-level module -> files that import it or name it in a dotted string."""
    installed = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}

    def note(module: str, path: Path) -> None:
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in ("balai", "__future__"):
            return
        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))

    for path in production_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    note(alias.name, path)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                note(node.module or "", path)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and DOTTED.match(node.value)
                and node.value.split(".")[0] in installed
            ):
                note(node.value, path)
    return found


def distributions_of(module: str) -> set[str]:
    return {
        normal(d) for d in importlib.metadata.packages_distributions().get(module, [])
    }


def test_every_third_party_import_comes_from_a_main_dependency():
    main = main_dependencies()
    missing = {}
    for module, files in sorted(imported_modules().items()):
        dists = distributions_of(module)
        if not dists & main:
            missing[module] = (sorted(dists) or ["not installed"], sorted(files)[:3])
    assert not missing, (
        "imported by production code but not in [project] dependencies "
        f"(module: (distribution, files)): {missing}"
    )


def test_what_the_verification_page_decodes_with_is_a_main_dependency():
    """The scan sees the QR reader of /verifikasi (it is no dev extra any more)."""
    modules = imported_modules()
    assert {"zxingcpp", "pypdf", "PIL"} <= set(modules)
    assert "balai/documents/extract.py" in modules["zxingcpp"]
    main, dev = main_dependencies(), dev_dependencies()
    for dist in ("zxing-cpp", "pypdf", "pillow"):
        assert dist in main
        assert dist not in dev


def test_what_django_and_the_deployment_load_by_name_is_a_main_dependency():
    main = main_dependencies()
    for module, dist in IMPLICIT.items():
        assert dist in main, f"{module} ({dist})"
        assert dist in distributions_of(module)


def test_the_lock_pins_every_main_dependency():
    pinned = {
        normal(line.split("==")[0])
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }
    assert main_dependencies() - pinned == set()


def test_dev_tools_are_not_imported_by_production_code():
    modules = imported_modules()
    for module in ("pytest", "hypothesis", "factory", "playwright", "schemathesis"):
        assert module not in modules, modules.get(module)
