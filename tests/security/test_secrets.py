"""Secrets come only from the environment: production refuses to start without them, and none is in the code."""

from __future__ import annotations

import re
import subprocess

from django.conf import settings

from tests.test_settings_env import _start

_SECRET_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}"),  # Anthropic API key
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    re.compile(r"postgres(?:ql)?://[^:/\s'\"]+:[^@\s'\"]{6,}@(?!db\.example\.com)"),  # URL with a password
]


def test_production_refuses_to_start_without_database_and_redis_urls():
    secret = "x" * 60
    for missing in ("DATABASE_URL", "REDIS_URL"):
        env = {"SECRET_KEY": secret, "DATABASE_URL": "postgresql://u@127.0.0.1/x", "REDIS_URL": "redis://127.0.0.1/0"}
        env[missing] = ""
        result = _start(env, module="config.settings.production")
        assert result.returncode != 0
        assert f"{missing} must be set in production" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = _start({"SECRET_KEY": "short"}, module="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_llm_key_comes_from_the_environment_only(monkeypatch):
    import os

    assert os.environ.get("ANTHROPIC_API_KEY", "") == settings.ANTHROPIC_API_KEY


def test_no_secret_is_committed():
    files = subprocess.run(
        ["git", "ls-files"], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    leaks = []
    for name in files:
        if name.startswith(("static/vendor/", "demo/")) or not name.endswith(
            (".py", ".md", ".toml", ".txt", ".html", ".js", ".yml", ".yaml", ".cfg", ".ini", ".env", "run")
        ):
            continue
        text = (settings.BASE_DIR / name).read_text(encoding="utf-8", errors="replace")
        leaks += [f"{name}: {m.group(0)[:24]}…" for p in _SECRET_PATTERNS for m in p.finditer(text)]
    assert leaks == []


def test_no_env_file_with_secrets_is_committed():
    files = subprocess.run(["git", "ls-files"], cwd=settings.BASE_DIR, capture_output=True, text=True).stdout.split()
    assert not [f for f in files if f.split("/")[-1] in {".env", ".env.local", ".env.production"}]
