"""The Content-Security-Policy holds on every page, in a real browser: no violation, no console error.

After the Northwind demo, the executive (who may manage data and edit his own dashboards) and the admin
open every page they can reach: login, home, dashboards (each demo dashboard, a dashboard of his own, a
widget's page, the widget editor new and edit), the KPI status page, uploads (list, mappings, an upload's
profile and Quick Viz, its review page, an execution's page), the API token page and the API docs. A
listener installed before any page script records every `securitypolicyviolation` event; the console's
errors and uncaught exceptions are recorded too. Any of them fails the test, with the page named.
"""

from __future__ import annotations

import pytest

from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard
from dashboards.services.dashboards import dashboard_create
from dashboards.services.widgets import widget_create, widget_spec_build
from mappings.models import DataSource, ExecutionJob
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""
# Pages that draw charts say so when done (data-rendered=1); the others are settled at network idle.
CHARTS = {"dashboard", "own dashboard", "widget page", "upload (Quick Viz)", "question builder"}


@pytest.fixture
def northwind_demo(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    seed_and_refresh()
    yield
    truncate_kpi_tables(KPI_VIEWS)


class Recorder:
    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.current = "?"
        self.page.on(
            "console",
            lambda msg: msg.type == "error" and self.problems.append(f"{self.current}: console error: {msg.text}"),
        )
        self.page.on("pageerror", lambda exc: self.problems.append(f"{self.current}: uncaught: {exc}"))

    def visit(self, name: str, url: str) -> None:
        self.current = name
        response = self.page.goto(url, wait_until="networkidle")
        assert response is not None and response.status == 200, (name, url, response and response.status)
        self.page.wait_for_load_state("load")
        if name in CHARTS:
            self.page.wait_for_selector("[data-rendered='1']", state="attached", timeout=20_000)
        self.page.wait_for_timeout(300)  # a violation reported just after load still counts
        for violation in self.page.evaluate("window.__cspViolations"):
            self.problems.append(f"{name}: CSP violation: {violation}")

    def login(self, base: str, username: str) -> None:
        from dashboards.management.commands.seed_demo import DEMO_PASSWORD

        self.visit("login", f"{base}/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base}/")


def test_no_page_the_executive_can_reach_violates_the_csp_or_logs_an_error(browser, live_server, northwind_demo):
    from accounts.models import User

    fuller = User.objects.get(username="fuller")
    own = dashboard_create(title="My numbers", owner=fuller)
    widget = widget_create(
        dashboard=own,
        title="Revenue by month",
        chart_type="bar",
        view_name="monthly_revenue",
        vega_spec=widget_spec_build(chart_type="bar", view_name="monthly_revenue", x="month", y="revenue"),
    )
    source = DataSource.objects.filter(uploaded_by=fuller, name="orders.csv").first() or DataSource.objects.first()
    job = ExecutionJob.objects.filter(source=source).first()
    base = live_server.url
    pages = [
        ("home", "/"),
        ("dashboards", "/dashboards/"),
        *[(f"dashboard {d.slug}", f"/dashboards/{d.slug}/") for d in Dashboard.objects.exclude(pk=own.pk)],
        ("own dashboard", f"/dashboards/{own.slug}/"),
        ("widget page", f"/dashboards/{own.slug}/widgets/{widget.pk}/"),
        ("widget editor (new)", f"/dashboards/{own.slug}/widgets/new/"),
        ("widget editor (edit)", f"/dashboards/{own.slug}/widgets/{widget.pk}/edit/"),
        ("KPI status", "/dashboards/status/"),
        (
            "question builder",
            "/dashboards/questions/?source=monthly_revenue&dimension_1=month&measure_column=revenue&measure_agg=sum",
        ),
        ("uploads", "/uploads/"),
        ("mappings", "/uploads/mappings/"),
        ("upload (Quick Viz)", f"/uploads/{source.pk}/"),
        ("review", f"/uploads/{source.pk}/review/"),
        ("job", f"/uploads/jobs/{job.pk}/"),
        ("API tokens", "/account/tokens/"),
        ("API docs", "/api/docs/"),
    ]
    recorder = Recorder(browser)
    try:
        recorder.login(base, "fuller")
        for name, path in pages:
            recorder.visit(name, base + path)
        # The API docs page draws Swagger UI from our own static files: it must actually show the operations.
        recorder.page.wait_for_selector(".opblock", timeout=20_000)
    finally:
        recorder.context.close()
    assert len(pages) >= 15
    assert recorder.problems == []


def test_the_listener_catches_a_violation(browser, live_server, db):
    """The recorder is not blind: an inline script, which the policy forbids, is reported."""
    recorder = Recorder(browser)
    try:
        recorder.visit("login", f"{live_server.url}/login/")
        recorder.page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; "
            "document.body.appendChild(s); }"
        )
        recorder.page.wait_for_timeout(300)
        violations = recorder.page.evaluate("window.__cspViolations")
        assert recorder.page.evaluate("window.__ran") is None
    finally:
        recorder.context.close()
    assert any("script-src" in v for v in violations), violations


def test_no_admin_page_violates_the_csp_or_logs_an_error(browser, live_server, northwind_demo):
    """The admin persona's own pages: Django admin's index, lists and change forms of the project's records."""
    from accounts.models import User

    pages = [
        ("admin index", "/admin/"),
        ("admin users", "/admin/accounts/user/"),
        ("admin user", f"/admin/accounts/user/{User.objects.get(username='davolio').pk}/change/"),
        ("admin audit log", "/admin/auditlog/logentry/"),
        ("admin customers", "/admin/canonical/customer/"),
        ("admin dashboards", "/admin/dashboards/dashboard/"),
        ("admin dashboard", f"/admin/dashboards/dashboard/{Dashboard.objects.first().pk}/change/"),
        ("admin refresh jobs", "/admin/dashboards/refreshjob/"),
        ("admin schedules", "/admin/django_celery_beat/periodictask/"),
    ]
    recorder = Recorder(browser)
    try:
        recorder.login(live_server.url, "admin")
        for name, path in pages:
            recorder.visit(name, live_server.url + path)
    finally:
        recorder.context.close()
    assert recorder.problems == []
