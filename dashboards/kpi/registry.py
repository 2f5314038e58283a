"""The registry of KPI views: each is a SQL file in `dashboards/kpi/sql/` plus this declaration.

Dashboards read only these views, always through the one row-filtering function in
`dashboards.selectors`, which filters on `scope_column` (a canonical employee id) when it is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class KpiView:
    name: str  # relation name in PostgreSQL, e.g. "kpi_monthly_revenue" is NOT used: the name is the relation
    description: str
    columns: dict[str, str]  # column -> type (date, text, integer, money, number)
    depends_on: tuple[str, ...]  # canonical tables
    strategy: str = "full"  # "incremental" (by partition_key) or "full"
    partition_key: str | None = None  # e.g. "month"
    scope_column: str | None = None  # employee id column that row-level access filters on
    date_column: str | None = None  # column dashboard date-range filters apply to
    refresh_interval: timedelta = timedelta(hours=24)
    max_staleness: timedelta = timedelta(hours=26)
    default_order: tuple[str, ...] = ()


KPI_VIEWS: dict[str, KpiView] = {}


def register(view: KpiView) -> KpiView:
    KPI_VIEWS[view.name] = view
    return view


def get_view(name: str) -> KpiView:
    try:
        return KPI_VIEWS[name]
    except KeyError:
        raise KeyError(f"unknown KPI view {name!r}") from None


register(
    KpiView(
        name="monthly_revenue",
        description="Revenue and order count per month and sales rep.",
        columns={"month": "date", "sales_rep_id": "integer", "revenue": "money", "order_count": "integer"},
        depends_on=("canonical_orders", "canonical_order_lines"),
        strategy="incremental",
        partition_key="month",
        scope_column="sales_rep_id",
        date_column="month",
        refresh_interval=timedelta(hours=1),
        max_staleness=timedelta(hours=3),
        default_order=("month",),
    )
)
