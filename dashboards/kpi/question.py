"""Questions: a user's own read of one KPI view (dimensions, measures, filters, sort, limit), compiled to SQL.

Everything a question names is allow-listed against the KPI registry: columns of its view, the aggregations and
date buckets below, the operators below. Values are bound, identifiers quoted. The caller's scope is NOT decided
here: `dashboards.selectors._effective_ids` (the one row filter) turns the scope into employee ids, which become a
bound `= ANY(%s)` through `dashboards.kpi.query._where`, and the read runs as the KPI reader role behind RLS.

A problem is a `ValidationError` whose dict names the field ("measures[0].agg"): the API answers 400 with it,
the builder page shows it on the field.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from psycopg import sql

from dashboards.filters import DashboardFilters
from dashboards.kpi.query import KpiQuery, _and, _dated_rollup, _where, kpi_query_build
from dashboards.kpi.registry import KPI_VIEWS, KpiView, aggregates_of, membership_of

AGGREGATIONS = ("sum", "count", "count_distinct", "avg", "min", "max")
NUMERIC_AGGREGATIONS = {"sum", "avg", "min", "max"}  # the others count values of any column
BUCKETS = ("day", "week", "month", "quarter", "year")
OPERATORS = ("=", "!=", "in", "between", ">", ">=", "<", "<=", "last")
COMPARISONS = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
MAX_IN_VALUES = 100
MAX_TEXT = 200
BIGINT = 2**63 - 1
_RELATIVE = re.compile(r"^\s*(\d{1,3})\s+(day|week|month|quarter|year)s?\s*$")


ATTRIBUTE_PREFIX = "attributes."
# An attribute's type (canonical.attributes.ATTRIBUTE_TYPES) as a KPI column type.
ATTRIBUTE_KINDS = {"text": "text", "number": "number", "date": "date", "boolean": "boolean"}


def question_fields(view: KpiView, *, attributes: bool = True) -> dict[str, str]:
    """What a question over `view` may name, with its KPI column type: the view's columns and, for a dataset,
    `attributes.<key>` for each attribute registered on its canonical table (`canonical.selectors.attribute_keys`:
    one query, skipped with `attributes=False`)."""
    fields = {c: kind for c, kind in view.columns.items() if kind != "json"}
    if attributes and view.attributes_of and view.columns.get("attributes") == "json":
        from canonical.selectors import attribute_keys

        for key, kind in attribute_keys(table=view.attributes_of):
            if kind in ATTRIBUTE_KINDS:
                fields[ATTRIBUTE_PREFIX + key] = ATTRIBUTE_KINDS[kind]
    return fields


def _fields(view_or_fields: KpiView | dict[str, str]) -> dict[str, str]:
    return view_or_fields if isinstance(view_or_fields, dict) else question_fields(view_or_fields)


def column_kind(fields: KpiView | dict[str, str], name: str) -> str:
    """date, text, boolean, id (an integer naming an entity) or numeric (money, integer, number)."""
    kind = (fields.columns if isinstance(fields, KpiView) else fields)[name]
    if kind == "integer" and name.endswith("_id"):
        return "id"
    if kind in ("money", "integer", "number"):
        return "numeric"
    return kind


def dimension_columns(view: KpiView | dict[str, str]) -> list[str]:
    fields = _fields(view)
    return [c for c in fields if column_kind(fields, c) in ("date", "text", "id", "boolean")]


def measure_columns(view: KpiView | dict[str, str]) -> list[str]:
    fields = _fields(view)
    return [c for c in fields if column_kind(fields, c) == "numeric"]


def output_name(view: KpiView, column: str) -> str:
    """A field's name in the rows: its own, or an attribute's key (`attributes.region` -> `region`; a key that is
    also a column of the view -> `region_attribute`). Keys are lower snake case, so names need no escaping."""
    if not column.startswith(ATTRIBUTE_PREFIX):
        return column
    key = column[len(ATTRIBUTE_PREFIX) :]
    return f"{key}_attribute" if key in view.columns else key


def question_sources() -> list[KpiView]:
    """The KPI views and datasets a question may read (the refresh engine's helpers are not for users)."""
    return sorted((v for v in KPI_VIEWS.values() if not v.internal), key=lambda v: (v.dataset, v.name))


@dataclass(frozen=True)
class Dimension:
    column: str
    bucket: str | None = None
    name: str = ""  # the output column (`output_name`)

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.column)


@dataclass(frozen=True)
class Measure:
    column: str | None
    agg: str
    label: str = ""  # the column's output name (`output_name`)

    @property
    def name(self) -> str:
        return f"{self.agg}_{self.label or self.column}" if self.column else self.agg


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Question:
    """One validated question; `view` and `employee_ids` are what the one row filter reads (as of a KpiQuery)."""

    view: KpiView
    base: KpiQuery  # the dashboard filters (date range, rep/team narrowing) as the KPI reads take them
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    filters: tuple[Filter, ...] = ()
    sort: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    fields: dict[str, str] = field(default_factory=dict, compare=False)  # `question_fields` of the view
    kept: KpiView | None = field(default=None, compare=False)  # its summary when kept ready (`dashboards.kpi.kept`)

    def kind(self, column: str) -> str:
        """The KPI type of a column or attribute the question names."""
        return self.fields.get(column) or self.view.columns[column]

    @property
    def employee_ids(self) -> frozenset[int] | None:
        return self.base.employee_ids

    @property
    def counts_distinct(self) -> bool:
        return any(m.column in (self.view.distinct or {}) for m in self.measures)

    def payload(self) -> dict:
        """The question as stored in a widget (and as the API takes it)."""
        return {
            "source": self.view.name,
            "dimensions": [{"column": d.column, "bucket": d.bucket} if d.bucket else d.column for d in self.dimensions],
            "measures": [{"column": m.column, "agg": m.agg} if m.column else {"agg": m.agg} for m in self.measures],
            "filters": [{"column": f.column, "op": f.op, "value": _stored_value(f)} for f in self.filters],
            "sort": list(self.sort),
            "limit": self.limit,
        }

    def cache_part(self) -> str:
        # The filters' values as read: a relative date's start moves with the day, its stored text does not.
        values = [f.values for f in self.filters]
        text = json.dumps([self.payload(), values, self.base.cache_part()], default=str, sort_keys=True)
        return "q" + hashlib.sha256(text.encode()).hexdigest()[:20]

    def columns(self) -> list[dict]:
        """Output columns: name, type (a KPI column type) and role (dimension or measure)."""
        out = []
        for d in self.dimensions:
            out.append({"name": d.name, "type": self.kind(d.column), "role": "dimension", "bucket": d.bucket})
        for m in self.measures:
            kind = "integer" if m.agg in ("count", "count_distinct") else self.kind(m.column or "")
            if m.agg == "avg":
                kind = "money" if kind == "money" else "number"
            out.append({"name": m.name, "type": kind, "role": "measure", "bucket": None})
        return out


def _stored_value(f: Filter) -> Any:
    if f.op == "last":
        return f.values[1]
    if f.op in ("in", "between"):
        return [v.isoformat() if isinstance(v, date) else v for v in f.values]
    value = f.values[0]
    return value.isoformat() if isinstance(value, date) else value


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _column(fields: dict[str, str], value: Any, field: str, view: KpiView) -> str:
    if not isinstance(value, str) or value not in fields:
        shown = value if isinstance(value, str) else type(value).__name__
        known = ", ".join(fields)
        return _raise(field, f"{str(shown)[:40]!r} is not a column of {view.name}; its columns: {known}")
    return value


def _raise(field: str, message: str):
    raise _fail(field, message)


def _dimension(view: KpiView, fields: dict[str, str], item: Any, field: str) -> Dimension:
    if isinstance(item, str):
        item = {"column": item}
    if not isinstance(item, dict) or set(item) - {"column", "bucket"}:
        _raise(field, 'a dimension is a column name or {"column": ..., "bucket": ...}')
    column = _column(fields, item.get("column"), f"{field}.column", view)
    if column not in dimension_columns(fields):
        _raise(f"{field}.column", f"{column!r} is a number: use it as a measure, not a dimension")
    bucket = item.get("bucket")
    if bucket in (None, ""):
        return Dimension(column, name=output_name(view, column))
    if column_kind(fields, column) != "date":
        _raise(f"{field}.bucket", f"{column!r} is not a date: only dates are bucketed")
    if bucket not in BUCKETS:
        _raise(f"{field}.bucket", f"bucket must be one of {', '.join(BUCKETS)}")
    return Dimension(column, bucket, name=output_name(view, column))


def _measure(view: KpiView, fields: dict[str, str], item: Any, field: str) -> Measure:
    if not isinstance(item, dict) or set(item) - {"column", "agg"}:
        _raise(field, 'a measure is {"column": ..., "agg": ...}')
    agg = item.get("agg")
    if agg not in AGGREGATIONS:
        _raise(f"{field}.agg", f"agg must be one of {', '.join(AGGREGATIONS)}")
    if item.get("column") in (None, "") and agg == "count":
        return Measure(None, "count")  # count of rows
    column = _column(fields, item.get("column"), f"{field}.column", view)
    if agg in NUMERIC_AGGREGATIONS and column_kind(fields, column) != "numeric":
        _raise(f"{field}.agg", f"{agg} needs a number; {column!r} is {fields[column]}")
    return Measure(column, agg, output_name(view, column))


def _check_distinct(view: KpiView, dimensions: tuple[Dimension, ...], measures: tuple[Measure, ...]) -> None:
    """A distinct count (registry `distinct`) is counted from the view's membership table, as KPI reads count it:
    it may be grouped only by what that table holds and read only with what it sums."""
    distinct = view.distinct or {}
    counted = [i for i, m in enumerate(measures) if m.column in distinct]
    if not counted:
        return
    members = membership_of(view)
    if members is None:  # pragma: no cover - a declaration without its membership table
        _raise(f"measures[{counted[0]}].column", "this distinct count has no membership table to count from")
    first = measures[counted[0]].column
    for i in counted:
        if measures[i].agg not in ("sum", "count_distinct"):
            _raise(
                f"measures[{i}].agg",
                f"{measures[i].column!r} counts distinct entities: it can only be counted (sum or count_distinct)",
            )
    keep = set(members.columns) - set(members.measures)
    for i, d in enumerate(dimensions):
        if d.column not in keep:
            _raise(
                f"dimensions[{i}].column", f"{first!r} counts distinct entities and cannot be grouped by {d.column!r}"
            )
    for i, m in enumerate(measures):
        if m.column in distinct:
            continue
        if m.column not in members.measures or m.agg != "sum":
            _raise(f"measures[{i}]", f"{first!r} counts distinct entities and cannot be read with {m.name!r}")


def _typed(fields: dict[str, str], column: str, value: Any, field: str) -> Any:
    kind = column_kind(fields, column)
    if kind == "date":
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            try:
                return date.fromisoformat(value if len(value) == 10 else value + "-01")
            except ValueError:
                pass
        _raise(field, f"{column!r} is a date: give YYYY-MM-DD")
    if kind == "text":
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            return value
        _raise(field, f"{column!r} is text: give a string of at most {MAX_TEXT} characters")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        _raise(field, f"{column!r} is true or false")
    if kind == "id" or fields[column] == "integer":
        if isinstance(value, int) and not isinstance(value, bool) and -BIGINT <= value <= BIGINT:
            return value
        _raise(field, f"{column!r} is a whole number")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and abs(value) < 1e15:
        return value
    _raise(field, f"{column!r} is a number")


def relative_start(count: int, unit: str, today: date) -> date:
    """First day of the last `count` units up to today, the current one included ("last 12 months")."""
    back = count - 1
    if unit == "day":
        return today - timedelta(days=back)
    if unit == "week":
        return today - timedelta(days=today.weekday()) - timedelta(weeks=back)
    month = today.replace(day=1)
    if unit == "month":
        return month - relativedelta(months=back)
    if unit == "quarter":
        return month.replace(month=(month.month - 1) // 3 * 3 + 1) - relativedelta(months=3 * back)
    return month.replace(month=1) - relativedelta(years=back)


def _filter(view: KpiView, fields: dict[str, str], item: Any, field: str, today: date) -> Filter:
    if not isinstance(item, dict) or set(item) - {"column", "op", "value"}:
        _raise(field, 'a filter is {"column": ..., "op": ..., "value": ...}')
    column = _column(fields, item.get("column"), f"{field}.column", view)
    op = item.get("op")
    if op not in OPERATORS:
        _raise(f"{field}.op", f"op must be one of {', '.join(OPERATORS)}")
    kind = column_kind(fields, column)
    if op == "last" and kind != "date":
        _raise(f"{field}.op", f"'last' needs a date column; {column!r} is {fields[column]}")
    if kind in ("text", "boolean") and op not in ("=", "!=", "in"):
        _raise(f"{field}.op", f"{column!r} is {fields[column]}: use =, != or in")
    value = item.get("value")
    where = f"{field}.value"
    if op == "last":
        match = _RELATIVE.match(value) if isinstance(value, str) else None
        if not match or int(match.group(1)) < 1:
            _raise(where, "give a period such as '12 months' (day, week, month, quarter or year)")
        start = relative_start(int(match.group(1)), match.group(2), today)
        return Filter(column, op, (start, f"{int(match.group(1))} {match.group(2)}s"))
    if op == "in":
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_IN_VALUES:
            _raise(where, f"'in' takes a list of 1 to {MAX_IN_VALUES} values")
        return Filter(column, op, tuple(_typed(fields, column, v, f"{where}[{i}]") for i, v in enumerate(value)))
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            _raise(where, "'between' takes [low, high]")
        return Filter(column, op, tuple(_typed(fields, column, v, f"{where}[{i}]") for i, v in enumerate(value)))
    return Filter(column, op, (_typed(fields, column, value, where),))


def _list(payload: dict, key: str) -> list:
    value = payload.get(key)
    if value is None:
        return []
    if isinstance(value, str | dict) and key in ("dimensions", "sort"):
        value = [value]
    if not isinstance(value, list) or len(value) > 20:
        _raise(key, f"{key} must be a list of at most 20 items")
    return value


def question_build(*, payload: Any, filters: DashboardFilters | None = None, today: date | None = None) -> Question:
    """Validate a question (the API's body, or a saved widget's) against the KPI registry.

    payload: {"source", "dimensions": ["month" | {"column", "bucket"}], "measures": [{"column", "agg"}],
    "filters": [{"column", "op", "value"}], "sort": ["-sum_revenue"], "limit": 1000}. `filters` are a
    dashboard's (date range, rep, team), applied as every KPI read applies them.
    """
    if not isinstance(payload, dict):
        _raise("non_field_errors", "a question is a JSON object")
    unknown = set(payload) - {"source", "dimensions", "measures", "filters", "sort", "limit"}
    if unknown:
        _raise(sorted(unknown)[0][:40], "unknown field")
    source = payload.get("source")
    view = KPI_VIEWS.get(source) if isinstance(source, str) else None
    if view is None or view.internal:
        known = ", ".join(v.name for v in question_sources())
        _raise("source", f"{str(source)[:40]!r} is not a KPI view; known: {known}")
    # The attribute registry is read only when the question names an attribute (a saved widget's read stays as cheap
    # as a KPI read).
    names_attribute = ATTRIBUTE_PREFIX in json.dumps([payload.get(k) for k in ("dimensions", "measures", "filters")])
    fields = question_fields(view, attributes=names_attribute)
    dimensions = tuple(
        _dimension(view, fields, d, f"dimensions[{i}]") for i, d in enumerate(_list(payload, "dimensions"))
    )
    measures = tuple(_measure(view, fields, m, f"measures[{i}]") for i, m in enumerate(_list(payload, "measures")))
    if not dimensions and not measures:
        _raise("measures", "pick a measure or a dimension")
    names = [d.name for d in dimensions] + [m.name for m in measures]
    if len(set(names)) != len(names):
        _raise("dimensions" if len({d.name for d in dimensions}) != len(dimensions) else "measures", "each column once")
    _check_distinct(view, dimensions, measures)
    today = today or timezone.localdate()
    conditions = tuple(
        _filter(view, fields, f, f"filters[{i}]", today) for i, f in enumerate(_list(payload, "filters"))
    )
    if measures and any(m.column in (view.distinct or {}) for m in measures):
        members = membership_of(view)
        for i, f in enumerate(conditions):
            if f.column not in members.columns:
                _raise(f"filters[{i}].column", f"a distinct count cannot be filtered on {f.column!r}")
    sort = []
    for i, item in enumerate(_list(payload, "sort")):
        if not isinstance(item, str) or item.lstrip("-") not in names:
            shown = item[:40] if isinstance(item, str) else type(item).__name__
            _raise(f"sort[{i}]", f"{shown!r} is not an output column; sort by one of {', '.join(names)}")
        sort.append(item)
    limit = payload.get("limit", DEFAULT_LIMIT)
    if limit is None:
        limit = DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        _raise("limit", f"limit must be a whole number from 1 to {MAX_LIMIT:,}")
    base = kpi_query_build(view_name=view.name, filters=filters)
    return Question(
        view=view,
        base=base,
        dimensions=dimensions,
        measures=measures,
        filters=conditions,
        sort=tuple(sort) or tuple(d.name for d in dimensions),
        limit=limit,
        fields=fields,
    )


# An attribute read as its registered type; a value of another JSON type (which the writer refuses) reads as NULL.
_ATTRIBUTE_EXPRESSIONS = {
    "text": "({attributes} ->> %s)",
    "number": "(CASE WHEN jsonb_typeof({attributes} -> %s) = 'number' THEN ({attributes} ->> %s)::numeric END)",
    "date": (
        "(CASE WHEN ({attributes} ->> %s) ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' THEN ({attributes} ->> %s)::date END)"
    ),
    "boolean": "(CASE WHEN jsonb_typeof({attributes} -> %s) = 'boolean' THEN ({attributes} ->> %s)::boolean END)",
}


def _expression(question: Question, column: str) -> tuple[sql.Composable, list[Any]]:
    """A column (quoted) or an attribute (`attributes ->> key`, the key bound, cast to its registered type)."""
    if not column.startswith(ATTRIBUTE_PREFIX):
        return sql.Identifier(column), []
    key = column[len(ATTRIBUTE_PREFIX) :]
    template = _ATTRIBUTE_EXPRESSIONS[question.kind(column)]
    return sql.SQL(template).format(attributes=sql.Identifier("attributes")), [key] * template.count("%s")


def _filter_predicate(question: Question, f: Filter) -> tuple[sql.Composable, list[Any]]:
    column, params = _expression(question, f.column)
    if f.op == "last":
        return sql.SQL("{} >= %s").format(column), [*params, f.values[0]]
    if f.op == "in":
        return sql.SQL("{} = ANY(%s)").format(column), [*params, list(f.values)]
    if f.op == "between":
        return sql.SQL("{} BETWEEN %s AND %s").format(column), [*params, *f.values]
    return sql.SQL("{} " + COMPARISONS[f.op] + " %s").format(column), [*params, f.values[0]]


def question_statement(question: Question, scope_ids: frozenset[int] | None) -> tuple[sql.Composed, list[Any]]:
    """SELECT for one question. `scope_ids` come from the one row filter (None: every row). A question that a
    read-side aggregate for questions answers exactly (`question_aggregate_for`) reads it instead of every row."""
    if (aggregate := question_aggregate_for(question)) is not None:
        return _aggregate_statement(question, aggregate, scope_ids)
    view, base = question.view, question.base
    distinct = view.distinct or {}
    if question.counts_distinct:
        members = membership_of(view)
        source: sql.Composable = sql.Identifier(members.name)
        predicates, params = _where(members, scope_ids, members.date_column, base)
    elif view.rollup_of and (base.date_from or base.date_to):
        source, params = _dated_rollup(base, scope_ids)
        predicates = []
    else:
        source = sql.Identifier(view.name)
        predicates, params = _where(view, scope_ids, view.date_column, base)
    for f in question.filters:
        predicate, values = _filter_predicate(question, f)
        predicates.append(predicate)
        params += values

    select: list[sql.Composable] = []
    select_params: list[Any] = []  # the SELECT list comes first in the text: its values go first
    for d in question.dimensions:
        column, values = _expression(question, d.column)
        select_params += values
        if d.bucket:
            select.append(
                sql.SQL("date_trunc({}, {})::date AS {}").format(sql.Literal(d.bucket), column, sql.Identifier(d.name))
            )
        else:
            select.append(sql.SQL("{} AS {}").format(column, sql.Identifier(d.name)))
    for m in question.measures:
        aggregate, values = _aggregate(question, m, distinct)
        select_params += values
        select.append(sql.SQL("{} AS {}").format(aggregate, sql.Identifier(m.name)))
    params = select_params + params
    statement = sql.SQL("SELECT {} FROM {} WHERE {}").format(sql.SQL(", ").join(select), source, _and(predicates))
    if question.dimensions and question.measures:
        positions = [sql.Literal(i + 1) for i in range(len(question.dimensions))]
        statement += sql.SQL(" GROUP BY ") + sql.SQL(", ").join(positions)
    elif question.dimensions:
        statement = _distinct(statement)
    return sorted_and_limited(question, statement, params)


def sorted_and_limited(question: Question, statement: sql.Composed, params: list) -> tuple[sql.Composed, list]:
    """The statement with the question's ORDER BY (columns quoted, NULLs last) and its LIMIT bound."""
    if question.sort:
        statement += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(
            sql.SQL("{} DESC NULLS LAST" if s.startswith("-") else "{} ASC NULLS LAST").format(
                sql.Identifier(s.lstrip("-"))
            )
            for s in question.sort
        )
    statement += sql.SQL(" LIMIT %s")
    return statement, [*params, question.limit]


def _distinct(statement: sql.Composed) -> sql.Composed:
    """Dimensions without a measure: their distinct values."""
    return sql.SQL("SELECT DISTINCT * FROM ({}) AS question_values").format(statement)


def _aggregate(question: Question, m: Measure, distinct: dict) -> tuple[sql.Composable, list[Any]]:
    if m.column is None:
        return sql.SQL("count(*)"), []
    column, params = _expression(question, m.column)
    return _aggregate_of(question, m, distinct, column), params


def _aggregate_of(question: Question, m: Measure, distinct: dict, column: sql.Composable) -> sql.Composable:
    if m.column in distinct:
        spec = distinct[m.column]
        entity, where = (spec, None) if isinstance(spec, str) else (spec["of"], spec.get("where"))
        counted = sql.SQL("count(DISTINCT {})").format(sql.Identifier(entity))
        if where:
            counted += sql.SQL(" FILTER (WHERE {})").format(sql.Identifier(where))
        return counted
    if m.agg == "count":
        return sql.SQL("count({})").format(column)
    if m.agg == "count_distinct":
        return sql.SQL("count(DISTINCT {})").format(column)
    kind = question.kind(m.column)
    expression = sql.SQL(m.agg + "({})").format(column)  # agg is one of AGGREGATIONS
    if m.agg == "avg" or kind == "money":
        # Money is exact in the KPI tables; callers get cents, rounded after aggregating.
        return sql.SQL("round({}, 2)").format(expression)
    if kind == "integer" and m.agg == "sum":
        return sql.SQL("{}::bigint").format(expression)  # a count stays an integer
    return expression


# Buckets of the dataset's date that a monthly aggregate's month answers: a month's orders are in one of each.
_MONTHLY_BUCKETS = ("month", "quarter", "year")


def question_aggregate_for(question: Question) -> KpiView | None:
    """A read-side aggregate for questions (registry `for_questions`: per month and rep, each amount's sum and count
    of values, and the rows) that answers the question exactly, or None; the first in registry order (the monthly
    one, fewer rows, before the weekly one). It does when the question:
    - groups only by the rep (scope column), the aggregate's month (any bucket), or the dataset's date by month,
      quarter or year, or by week when the aggregate keeps the week (`week_column`);
    - counts rows, or sums, counts or averages the aggregate's amounts (no min, max or distinct count);
    - filters only on the rep, the month, or the dataset's date as "last N months, quarters or years" (their start
      is the first day of a month), or "last N weeks" (a Monday) when it keeps the week;
    - has no dashboard date range, or one of whole months; and names no attribute.
    """
    if not question.measures or question.counts_distinct:
        return None
    for aggregate in aggregates_of(question.view):
        if aggregate.for_questions and _aggregate_answers(question, aggregate):
            return aggregate
    return None


def _date_buckets(aggregate: KpiView) -> tuple[str, ...]:
    """The buckets of the dataset's date the aggregate's rows fall in whole."""
    return _MONTHLY_BUCKETS + (("week",) if aggregate.week_column else ())


def _aggregate_answers(question: Question, aggregate: KpiView) -> bool:
    dated = question.view.date_column
    month, rep = aggregate.date_column, aggregate.scope_column
    buckets = _date_buckets(aggregate)
    for d in question.dimensions:
        if not (
            (d.column == rep and d.bucket is None) or d.column == month or (d.column == dated and d.bucket in buckets)
        ):
            return False
    for m in question.measures:
        if m.column is None and m.agg == "count":
            continue
        if m.agg not in ("sum", "count", "avg") or m.column not in aggregate.measures:
            return False
        if f"{m.column}_count" not in aggregate.columns:
            return False
    for f in question.filters:
        if f.column in (rep, month):
            continue
        if f.column == dated and f.op == "last" and f.values[1].split()[1].rstrip("s") in buckets:
            continue
        return False
    base = question.base
    if base.date_from and base.date_from.day != 1:
        return False
    return not (base.date_to and (base.date_to + timedelta(days=1)).day != 1)


def _aggregate_statement(
    question: Question, aggregate: KpiView, scope_ids: frozenset[int] | None
) -> tuple[sql.Composed, list[Any]]:
    """`question_statement` over the aggregate: the same columns, types, rows and order."""
    dated, month = question.view.date_column, sql.Identifier(aggregate.date_column)
    predicates, params = _where(aggregate, scope_ids, aggregate.date_column, question.base)
    week = sql.Identifier(aggregate.week_column) if aggregate.week_column else None
    for f in question.filters:
        if f.column == dated:  # "last N months": from the first day of a month, which is its month's; weeks: a Monday
            by_week = f.values[1].split()[1].rstrip("s") == "week"
            predicates.append(sql.SQL("{} >= %s").format(week if by_week else month))
            params.append(f.values[0])
        else:
            predicate, values = _filter_predicate(question, f)
            predicates.append(predicate)
            params += values
    select: list[sql.Composable] = []
    for d in question.dimensions:
        column = month if d.column in (dated, aggregate.date_column) else sql.Identifier(d.column)
        if d.column == dated and d.bucket == "week":
            column = week  # its Monday already (no date_trunc: a cast to timestamptz per row)
        elif d.bucket:
            column = sql.SQL("date_trunc({}, {})::date").format(sql.Literal(d.bucket), column)
        select.append(sql.SQL("{} AS {}").format(column, sql.Identifier(d.name)))
    for m in question.measures:
        select.append(sql.SQL("{} AS {}").format(_aggregate_total(question, m), sql.Identifier(m.name)))
    statement = sql.SQL("SELECT {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(select), sql.Identifier(aggregate.name), _and(predicates)
    )
    if question.dimensions:
        statement += sql.SQL(" GROUP BY ") + sql.SQL(", ").join(
            sql.Literal(i + 1) for i in range(len(question.dimensions))
        )
    return sorted_and_limited(question, statement, params)


def _aggregate_total(question: Question, m: Measure) -> sql.Composable:
    """A measure from the aggregate's sums and counts, rounded and typed as `_aggregate_of` rounds and types it."""
    if m.column is None:
        return sql.SQL("COALESCE(sum({}), 0)::bigint").format(sql.Identifier("order_count"))
    total, values = sql.Identifier(m.column), sql.Identifier(f"{m.column}_count")
    if m.agg == "count":
        return sql.SQL("COALESCE(sum({}), 0)::bigint").format(values)
    if m.agg == "avg":
        return sql.SQL("round(sum({}) / NULLIF(sum({}), 0), 2)").format(total, values)
    kind = question.kind(m.column)
    if kind == "money":
        return sql.SQL("round(sum({}), 2)").format(total)
    if kind == "integer":
        return sql.SQL("sum({})::bigint").format(total)
    return sql.SQL("sum({})").format(total)
