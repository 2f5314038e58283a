"""The registry of KPI views: each is declared once, in `dashboards/kpi/sql/`, as NAME.sql (what it selects)
with NAME.toml beside it (columns, key, strategy, scope, schedule...), which `_load_declarations` reads.
`manage.py kpi_makemigration` writes the DDL of a declared view into a migration (`dashboards.kpi.ddl`).

Dashboards read only these views, always through the one row-filtering function in
`dashboards.selectors`, which filters on `scope_column` (a canonical employee id) when it is set.

Storage (see docs/KPI.md): every KPI view is a plain summary TABLE named `name`, created by a migration
(0002 and later, or one written by `kpi_makemigration`) with a unique index on `key`. Tables, not materialized
views, because PostgreSQL cannot put row-level-security policies on a materialized view, and because the
incremental refresh is done by the application (delete-and-insert of the touched partitions in one
transaction); a full refresh rebuilds the whole table in one transaction. Readers are never blocked
(MVCC): they see the previous rows until the refresh commits.

Revenue rule (the one place it is defined is the SQL function `kpi_line_revenue` and the SQL view
`kpi_order_revenue`, created by migration 0002, line totals since 0015): a line earns its amount when the
file gave it, else quantity * unit_price * (1 - discount); an order's revenue is the sum over its order
lines when it has lines, else the order's `amount`.

Strategies:
- "incremental" with `partition_key="month"`: the SQL file selects the rows of the months in
  `%(months)s` (or every month when `%(all)s`); a refresh deletes those months and inserts them again.
- "incremental" with `rollup_of=<helper view>`: a per-entity view (top customers, top products) summed
  from a month-partitioned helper. A refresh recomputes the touched months of the helper and adds the
  difference (new minus old contribution) to the per-entity rows, so its cost follows the size of the
  change, not the number of entities the change touches.
- "full": the SQL file selects every row; a refresh replaces the table's content.

Read-side aggregates (`aggregate_of`): a view's rows summed over fewer dimensions (no sales rep: an executive's
all-rows read; no month: a read without a date range). The read picks one when it holds every column a query
groups, sums and filters on (`dashboards.kpi.query`); the view's refresh keeps them in its transaction. Team
aggregates (`team_of`): a per-entity view's rows summed over every rep below each manager, read when the caller's
scope equals a team of the hierarchy snapshot kept beside them (`TEAM_SNAPSHOTS`); `first_line_teams` keeps
first-line teams only where the entities are many, `teams_below_top` every team but the top's (docs/KPI.md, "Team
aggregates").
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


@dataclass(frozen=True)
class KpiView:
    name: str  # relation name in PostgreSQL (a summary table), e.g. "monthly_revenue"
    description: str
    columns: dict[str, str]  # column -> type (date, text, integer, money, number, boolean, json)
    depends_on: tuple[str, ...]  # canonical tables
    strategy: str = "full"  # "incremental" (by partition_key) or "full"
    partition_key: str | None = None  # "month" for month-partitioned views
    scope_column: str | None = None  # employee id column that row-level access filters on
    date_column: str | None = None  # column dashboard date-range filters apply to
    refresh_interval: timedelta = timedelta(hours=24)
    max_staleness: timedelta = timedelta(hours=26)
    default_order: tuple[str, ...] = ()
    key: tuple[str, ...] = ()  # unique key of a row (unique index, NULLS NOT DISTINCT)
    rollup_of: str | None = None  # per-entity view summed from this month-partitioned helper view
    measures: tuple[str, ...] = ()  # additive columns (rollup views)
    count_column: str | None = None  # rollup views: a row whose count reaches 0 is removed
    internal: bool = False  # helper views: refreshed with their rollup, not shown to dashboards
    reads: tuple[str, ...] = ()  # stored helper tables the SQL reads (order facts), brought up to date first
    aggregate_of: str | None = None  # read-side aggregate: that view's rows summed over fewer columns
    # Team aggregate (read-side): the parent's rows summed over every employee below each manager, whose
    # employee column (the parent's scope column) this names; its own scope column is `team_id`.
    team_of: str | None = None
    # Team aggregate: only first-line teams (an employee whose reports manage no one: a sales manager and their
    # reps), not every level up to the CEO. Fewer rows to keep where the entities are many (customers).
    first_line_teams: bool = False
    # With `first_line_teams`: also every team whose own employee has a manager (a VP's, a director's), so that a VP's
    # ranking reads its first N entries too. Not the top's (every employee): it would hold every entity once more
    # and take a row of every change, for a scope that executives read from the all-reps aggregate anyway.
    teams_below_top: bool = False
    # Columns that are NULL when the data cannot tell them (cost of goods without product costs), and what a
    # widget showing only such columns says when every value it has is unknown, instead of drawing nothing.
    unknown_columns: tuple[str, ...] = ()
    unknown_message: str = ""
    # Measures that count distinct entities (customer_count = "customer_id"): a count per month cannot be summed
    # over months or reps (a customer ordering in two months would count twice), so a grouped read counts them
    # from the view's membership table (an aggregate with `membership`), distinct over the rows it reads. A measure
    # may count only the rows where a boolean column holds: {of = "customer_id", where = "is_new"}.
    distinct: dict[str, str | dict[str, str]] | None = None
    # Membership table of its `aggregate_of` view: one row per group of the view and entity, selected from the
    # order facts (not summed from the view), refreshed by the same months in the view's transaction.
    membership: bool = False
    # A dataset (docs/DASHBOARDS.md, "Datasets"): one row per canonical fact joined to its dimensions, kept like
    # any view, for questions over the facts themselves. `attributes_of`: the canonical table whose attribute
    # keys (`canonical.selectors.attribute_keys`) its `attributes` column holds.
    dataset: bool = False
    label: str = ""
    attributes_of: str | None = None
    # A question kept ready (`dashboards.kpi.kept`): a read-side aggregate of its source that only the question
    # reads (never picked for a widget's query), declared at run time with its SQL text.
    kept: bool = False
    sql_text: str = ""
    # A read-side aggregate for questions over its `aggregate_of` dataset (`dashboards.kpi.question`): sums of the
    # dataset's amounts under their own names, `<name>_count` the count of their values, `order_count` the rows.
    for_questions: bool = False
    # Such an aggregate's column holding the week (its Monday) of the dataset's date: it answers questions by week too.
    week_column: str | None = None
    # The view of the revenue in no month (undated_revenue: lines whose order has no date yet), which this month
    # view's widgets mention beside their rows.
    undated: str | None = None
    # An aggregate summed from this membership table (its rows summed over their date column), not from the view:
    # the all-time membership (one row per group and entity), which counts the distinct entities of a read without a
    # date range from far fewer rows than the month-by-month one.
    summed_from: str | None = None
    # The distinct measures this table stores (those of its view's `distinct` it has as columns) are exact per row
    # (its key), counted over this all-time membership table: a read of groups of one row takes them as they are
    # (`dashboards.kpi.query`). An aggregate's refresh counts them after its sums (its SQL file leaves them NULL:
    # distinct counts do not add up).
    distinct_from: str | None = None
    # The first steps this view shares with another: its SQL file continues the WITH clause of `sql/ctes/NAME.sql`
    # (a fixed file of the project, prepended by the refresh engine's `view_sql`).
    ctes: str | None = None

    @property
    def sql_file(self) -> str:
        return f"{self.name}.sql"


KPI_VIEWS: dict[str, KpiView] = {}

# The canonical tables whose touched months (execution report) bound a month-partitioned refresh.
# A dependency touched without months (e.g. a customers file) makes the refresh of that view full.
MONTH_SOURCES = ("canonical_orders", "canonical_order_lines", "canonical_expenses")


def register(view: KpiView) -> KpiView:
    KPI_VIEWS[view.name] = view
    return view


def get_view(name: str) -> KpiView:
    try:
        return KPI_VIEWS[name]
    except KeyError:
        raise KeyError(f"unknown KPI view {name!r}") from None


def date_filter_column(view: KpiView) -> str | None:
    """The column a dashboard's date range filters on: the view's own, or for a per-entity rollup (top
    customers, top products: all time) its month-partitioned helper's, which a dated read sums instead."""
    if view.date_column:
        return view.date_column
    if view.rollup_of:
        return get_view(view.rollup_of).date_column
    return None


def aggregates_of(view: KpiView) -> list[KpiView]:
    """The read-side aggregates of a view, in registry order (kept by the view's refresh, read by selectors)."""
    return [v for v in KPI_VIEWS.values() if v.aggregate_of == view.name]


def team_aggregate_of(view: KpiView) -> KpiView | None:
    """The view's team aggregate ("Team aggregates" below), if it has one (a kept question's team rows are only its
    question's: `dashboards.kpi.kept`)."""
    return next((v for v in aggregates_of(view) if v.team_of and not v.kept), None)


def membership_of(view: KpiView) -> KpiView | None:
    """The view's membership table (`distinct` measures are counted from it), if it has one: the one dated like the
    view (month by month), which any date range can be counted from."""
    members = [v for v in aggregates_of(view) if v.membership]
    return next((v for v in members if v.date_column == view.date_column), members[0] if members else None)


def all_time_membership_of(view: KpiView) -> KpiView | None:
    """The view's undated membership table (one row per group and entity, all time), if it has one."""
    return next((v for v in aggregates_of(view) if v.membership and v.date_column is None), None)


def stored_distinct(table: KpiView) -> dict[str, str | dict[str, str]]:
    """The distinct measures a table with `distinct_from` stores: its own view's, or its parent view's it has."""
    if not table.distinct_from:
        return {}
    parent = get_view(table.aggregate_of) if table.aggregate_of else table
    return {m: spec for m, spec in (parent.distinct or {}).items() if m in table.columns}


def team_stored_distinct(team: KpiView) -> dict[str, str | dict[str, str]]:
    """The distinct measures a team aggregate stores: its view's it has as columns, counted per team and group by
    its own SQL file from the view's membership table (exact for a group of one row: its key without the team)."""
    if not team.team_of:
        return {}
    return {m: spec for m, spec in (get_view(team.aggregate_of).distinct or {}).items() if m in team.columns}


def distinct_counted_of(view: KpiView) -> list[KpiView]:
    """The aggregates of the view, then the view, that store exact distinct counts per row (`distinct_from`), in
    registry order (a read takes the first that answers it)."""
    return [v for v in (*aggregates_of(view), view) if v.distinct_from]


def public_views() -> list[KpiView]:
    """The views dashboards may read (helpers excluded), in registry order."""
    return [v for v in KPI_VIEWS.values() if not v.internal]


def refresh_order() -> list[KpiView]:
    """Every view, helpers before the views rolled up from them."""
    ordered: list[KpiView] = []
    for view in KPI_VIEWS.values():
        if view.rollup_of and get_view(view.rollup_of) not in ordered:
            ordered.append(get_view(view.rollup_of))
        if view not in ordered:
            ordered.append(view)
    return ordered


def base_views() -> list[KpiView]:
    """Stored helper tables that other views read (`reads`), e.g. the order facts, in registry order."""
    read = {name for view in KPI_VIEWS.values() for name in view.reads}
    return [v for v in KPI_VIEWS.values() if v.name in read]


def bases_of(view: KpiView) -> list[KpiView]:
    """The base tables a refresh of `view` reads, its rollup helper's included."""
    names = list(view.reads)
    if view.rollup_of:
        names += [n for n in get_view(view.rollup_of).reads if n not in names]
    return [get_view(n) for n in names]


ORDER_FACTS = "kpi_order_facts"
TEAM_SNAPSHOTS = "kpi_team_snapshots"
HIERARCHY = "canonical_employees"
SQL_DIR = Path(__file__).resolve().parent / "sql"
CTES_DIR = SQL_DIR / "ctes"
_TUPLES = ("depends_on", "default_order", "key", "measures", "reads", "unknown_columns")


def kpi_view_from_declaration(name: str, declaration: dict) -> KpiView:
    """A KpiView from the metadata of NAME.toml (`order` only ranks the views)."""
    fields = {k: v for k, v in declaration.items() if k != "order"}
    for key in _TUPLES:
        if key in fields:
            fields[key] = tuple(fields[key])
    if "refresh_hours" in fields:
        fields["refresh_interval"] = timedelta(hours=fields.pop("refresh_hours"))
    if "max_staleness_hours" in fields:
        fields["max_staleness"] = timedelta(hours=fields.pop("max_staleness_hours"))
    return KpiView(name=name, **fields)


def _load_declarations(directory: Path = SQL_DIR) -> list[str]:
    """Register every view declared in `directory` (NAME.toml with NAME.sql), in their `order`; their names."""
    declarations = {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in directory.glob("*.toml")}
    names = sorted(declarations, key=lambda n: (declarations[n]["order"], n))
    for name in names:
        if not (directory / f"{name}.sql").is_file():
            raise FileNotFoundError(f"KPI view {name} is declared in {name}.toml but has no {name}.sql")
        ctes = declarations[name].get("ctes")
        if ctes and not (directory / "ctes" / f"{ctes}.sql").is_file():
            raise FileNotFoundError(f"KPI view {name} continues ctes/{ctes}.sql, which is not there")
        register(kpi_view_from_declaration(name, declarations[name]))
    return names


# The views declared by files (tests register views of their own at run time).
DECLARED_VIEWS: tuple[str, ...] = tuple(_load_declarations())
