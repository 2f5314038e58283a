"""A visitor of the instance `make run` serves probes for Django's debug pages: unknown URLs, a body that
broke the JSON parser, an error inside a view. None may show settings, paths or a traceback.

The probes run in a fresh process started the way `make run` starts the app (manage.py, no
DJANGO_SETTINGS_MODULE, no DEBUG), against this test run's database and Redis.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from django.conf import settings

from tests.database import database_url

PROBES = r"""
import json
from unittest import mock
from django.conf import settings

from tests.database import database_url
from django.test import Client

client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
answers = {"settings": settings.SETTINGS_MODULE, "debug": settings.DEBUG}

def probe(name, response):
    answers[name] = {"status": response.status_code, "body": response.content.decode(errors="replace")}

probe("page_404", client.get("/no-such-page/"))
probe("api_404", client.get("/api/no-such-endpoint/"))
probe("nested_json", client.post("/api/auth/token/", "[" * 100000 + "]" * 100000, content_type="application/json"))
with mock.patch("accounts.apis.authenticate", side_effect=RuntimeError("boom in a view")):
    body = json.dumps({"username": "x", "password": "y"})
    probe("api_500", client.post("/api/auth/token/", body, content_type="application/json"))
with mock.patch("accounts.views.LoginView.get_context_data", side_effect=RuntimeError("boom in a page")):
    probe("page_500", client.get("/login/"))
probe("localhost", Client(raise_request_exception=False, HTTP_HOST="localhost").get("/login/"))
print("PROBES" + json.dumps(answers))
"""

# What Django's technical 404/500 pages and a leaked traceback contain.
TECHNICAL = re.compile(
    r"Traceback|DEBUG = True|Using the URLconf|REDIS_URL|DATABASE_URL|SECRET_KEY|site-packages|"
    r"/work/|boom in a|RecursionError|Request Method|settings\.py",
)


def _make_run_environ() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env["DATABASE_URL"] = database_url()
    env["EMBEDDED_QUIET"] = "1"
    return env


def _probe() -> dict:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBES],
        env=_make_run_environ(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("PROBES")), None)
    assert line, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(line.removeprefix("PROBES"))


def test_make_run_serves_without_debug_pages_to_a_prober(db):  # db: the connection names the test database
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "manage.py serve" in run_recipe and "DJANGO_SETTINGS_MODULE" not in run_recipe and "DEBUG" not in run_recipe

    answers = _probe()

    assert answers["settings"] == "config.settings.local"
    assert answers["debug"] is False
    expected = {"page_404": 404, "api_404": 404, "nested_json": 400, "api_500": 500, "page_500": 500, "localhost": 200}
    assert {name: answers[name]["status"] for name in expected} == expected
    leaks = {name: TECHNICAL.findall(answers[name]["body"]) for name in expected}
    assert {name: found for name, found in leaks.items() if found} == {}
    assert json.loads(answers["api_500"]["body"]) == {"detail": "Server error."}
    assert json.loads(answers["api_404"]["body"]) == {"detail": "Not found."}
