"""Questions as charts: the chart a question's shape suggests, its Vega-Lite spec, and saving it as a widget."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from psycopg import sql

from accounts.models import User
from config.replica import PRIMARY, REPLICA, replica_configured
from dashboards.kpi.ddl import kpi_view_ddl
from dashboards.kpi.kept import kept_declaration, kept_name, kept_register, kept_tables, kept_teams_name
from dashboards.kpi.question import Question, question_build
from dashboards.kpi.read import read_cancel
from dashboards.kpi.registry import KPI_VIEWS, KpiView
from dashboards.kpi.rls import kpi_rls_ensure
from dashboards.models import Dashboard, KeptQuestion, Widget
from dashboards.selectors import PREVIEW_CANCEL_SECONDS, preview_cancel_key
from dashboards.services.refresh.aggregates import _aggregate_select, _team_snapshot_rebuild
from dashboards.services.refresh.engine import _vacuum
from dashboards.services.refresh.partitions import _columns, _lock, view_sql
from dashboards.services.widgets import widget_create

logger = logging.getLogger(__name__)

ChartType = Widget.ChartType
QUESTION_CHART_TYPES = (ChartType.LINE, ChartType.BAR, ChartType.AREA, ChartType.TABLE, ChartType.NUMBER)
_TIME_UNITS = {
    "day": "yearmonthdate",
    "week": "yearmonthdate",
    "month": "yearmonth",
    "quarter": "yearquarter",
    "year": "year",
}
_VEGA_TYPES = {"date": "temporal", "text": "nominal", "boolean": "nominal"}


def question_chart_suggest(question: Question) -> str:
    """Line over time, bars for categories, a number for one value, a table otherwise."""
    measures, dimensions = question.measures, question.dimensions
    if not dimensions and len(measures) == 1:
        return ChartType.NUMBER
    if len(measures) != 1 or not dimensions or len(dimensions) > 2:
        return ChartType.TABLE
    if question.kind(dimensions[0].column) == "date":
        return ChartType.LINE
    return ChartType.BAR


def _field(question: Question, name: str) -> dict[str, Any]:
    column = next(c for c in question.columns() if c["name"] == name)
    if column["role"] == "measure":
        return {"field": name, "type": "quantitative", "title": name.replace("_", " ")}
    kind = _VEGA_TYPES.get(column["type"], "nominal")
    field: dict[str, Any] = {"field": name, "type": kind, "title": name.replace("_", " ")}
    if kind == "temporal":
        # An unbucketed `month` column holds first days of months already.
        field["timeUnit"] = _TIME_UNITS[column["bucket"] or ("month" if name == "month" else "day")]
    return field


def question_spec_build(question: Question, chart_type: str) -> dict:
    """The widget spec of a question drawn as `chart_type` (its rows are already aggregated: no Vega sums)."""
    names = [c["name"] for c in question.columns()]
    if chart_type == ChartType.TABLE or not question.measures:
        return {"columns": names}
    measure = question.measures[0].name
    if chart_type == ChartType.NUMBER:
        return {"mark": "text", "encoding": {"text": {"field": measure, "type": "quantitative"}}}
    if not question.dimensions:
        return {"columns": names}
    x = _field(question, question.dimensions[0].name)
    y = _field(question, measure)
    encoding: dict[str, Any] = {"x": x, "y": y, "tooltip": [dict(x), {**y, "format": ",.2f"}]}
    if chart_type == ChartType.BAR and x["type"] != "temporal":
        encoding["x"]["sort"] = "-y"
    if len(question.dimensions) > 1:
        encoding["color"] = _field(question, question.dimensions[1].name)
        encoding["tooltip"].append(dict(encoding["color"]))
    return {"mark": {"type": chart_type, "tooltip": True}, "encoding": encoding}


@transaction.atomic
def question_save(
    *, dashboard: Dashboard, question: Question, title: str, chart_type: str = "", width: int = 6
) -> Widget:
    """Save a question as a widget (the caller checked the user may change `dashboard`).

    The widget keeps the question (`data_source.filters.question`) and is read like any widget: through
    `widgets_data_for_user`, the one row filter and the RLS wall.
    """
    chart_type = chart_type or question_chart_suggest(question)
    if chart_type not in QUESTION_CHART_TYPES:
        raise ValidationError({"chart_type": [f"chart_type must be one of {', '.join(QUESTION_CHART_TYPES)}"]})
    return widget_create(
        dashboard=dashboard,
        title=title or question.view.name,
        chart_type=chart_type,
        view_name=question.view.name,
        vega_spec=question_spec_build(question, chart_type),
        query_options={"question": question.payload()},
        width=width,
    )


def _kept_table_create(view: KpiView, select: sql.Composable) -> None:
    """A kept table, its covering scope index and its rows (`select`), analyzed."""
    table = sql.Identifier(view.name)
    with connection.cursor() as cursor:
        for statement in kpi_view_ddl(view):
            cursor.execute(statement)
        if view.scope_column:
            # A scoped read is a range of (employee or team, month) holding every other column: an index-only scan,
            # as the KPI views' covering scope indexes give them.
            keys = [view.scope_column] + (["month"] if view.date_column else [])
            cursor.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({}) INCLUDE ({})").format(
                    sql.Identifier(f"{view.name}_scope"),
                    table,
                    sql.SQL(", ").join(sql.Identifier(k) for k in keys),
                    sql.SQL(", ").join(sql.Identifier(c) for c in view.columns if c not in keys),
                )
            )
        cursor.execute(sql.SQL("INSERT INTO {} ({}) {}").format(table, _columns(view), select))
        cursor.execute(sql.SQL("ANALYZE {}").format(table))


@transaction.atomic
def question_keep_ready(*, widget: Widget, user: User | None = None, read_ms: float | None = None) -> KeptQuestion:
    """Keep a saved question ready: its summary table (`dashboards.kpi.kept`), built now from its source and from
    then on kept by the source's refresh (a read-side aggregate of it, in the refresh's transaction, same RLS).

    Taken under the source's refresh lock, so no refresh runs meanwhile and the next one finds it registered. Two
    widgets with the same question share one summary. A question that cannot be kept is a ValidationError on
    `keep_ready`.
    """
    options = widget.query_options
    if "question" not in options:
        raise ValidationError({"keep_ready": ["only a saved question can be kept ready"]})
    question = question_build(payload=options["question"])
    try:
        declaration = kept_declaration(question)
    except ValueError as exc:
        raise ValidationError({"keep_ready": [str(exc)]}) from None
    name = kept_name(question)
    _lock(question.view, wait=True)
    kept = KeptQuestion.objects.filter(name=name).first()
    if kept is None:
        view = kept_register(name, declaration)
        _kept_table_create(view, sql.SQL(view_sql(name)).format(source=sql.Identifier(question.view.name)))
        teams = KPI_VIEWS.get(kept_teams_name(name))
        if teams is not None:
            _team_snapshot_rebuild(teams)
            _kept_table_create(teams, _aggregate_select(teams, sql.Identifier(name)))
        kept = KeptQuestion.objects.create(
            name=name,
            source=question.view.name,
            declaration=declaration,
            question=question.payload(),
            read_ms=read_ms,
            created_by=user,
        )
        tables = kept_tables(name, declaration)
        kpi_rls_ensure(tables)
        # After the commit (VACUUM cannot run in a transaction): all-visible pages, for index-only scans.
        transaction.on_commit(lambda: [_vacuum(KPI_VIEWS[t]) for t in tables if t in KPI_VIEWS])
    data_source = dict(widget.data_source)
    data_source["filters"] = {**options, "kept": name}
    widget.data_source = data_source
    widget.save(update_fields=["data_source"])
    return kept


def question_preview_cancel(*, user: User, run: str) -> int:
    """Cancel the user's preview `run` (`dashboards.selectors.question_preview_for_user`): recorded first, so a preview
    whose query has not started yet never runs it (or drops its answer), then stopped wherever it runs: the primary,
    or the standby the user's reads go to. Returns how many running queries were cancelled (0: none running)."""
    try:
        cache.set(preview_cancel_key(user_id=user.pk, run=run), True, PREVIEW_CANCEL_SECONDS)
    except Exception:  # without the cache only a running query can be stopped
        logger.warning("cache unavailable: the Cancel of preview %s is not recorded", run, exc_info=True)
    aliases = [PRIMARY, REPLICA] if replica_configured() else [PRIMARY]
    return sum(read_cancel(user_id=user.pk, run=run, using=alias) for alias in aliases)
