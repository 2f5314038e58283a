"""No template has inline script or inline event handlers: the Content-Security-Policy would block them,
and an inline handler is the first thing an injected string tries to become."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
_SKIP_PARTS = {".venv", "node_modules", "staticfiles", ".data", "site-packages"}

_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
# on<event>= inside a tag; the lookbehind keeps words like "action=" or "data-on..." out.
_INLINE_HANDLER = re.compile(r"<[^>]*?(?<![\w-])on[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
_JS_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def project_templates() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.html"):
        rel = path.relative_to(ROOT)
        if _SKIP_PARTS & set(rel.parts) or rel.parts[0] == "static":
            continue
        found.append(path)
    return sorted(found)


def inline_script_problems(text: str) -> list[str]:
    problems = []
    for match in _SCRIPT_TAG.finditer(text):
        attrs = match.group(1)
        if "src=" in attrs.replace(" ", "").lower():
            continue
        if re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attrs, re.IGNORECASE):
            continue  # data, never executed (what json_script writes)
        problems.append(f"inline <script{attrs}>")
    problems += [f"inline event handler: {m.group(0)[-60:]!r}" for m in _INLINE_HANDLER.finditer(text)]
    problems += [f"javascript: URL: {m.group(0)!r}" for m in _JS_URL.finditer(text)]
    return problems


def test_the_scan_finds_templates():
    names = {p.relative_to(ROOT).as_posix() for p in project_templates()}
    assert "templates/base.html" in names


def test_the_scan_catches_what_it_looks_for():
    assert inline_script_problems("<script>alert(1)</script>")
    assert inline_script_problems('<img src="x" onerror="alert(1)">')
    assert inline_script_problems('<button\n  onclick="go()">')
    assert inline_script_problems('<a href="javascript:alert(1)">')
    assert not inline_script_problems('<script src="/static/js/app.js" defer></script>')
    assert not inline_script_problems('<script id="spec" type="application/json">{}</script>')
    assert not inline_script_problems('<form action="/x" hx-on="none" data-only="1">')


def test_no_template_has_inline_script_or_event_handlers():
    problems = {
        path.relative_to(ROOT).as_posix(): found
        for path in project_templates()
        if (found := inline_script_problems(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_the_policy_forbids_inline_script_and_plugins():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in directives.get("script-src", [])
