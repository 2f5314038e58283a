"""Questions kept ready: a saved question's summary, kept by the refresh engine with its source, gives the rows the
live read gives, under the same row filter and RLS wall."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from psycopg import sql
from rest_framework.test import APIClient

from accounts.selectors import user_row_scope
from canonical.models import Order
from dashboards.filters import DashboardFilters
from dashboards.kpi import read
from dashboards.kpi.kept import kept_serves, kept_teams_name
from dashboards.kpi.question import question_build, question_statement
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import KeptQuestion, KpiPendingRefresh, Widget
from dashboards.selectors import _effective_ids, widget_query, widgets_data_for_user
from dashboards.services.dashboards import dashboard_create, dashboard_share
from dashboards.services.refresh import kpi_refresh_mark_touched, kpi_view_refresh, kpi_views_refresh_all
from tests.factories import PASSWORD, Role, persona

pytestmark = pytest.mark.django_db

BY_MONTH = {
    "source": "dataset_orders",
    "dimensions": [{"column": "order_date", "bucket": "month"}],
    "measures": [
        {"column": "revenue", "agg": "sum"},
        {"agg": "count"},
        {"column": "revenue", "agg": "avg"},
        {"column": "amount", "agg": "max"},
    ],
    "filters": [{"column": "order_date", "op": "last", "value": "400 months"}],
}


@pytest.fixture(autouse=True)
def _forget_kept_views():
    """A kept summary registers itself in the process's registry; its table goes with the test's transaction."""
    yield
    for name in [n for n, view in KPI_VIEWS.items() if view.kept]:
        del KPI_VIEWS[name]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def built(northwind):
    kpi_views_refresh_all(full=True)
    people = {
        "fuller": persona("fuller", Role.EXECUTIVE, northwind["2"]),
        "buchanan": persona("buchanan", Role.MANAGER, northwind["5"]),
        "davolio": persona("davolio", Role.SALES_REP, northwind["1"]),
    }
    dashboard = dashboard_create(title="Mine", owner=people["buchanan"])
    for name in ("fuller", "davolio"):
        dashboard_share(dashboard=dashboard, level="view", username=name)
    return {**people, "employees": northwind, "dashboard": dashboard}


def save(user, dashboard, question: dict, **extra):
    response = api(user).post("/api/questions/", {**question, "dashboard": dashboard.pk, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def live_rows(user, question: dict) -> list[dict]:
    built_question = question_build(payload=question)
    scope = user_row_scope(user)
    ids = _effective_ids(scope, built_question)
    return read._scoped_read(scope, [question_statement(built_question, ids)])[0]


def widget_rows(user, widget: Widget, filters: DashboardFilters | None = None) -> list[dict]:
    return widgets_data_for_user(user=user, widgets=[widget], filters=filters or DashboardFilters())[0].rows


def test_a_kept_question_reads_its_summary_and_gives_each_persona_the_live_rows(built):
    saved = save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)
    assert saved["kept_ready"] is True and saved["keep_ready_offered"] is False
    widget = Widget.objects.get(pk=saved["id"])
    kept = KeptQuestion.objects.get()
    assert widget.query_options["kept"] == kept.name and kept.source == "dataset_orders"
    question = widget_query(widget, DashboardFilters())
    assert kept_serves(question)
    for name in ("fuller", "buchanan", "davolio"):
        rows = widget_rows(built[name], widget)
        assert rows == live_rows(built[name], BY_MONTH), name
        assert rows
    total = sum(r["sum_revenue"] for r in widget_rows(built["buchanan"], widget))
    assert total == pytest.approx(344581.71, abs=0.10)


def test_a_dashboard_range_of_whole_months_reads_the_summary_and_any_other_the_source(built):
    widget = Widget.objects.get(pk=save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)["id"])
    months = DashboardFilters(date_from=date(1997, 1, 1), date_to=date(1997, 6, 30))
    assert kept_serves(widget_query(widget, months))
    days = DashboardFilters(date_from=date(1997, 1, 15), date_to=date(1997, 6, 30))
    assert not kept_serves(widget_query(widget, days))
    for filters in (months, days):
        rows = widget_rows(built["fuller"], widget, filters)
        assert [r["order_date"][:7] for r in rows] == [f"1997-0{m}" for m in range(1, 7)]
    assert widget_rows(built["fuller"], widget, months)[1:] == widget_rows(built["fuller"], widget, days)[1:]


def test_an_incremental_refresh_of_the_source_keeps_the_summary_in_line(built):
    widget = Widget.objects.get(pk=save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)["id"])
    suyama = built["employees"]["6"]
    Order.objects.create(external_id="NEW-1", sales_rep=suyama, order_date=date(1997, 3, 5), amount=Decimal("1000.00"))
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["1997-03-01"]}})
    del KPI_VIEWS[KeptQuestion.objects.get().name]  # a worker that has not seen it yet registers it from its row
    result = kpi_view_refresh(view_name="dataset_orders")
    assert result.mode == "incremental"
    rows = widget_rows(built["buchanan"], widget)
    assert rows == live_rows(built["buchanan"], BY_MONTH)
    march = next(r for r in rows if r["order_date"] == "1997-03-01")
    assert march["max_amount"] >= 1000.0


def test_a_summary_read_without_its_where_clause_sees_only_the_reps_rows(built):
    save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)
    table = KeptQuestion.objects.get().name
    statement = sql.SQL("SELECT DISTINCT sales_rep_id FROM {}").format(sql.Identifier(table))
    rows = read._scoped_read(user_row_scope(built["davolio"]), [(statement, [])])[0]
    assert [r["sales_rep_id"] for r in rows] == [built["employees"]["1"].pk]


def test_two_widgets_of_one_question_share_one_summary(built):
    save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)
    save(built["buchanan"], built["dashboard"], {**BY_MONTH, "limit": 5}, keep_ready=True)
    assert KeptQuestion.objects.count() == 1


def test_a_distinct_count_cannot_be_kept_ready_and_nothing_is_saved(built):
    question = {"source": "dataset_orders", "measures": [{"column": "customer_id", "agg": "count_distinct"}]}
    response = api(built["buchanan"]).post(
        "/api/questions/", {**question, "dashboard": built["dashboard"].pk, "keep_ready": True}, format="json"
    )
    assert response.status_code == 400
    assert "distinct" in str(response.json()["keep_ready"])
    assert not Widget.objects.filter(dashboard=built["dashboard"]).exists()


def test_the_builder_offers_to_keep_a_slow_question_ready_and_keeps_it(client, built, monkeypatch):
    monkeypatch.setattr("dashboards.views_questions.KEEP_READY_MS", -1)  # every read is "slow"
    assert client.login(username="buchanan", password=PASSWORD)
    form = {
        "source": "dataset_orders",
        "shown_source": "dataset_orders",
        "dimension_1": "order_date",
        "bucket_1": "month",
        "measure_column": "revenue",
        "measure_agg": "sum",
        "dashboard": built["dashboard"].pk,
        "title": "Revenue by month",
    }
    response = client.post("/dashboards/questions/", form)
    assert response.status_code == 200
    assert 'data-testid="keep-ready-offer"' in response.content.decode()
    widget = Widget.objects.get(title="Revenue by month")
    response = client.post(f"/dashboards/{built['dashboard'].slug}/widgets/{widget.pk}/keep/")
    assert response.status_code == 302
    widget.refresh_from_db()
    assert widget.query_options["kept"] == KeptQuestion.objects.get().name


def test_only_who_may_change_the_dashboard_keeps_its_questions_ready(client, built):
    widget = Widget.objects.get(pk=save(built["buchanan"], built["dashboard"], BY_MONTH)["id"])
    url = f"/dashboards/{built['dashboard'].slug}/widgets/{widget.pk}/keep/"
    assert client.post(url).status_code == 302 and "/login/" in client.post(url).url  # anonymous
    assert client.login(username="davolio", password=PASSWORD)  # shared for viewing only
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405
    assert not KeptQuestion.objects.exists()


def test_a_widget_whose_question_changed_reads_its_source_not_the_old_summary(built):
    widget = Widget.objects.get(pk=save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)["id"])
    changed = {**BY_MONTH, "measures": [{"column": "revenue", "agg": "sum"}]}
    widget.data_source = {**widget.data_source, "filters": {**widget.query_options, "question": changed}}
    widget.save()
    question = widget_query(widget, DashboardFilters())
    assert question.kept is None
    assert widget_rows(built["buchanan"], widget) == live_rows(built["buchanan"], changed)


def _teams_table() -> str:
    return kept_teams_name(KeptQuestion.objects.get().name)


def test_a_managers_kept_read_is_their_teams_rows_and_a_reps_the_per_rep_rows(built):
    widget = Widget.objects.get(pk=save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)["id"])
    vp = persona("vp", Role.MANAGER, built["employees"]["2"])  # Fuller's subtree as a manager: every employee
    people = {"buchanan": built["buchanan"], "vp": vp, "davolio": built["davolio"]}
    before = {name: widget_rows(user, widget) for name, user in people.items()}
    for name, user in people.items():
        assert before[name] == live_rows(user, BY_MONTH), name
    # The team rows are what a manager's read reads: 1 added to buchanan's team's sums and 2 to Fuller's show in
    # their reads; the rep's read (the per-rep rows) is unchanged.
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("UPDATE {} SET m0_sum = m0_sum + CASE WHEN team_id = %s THEN 1 ELSE 2 END").format(
                sql.Identifier(_teams_table())
            ),
            [built["employees"]["5"].pk],
        )
    cache.clear()
    after = {name: widget_rows(user, widget) for name, user in people.items()}
    for name, added in (("buchanan", 1), ("vp", 2)):
        assert [r["sum_revenue"] for r in after[name]] == [r["sum_revenue"] + added for r in before[name]], name
    assert after["davolio"] == before["davolio"]


def test_team_rows_read_without_a_where_clause_show_only_teams_in_scope(built):
    save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)
    statement = sql.SQL("SELECT DISTINCT team_id FROM {}").format(sql.Identifier(_teams_table()))
    teams = {
        name: {r["team_id"] for r in read._scoped_read(user_row_scope(built[name]), [(statement, [])])[0]}
        for name in ("buchanan", "davolio")
    }
    assert teams == {"buchanan": {built["employees"]["5"].pk}, "davolio": set()}


def test_a_new_hierarchy_rebuilds_the_team_rows_with_the_sources_refresh(built):
    widget = Widget.objects.get(pk=save(built["buchanan"], built["dashboard"], BY_MONTH, keep_ready=True)["id"])
    suyama = built["employees"]["6"]
    suyama.manager = built["employees"]["2"]  # moves from Buchanan's team to Fuller's
    suyama.save(update_fields=["manager"])
    names = kpi_refresh_mark_touched(touched={"canonical_employees": {}})
    assert "dataset_orders" in names
    assert KpiPendingRefresh.objects.filter(view_name=_teams_table(), full=True).exists()
    kpi_view_refresh(view_name="dataset_orders")
    cache.clear()
    assert widget_rows(built["buchanan"], widget) == live_rows(built["buchanan"], BY_MONTH)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT members FROM kpi_team_snapshots WHERE aggregate_name = %s AND team_id = %s"),
            [_teams_table(), built["employees"]["5"].pk],
        )
        (members,) = cursor.fetchone()
    assert suyama.pk not in members
