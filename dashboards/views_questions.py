"""The question builder page: pick a source, dimensions, a measure, filters; see its rows and chart as you pick.

Rows come from `question_preview_for_user` only (the one row filter, the RLS wall; stopped after the preview limit or
by the page's Cancel: `question_preview_cancel_view`); saving goes through
`dashboard_get_for_user(action="change")` and `question_save` (the widget service and its validation).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.selectors import user_row_scope
from dashboards.forms import DrillForm, QuestionBuilderForm
from dashboards.kpi.drill import bucket_end
from dashboards.kpi.kept import KEEP_READY_MS, kept_problem
from dashboards.kpi.question import (
    AGGREGATIONS,
    BUCKETS,
    OPERATORS,
    Question,
    dimension_columns,
    measure_columns,
    question_fields,
    question_sources,
)
from dashboards.kpi.read import RUN_ID
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Widget
from dashboards.presenters import cell_kind, column_label, table_cell
from dashboards.selectors import (
    DrillRows,
    PreviewStopped,
    dashboard_get_for_user,
    dashboards_for_user,
    question_preview_for_user,
    question_read_ms,
    user_can_ask_questions,
    user_can_change_dashboard,
    widget_get_for_user,
    widget_rows_for_user,
)
from dashboards.services.questions import (
    QUESTION_CHART_TYPES,
    question_chart_suggest,
    question_keep_ready,
    question_preview_cancel,
    question_save,
    question_spec_build,
)
from dashboards.viewer_format import ViewerFormat, viewer_format_for
from dashboards.views import _filters_or_400

PREVIEW_ROWS = 200  # shown in the page's table; the count says how many there are
DEFAULT_QUESTION = {"source": "monthly_revenue", "measure_column": "revenue", "measure_agg": "sum"}


def _preview_cell(value, column: dict, fmt: ViewerFormat) -> str:
    """A preview cell as the dashboards' tables write it: the viewer's locale, the data's currency."""
    if value is None:
        return "—"
    if column["bucket"] == "year":
        return str(value)[:4]  # the year's first day, a date or its ISO text
    kind = cell_kind(column["name"], column["type"])
    return table_cell(value, kind, fmt, month=column["bucket"] == "month" or column["name"] == "month")


def _preview(question: Question, rows: list[dict], elapsed_ms: float, chart_type: str, fmt: ViewerFormat) -> dict:
    columns = question.columns()
    chart = chart_type or question_chart_suggest(question)
    preview = {
        "columns": [(c["name"], column_label(c["name"])) for c in columns],
        "cells": [[_preview_cell(row.get(c["name"]), c, fmt) for c in columns] for row in rows[:PREVIEW_ROWS]],
        "row_count": len(rows),
        "truncated": len(rows) > PREVIEW_ROWS,
        "elapsed_ms": elapsed_ms,
        "chart_type": chart,
        "suggested": question_chart_suggest(question),
    }
    if chart == Widget.ChartType.NUMBER and question.measures:
        name, kind = columns[-1]["name"], columns[-1]["type"]
        preview["number"] = fmt.number(sum(r[name] for r in rows if r.get(name) is not None) if rows else None, kind)
    elif chart != Widget.ChartType.TABLE and rows:
        preview["chart"] = {"spec": question_spec_build(question, chart), "rows": rows, "type": chart, "title": ""}
    return preview


def _preview_run(request: HttpRequest) -> str:
    """The run id the builder's script sent with a preview (X-Preview-Run), or "" (no script, or not an id)."""
    run = request.headers.get("X-Preview-Run", "")
    return run if RUN_ID.fullmatch(run) else ""


def _posted_dashboard_id(request: HttpRequest) -> int:
    text = request.POST.get("dashboard", "")
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise Http404("No such dashboard")
    return int(text)


@login_required
def question_builder(request: HttpRequest) -> HttpResponse:
    """GET: the builder with its preview (the HTMX partial when asked by HTMX). POST: save as a widget."""
    scope = user_row_scope(request.user)
    if not user_can_ask_questions(request.user, scope):
        raise PermissionDenied("Your account sees no KPI rows: ask an administrator for a role.")
    data = request.POST if request.method == "POST" else (request.GET or DEFAULT_QUESTION)
    form = QuestionBuilderForm(data)
    preview = None
    stopped = None
    save_error = ""
    if form.is_valid():
        question = form.cleaned_data["question"]
        if request.method == "POST":
            dashboard = dashboard_get_for_user(request.user, _posted_dashboard_id(request), action="change")
            title = (request.POST.get("title") or "").strip()[:200]
            try:
                widget = question_save(
                    dashboard=dashboard, question=question, title=title, chart_type=form.cleaned_data["chart_type"]
                )
            except ValidationError as exc:
                save_error = "; ".join(exc.messages)
            else:
                messages.success(request, f"Saved “{widget.title}” on {dashboard.title}.")
                read_ms = question_read_ms(user=request.user, question=question, scope=scope)
                if read_ms > KEEP_READY_MS and kept_problem(question) is None:
                    context = {"dashboard": dashboard, "widget": widget, "read_ms": read_ms, "limit": KEEP_READY_MS}
                    return render(request, "dashboards/question_saved.html", context)
                return redirect(dashboard)
        started = time.perf_counter()
        try:
            rows = question_preview_for_user(
                user=request.user, question=question, scope=scope, run=_preview_run(request)
            )
        except PreviewStopped as exc:
            stopped = exc
        else:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            preview = _preview(question, rows, elapsed, form.cleaned_data["chart_type"], viewer_format_for(request))
    values = form.values()
    view = KPI_VIEWS.get(values.get("source", "")) or KPI_VIEWS[DEFAULT_QUESTION["source"]]
    values["shown_source"] = view.name
    fields = question_fields(view)
    dashboards = [d for d in dashboards_for_user(request.user) if user_can_change_dashboard(request.user, d)]
    context = {
        "form": form,
        "values": values,
        "preview": preview,
        "stopped": stopped,
        "save_error": save_error,
        "sources": question_sources(),
        "view": view,
        "dimensions": dimension_columns(fields),
        "measures": measure_columns(fields),
        "columns": list(fields),
        "aggregations": AGGREGATIONS,
        "buckets": BUCKETS,
        "operators": OPERATORS,
        "chart_types": QUESTION_CHART_TYPES,
        "outputs": [c["name"] for c in form.cleaned_data["question"].columns()] if preview or stopped else [],
        "dashboards": dashboards,
        "filter_slots": [
            (
                n,
                values.get(f"filter_column_{n}", ""),
                values.get(f"filter_op_{n}", ""),
                values.get(f"filter_value_{n}", ""),
            )
            for n in (1, 2)
        ],
        "dimension_slots": [(n, values.get(f"dimension_{n}", ""), values.get(f"bucket_{n}", "")) for n in (1, 2)],
    }
    template = "dashboards/question_builder.html"
    if request.htmx:
        template += "#builder"
    # HTMX swaps only 2xx answers: the partial shows its field errors with a 200, the plain form with a 400.
    status = 400 if (form.errors or save_error) and not request.htmx else 200
    return render(request, template, context, status=status)


@login_required
@require_POST
def question_preview_cancel_view(request: HttpRequest) -> HttpResponse:
    """Stop the caller's own running preview `run` (the builder's Cancel): its query is cancelled on the server, and
    the preview's request answers that it was cancelled."""
    if not user_can_ask_questions(request.user):
        raise PermissionDenied("Your account sees no KPI rows: ask an administrator for a role.")
    run = request.POST.get("run", "")
    if not RUN_ID.fullmatch(run):
        return JsonResponse({"run": ["a run id is 32 hex digits"]}, status=400)
    return JsonResponse({"cancelled": question_preview_cancel(user=request.user, run=run)})


@login_required
@require_POST
def question_keep_ready_view(request: HttpRequest, slug: str, widget_id: int) -> HttpResponse:
    """Keep a saved question ready (its summary kept with the KPI views): for users who may change the dashboard."""
    dashboard = dashboard_get_for_user(request.user, slug, action="change")
    widget = widget_get_for_user(request.user, dashboard, widget_id)
    try:
        question_keep_ready(widget=widget, user=request.user)
    except ValidationError as exc:
        messages.error(request, "Not kept ready: " + "; ".join(exc.messages))
    else:
        messages.success(request, f"“{widget.title}” is kept ready: it is refreshed with the KPI views.")
    return redirect(dashboard)


def _drill_dashboard_filter(rows: DrillRows) -> str:
    """A clicked rep or month also filters the whole dashboard: its query string ("" for other values)."""
    drill = rows.drill
    if drill is None or drill.column is None:
        return ""
    if drill.column == drill.view.scope_column and isinstance(drill.value, int):
        return urlencode({"rep": drill.value})
    if isinstance(drill.value, date) and drill.bucket in ("month", None) and drill.value.day == 1:
        month = drill.value.strftime("%Y-%m")
        return urlencode({"from": month, "to": month})
    return ""


def _question_link(widget: Widget, rows: DrillRows | None) -> str:
    """The builder's query string for the widget's question with the clicked value as one more filter ("" when the
    widget is not a question, or its two filter slots are taken)."""
    payload = widget.query_options.get("question")
    drill = rows.drill if rows else None
    if not payload or drill is None:
        return ""
    filters = list(payload.get("filters") or [])
    if drill.column is not None:
        if drill.bucket:
            last = bucket_end(drill.value, drill.bucket) - timedelta(days=1)
            filters.append(
                {"column": drill.column, "op": "between", "value": [drill.value.isoformat(), last.isoformat()]}
            )
        else:
            value = drill.value.isoformat() if isinstance(drill.value, date) else drill.value
            filters.append({"column": drill.column, "op": "=", "value": value})
    if len(filters) > QuestionBuilderForm.FILTERS:
        return ""
    measure = (payload.get("measures") or [{}])[0]
    query = {"source": payload["source"], "shown_source": payload["source"]}
    query["measure_column"], query["measure_agg"] = measure.get("column") or "", measure.get("agg") or "count"
    for n, dimension in enumerate(payload.get("dimensions") or [], start=1):
        dimension = dimension if isinstance(dimension, dict) else {"column": dimension}
        query[f"dimension_{n}"], query[f"bucket_{n}"] = dimension["column"], dimension.get("bucket") or ""
    for n, item in enumerate(filters, start=1):
        value = item["value"]
        query[f"filter_column_{n}"], query[f"filter_op_{n}"] = item["column"], item["op"]
        query[f"filter_value_{n}"] = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    query["chart_type"] = widget.chart_type
    return urlencode(query)


@login_required
def widget_rows(request: HttpRequest, slug: str, widget_id: int) -> HttpResponse:
    """The rows behind a widget, or behind the bar or point clicked in it (`field`, `value`), a page at a time."""
    dashboard = dashboard_get_for_user(request.user, slug)
    widget = widget_get_for_user(request.user, dashboard, widget_id)
    filters = _filters_or_400(request, page=True)
    if isinstance(filters, HttpResponse):
        return filters
    form = DrillForm(request.GET)
    error = ""
    rows = None
    if form.is_valid():
        try:
            rows = widget_rows_for_user(
                user=request.user,
                widget=widget,
                filters=filters,
                field=form.cleaned_data["field"],
                value=form.cleaned_data["value"],
                page=form.cleaned_data["page"] or 1,
            )
        except ValidationError as exc:
            error = "; ".join(exc.messages)
    else:
        error = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    here = {k: v for k, v in request.GET.items() if k != "page"}
    fmt = viewer_format_for(request)
    context = {
        "dashboard": dashboard,
        "widget": widget,
        "rows": rows,
        "headers": [column_label(c) for c in rows.columns] if rows else [],
        "cells": _drill_cells(rows, fmt) if rows else [],
        "error": error,
        "clicked": column_label(form.cleaned_data["field"]) if form.is_valid() and form.cleaned_data["field"] else "",
        "value": _drill_value(rows, fmt) if rows else (form.cleaned_data.get("value") if form.is_valid() else ""),
        "dashboard_filter": _drill_dashboard_filter(rows) if rows else "",
        "question_link": _question_link(widget, rows),
        "previous_query": urlencode({**here, "page": rows.page - 1}) if rows and rows.page > 1 else "",
        "next_query": urlencode({**here, "page": rows.page + 1}) if rows and rows.has_next else "",
        "query": urlencode(filters.as_query()),
    }
    template = "dashboards/widget_rows.html" + ("#rows" if request.htmx else "")
    return render(request, template, context, status=400 if error and not request.htmx else 200)


def _drill_cell(value, column: str, kind: str, fmt: ViewerFormat) -> str:
    """A row's value as the preview and the dashboards' tables write it (the viewer's locale, the data's currency);
    attributes as "key: value" pairs, as uploaded."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    if value is None:
        return "—"
    return table_cell(value, cell_kind(column, kind), fmt, month=column == "month")


def _drill_cells(rows: DrillRows, fmt: ViewerFormat) -> list[list[str]]:
    kinds = rows.drill.view.columns if rows.drill else {}
    return [[_drill_cell(row.get(c), c, kinds.get(c, ""), fmt) for c in rows.columns] for row in rows.rows]


def _drill_value(rows: DrillRows, fmt: ViewerFormat) -> str:
    """The clicked value as the chart's axis writes it: a month bucket as "Mar 1997", a day as "Mar 3, 1997"."""
    drill = rows.drill
    if drill is None or drill.column is None:
        return ""
    if isinstance(drill.value, date):
        if drill.bucket == "year":
            return str(drill.value.year)
        return fmt.date(drill.value, month=drill.bucket == "month")
    if isinstance(drill.value, int | float) and not isinstance(drill.value, bool):
        return table_cell(drill.value, "id" if drill.column.endswith("_id") else "number", fmt)
    return str(drill.value)
