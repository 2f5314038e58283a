"""The registry of KPI views: each is a SQL file in `dashboards/kpi/sql/` plus this declaration.

Dashboards read only these views, always through the one row-filtering function in
`dashboards.selectors`, which filters on `scope_column` (a canonical employee id) when it is set.

Storage (see docs/KPI.md): every KPI view is a plain summary TABLE named `name`, created by
`dashboards/migrations/0002_kpi_views.py` with a unique index on `key`. Tables, not materialized views,
because PostgreSQL cannot put row-level-security policies on a materialized view, and because the
incremental refresh is done by the application (delete-and-insert of the touched partitions in one
transaction); a full refresh rebuilds the whole table in one transaction. Readers are never blocked
(MVCC): they see the previous rows until the refresh commits.

Revenue rule (the one place it is defined is the SQL function `kpi_line_revenue` and the SQL view
`kpi_order_revenue`, both created by migration 0002): an order's revenue is
sum(quantity * unit_price * (1 - discount)) over its order lines when it has lines, else the order's
`amount`.

Strategies:
- "incremental" with `partition_key="month"`: the SQL file selects the rows of the months in
  `%(months)s` (or every month when `%(all)s`); a refresh deletes those months and inserts them again.
- "incremental" with `rollup_of=<helper view>`: a per-entity view (top customers, top products) summed
  from a month-partitioned helper. A refresh recomputes the touched months of the helper and adds the
  difference (new minus old contribution) to the per-entity rows, so its cost follows the size of the
  change, not the number of entities the change touches.
- "full": the SQL file selects every row; a refresh replaces the table's content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class KpiView:
    name: str  # relation name in PostgreSQL (a summary table), e.g. "monthly_revenue"
    description: str
    columns: dict[str, str]  # column -> type (date, text, integer, money, number, boolean)
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
    # Columns that are NULL when the data cannot tell them (cost of goods without product costs), and what a
    # widget showing only such columns says when every value it has is unknown, instead of drawing nothing.
    unknown_columns: tuple[str, ...] = ()
    unknown_message: str = ""

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
    """The view's team aggregate ("Team aggregates" below), if it has one."""
    return next((v for v in aggregates_of(view) if v.team_of), None)


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


ORDERS = ("canonical_orders", "canonical_order_lines", "canonical_customers")
HOURLY = {"refresh_interval": timedelta(hours=1), "max_staleness": timedelta(hours=3)}
NIGHTLY = {"refresh_interval": timedelta(hours=24), "max_staleness": timedelta(hours=26)}
ORDER_FACTS = "kpi_order_facts"

# Registered first: a base table that the revenue views read instead of kpi_order_revenue itself (which
# joins and groups every order line: done once here, not once per view). The refresh engine brings it up to
# date inside the refresh of any view that reads it (its pending months, the view's months, or all of it
# for a full refresh), under its own advisory lock.
register(
    KpiView(
        name=ORDER_FACTS,
        description="Base of the revenue views: one row per order with its revenue (the rule), order lines "
        "and cost of goods, from kpi_order_revenue.",
        columns={
            "order_id": "integer",
            "order_date": "date",
            "month": "date",
            "customer_id": "integer",
            "sales_rep_id": "integer",
            "revenue": "money",
            "line_count": "integer",
            "cogs": "money",
        },
        depends_on=(*ORDERS, "canonical_products"),
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        key=("order_id",),
        internal=True,
        **NIGHTLY,
    )
)

register(
    KpiView(
        name="monthly_revenue",
        description="Revenue and order count per month and sales rep.",
        columns={"month": "date", "sales_rep_id": "integer", "revenue": "money", "order_count": "integer"},
        depends_on=ORDERS,
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        default_order=("month",),
        key=("month", "sales_rep_id"),
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)
register(
    KpiView(
        name="revenue_by_category",
        description="Revenue and quantity per month, sales rep and product category (orders without lines: "
        "'Uncategorized').",
        columns={
            "month": "date",
            "sales_rep_id": "integer",
            "category": "text",
            "revenue": "money",
            "quantity": "number",
        },
        depends_on=(*ORDERS, "canonical_products"),
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        default_order=("month", "category"),
        key=("month", "sales_rep_id", "category"),
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)
register(
    KpiView(
        name="gross_margin",
        description="Revenue, cost of goods (quantity x product cost) and gross margin per month and sales rep. "
        "Cost of goods, margin and margin % are unknown (empty) for a month and rep with an order line whose "
        "product has no cost, or an order without lines.",
        columns={
            "month": "date",
            "sales_rep_id": "integer",
            "revenue": "money",
            "cogs": "money",
            "gross_margin": "money",
            "margin_pct": "number",
        },
        depends_on=(*ORDERS, "canonical_products"),
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        default_order=("month",),
        key=("month", "sales_rep_id"),
        unknown_columns=("cogs", "gross_margin", "margin_pct"),
        unknown_message="Cost of goods unknown: upload products with a unit cost.",
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)
register(
    KpiView(
        name="order_fulfillment",
        description="Orders per month, sales rep and status; shipped orders and days from order to shipment.",
        columns={
            "month": "date",
            "sales_rep_id": "integer",
            "status": "text",
            "order_count": "integer",
            "shipped_count": "integer",
            "total_days_to_ship": "integer",
            "avg_days_to_ship": "number",
        },
        depends_on=("canonical_orders", "canonical_customers"),
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        default_order=("month", "status"),
        key=("month", "sales_rep_id", "status"),
        **NIGHTLY,
    )
)
register(
    KpiView(
        name="sales_rep_performance",
        description="Per month and sales rep: revenue, orders, distinct customers, average order value.",
        columns={
            "month": "date",
            "sales_rep_id": "integer",
            "rep_name": "text",
            "revenue": "money",
            "order_count": "integer",
            "customer_count": "integer",
            "avg_order_value": "money",
        },
        depends_on=(*ORDERS, "canonical_employees"),
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        default_order=("month", "rep_name"),
        key=("month", "sales_rep_id"),
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)
register(
    KpiView(
        name="monthly_expenses",
        description="Expenses per month, category, department and employee.",
        columns={
            "month": "date",
            "employee_id": "integer",
            "category": "text",
            "department": "text",
            "amount": "money",
            "expense_count": "integer",
        },
        depends_on=("canonical_expenses",),
        strategy="incremental",
        partition_key="month",
        scope_column="employee_id",
        date_column="month",
        default_order=("month", "category"),
        key=("month", "employee_id", "category", "department"),
        **NIGHTLY,
    )
)
register(
    KpiView(
        name="top_customers_by_month",
        description="Helper of top_customers: revenue and orders per month, customer and sales rep.",
        columns={
            "month": "date",
            "customer_id": "integer",
            "sales_rep_id": "integer",
            "revenue": "money",
            "order_count": "integer",
        },
        depends_on=ORDERS,
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        key=("month", "customer_id", "sales_rep_id"),
        internal=True,
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)
register(
    KpiView(
        name="top_customers",
        description="Revenue and orders per customer and sales rep, all time (sum by customer for a ranking).",
        columns={
            "customer_id": "integer",
            "sales_rep_id": "integer",
            "customer_name": "text",
            "country": "text",
            "segment": "text",
            "revenue": "money",
            "order_count": "integer",
        },
        depends_on=ORDERS,
        strategy="incremental",
        scope_column="sales_rep_id",
        default_order=("-revenue",),
        key=("customer_id", "sales_rep_id"),
        rollup_of="top_customers_by_month",
        measures=("revenue", "order_count"),
        count_column="order_count",
        **NIGHTLY,
    )
)
register(
    KpiView(
        name="top_products_by_month",
        description="Helper of top_products: revenue, quantity and lines per month, product and sales rep.",
        columns={
            "month": "date",
            "product_id": "integer",
            "sales_rep_id": "integer",
            "revenue": "money",
            "quantity": "number",
            "line_count": "integer",
        },
        depends_on=(*ORDERS, "canonical_products"),
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        key=("month", "product_id", "sales_rep_id"),
        internal=True,
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)
register(
    KpiView(
        name="top_products",
        description="Revenue, quantity and order lines per product and sales rep, all time.",
        columns={
            "product_id": "integer",
            "sales_rep_id": "integer",
            "product_name": "text",
            "category": "text",
            "revenue": "money",
            "quantity": "number",
            "line_count": "integer",
        },
        depends_on=(*ORDERS, "canonical_products"),
        strategy="incremental",
        scope_column="sales_rep_id",
        default_order=("-revenue",),
        key=("product_id", "sales_rep_id"),
        rollup_of="top_products_by_month",
        measures=("revenue", "quantity", "line_count"),
        count_column="line_count",
        **NIGHTLY,
    )
)
register(
    KpiView(
        name="ar_aging",
        description="Open receivables per customer (invoice amount minus payments) in age buckets by days past "
        "due, as of the refresh date.",
        columns={
            "customer_id": "integer",
            "sales_rep_id": "integer",
            "customer_name": "text",
            "current_due": "money",
            "days_1_30": "money",
            "days_31_60": "money",
            "days_61_90": "money",
            "days_90_plus": "money",
            "total_open": "money",
            "as_of": "date",
        },
        depends_on=("canonical_invoices", "canonical_payments", "canonical_customers", "canonical_orders"),
        strategy="full",
        scope_column="sales_rep_id",
        default_order=("-total_open",),
        key=("customer_id", "sales_rep_id"),
        **HOURLY,
    )
)
register(
    KpiView(
        name="collections",
        description="Invoiced vs collected per month and sales rep, open receivables at month end and DSO "
        "(open receivables / invoiced x days in month).",
        columns={
            "month": "date",
            "sales_rep_id": "integer",
            "invoiced": "money",
            "collected": "money",
            "open_at_month_end": "money",
            "dso": "number",
        },
        depends_on=("canonical_invoices", "canonical_payments", "canonical_customers", "canonical_orders"),
        strategy="full",
        scope_column="sales_rep_id",
        date_column="month",
        default_order=("month",),
        key=("month", "sales_rep_id"),
        **HOURLY,
    )
)
register(
    KpiView(
        name="inventory_status",
        description="Latest on-hand quantity per product and warehouse against its reorder level.",
        columns={
            "product_id": "integer",
            "warehouse": "text",
            "product_name": "text",
            "category": "text",
            "snapshot_date": "date",
            "quantity_on_hand": "number",
            "reorder_level": "number",
            "below_reorder": "boolean",
        },
        depends_on=("canonical_inventory", "canonical_products"),
        strategy="full",
        default_order=("product_name", "warehouse"),
        key=("product_id", "warehouse"),
        **HOURLY,
    )
)
register(
    KpiView(
        name="customer_segments",
        description="Customers, orders and revenue per segment, country and sales rep.",
        columns={
            "segment": "text",
            "country": "text",
            "sales_rep_id": "integer",
            "customer_count": "integer",
            "order_count": "integer",
            "revenue": "money",
        },
        depends_on=ORDERS,
        strategy="full",
        scope_column="sales_rep_id",
        default_order=("-revenue",),
        key=("segment", "country", "sales_rep_id"),
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)
register(
    KpiView(
        name="new_vs_returning_customers",
        description="Per month and sales rep: customers ordering for the first time vs returning, and their "
        "revenue. Full strategy: a back-dated order changes which month is a customer's first.",
        columns={
            "month": "date",
            "sales_rep_id": "integer",
            "new_customers": "integer",
            "returning_customers": "integer",
            "new_revenue": "money",
            "returning_revenue": "money",
        },
        depends_on=ORDERS,
        strategy="full",
        scope_column="sales_rep_id",
        date_column="month",
        default_order=("month",),
        key=("month", "sales_rep_id"),
        **NIGHTLY,
        reads=(ORDER_FACTS,),
    )
)


# Read-side aggregates: a view's rows summed over fewer dimensions, for reads that would otherwise sum them at
# read time. Without the sales rep dimension they serve an executive's all-rows read (every rep's rows: the
# per-rep tables hold ~5,000 reps x 60 months at 10M orders); per rep without the month, any scope's read
# without a date range. The one row-filtering function picks one when it holds every column a query groups,
# sums and filters on (dashboards.selectors); the view's refresh keeps them in the same transaction
# (dashboards.services.refresh). Internal: never offered to dashboards. Only additive measures are kept.


def _aggregate(of: str, name: str, dimensions: tuple[str, ...], measures: tuple[str, ...], **kwargs) -> KpiView:
    parent = get_view(of)
    month = parent.partition_key if parent.partition_key in dimensions else None
    return register(
        KpiView(
            name=name,
            description=f"Read-side aggregate of {of}: {', '.join(measures)} summed per {', '.join(dimensions)}.",
            columns={c: parent.columns[c] for c in (*dimensions, *measures)},
            depends_on=parent.depends_on,
            strategy="incremental",
            partition_key=month,
            scope_column=parent.scope_column if parent.scope_column in dimensions else None,
            date_column=parent.date_column if parent.date_column in dimensions else None,
            key=kwargs.pop("key", dimensions),
            measures=measures,
            aggregate_of=of,
            internal=True,
            refresh_interval=parent.refresh_interval,
            max_staleness=parent.max_staleness,
            **kwargs,
        )
    )


_aggregate("monthly_revenue", "monthly_revenue_all_reps", ("month",), ("revenue", "order_count"))
_aggregate("revenue_by_category", "revenue_by_category_all_reps", ("month", "category"), ("revenue", "quantity"))
_aggregate(
    "order_fulfillment",
    "order_fulfillment_all_reps",
    ("month", "status"),
    ("order_count", "shipped_count", "total_days_to_ship"),
)
_aggregate(
    "sales_rep_performance",
    "sales_rep_performance_all_time",
    ("sales_rep_id", "rep_name"),
    ("revenue", "order_count", "customer_count"),
    key=("sales_rep_id",),
    count_column="order_count",
)
_aggregate(
    "top_customers",
    "top_customers_all_reps",
    ("customer_id", "customer_name", "country", "segment"),
    ("revenue", "order_count"),
    key=("customer_id",),
    count_column="order_count",
)
_aggregate(
    "top_products",
    "top_products_all_reps",
    ("product_id", "product_name", "category"),
    ("revenue", "quantity", "line_count"),
    key=("product_id",),
    count_column="line_count",
)


# Team aggregates: a per-entity view's rows summed over every rep below each manager (VP, CEO: any employee with
# reports), one row per (team_id, entity), for a manager's ranking. A manager's scope is their whole subtree, so
# without it their top-10 sums every (entity, rep) row of their reps and sorts (a VP: hundreds of reps). The
# hierarchy a team aggregate was built with is kept beside it (`TEAM_SNAPSHOTS`: team_id and its sorted members,
# per aggregate); a read whose scope set EQUALS a team's members there reads that team's rows, any other read
# (hierarchy changed since, a ?rep= narrowing, a rep) sums per-rep rows as before (dashboards.selectors). Kept by
# the parent's refresh: full rebuilds it and its snapshot; incremental adds the rollup's difference (`kpi_delta`)
# to each team of each rep; an executed employees file (HIERARCHY touched) rebuilds the snapshot and the team rows
# from the parent's stored rows, without refreshing the parent (dashboards.services.refresh).
# top_customers keeps first-line teams only (`first_line_teams`: a sales manager and their reps): with every level
# its team rows cost minutes per full refresh at 10M orders and took its incremental refresh to 16% of full; a rep
# is in one first-line team, so each changed (customer, rep) is one team row to upsert, not three. A VP's or the
# CEO's customer ranking still sums per-rep rows (docs/KPI.md, "Team aggregates").

TEAM_SNAPSHOTS = "kpi_team_snapshots"
HIERARCHY = "canonical_employees"


def _team_aggregate(
    of: str,
    name: str,
    entity: tuple[str, ...],
    measures: tuple[str, ...],
    count_column: str,
    first_line_teams: bool = False,
):
    """Register the team aggregate of a per-entity view: `entity` is its id column then its attributes."""
    parent = get_view(of)
    return register(
        KpiView(
            name=name,
            description=f"Team aggregate of {of}: {', '.join(measures)} per {entity[0]}, summed over every "
            f"{parent.scope_column} below each {'first-line ' if first_line_teams else ''}manager (team_id).",
            columns={"team_id": "integer", **{c: parent.columns[c] for c in (*entity, *measures)}},
            depends_on=(*parent.depends_on, HIERARCHY),
            strategy="incremental",
            scope_column="team_id",
            key=("team_id", entity[0]),
            measures=measures,
            count_column=count_column,
            aggregate_of=of,
            team_of=parent.scope_column,
            first_line_teams=first_line_teams,
            internal=True,
            refresh_interval=parent.refresh_interval,
            max_staleness=parent.max_staleness,
        )
    )


_team_aggregate(
    "top_customers",
    "top_customers_teams",
    ("customer_id", "customer_name", "country", "segment"),
    ("revenue", "order_count"),
    count_column="order_count",
    first_line_teams=True,
)
_team_aggregate(
    "top_products",
    "top_products_teams",
    ("product_id", "product_name", "category"),
    ("revenue", "quantity", "line_count"),
    count_column="line_count",
)
