"""Bad environment values fail loudly at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def _clean_environ() -> dict[str, str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for themselves; a deployment never has it.
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _start(env_overrides: dict[str, str], module: str = "config.settings.test") -> subprocess.CompletedProcess:
    env = {**_clean_environ(), **env_overrides, "DJANGO_SETTINGS_MODULE": module, "EMBEDDED_QUIET": "1"}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_boolean_names_the_variable():
    result = _start({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_bad_database_url_names_the_variable():
    result = _start({"DATABASE_URL": "mysql://root@localhost/x"})
    assert result.returncode != 0
    assert "DATABASE_URL must be a PostgreSQL URL" in result.stderr


def test_bad_replica_url_names_the_variable():
    result = _start({"DATABASE_REPLICA_URL": "mysql://root@localhost/x"})
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL must be a PostgreSQL URL" in result.stderr


def test_a_replica_url_adds_a_replica_alias_that_mirrors_default_in_tests():
    env = {**_clean_environ(), "DATABASE_REPLICA_URL": "postgresql://reader@127.0.0.1:5433/ll", "EMBEDDED_QUIET": "1"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    result = subprocess.run(
        [
            sys.executable, "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "r = s.DATABASES['replica']; print(r['PORT'], r['USER'], r['TEST']['MIRROR'], s.DATABASE_ROUTERS)",
        ],
        env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["5433", "reader", "default"]


def test_an_unknown_upload_storage_names_the_variable():
    result = _start({"UPLOAD_STORAGE": "ftp"})
    assert result.returncode != 0
    assert "UPLOAD_STORAGE='ftp' must be filesystem or s3" in result.stderr


def test_s3_upload_storage_needs_a_bucket():
    result = _start({"UPLOAD_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": ""})
    assert result.returncode != 0
    assert "AWS_STORAGE_BUCKET_NAME must be set when UPLOAD_STORAGE=s3" in result.stderr


def test_bad_upload_limit_names_the_variable():
    result = _start({"UPLOAD_MAX_MB": "lots"})
    assert result.returncode != 0
    assert "UPLOAD_MAX_MB='lots' is not an integer" in result.stderr


def test_production_refuses_the_development_secret_key():
    result = _start({"SECRET_KEY": "dev-only-insecure-key-change-me"}, module="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_check_deploy():
    env = {
        **_clean_environ(),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
        "ALLOWED_HOSTS": "dash.example.com",
        "EMBEDDED_QUIET": "1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
