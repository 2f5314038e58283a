from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_user_logs_in_sees_navigation_and_logs_out(page, live_server, login, rep):
    login(rep)
    nav = page.locator("nav[aria-label=Main]")
    for label in ("Dashboards", "API token", "API docs"):
        assert nav.get_by_role("link", name=label).is_visible()
    for label in ("Uploads", "Mappings", "KPI status"):  # a rep may not open them: not offered
        assert nav.get_by_role("link", name=label).count() == 0
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{live_server.url}/login/")
    assert page.locator("#id_username").is_visible()
    assert page.js_errors == []
