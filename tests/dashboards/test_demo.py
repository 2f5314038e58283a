from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from canonical.models import Customer
from dashboards.models import Dashboard
from dashboards.selectors import dashboards_for_user
from dashboards.services.demo import demo_dashboards_ensure
from tests.factories import Role, persona

SALES_WIDGETS = {
    "Revenue",
    "Monthly revenue",
    "Top customers",
    "Revenue by category",
    "Rep performance",
    "Order fulfillment",
}


@pytest.fixture
def demo_users(nw_employees):
    admin = persona("admin", Role.ADMIN)
    admin.is_superuser = True
    admin.save()
    return {
        "fuller": persona("fuller", Role.EXECUTIVE, nw_employees["2"]),
        "buchanan": persona("buchanan", Role.MANAGER, nw_employees["5"]),
        "davolio": persona("davolio", Role.SALES_REP, nw_employees["1"]),
    }


def test_demo_creates_sales_overview_and_finance_shared_with_demo_users(demo_users):
    demo_dashboards_ensure()
    sales = Dashboard.objects.get(slug="sales-overview")
    assert set(sales.widgets.values_list("title", flat=True)) >= SALES_WIDGETS
    assert Dashboard.objects.get(slug="finance").widgets.count() >= 5
    for user in demo_users.values():
        assert {d.slug for d in dashboards_for_user(user)} == {"sales-overview", "finance"}


def test_demo_is_idempotent(demo_users):
    demo_dashboards_ensure()
    demo_dashboards_ensure()
    assert Dashboard.objects.count() == 2
    assert Dashboard.objects.get(slug="sales-overview").widgets.count() == 7


def seed_and_refresh():
    """The Northwind demo through seed_demo, then every KPI view rebuilt (no Celery worker in tests)."""
    from dashboards.services.refresh import kpi_views_refresh_all

    call_command("seed_demo", stdout=io.StringIO())
    if not Customer.objects.exists():
        # Until seed_demo loads Northwind itself: the same rows through the ORM, then the users again.
        from tests.dashboards.northwind import load_northwind_sales
        from tests.factories import northwind_employees

        load_northwind_sales(northwind_employees())
        call_command("seed_demo", stdout=io.StringIO())
    kpi_views_refresh_all(full=True)


@pytest.mark.django_db(transaction=True)
def test_demo_users_see_their_contract_revenue_through_the_api():
    from rest_framework.test import APIClient

    from accounts.models import User
    from dashboards.kpi.registry import KPI_VIEWS

    seed_and_refresh()
    try:
        sales = Dashboard.objects.get(slug="sales-overview")
        expected = {"fuller": 1265793.04, "buchanan": 344581.71, "davolio": 192107.60}
        for username, revenue in expected.items():
            client = APIClient()
            client.force_authenticate(User.objects.get(username=username))
            payload = client.get(f"/api/dashboard/{sales.pk}/data").json()
            (widget,) = [w for w in payload["widgets"] if w["title"] == "Revenue"]
            assert widget["rows"] == [{"revenue": revenue}], username
        outsider = persona("outsider", None)
        client = APIClient()
        client.force_authenticate(outsider)
        assert client.get(f"/api/dashboard/{sales.pk}/data").status_code == 403
    finally:
        truncate_kpi_tables(KPI_VIEWS)


def truncate_kpi_tables(views) -> None:
    """KPI summary tables are not Django models: a transactional test's flush would leave their rows."""
    from django.db import connection
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(v) for v in views)))


@pytest.mark.django_db(transaction=True)
def test_on_northwind_without_product_costs_the_gross_margin_widgets_say_cost_of_goods_is_unknown(client):
    from accounts.models import User
    from dashboards.kpi.registry import KPI_VIEWS
    from tests.dashboards.kpi_helpers import scalar

    seed_and_refresh()
    try:
        assert scalar("SELECT round(sum(revenue), 2) FROM gross_margin") == Decimal("1265793.04")
        assert scalar("SELECT count(*) FROM gross_margin WHERE cogs IS NOT NULL OR margin_pct IS NOT NULL") == 0
        finance = Dashboard.objects.get(slug="finance")
        client.force_login(User.objects.get(username="fuller"))
        for title in ("Gross margin", "Gross margin by month"):
            widget = finance.widgets.get(title=title)
            response = client.get(f"/dashboards/{finance.slug}/widgets/{widget.pk}/", HTTP_HX_REQUEST="true")
            body = response.content.decode()
            assert "Cost of goods unknown: upload products with a unit cost." in body, title
            assert 'data-testid="kpi-number"' not in body and "data-chart-json" not in body, title
            assert "100.00" not in body, title
            assert 'data-export="png"' not in body, title  # no picture of an empty chart to export
    finally:
        truncate_kpi_tables(KPI_VIEWS)
