"""Every third-party package the app imports itself is pinned in requirements.txt, not left to arrive
unpinned through another package (pydantic and httpx2 came through anthropic)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

from django.conf import settings

APP_PACKAGES = ("accounts", "canonical", "config", "dashboards", "mappings")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_levels() -> set[str]:
    names = set()
    for package in APP_PACKAGES:
        for path in (settings.BASE_DIR / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in APP_PACKAGES}


def test_every_directly_imported_package_is_pinned():
    pinned = {
        _normalized(line.split("==")[0].split("[")[0])
        for line in (settings.BASE_DIR / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    distributions = packages_distributions()
    unpinned = {}
    for module in _imported_top_levels():
        dists = distributions.get(module, [module])
        if not {_normalized(d) for d in dists} & pinned:
            unpinned[module] = dists
    assert unpinned == {}
    assert {"pydantic", "httpx2"} <= _imported_top_levels()
