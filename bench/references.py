"""Reference measurements: what users would otherwise pick, and the hardware's limit.

Each function measures one reference on the benchmark database and returns a result row (see
`bench/__init__.py`) whose `topic` says which row of the issue's table it stands beside:

- ingest:   psql `\\copy` of the orders CSV (the limit), `pandas.to_sql`, django-import-export
            `ModelResource` import (default and bulk mode, 20k rows)
- profile:  DuckDB `read_csv` scan of the 100 MB file
- kpi_read: `GROUP BY` on the base tables for a manager's scope (and for everything, as an executive)
- refresh:  `REFRESH MATERIALIZED VIEW` (plain and CONCURRENTLY) of monthly and per-customer views

The references use their own tables in schema `bench_ref` (bench/sql/reference_schema.sql), shaped
like canonical_*, so they never disturb what our own benchmarks measure in canonical_*.
"""

from __future__ import annotations

import csv
import io
import itertools
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from bench.database import psql_binary
from bench.timing import latencies_ms, percentile, time_runs

SQL_DIR = Path(__file__).parent / "sql"
ORDERS_COPY_COLUMNS = (
    "external_id",
    "customer_ref",
    "sales_rep_ref",
    "order_date",
    "status",
    "currency",
    "amount",
    "shipped_date",
)


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text()


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _data_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh) - 1


def reference_schema_create(url: str) -> None:
    """(Re)create schema bench_ref with empty tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_sql("reference_schema.sql"))


def _truncate_orders_copy(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE bench_ref.orders_copy RESTART IDENTITY")


def _copy_file(conn: psycopg.Connection, table: str, path: Path, columns: tuple[str, ...] | None = None) -> None:
    """Stream a CSV file into a table with COPY FROM STDIN (what psql's \\copy does), 1 MB at a time."""
    target = sql.Identifier(*table.split("."))
    if columns:
        target = sql.SQL("{} ({})").format(target, sql.SQL(", ").join(map(sql.Identifier, columns)))
    statement = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)").format(target)
    with path.open("rb") as fh, conn.cursor() as cur, cur.copy(statement) as copy:
        while chunk := fh.read(1 << 20):
            copy.write(chunk)


# --- ingest -------------------------------------------------------------------------------------------


def ref_psql_copy(url: str, orders_csv: Path, *, runs: int) -> dict:
    """psql `\\copy` of the orders CSV into a table with a primary key and a unique text key: the limit."""
    psql = psql_binary()
    rows = _data_rows(orders_csv)
    columns = ", ".join(ORDERS_COPY_COLUMNS)
    if psql:
        command = f"\\copy bench_ref.orders_copy ({columns}) FROM '{orders_csv}' WITH (FORMAT csv, HEADER true)"
        how = "psql \\copy"

        def load() -> None:
            subprocess.run([psql, url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command], check=True)
    else:
        how = "COPY FROM STDIN (psycopg; no psql binary found)"

        def load() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                _copy_file(conn, "bench_ref.orders_copy", orders_csv, ORDERS_COPY_COLUMNS)

    timing = time_runs(load, runs=runs, before=lambda: _truncate_orders_copy(url))
    return {
        "topic": "ingest",
        "key": "copy",
        "what": f"{how} of the orders CSV → table like canonical_orders",
        "value": rows / timing.median,
        "unit": "rows/s",
        "rows": rows,
        "seconds": timing.median,
        "notes": _join(f"{rows:,} rows in {timing.median:.2f} s", timing.spread()),
    }


def ref_pandas_to_sql(url: str, orders_csv: Path, *, runs: int, rows: int | None = None) -> dict:
    """`pandas.read_csv` + `DataFrame.to_sql` (SQLAlchemy, psycopg 3), as a data analyst would load the file."""
    import pandas as pd
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    total = _data_rows(orders_csv)
    n = min(rows or total, total)

    def load() -> None:
        frame = pd.read_csv(orders_csv, nrows=n, parse_dates=["Order Date", "Ship Date"])
        frame.columns = list(ORDERS_COPY_COLUMNS)
        frame.to_sql("orders_copy", engine, schema="bench_ref", if_exists="append", index=False, chunksize=10_000)

    try:
        timing = time_runs(load, runs=runs, before=lambda: _truncate_orders_copy(url))
    finally:
        engine.dispose()
    return {
        "topic": "ingest",
        "key": "pandas",
        "what": "pandas read_csv + to_sql (SQLAlchemy 2, psycopg 3)",
        "value": n / timing.median,
        "unit": "rows/s",
        "rows": n,
        "seconds": timing.median,
        "notes": _join(f"{n:,} rows in {timing.median:.2f} s", timing.spread(), f"{n:,} of {total:,} rows"),
    }


def _order_resource(*, bulk: bool):
    """A django-import-export ModelResource for canonical_orders, as a Django developer would write it."""
    from import_export import fields, resources, widgets

    from canonical.models import Customer, Employee, Order

    date = widgets.DateWidget(format="%Y-%m-%d")

    class OrderResource(resources.ModelResource):
        external_id = fields.Field(attribute="external_id", column_name="Order ID")
        customer = fields.Field(
            attribute="customer", column_name="Customer ID", widget=widgets.ForeignKeyWidget(Customer, "external_id")
        )
        sales_rep = fields.Field(
            attribute="sales_rep", column_name="Sales Rep ID", widget=widgets.ForeignKeyWidget(Employee, "external_id")
        )
        order_date = fields.Field(attribute="order_date", column_name="Order Date", widget=date)
        status = fields.Field(attribute="status", column_name="Status")
        currency = fields.Field(attribute="currency", column_name="Currency")
        amount = fields.Field(attribute="amount", column_name="Total", widget=widgets.DecimalWidget())
        shipped_date = fields.Field(attribute="shipped_date", column_name="Ship Date", widget=date)

        class Meta:
            model = Order
            import_id_fields = ("external_id",)
            fields = (
                "external_id",
                "customer",
                "sales_rep",
                "order_date",
                "status",
                "currency",
                "amount",
                "shipped_date",
            )
            use_bulk = bulk
            batch_size = 1000
            skip_diff = bulk  # the library's advice for bulk mode: no per-row diff

    return OrderResource()


def _head(path: Path, rows: int) -> str:
    with path.open(newline="", encoding="utf-8") as fh:
        return "".join(itertools.islice(fh, rows + 1))


def _referents_for(text: str) -> tuple[set[str], set[str]]:
    reader = csv.DictReader(io.StringIO(text))
    customers, reps = set(), set()
    for row in reader:
        customers.add(row["Customer ID"])
        reps.add(row["Sales Rep ID"])
    return customers, reps


def ref_import_export(
    orders_csv: Path, *, rows: int = 20_000, bulk: bool, budget_s: float = 120.0, chunk: int = 250
) -> dict:
    """django-import-export import of the first `rows` orders into canonical_orders, default or bulk mode.

    It runs at tens to hundreds of rows per second, so it gets one run, fed in `chunk`-row datasets
    (small, so that the budget is kept to within one chunk's time), and stops early (saying so) once
    `budget_s` is spent: rows/s hardly depends on how many rows were fed.
    The referenced customers and employees are created first (ForeignKeyWidget looks them up), and
    everything it created is deleted afterwards, so canonical_* is left as it was found.
    """
    import time

    import tablib
    from django.db import transaction

    from canonical.models import Customer, Employee, Order

    text = _head(orders_csv, rows)
    header, *body = text.splitlines(keepends=True)
    customers, reps = _referents_for(text)
    order_ids = [row["Order ID"] for row in csv.DictReader(io.StringIO(text))]
    Employee.objects.bulk_create([Employee(external_id=e, name=e) for e in sorted(reps)], ignore_conflicts=True)
    Customer.objects.bulk_create([Customer(external_id=c, name=c) for c in sorted(customers)], ignore_conflicts=True)
    resource = _order_resource(bulk=bulk)
    fed, elapsed = 0, 0.0
    try:
        while fed < len(body) and elapsed < budget_s:
            text_chunk = header + "".join(body[fed : fed + chunk])
            start = time.perf_counter()
            dataset = tablib.Dataset().load(text_chunk, format="csv")
            result = resource.import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
            elapsed += time.perf_counter() - start
            if result.has_validation_errors():
                raise RuntimeError(f"django-import-export rejected rows: {result.invalid_rows[:3]}")
            fed += len(dataset)
        loaded = Order.objects.filter(external_id__in=order_ids).count()
    finally:
        with transaction.atomic():
            Order.objects.filter(external_id__in=order_ids).delete()
            Customer.objects.filter(external_id__in=customers, orders__isnull=True).delete()
            Employee.objects.filter(external_id__in=reps, orders__isnull=True, customers__isnull=True).delete()
    if loaded != fed:
        raise RuntimeError(f"django-import-export loaded {loaded} of {fed} rows")
    mode = "bulk (use_bulk, batch 1000, skip_diff)" if bulk else "default"
    stopped = f"stopped after {fed:,} of {len(body):,} rows ({budget_s:.0f} s budget)" if fed < len(body) else ""
    return {
        "topic": "ingest",
        "key": "import_export_bulk" if bulk else "import_export",
        "what": f"django-import-export ModelResource, {mode}, {len(body):,} rows",
        "value": fed / elapsed,
        "unit": "rows/s",
        "rows": fed,
        "seconds": elapsed,
        "notes": _join(f"{fed:,} rows in {elapsed:.1f} s, one run", stopped),
    }


# --- profile ------------------------------------------------------------------------------------------


def ref_duckdb_scan(path: Path, *, runs: int) -> dict:
    """DuckDB `read_csv` (type sniffing + full parse) of the whole file: what one pass over it costs."""
    import duckdb

    size_mb = path.stat().st_size / 1e6
    result: list = []

    def scan() -> None:
        with duckdb.connect() as con:
            result[:] = con.execute("SELECT count(*) FROM read_csv(?, header = true)", [str(path)]).fetchone()

    timing = time_runs(scan, runs=runs)
    return {
        "topic": "profile",
        "key": "duckdb_scan",
        "what": f"DuckDB read_csv full scan of the same {size_mb:.0f} MB file",
        "value": timing.median,
        "unit": "s",
        "notes": _join(f"{result[0]:,} rows", timing.spread()),
    }


# --- KPI reads and refresh on base tables -------------------------------------------------------------


def reference_tables_load(url: str, files: dict[str, Path]) -> dict:
    """Load the generated files into bench_ref's canonical-shaped tables (COPY, then resolve references)."""
    import time

    start = time.perf_counter()
    with psycopg.connect(url) as conn:
        _copy_file(conn, "bench_ref.stage_employees", files["employees.csv"])
        _copy_file(conn, "bench_ref.stage_customers", files["customers.csv"])
        _copy_file(conn, "bench_ref.stage_products", files["products.csv"])
        _copy_file(conn, "bench_ref.stage_orders", files["orders.csv"])
        _copy_file(conn, "bench_ref.stage_order_lines", files["order_lines.csv"])
        conn.execute(_sql("reference_load.sql"))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE bench_ref.orders")
        conn.execute("VACUUM ANALYZE bench_ref.order_lines")
        orders = conn.execute("SELECT count(*) FROM bench_ref.orders").fetchone()[0]
        lines = conn.execute("SELECT count(*) FROM bench_ref.order_lines").fetchone()[0]
    seconds = time.perf_counter() - start
    return {"orders": orders, "lines": lines, "seconds": seconds}


def _manager_scope(conn: psycopg.Connection) -> tuple[str, list[int]]:
    """The sales manager with the most orders below them, and their scope (themself + subtree)."""
    manager = conn.execute(
        """
        SELECT m.id, m.external_id FROM bench_ref.employees m
        JOIN bench_ref.employees r ON r.manager_id = m.id
        JOIN bench_ref.orders o ON o.sales_rep_id = r.id
        WHERE m.title = 'Sales Manager'
        GROUP BY m.id, m.external_id ORDER BY count(*) DESC, m.id LIMIT 1
        """
    ).fetchone()
    scope = conn.execute(_sql("manager_scope.sql"), {"manager_id": manager[0]}).fetchone()[0]
    return manager[1], scope


def ref_groupby_base_tables(url: str, *, samples: int, all_runs: int, all_warmup: int = 1) -> list[dict]:
    """`GROUP BY` on the base tables, per call, for a manager's scope (p50/p95) and for everything.

    The executive read scans every order line (seconds to minutes at scale): `all_runs` timed reads
    after `all_warmup` untimed ones."""
    query = _sql("monthly_revenue_base.sql")
    with psycopg.connect(url, autocommit=True) as conn:
        manager, scope = _manager_scope(conn)
        everyone = [r[0] for r in conn.execute("SELECT id FROM bench_ref.employees").fetchall()]
        scoped_orders = conn.execute(
            "SELECT count(*) FROM bench_ref.orders WHERE sales_rep_id = ANY(%s)", [scope]
        ).fetchone()[0]
        manager_ms = latencies_ms(lambda: conn.execute(query, {"scope": scope}).fetchall(), count=samples)
        all_ms = latencies_ms(
            lambda: conn.execute(query, {"scope": everyone}).fetchall(), count=all_runs, warmup=all_warmup
        )
    return [
        {
            "topic": "kpi_read",
            "key": "groupby_manager",
            "what": f"GROUP BY on base tables, manager {manager}'s scope ({len(scope)} employees)",
            "value": percentile(manager_ms, 95),
            "unit": "ms p95",
            "p50": percentile(manager_ms, 50),
            "p95": percentile(manager_ms, 95),
            "notes": f"p50 {percentile(manager_ms, 50):.1f} ms over {samples} reads; {scoped_orders:,} orders in scope",
        },
        {
            "topic": "kpi_read",
            "key": "groupby_all",
            "what": "GROUP BY on base tables, executive (all rows)",
            "value": percentile(all_ms, 95),
            "unit": "ms p95",
            "p50": percentile(all_ms, 50),
            "p95": percentile(all_ms, 95),
            "notes": f"p50 {percentile(all_ms, 50):.0f} ms over {all_runs} read(s) after {all_warmup} untimed",
        },
    ]


def ref_refresh_materialized_views(url: str, *, runs: int) -> list[dict]:
    """`REFRESH MATERIALIZED VIEW` of a monthly and a per-customer view (the latter also CONCURRENTLY)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP MATERIALIZED VIEW IF EXISTS bench_ref.mv_monthly_revenue, bench_ref.mv_top_customers")
        conn.execute(_sql("reference_views.sql"))
        out = []
        # CONCURRENTLY matters for the per-customer view (its cost grows with the view's size); the
        # monthly view is small, so its plain refresh is the whole story.
        for view, label, modes in (
            ("mv_monthly_revenue", "monthly revenue", (False,)),
            ("mv_top_customers", "top customers", (False, True)),
        ):
            name = sql.Identifier("bench_ref", view)
            size = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()[0]
            for concurrently in modes:
                how = sql.SQL("CONCURRENTLY " if concurrently else "")
                statement = sql.SQL("REFRESH MATERIALIZED VIEW {}{}").format(how, name)
                timing = time_runs(lambda s=statement: conn.execute(s), runs=runs)
                out.append(
                    {
                        "topic": "refresh",
                        "key": f"refresh_{view}{'_concurrently' if concurrently else ''}",
                        "what": f"REFRESH MATERIALIZED VIEW{' CONCURRENTLY' if concurrently else ''}, {label}",
                        "value": timing.median,
                        "unit": "s",
                        "notes": _join(f"{size:,} view rows", timing.spread()),
                    }
                )
    return out


# --- canonical data for the KPI and dashboard rows ------------------------------------------------------


CANONICAL_FILLED = (
    "canonical_employees",
    "canonical_customers",
    "canonical_products",
    "canonical_orders",
    "canonical_order_lines",
)


def _drop_secondary_indexes(conn: psycopg.Connection, tables: list[str]) -> list[tuple[str, str, str, str]]:
    """Drop the unique constraints and non-primary indexes of `tables`, returning their definitions (read from
    the catalog) for `_restore_indexes`: a sorted build after a bulk fill instead of one insertion per row."""
    saved = conn.execute(
        """
        SELECT c.conrelid::regclass::text, 'constraint', c.conname::text, pg_get_constraintdef(c.oid)
        FROM pg_constraint c WHERE c.conrelid = ANY(%(tables)s::regclass[]) AND c.contype = 'u'
        UNION ALL
        SELECT i.indrelid::regclass::text, 'index', ic.relname::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = ANY(%(tables)s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY 1, 2, 3
        """,
        {"tables": tables},
    ).fetchall()
    for table, kind, name, _definition in saved:
        if kind == "constraint":
            statement = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}")
            conn.execute(statement.format(sql.Identifier(table), sql.Identifier(name)))
        else:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return saved


def _restore_indexes(conn: psycopg.Connection, saved: list[tuple[str, str, str, str]]) -> None:
    """Re-create what `_drop_secondary_indexes` dropped, same names and definitions (Django's state unchanged)."""
    for table, kind, name, definition in saved:
        if kind == "constraint":
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
                )
            )
        else:
            conn.execute(sql.SQL(definition))


def canonical_fill_from_ref(url: str) -> dict:
    """Complete canonical_* from bench_ref, keeping what was ingested (bench/sql/canonical_fill_from_ref.sql), or,
    when every canonical table is empty, copy it with bench_ref's ids (dashboard_canonical_from_ref.sql, no joins).

    One transaction. The tables that were empty lose their secondary indexes and unique constraints for the
    fill and get them back as sorted builds. The rows are consistent by construction (every reference comes
    from a join or from bench_ref's resolved ids), so the deferred per-row foreign-key checks are skipped when
    the role may (`session_replication_role` needs a superuser, which the bench's own server user is);
    otherwise they run at commit. The filled tables are vacuumed and analyzed, as autovacuum would after a
    bulk load, so the first KPI refresh does not pay for setting hint bits.
    """
    import time

    start = time.perf_counter()
    with psycopg.connect(url) as conn:
        before = {
            t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
            for t in CANONICAL_FILLED
        }
        conn.commit()
        checks = "skipped (consistent by construction)"
        try:
            conn.execute("SET LOCAL session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()
            checks = "run at commit"
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        empty = [t for t, n in before.items() if n == 0]
        saved = _drop_secondary_indexes(conn, empty) if empty else []
        all_empty = len(empty) == len(CANONICAL_FILLED)
        script = "dashboard_canonical_from_ref.sql" if all_empty else "canonical_fill_from_ref.sql"
        conn.execute(_sql(script))
        _restore_indexes(conn, saved)
        conn.commit()
        after = {
            t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
            for t in CANONICAL_FILLED
        }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, CANONICAL_FILLED))))
    return {
        "kept": {t.removeprefix("canonical_"): n for t, n in before.items() if n and t != "canonical_order_lines"},
        "rows": {t.removeprefix("canonical_"): n for t, n in after.items()},
        "fk_checks": checks,
        "how": (
            "copied with bench_ref's ids (every table was empty)" if all_empty else "references resolved by external id"
        )
        + (f"; {len(saved)} indexes/unique constraints of the empty tables rebuilt after the fill" if saved else ""),
        "seconds": time.perf_counter() - start,
    }
