"""Issue 23 item 6: rows with no rep can be chosen in the rep filter ("Unassigned"), by those who may see them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from dashboards.filters import UNASSIGNED, DashboardFilters, dashboard_filters_parse
from dashboards.selectors import kpi_rows_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_unassigned(sales_kpi):
    """Two months of rows with no rep beside the reps' rows of `sales_kpi`."""
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO test_sales_kpi VALUES (%s, NULL, %s, 1)",
            [(date(2024, 1, 1), Decimal("4000.00")), (date(2024, 2, 1), Decimal("5000.00"))],
        )
    return sales_kpi


def total(rows) -> float:
    return round(sum(r["revenue"] for r in rows), 2)


def test_the_url_says_unassigned_and_reads_back_as_the_same_filter():
    filters = dashboard_filters_parse({"rep": "Unassigned"})
    assert filters.rep == UNASSIGNED
    assert filters.as_query() == {"rep": "unassigned"}
    assert dashboard_filters_parse(filters.as_query()) == filters


def test_an_executive_choosing_unassigned_sees_only_the_rows_with_no_rep(executive, with_unassigned):
    rows = kpi_rows_for_user(user=executive, view_name="test_sales_kpi", filters=DashboardFilters(rep=UNASSIGNED))
    assert [(r["sales_rep_id"], r["revenue"]) for r in rows] == [(None, 4000.0), (None, 5000.0)]


def test_an_executive_without_a_filter_still_sees_every_row(executive, with_unassigned):
    assert total(kpi_rows_for_user(user=executive, view_name="test_sales_kpi")) == 3426.30 + 9000


def test_unassigned_combines_with_a_date_range(executive, with_unassigned):
    filters = dashboard_filters_parse({"rep": "unassigned", "from": "2024-02", "to": "2024-02"})
    rows = kpi_rows_for_user(user=executive, view_name="test_sales_kpi", filters=filters)
    assert total(rows) == 5000.0


def test_a_rep_choosing_unassigned_sees_nothing(rep, with_unassigned):
    # The attacker's request: ?rep=unassigned, hoping for the rows that belong to nobody's team.
    for filters in (DashboardFilters(rep=UNASSIGNED), dashboard_filters_parse({"rep": "0"})):
        assert kpi_rows_for_user(user=rep, view_name="test_sales_kpi", filters=filters) == []


def test_a_manager_choosing_unassigned_sees_nothing_and_their_team_is_unchanged(manager, with_unassigned):
    assert kpi_rows_for_user(user=manager, view_name="test_sales_kpi", filters=DashboardFilters(rep=UNASSIGNED)) == []
    assert total(kpi_rows_for_user(user=manager, view_name="test_sales_kpi")) == 126.00


def test_unassigned_with_a_team_filter_is_empty(executive, with_unassigned):
    filters = DashboardFilters(rep=UNASSIGNED, team=with_unassigned["5"].pk)
    assert kpi_rows_for_user(user=executive, view_name="test_sales_kpi", filters=filters) == []


def test_the_api_takes_rep_unassigned_and_a_rep_gets_nothing_extra(client, executive, rep, sales_dashboard):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO test_sales_kpi VALUES ('2024-01-01', NULL, 4000.00, 1)")
    url = reverse("api-dashboard-data", args=[sales_dashboard.pk]) + "?rep=unassigned"

    client.force_login(executive)
    executive_widgets = client.get(url).json()["widgets"]
    client.force_login(rep)
    rep_widgets = client.get(url).json()["widgets"]

    assert executive_widgets[0]["rows"] == [{"revenue": 4000.0}]
    assert all(w["rows"] in ([], [{"revenue": None}]) for w in rep_widgets)


def test_the_rep_picker_offers_unassigned_to_an_executive_only(client, executive, rep, sales_dashboard):
    url = reverse("dashboards:detail", args=[sales_dashboard.slug])
    client.force_login(executive)
    page = client.get(url + "?rep=unassigned").content.decode()
    assert '<option value="unassigned" selected>Unassigned (no rep)</option>' in page

    client.force_login(rep)
    assert 'value="unassigned"' not in client.get(url).content.decode()
