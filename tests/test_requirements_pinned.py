"""Every third-party package the app imports itself is pinned in requirements.txt, not left to arrive
unpinned through another package (pydantic and httpx2 came through anthropic); every one the tests import
is pinned in requirements-dev.txt or there. `make run` installs requirements.txt only: no test tool in it."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

from django.conf import settings

APP_PACKAGES = ("accounts", "canonical", "config", "dashboards", "mappings")
LOCAL_PACKAGES = (*APP_PACKAGES, "tests", "bench", "demo", "manage")
TEST_TOOLS = {
    "pytest",
    "pytest-django",
    "pytest-xdist",
    "factory-boy",
    "hypothesis",
    "schemathesis",
    "playwright",
    "ruff",
}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned(file_name: str) -> set[str]:
    return {
        _normalized(line.split("==")[0].split("[")[0])
        for line in (settings.BASE_DIR / file_name).read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }


def _imported_top_levels(packages: tuple[str, ...]) -> set[str]:
    names = set()
    for package in packages:
        for path in (settings.BASE_DIR / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in LOCAL_PACKAGES}


def _unpinned(modules: set[str], pinned: set[str]) -> dict[str, list[str]]:
    distributions = packages_distributions()
    unpinned = {}
    for module in modules:
        dists = distributions.get(module, [module])
        if not {_normalized(d) for d in dists} & pinned:
            unpinned[module] = dists
    return unpinned


def test_every_directly_imported_package_is_pinned_in_the_runtime_requirements():
    assert _unpinned(_imported_top_levels(APP_PACKAGES), _pinned("requirements.txt")) == {}
    assert {"pydantic", "httpx2"} <= _imported_top_levels(APP_PACKAGES)


def test_every_package_the_tests_import_is_pinned_for_make_test():
    pinned = _pinned("requirements.txt") | _pinned("requirements-dev.txt")
    assert _unpinned(_imported_top_levels(("tests",)), pinned) == {}
    assert {"pytest", "playwright", "hypothesis"} <= _imported_top_levels(("tests",))


def test_make_run_installs_no_test_tool_and_make_test_installs_the_runtime_too():
    runtime, dev = _pinned("requirements.txt"), _pinned("requirements-dev.txt")
    assert runtime & TEST_TOOLS == set()
    assert dev >= TEST_TOOLS
    assert runtime & dev == set()  # one pin per package
    assert "-r requirements.txt" in (settings.BASE_DIR / "requirements-dev.txt").read_text().splitlines()
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    assert re.search(r"^run: install$", makefile, re.M) and re.search(r"^test: install-dev$", makefile, re.M)
    assert re.search(r"^lint: install-dev$", makefile, re.M)
