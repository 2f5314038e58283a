"""Redis (the KPI cache) dies or hangs while people read dashboards: every page, widget, API answer and CSV
export still answers 200 with the caller's rows, read from the database. Redis here is a private redis-server
the test starts, then kills or freezes (never the shared one)."""

from __future__ import annotations

import copy
import csv
import io
import signal
import time

import pytest
import redis

from tests.dashboards.conftest import sales_dashboard, sales_kpi  # noqa: F401 (fixtures)
from tests.reliability.test_broker_outage import PrivateRedis


@pytest.fixture
def private_cache(settings):
    server = PrivateRedis()
    server.start()
    caches = copy.deepcopy(settings.CACHES)  # the project's options (timeouts), another server
    caches["default"]["LOCATION"] = server.url
    settings.CACHES = caches
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.proc.send_signal(signal.SIGCONT)
    server.stop()


def cached_rows(server: PrivateRedis) -> int:
    return len(redis.Redis.from_url(server.url).keys("*kpi:rows:*"))


def read_everything(client, dashboard, query: str = "") -> dict:
    """Every way to read the dashboard's KPI rows; asserts each answers 200."""
    answers = {"page": client.get(f"/dashboards/{dashboard.slug}/{query}")}
    for widget in dashboard.widgets.order_by("pk"):
        base = f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/"
        answers[f"partial {widget.title}"] = client.get(base + query, HTTP_HX_REQUEST="true")
        answers[f"csv {widget.title}"] = client.get(f"{base}export.csv{query}")
    answers["api"] = client.get(f"/api/dashboard/{dashboard.pk}/data{query}")
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.status_code)
    return {
        "api": [(w["title"], w["rows"]) for w in answers["api"].json()["widgets"]],
        "csv": {n: list(csv.DictReader(io.StringIO(r.content.decode()))) for n, r in answers.items() if "csv" in n},
    }


def test_with_the_cache_killed_mid_session_every_dashboard_read_answers_from_the_database(
    client,
    sales_dashboard,  # noqa: F811
    sales_kpi,  # noqa: F811
    manager,
    private_cache,
):
    client.force_login(manager)
    warm = read_everything(client, sales_dashboard)
    assert cached_rows(private_cache) > 0  # the reads did go through this cache

    private_cache.proc.kill()  # SIGKILL: no goodbye to connections in the pool
    private_cache.proc.wait(timeout=10)

    assert read_everything(client, sales_dashboard) == warm  # cached before: the same rows, from the database
    january = read_everything(client, sales_dashboard, "?from=2024-01&to=2024-01")  # never cached
    months = {row["month"] for row in january["csv"]["csv Monthly revenue"]}
    reps = {int(row["sales_rep_id"]) for rows in january["csv"].values() for row in rows if "sales_rep_id" in row}
    assert months == {"2024-01-01"}
    assert reps == {sales_kpi["5"].pk, sales_kpi["6"].pk}  # the manager's team only, as ever


def test_with_the_cache_frozen_a_widget_answers_within_the_cache_timeout(
    client,
    sales_dashboard,  # noqa: F811
    rep,
    private_cache,
):
    client.force_login(rep)
    warm = read_everything(client, sales_dashboard)

    private_cache.proc.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
    started = time.monotonic()
    assert read_everything(client, sales_dashboard) == warm
    # One get and one set per read, each cut at the one-second socket timeout instead of waiting forever.
    assert time.monotonic() - started < 60


def test_with_the_cache_frozen_one_timeout_then_the_cache_is_skipped_for_a_while(
    client,
    sales_dashboard,  # noqa: F811
    rep,
    private_cache,
    caplog,
    monkeypatch,
):
    import dashboards.cache

    monkeypatch.setattr(dashboards.cache, "CACHE_SKIP_SECONDS", 300.0)  # longer than the reads below, however slow
    client.force_login(rep)
    warm = read_everything(client, sales_dashboard)
    private_cache.proc.send_signal(signal.SIGSTOP)
    with caplog.at_level("WARNING", logger="dashboards.selectors"):
        assert read_everything(client, sales_dashboard) == warm
    failures = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    # A page, a partial, an export and an API answer per widget make dozens of cache calls: the first one that times
    # out opens the skip window and the others go straight to the database (the same rows).
    assert len(failures) == 1, failures

    dashboards.cache.cache_reset()  # the window closed: the cache is tried again (and still hangs)
    with caplog.at_level("WARNING", logger="dashboards.selectors"):
        caplog.clear()
        assert client.get(f"/api/dashboard/{sales_dashboard.pk}/data").status_code == 200
    assert [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]


def test_with_the_cache_killed_people_sign_in_read_and_sign_out(
    client,
    sales_dashboard,  # noqa: F811
    rep,
    private_cache,
):
    # Sessions are read through the cache (accounts.sessions): without it they are read from and written to the
    # database, and signing out still ends the session.
    from tests.factories import PASSWORD

    private_cache.proc.kill()
    private_cache.proc.wait(timeout=10)
    assert client.login(username=rep.username, password=PASSWORD)
    assert client.get(f"/dashboards/{sales_dashboard.slug}/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get(f"/dashboards/{sales_dashboard.slug}/").url.startswith("/login/")
