from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from psycopg import sql

from dashboards.kpi.registry import KPI_VIEWS, public_views
from dashboards.services.refresh import kpi_views_refresh_all

pytestmark = pytest.mark.django_db


def scalar(query: sql.Composable | str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


def revenue_of(employee_ids: list[int]) -> Decimal:
    return scalar("SELECT round(sum(revenue), 2) FROM monthly_revenue WHERE sales_rep_id = ANY(%s)", [employee_ids])


def test_registry_declares_at_least_twelve_dashboard_views():
    assert len(public_views()) >= 12
    for view in public_views():
        assert view.description and view.columns and view.depends_on and view.key


def test_every_view_has_a_table_with_the_declared_columns_in_order():
    for view in KPI_VIEWS.values():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                [view.name],
            )
            assert [r[0] for r in cursor.fetchall()] == list(view.columns), view.name


def test_monthly_revenue_sums_to_the_northwind_total(northwind):
    kpi_views_refresh_all(full=True)
    assert scalar("SELECT round(sum(revenue), 2) FROM monthly_revenue") == Decimal("1265793.04")
    assert scalar("SELECT sum(order_count) FROM monthly_revenue") == 830


def test_monthly_revenue_per_rep_matches_the_demo_figures(northwind):
    kpi_views_refresh_all(full=True)
    team = [northwind[e].pk for e in ("5", "6", "7", "9")]
    assert revenue_of(team) == Decimal("344581.71")
    assert revenue_of([northwind["1"].pk]) == Decimal("192107.60")


def test_every_sales_view_agrees_with_the_revenue_rule(northwind):
    kpi_views_refresh_all(full=True)
    total = Decimal("1265793.04")
    for view in ("revenue_by_category", "gross_margin", "sales_rep_performance", "top_customers", "top_products"):
        assert scalar(sql.SQL("SELECT round(sum(revenue), 2) FROM {}").format(sql.Identifier(view))) == total, view
    assert scalar("SELECT round(sum(new_revenue + returning_revenue), 2) FROM new_vs_returning_customers") == total
    assert scalar("SELECT round(sum(revenue), 2) FROM customer_segments") == total


def test_top_customers_ranks_customers_by_revenue(northwind):
    kpi_views_refresh_all(full=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_name, round(sum(revenue), 2) FROM top_customers GROUP BY customer_name "
            "ORDER BY 2 DESC LIMIT 1"
        )
        assert cursor.fetchone() == ("QUICK-Stop", Decimal("110277.31"))


def test_in_the_first_month_every_customer_is_new_and_later_some_return(northwind):
    kpi_views_refresh_all(full=True)
    first = "FROM new_vs_returning_customers WHERE month = '1996-07-01'"
    assert scalar("SELECT sum(returning_customers) " + first) == 0
    assert scalar("SELECT sum(new_customers) " + first) > 0
    assert scalar("SELECT sum(returning_customers) FROM new_vs_returning_customers WHERE month = '1998-04-01'") > 0


def test_order_fulfillment_counts_every_order_and_days_to_ship(northwind):
    kpi_views_refresh_all(full=True)
    assert scalar("SELECT sum(order_count) FROM order_fulfillment") == 830
    assert scalar("SELECT sum(shipped_count) FROM order_fulfillment") == 809


def test_orders_without_a_status_count_as_shipped_or_open_by_their_shipped_date(northwind):
    kpi_views_refresh_all(full=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, sum(order_count) FROM order_fulfillment GROUP BY 1")
        statuses = dict(cursor.fetchall())
    assert statuses == {"shipped": 809, "open": 21}
