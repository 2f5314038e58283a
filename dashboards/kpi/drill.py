"""Drill-down: the rows behind a widget's number or a clicked bar or point, a page at a time.

The rows are the widget's source (a KPI view or a dataset) under the caller's scope (the ids come from the one
row filter, `dashboards.selectors._effective_ids`; the read runs as the KPI reader behind RLS), the dashboard's
filters, the question's own filters, and the clicked value of one of its dimensions (a date bucket becomes the
range it stands for). Every column is allow-listed against the source; values are bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from psycopg import sql

from dashboards.kpi.query import KpiQuery, _and, _dated_rollup, _where
from dashboards.kpi.question import (
    Filter,
    Question,
    _filter_predicate,
    _typed,
    column_kind,
    dimension_columns,
    question_fields,
)

PAGE_ROWS = 50
MAX_PAGES = 200  # 10,000 rows deep, as a question's limit


@dataclass(frozen=True)
class Drill:
    """What a drill-down reads: the widget's read (its query or question), the clicked value, the page."""

    query: KpiQuery | Question
    column: str | None = None  # a column or attribute of the source
    bucket: str | None = None
    value: Any = None
    page: int = 1

    @property
    def view(self):
        return self.query.view

    @property
    def employee_ids(self):
        return self.query.employee_ids


def bucket_end(start: date, bucket: str) -> date:
    step = {
        "day": relativedelta(days=1),
        "week": relativedelta(weeks=1),
        "month": relativedelta(months=1),
        "quarter": relativedelta(months=3),
        "year": relativedelta(years=1),
    }
    return start + step[bucket]


def drill_build(*, query: KpiQuery | Question, field: str = "", value: str = "", page: int = 1) -> Drill:
    """Check a click (`field`: an output column of the widget's rows, `value`: its text) against the widget's read.

    A ValidationError names `field`, `value` or `page`.
    """
    if not 1 <= page <= MAX_PAGES:
        raise ValidationError({"page": [f"page must be from 1 to {MAX_PAGES}"]})
    if not field:
        return Drill(query=query, page=page)
    view = query.view
    if isinstance(query, Question):
        fields = query.fields or question_fields(view)
        dimension = next((d for d in query.dimensions if d.name == field), None)
        if dimension is None:
            names = ", ".join(d.name for d in query.dimensions) or "none"
            raise ValidationError({"field": [f"{field[:40]!r} is not a dimension of this question; its: {names}"]})
        column, bucket = dimension.column, dimension.bucket
    else:
        fields = {c: kind for c, kind in view.columns.items() if kind != "json"}
        if field not in dimension_columns(fields):
            raise ValidationError({"field": [f"{field[:40]!r} is not a column to drill into of {view.name}"]})
        column, bucket = field, None
    kind = column_kind(fields, column)
    typed: Any = value
    if kind in ("id", "numeric") and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        typed = int(value)
    elif kind == "boolean":
        typed = {"true": True, "false": False}.get(value.lower(), value)
    elif kind == "date":
        typed = value[:10]
    typed = _typed(fields, column, typed, "value")
    return Drill(query=query, column=column, bucket=bucket, value=typed, page=page)


def drill_statements(drill: Drill, scope_ids: frozenset[int] | None) -> list[tuple[sql.Composed, list[Any]]]:
    """One page of the rows (one more than a page: is there a next one?) and their count, as two statements."""
    query, view = drill.query, drill.view
    base = query.base if isinstance(query, Question) else query
    if view.rollup_of and (base.date_from or base.date_to):
        source, params = _dated_rollup(base, scope_ids)
        predicates: list[sql.Composable] = []
    else:
        source = sql.Identifier(view.name)
        predicates, params = _where(view, scope_ids, view.date_column, base)
    holder = query if isinstance(query, Question) else None
    filters = list(query.filters) if isinstance(query, Question) else []
    if drill.column is not None:
        if drill.bucket:
            start = drill.value
            filters.append(Filter(drill.column, ">=", (start,)))
            filters.append(Filter(drill.column, "<", (bucket_end(start, drill.bucket),)))
        else:
            filters.append(Filter(drill.column, "=", (drill.value,)))
    for f in filters:
        if holder is None:
            predicate, values = sql.SQL("{} = %s").format(sql.Identifier(f.column)), [f.values[0]]
        else:
            predicate, values = _filter_predicate(holder, f)
        predicates.append(predicate)
        params += values
    columns = list(view.columns)
    select = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    where = _and(predicates)
    rows = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT %s OFFSET %s").format(
        select,
        source,
        where,
        sql.SQL(", ").join(
            sql.SQL("{} DESC NULLS LAST" if c.startswith("-") else "{} ASC NULLS LAST").format(
                sql.Identifier(c.lstrip("-"))
            )
            for c in (view.default_order or columns[:1])
        ),
    )
    count = sql.SQL("SELECT count(*) AS row_count FROM {} WHERE {}").format(source, where)
    offset = (drill.page - 1) * PAGE_ROWS
    return [(rows, [*params, PAGE_ROWS + 1, offset]), (count, list(params))]
