"""Questions kept ready: a question's summary table, kept by the refresh engine as a read-side aggregate of its
source, so that reading the question costs what a KPI read costs.

The summary holds the question's groups per month and employee (the scope column), with each measure in parts that
add up over months and employees (sum, count, min, max; an average is a sum and a count). A read groups those rows
again under the caller's scope: the one row filter (`dashboards.selectors._effective_ids`) gives the ids, `_where`
the bound predicate, and the table carries the same RLS policy as every KPI table. Filters with fixed values are
part of the summary; a relative date ("last 12 months") is kept as its column truncated to the unit (the start of
"last N units" is the first day of a unit, so `trunc(date) >= start` is `date >= start`) and applied when read.
A dashboard's date range is served when it covers whole months (or there is none); any other range reads the source.

Team rows: beside a summary with a scope column, `<name>_teams` holds the same groups summed over every employee
below each manager (a team of the hierarchy snapshot, as the KPI views' team aggregates: `kpi_team_snapshots`), summed
from the summary's own rows by the same refresh. A read whose employee ids are exactly a team's members (a manager's or
a VP's own scope) reads that team's rows: one row per group, not one per group and employee. Which branch runs is
decided inside the statement against the snapshot, as `dashboards.kpi.query.kpi_statement` decides it.

The summary's SQL is text (the engine runs a view's SQL with `{source}` filled in): columns and attribute keys come
from the allow-listed question, values are quoted by psycopg (`sql.Literal`); braces are doubled for the engine's
`{source}` formatting, and a value holding '%' (a placeholder to the engine) is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from django.db import connection
from psycopg import sql

from dashboards.kpi.query import _and, _where, team_found
from dashboards.kpi.question import Filter, Measure, Question, _expression, _filter_predicate, sorted_and_limited
from dashboards.kpi.registry import KPI_VIEWS, KpiView, kpi_view_from_declaration, register

KEEP_READY_MS = 200  # a saved question whose live read takes longer is offered to be kept ready
KEEPABLE = {"sum", "count", "min", "max", "avg"}
_PARTS = {"sum": ("sum",), "count": ("count",), "min": ("min",), "max": ("max",), "avg": ("sum", "count")}
# A part summed again over employees: a sum and a count add up, a min and a max are taken again.
_PART_COLUMN = re.compile(r"^m\d+_(sum|count|min|max)$")
_PART_TOTAL = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}
TEAMS_SUFFIX = "_teams"


def kept_problem(question: Question) -> str | None:
    """Why the question cannot be kept ready (None when it can)."""
    view = question.view
    if view.rollup_of or view.distinct or view.kept or view.internal:
        return f"{view.name} is read from its own summaries already"
    if view.strategy == "incremental" and view.partition_key != "month":
        return f"{view.name} is not kept by month"
    if not question.measures:
        return "only a question with a measure can be kept ready"
    for m in question.measures:
        if m.agg not in KEEPABLE:
            return f"{m.name}: a distinct count does not add up over months and people; it cannot be kept ready"
    return None


def _literal_text(statement: sql.Composable) -> str:
    return statement.as_string(connection.connection)


def _inline(statement: sql.Composable, params: list[Any]) -> sql.Composable:
    """`statement` with its %s placeholders replaced by the values, quoted by psycopg."""
    text = _literal_text(statement)
    parts = text.split("%s")
    if len(parts) != len(params) + 1:  # pragma: no cover - the compiler's placeholders are its own
        raise ValueError("placeholder count mismatch")
    out: list[sql.Composable] = [sql.SQL(parts[0])]
    for value, part in zip(params, parts[1:], strict=True):
        out += [sql.Literal(value), sql.SQL(part)]
    return sql.Composed(out)


def _month_expression(view: KpiView) -> sql.Composable | None:
    if view.partition_key:
        return sql.Identifier(view.partition_key)
    if view.date_column:
        return sql.SQL("date_trunc('month', {}::timestamp)::date").format(sql.Identifier(view.date_column))
    return None


def _relative(question: Question) -> list[tuple[int, Filter, str]]:
    """The relative-date filters (`last`), with the unit their start is the first day of."""
    return [(i, f, f.values[1].split()[1].rstrip("s")) for i, f in enumerate(question.filters) if f.op == "last"]


def kept_name(question: Question) -> str:
    """The summary's table name: a hash of what it holds (not its sort, limit, or a relative filter's count)."""
    payload = question.payload()
    payload.pop("sort", None)
    payload.pop("limit", None)
    for f in payload["filters"]:
        if f["op"] == "last":
            f["value"] = f["value"].split()[1]
    text = json.dumps(payload, sort_keys=True, default=str)
    return "kept_" + hashlib.sha256(text.encode()).hexdigest()[:24]


def _part_name(i: int, part: str) -> str:
    return f"m{i}_{part}"


def kept_declaration(question: Question) -> dict:
    """The summary's KPI view declaration (as `kpi_view_from_declaration` takes it), its SQL over `{source}`."""
    problem = kept_problem(question)
    if problem:
        raise ValueError(problem)
    view = question.view
    columns: dict[str, str] = {}
    select: list[sql.Composable] = []
    month = _month_expression(view)
    if month is not None:
        columns["month"] = "date"
        select.append(sql.SQL("{} AS month").format(month))
    if view.scope_column:
        columns[view.scope_column] = view.columns[view.scope_column]
        select.append(sql.Identifier(view.scope_column))
    for d in question.dimensions:
        expression, params = _expression(question, d.column)
        expression = _inline(expression, params)
        if d.bucket:
            expression = sql.SQL("date_trunc({}, {})::date").format(sql.Literal(d.bucket), expression)
        name = f"dim_{d.name}"
        columns[name] = "date" if d.bucket else question.kind(d.column)
        select.append(sql.SQL("{} AS {}").format(expression, sql.Identifier(name)))
    for i, f, unit in _relative(question):
        expression = _inline(*_expression(question, f.column))
        columns[f"last_{i}"] = "date"
        select.append(
            sql.SQL("date_trunc({}, {})::date AS {}").format(sql.Literal(unit), expression, sql.Identifier(f"last_{i}"))
        )
    groups = len(select)
    for i, m in enumerate(question.measures):
        expression = sql.SQL("*") if m.column is None else _inline(*_expression(question, m.column))
        kind = "integer" if m.column is None else question.kind(m.column)
        for part in _PARTS[m.agg]:
            columns[_part_name(i, part)] = "integer" if part == "count" else kind
            select.append(sql.SQL(part + "({}) AS {}").format(expression, sql.Identifier(_part_name(i, part))))
    predicates = [_inline(*_filter_predicate(question, f)) for f in question.filters if f.op != "last"]
    statement = sql.SQL("SELECT {} FROM {{source}} WHERE {}").format(sql.SQL(", ").join(select), _and(predicates))
    if groups:
        statement += sql.SQL(" GROUP BY ") + sql.SQL(", ").join(sql.Literal(n + 1) for n in range(groups))
    text = _literal_text(statement)
    if "%" in text:
        raise ValueError("a filter value holds '%': this question cannot be kept ready")
    # The engine formats the text with {source}: every other brace (a date pattern, a value) is doubled.
    text = text.replace("{", "{{").replace("}", "}}").replace("{{source}}", "{source}")
    declaration = {
        "description": f"Kept-ready question over {view.name}.",
        # Pairs, not an object: jsonb does not keep an object's key order, and the columns follow the SQL's.
        "columns": [[name, kind] for name, kind in columns.items()],
        "depends_on": list(view.depends_on),
        "strategy": view.strategy,
        "partition_key": "month" if view.partition_key else None,
        "scope_column": view.scope_column,
        "date_column": "month" if month is not None else None,
        "aggregate_of": view.name,
        "internal": True,
        "kept": True,
        "sql_text": text,
    }
    teams = kept_teams_declaration(kept_name(question), declaration)
    return {**declaration, "teams": teams} if teams else declaration


def kept_teams_name(name: str) -> str:
    return name + TEAMS_SUFFIX


def kept_teams_declaration(name: str, declaration: dict) -> dict | None:
    """The declaration of a summary's team rows (None when the summary has no scope column): its groups and parts
    summed from the summary's rows (`{source}`: the summary, or its refreshed months) over each team's members."""
    scope = declaration.get("scope_column")
    if not scope:
        return None
    kept = sql.Identifier(name)
    columns: list[list[str]] = [["team_id", "integer"]]
    groups: list[sql.Composable] = [sql.SQL("m.team_id")]
    totals: list[sql.Composable] = []
    for column, kind in declaration["columns"]:
        if column == scope:
            continue
        columns.append([column, kind])
        part = _PART_COLUMN.match(column)
        if part is None:
            groups.append(sql.SQL("{}.{}").format(kept, sql.Identifier(column)))
        else:
            totals.append(
                sql.SQL(_PART_TOTAL[part.group(1)] + "({}.{}) AS {}").format(
                    kept, sql.Identifier(column), sql.Identifier(column)
                )
            )
    statement = sql.SQL("SELECT {} FROM {{source}} JOIN {{members}} m ON m.employee_id = {}.{} GROUP BY {}").format(
        sql.SQL(", ").join(groups + totals),
        kept,
        sql.Identifier(scope),
        sql.SQL(", ").join(sql.Literal(n + 1) for n in range(len(groups))),
    )
    return {
        "description": f"Team rows of the kept-ready question {name}.",
        "columns": columns,
        "depends_on": list(declaration["depends_on"]),
        "strategy": declaration["strategy"],
        "partition_key": declaration["partition_key"],
        "scope_column": "team_id",
        "date_column": declaration["date_column"],
        "aggregate_of": declaration["aggregate_of"],
        "team_of": scope,
        "summed_from": name,  # summed from the summary's rows, not from the source's
        "internal": True,
        "kept": True,
        "sql_text": _literal_text(statement),
    }


def _declared(name: str, declaration: dict) -> KpiView:
    fields = {k: v for k, v in declaration.items() if k != "teams"}
    return kpi_view_from_declaration(name, {**fields, "columns": dict(declaration["columns"])})


def kept_register(name: str, declaration: dict) -> KpiView:
    """Register a kept question's summary, and its team rows when it has them, in the KPI registry (idempotent).

    The team rows are registered after the summary: a refresh keeps the aggregates in registry order, and the team
    rows are summed from the summary's."""
    if name not in KPI_VIEWS:
        register(_declared(name, declaration))
    teams = declaration.get("teams")
    if teams and kept_teams_name(name) not in KPI_VIEWS:
        register(_declared(kept_teams_name(name), teams))
    return KPI_VIEWS[name]


def kept_tables(name: str, declaration: dict) -> list[str]:
    """The tables of a kept summary: its own, and its team rows' when it has them."""
    return [name, kept_teams_name(name)] if declaration.get("teams") else [name]


def kept_views_load(source: str | None = None) -> None:
    """Bring this process's registry in line with the kept questions (of `source`): register the new ones, forget
    the ones whose row is gone (so a refresh never writes a summary that no longer exists). One query."""
    from dashboards.models import KeptQuestion

    rows = KeptQuestion.objects.all() if source is None else KeptQuestion.objects.filter(source=source)
    declarations = dict(rows.values_list("name", "declaration"))
    known = {table for name, declaration in declarations.items() for table in kept_tables(name, declaration)}
    for name, view in list(KPI_VIEWS.items()):
        if view.kept and (source is None or view.aggregate_of == source) and name not in known:
            del KPI_VIEWS[name]
    for name, declaration in declarations.items():
        kept_register(name, declaration)


def kept_view_for(name: str) -> KpiView | None:
    """A kept summary by name, registered from its row when this process has not seen it yet."""
    if name not in KPI_VIEWS:
        from dashboards.models import KeptQuestion

        row = KeptQuestion.objects.filter(name=name).values_list("declaration", flat=True).first()
        if row is None:
            return None
        kept_register(name, row)
    return KPI_VIEWS[name]


def _whole_months(question: Question) -> bool:
    base = question.base
    if base.date_from and base.date_from.day != 1:
        return False
    return not (base.date_to and (base.date_to + timedelta(days=1)).day != 1)


def kept_serves(question: Question) -> bool:
    """Whether the question's summary answers it exactly (its dashboard date range covers whole months)."""
    kept = question.kept
    if kept is None:
        return False
    if (question.base.date_from or question.base.date_to) and "month" not in kept.columns:
        return False
    return _whole_months(question)


def kept_statement(question: Question, scope_ids: frozenset[int] | None) -> tuple[sql.Composed, list[Any]]:
    """SELECT of a kept question from its summary: the same columns, rows and order as `question_statement`.

    With team rows and a scoped read, one statement of two branches of which exactly one runs (each gated from
    outside by a one-time filter, as `kpi_statement`'s): the team's rows when the employee ids are exactly the members
    of a team in the team rows' snapshot, else the summary's rows of those employees."""
    kept = question.kept
    usual, usual_params = _kept_select(question, kept, scope_ids, [])
    teams = KPI_VIEWS.get(kept_teams_name(kept.name))
    if teams is None or not scope_ids:
        return usual, usual_params
    found, found_params = team_found(teams.name, scope_ids)
    on_team = sql.SQL("team_id = (SELECT min(team_id) FROM kpi_team)")
    team_read, team_params = _kept_select(question, teams, None, [on_team])
    statement = found + sql.SQL(
        "SELECT * FROM ({}) AS kept_team_read WHERE EXISTS (SELECT 1 FROM kpi_team) "
        "UNION ALL SELECT * FROM ({}) AS kept_usual_read WHERE NOT EXISTS (SELECT 1 FROM kpi_team)"
    ).format(team_read, usual)
    return statement, [*found_params, *team_params, *usual_params]


def _kept_select(
    question: Question, table: KpiView, scope_ids: frozenset[int] | None, extra: list[sql.Composable]
) -> tuple[sql.Composed, list[Any]]:
    """The question's SELECT over a kept table (the summary or its team rows) under `scope_ids` and `extra`."""
    predicates, params = _where(table, scope_ids, table.date_column, question.base)
    predicates += extra
    for i, f, _unit in _relative(question):
        predicates.append(sql.SQL("{} >= %s").format(sql.Identifier(f"last_{i}")))
        params.append(f.values[0])
    select: list[sql.Composable] = [
        sql.SQL("{} AS {}").format(sql.Identifier(f"dim_{d.name}"), sql.Identifier(d.name)) for d in question.dimensions
    ]
    for i, m in enumerate(question.measures):
        select.append(sql.SQL("{} AS {}").format(_reaggregate(question, i, m), sql.Identifier(m.name)))
    statement = sql.SQL("SELECT {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(select), sql.Identifier(table.name), _and(predicates)
    )
    if question.dimensions:
        statement += sql.SQL(" GROUP BY ") + sql.SQL(", ").join(
            sql.Literal(n + 1) for n in range(len(question.dimensions))
        )
    return sorted_and_limited(question, statement, params)


def _reaggregate(question: Question, i: int, m: Measure) -> sql.Composable:
    """A measure from its parts, rounded and typed as `question_statement` rounds and types it."""

    def part(name: str) -> sql.Identifier:
        return sql.Identifier(_part_name(i, name))

    if m.agg == "count":
        return sql.SQL("sum({})::bigint").format(part("count"))
    if m.agg == "avg":
        return sql.SQL("round(sum({}) / NULLIF(sum({}), 0), 2)").format(part("sum"), part("count"))
    kind = question.kind(m.column or "")
    expression = sql.SQL("min({})" if m.agg == "min" else "max({})" if m.agg == "max" else "sum({})").format(
        part(m.agg)
    )
    if kind == "money":
        return sql.SQL("round({}, 2)").format(expression)
    if kind == "integer" and m.agg == "sum":
        return sql.SQL("{}::bigint").format(expression)
    return expression
