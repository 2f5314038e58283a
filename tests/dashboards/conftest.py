"""KPI data for dashboard tests.

`sales_kpi` is a stand-in KPI summary table (same shape as `monthly_revenue`) registered for the test only,
so the row filter, the RLS wall and the pages are tested independently of the KPI engine's own views.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from dashboards.kpi.registry import KPI_VIEWS, KpiView
from dashboards.kpi.rls import kpi_rls_ensure

SALES_KPI = KpiView(
    name="test_sales_kpi",
    description="Revenue per month and sales rep (test stand-in).",
    columns={"month": "date", "sales_rep_id": "integer", "revenue": "money", "order_count": "integer"},
    depends_on=("canonical_orders",),
    scope_column="sales_rep_id",
    date_column="month",
    default_order=("month",),
)
COMPANY_KPI = KpiView(
    name="test_company_kpi",
    description="Company-wide figures without an employee column (test stand-in).",
    columns={"category": "text", "revenue": "money"},
    depends_on=("canonical_products",),
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sales_kpi(nw_employees, monkeypatch):
    """Rows for reps 1 (davolio), 5 (buchanan), 6 (suyama, under 5) and 3 (leverling) in two months."""
    monkeypatch.setitem(KPI_VIEWS, SALES_KPI.name, SALES_KPI)
    monkeypatch.setitem(KPI_VIEWS, COMPANY_KPI.name, COMPANY_KPI)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE test_sales_kpi (month date, sales_rep_id bigint, revenue numeric(14,2), order_count int)"
        )
        cursor.execute("CREATE TABLE test_company_kpi (category text, revenue numeric(14,2))")
        rows = []
        for ext, amounts in {
            "1": ("100.10", "200.20"),
            "5": ("50.00", "60.00"),
            "6": ("7.25", "8.75"),
            "3": ("1000", "2000"),
        }.items():
            for month, amount in zip((date(2024, 1, 1), date(2024, 2, 1)), amounts, strict=True):
                rows.append((month, nw_employees[ext].pk, Decimal(amount), 1))
        cursor.executemany("INSERT INTO test_sales_kpi VALUES (%s, %s, %s, %s)", rows)
        cursor.execute("INSERT INTO test_company_kpi VALUES ('Beverages', 10), ('Seafood', 20)")
    kpi_rls_ensure([SALES_KPI.name, COMPANY_KPI.name])
    return nw_employees


@pytest.fixture
def northwind(nw_employees):
    """The Northwind sales data as canonical rows (employees from the shared fixture), for the KPI views."""
    from tests.dashboards.northwind import load_northwind_sales

    load_northwind_sales(nw_employees)
    return nw_employees


@pytest.fixture
def admin_user(db):
    from accounts.models import Role
    from tests.factories import persona

    user = persona("admin", Role.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def sales_dashboard(sales_kpi, executive, manager, rep):
    """Owned by the executive, shared (view) with the manager and the rep; not with the outsider."""
    from dashboards.services.dashboards import dashboard_create, dashboard_share
    from dashboards.services.widgets import widget_create, widget_spec_build

    dashboard = dashboard_create(title="Sales test", owner=executive)
    widget_create(
        dashboard=dashboard,
        title="Revenue",
        chart_type="number",
        view_name="test_sales_kpi",
        vega_spec=widget_spec_build(chart_type="number", view_name="test_sales_kpi", y="revenue"),
        query_options={"measures": ["revenue"]},
    )
    widget_create(
        dashboard=dashboard,
        title="Monthly revenue",
        chart_type="line",
        view_name="test_sales_kpi",
        vega_spec=widget_spec_build(chart_type="line", view_name="test_sales_kpi", x="month", y="revenue"),
    )
    widget_create(
        dashboard=dashboard,
        title="By rep",
        chart_type="table",
        view_name="test_sales_kpi",
        vega_spec={"columns": ["sales_rep_id", "revenue"]},
        query_options={"group_by": ["sales_rep_id"], "measures": ["revenue"], "order_by": ["-revenue"]},
    )
    for user in (manager, rep):
        dashboard_share(dashboard=dashboard, level="view", username=user.username)
    return dashboard
