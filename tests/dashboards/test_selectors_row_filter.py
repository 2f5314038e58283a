from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from dashboards.filters import DashboardFilters, dashboard_filters_parse
from dashboards.selectors import kpi_rows_for_user


def total(rows):
    return round(sum(r["revenue"] for r in rows), 2)


def test_executive_sees_every_reps_rows(executive, sales_kpi):
    rows = kpi_rows_for_user(user=executive, view_name="test_sales_kpi")
    assert len(rows) == 8
    assert total(rows) == 3426.30


def test_manager_sees_only_their_teams_rows(manager, sales_kpi):
    rows = kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["5"].pk, sales_kpi["6"].pk}
    assert total(rows) == 126.00


def test_manager_cannot_see_other_teams_revenue(manager, sales_kpi):
    rows = kpi_rows_for_user(user=manager, view_name="test_sales_kpi", filters=DashboardFilters(rep=sales_kpi["3"].pk))
    assert rows == []


def test_rep_sees_only_own_rows(rep, sales_kpi):
    rows = kpi_rows_for_user(user=rep, view_name="test_sales_kpi")
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["1"].pk}
    assert total(rows) == 300.30


def test_user_without_role_sees_nothing(outsider, sales_kpi):
    assert kpi_rows_for_user(user=outsider, view_name="test_sales_kpi") == []


def test_company_wide_view_is_for_all_rows_scopes_only(executive, manager, sales_kpi):
    assert len(kpi_rows_for_user(user=executive, view_name="test_company_kpi")) == 2
    assert kpi_rows_for_user(user=manager, view_name="test_company_kpi") == []


def test_rep_filter_narrows_within_scope(manager, sales_kpi):
    rows = kpi_rows_for_user(user=manager, view_name="test_sales_kpi", filters=DashboardFilters(rep=sales_kpi["6"].pk))
    assert total(rows) == 16.00


def test_team_filter_takes_the_subtree_within_scope(executive, sales_kpi):
    rows = kpi_rows_for_user(
        user=executive, view_name="test_sales_kpi", filters=DashboardFilters(team=sales_kpi["5"].pk)
    )
    assert total(rows) == 126.00


def test_date_range_filters_on_the_views_date_column(executive, sales_kpi):
    filters = dashboard_filters_parse({"from": "2024-02", "to": "2024-02"})
    rows = kpi_rows_for_user(user=executive, view_name="test_sales_kpi", filters=filters)
    assert {r["month"] for r in rows} == {"2024-02-01"}


def test_grouping_sums_measures_and_orders(executive, sales_kpi):
    rows = kpi_rows_for_user(
        user=executive,
        view_name="test_sales_kpi",
        options={"group_by": ["sales_rep_id"], "measures": ["revenue"], "order_by": ["-revenue"], "limit": 2},
    )
    assert [r["revenue"] for r in rows] == [3000.00, 300.30]


def test_a_grand_total_is_one_row(manager, sales_kpi):
    rows = kpi_rows_for_user(user=manager, view_name="test_sales_kpi", options={"measures": ["revenue"]})
    assert rows == [{"revenue": 126.00}]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"order_by": ["revenue; drop table x"]}, "is not a column of KPI view"),
        ({"group_by": ["nope"]}, "'nope' is not a column"),
        ({"measures": ["month"]}, "not numeric"),
        ({"limit": 0}, "limit must be"),
        ({"where": "1=1"}, "unknown query option"),
    ],
)
def test_query_options_are_allow_listed(executive, sales_kpi, options, message):
    with pytest.raises(ValidationError, match=message):
        kpi_rows_for_user(user=executive, view_name="test_sales_kpi", options=options)


def test_unknown_view_is_refused(executive, sales_kpi):
    with pytest.raises(ValidationError, match="unknown KPI view"):
        kpi_rows_for_user(user=executive, view_name="canonical_orders")


@pytest.mark.parametrize(
    "params", [{"from": "yesterday"}, {"to": "2024-13"}, {"rep": "x"}, {"from": "2024-03", "to": "2024-01"}]
)
def test_bad_filters_get_a_clear_error(params):
    with pytest.raises(ValidationError):
        dashboard_filters_parse(params)


def test_cached_rows_are_never_served_to_another_scope(executive, rep, sales_kpi):
    assert len(kpi_rows_for_user(user=executive, view_name="test_sales_kpi")) == 8
    assert len(kpi_rows_for_user(user=rep, view_name="test_sales_kpi")) == 2
    assert len(kpi_rows_for_user(user=executive, view_name="test_sales_kpi")) == 8
