"""A KPI table large enough that reading it takes a while, for the preview's limit and Cancel: a stand-in registered
for the test only (like `test_sales_kpi`), its rows generated in the database. The slowness is a real scan: a
distinct count of a text column over every row."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from psycopg import sql

from dashboards.kpi.registry import KPI_VIEWS, KpiView
from dashboards.kpi.rls import kpi_rls_ensure

BIG_KPI = KpiView(
    name="test_big_orders",
    description="Many orders (test stand-in for a large dataset).",
    columns={"day": "date", "sales_rep_id": "integer", "region": "text", "amount": "money"},
    depends_on=("canonical_orders",),
    scope_column="sales_rep_id",
    date_column="day",
    default_order=("day",),
)
# Slow for any reader: every row's region counted distinct.
SLOW_QUESTION = {"source": BIG_KPI.name, "measures": [{"column": "region", "agg": "count_distinct"}]}


def big_kpi_create(employee_ids: list[int], rows: int) -> None:
    """Register the stand-in and fill its table with `rows` rows spread over the employees and ten years."""
    KPI_VIEWS[BIG_KPI.name] = BIG_KPI
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "CREATE TABLE {} (day date, sales_rep_id bigint, region text, amount numeric(14,2)); "
                "INSERT INTO {} SELECT DATE '2015-01-01' + (g %% 3650), (%s::bigint[])[1 + g %% %s], "
                "'region ' || (g::bigint * 7919 %% 1000003), g %% 1000 FROM generate_series(1, %s) g"
            ).format(sql.Identifier(BIG_KPI.name), sql.Identifier(BIG_KPI.name)),
            [employee_ids, len(employee_ids), rows],
        )
    kpi_rls_ensure([BIG_KPI.name])
    # The stand-in has no refresh stamp of its own: rows kept for it by an earlier test (or run) would answer instead
    # of the slow read under test.
    cache.clear()


def big_kpi_drop() -> None:
    KPI_VIEWS.pop(BIG_KPI.name, None)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(BIG_KPI.name)))
