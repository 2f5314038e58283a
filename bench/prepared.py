"""A prepared bench database that a later run reuses (`python -m bench.run --reuse-data`).

At 10M orders, loading the generated files into `bench_ref` and filling `canonical_*` from it costs
minutes; the KPI and dashboard rows only read that data. After a run has prepared it, a stamp table
(`bench_data_stamp`, one row) records the scale, the seed, the generator's and this preparation's
versions, what was loaded (`bench_ref`, `canonical`) and the row counts. A `--reuse-data` run whose
scale and seed match keeps the database: it migrates it (always), removes what earlier runs added on top
of the prepared rows (the KPI benchmark's +1% append), checks the counts, and measures; the KPI tables
are rebuilt with the current code by the rows that read them. Anything else — no stamp, another scale,
seed or version, counts that differ — and the database is prepared again from scratch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from bench import generate as gen

# Bump when what the preparation leaves in the database changes (bench/sql/reference_load.sql,
# canonical_fill_from_ref.sql, dashboard_canonical_from_ref.sql), so older databases are prepared again.
PREPARATION_VERSION = 1
STAMP_TABLE = "bench_data_stamp"
# What the preparation can load: the references' resolved base tables, and canonical_* filled from them.
LOADED_KINDS = ("bench_ref", "canonical")
COUNTED = {
    "bench_ref": ("bench_ref.orders", "bench_ref.order_lines"),
    "canonical": ("canonical_orders", "canonical_order_lines", "canonical_customers", "canonical_employees"),
}


@dataclass
class Stamp:
    scale: int
    seed: int
    generator_version: int = gen.GENERATOR_VERSION
    preparation_version: int = PREPARATION_VERSION
    loaded: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    prepared_at: str = ""
    notes: str = ""

    def matches(self, *, scale: int, seed: int, needs: set[str]) -> str:
        """ "" when this stamp's data serves a run of `scale` and `seed` that needs `needs`, else why not."""
        if (self.scale, self.seed) != (scale, seed):
            return f"prepared for {self.scale:,} orders, seed {self.seed}"
        if self.generator_version != gen.GENERATOR_VERSION:
            return f"generator version {self.generator_version}, now {gen.GENERATOR_VERSION}"
        if self.preparation_version != PREPARATION_VERSION:
            return f"preparation version {self.preparation_version}, now {PREPARATION_VERSION}"
        missing = needs - set(self.loaded)
        if missing:
            return f"{', '.join(sorted(missing))} not loaded"
        return ""


def _count(conn: psycopg.Connection, table: str) -> int:
    schema, _, name = table.rpartition(".")
    ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]


def read_stamp(url: str) -> Stamp | None:
    """The stamp of the database `url` names, or None (no database, no stamp table, no row)."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass(%s)", [STAMP_TABLE]).fetchone()[0] is None:
                return None
            row = conn.execute(sql.SQL("SELECT stamp FROM {}").format(sql.Identifier(STAMP_TABLE))).fetchone()
    except psycopg.OperationalError:  # the database does not exist yet
        return None
    if row is None:
        return None
    data = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    known = {k: v for k, v in data.items() if k in Stamp.__dataclass_fields__}
    return Stamp(**known)


def clear_stamp(url: str) -> None:
    """Forget what was prepared (before anything that changes the prepared data)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(STAMP_TABLE)))


def current_counts(url: str, loaded: list[str]) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {t: _count(conn, t) for kind in loaded for t in COUNTED[kind]}


def write_stamp(url: str, *, scale: int, seed: int, loaded: list[str], notes: str = "") -> Stamp:
    """Record that the database now holds `loaded` for this scale and seed, with today's row counts."""
    from datetime import UTC, datetime

    loaded = [k for k in LOADED_KINDS if k in loaded]
    stamp = Stamp(
        scale=scale,
        seed=seed,
        loaded=loaded,
        counts=current_counts(url, loaded),
        prepared_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        notes=notes,
    )
    with psycopg.connect(url) as conn:
        table = sql.Identifier(STAMP_TABLE)
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (stamp jsonb NOT NULL)").format(table))
        conn.execute(sql.SQL("DELETE FROM {}").format(table))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(table), [json.dumps(stamp.__dict__)])
    return stamp


def undo_earlier_runs(url: str) -> dict[str, int]:
    """Remove what earlier runs added on top of the prepared canonical rows: the KPI benchmark's +1% append
    (external ids `KA…`, lines `KAL…`: bench/sql/kpi_append.sql), and what the KPI refresh left queued.
    Returns the rows deleted per table; the tables are vacuumed when any were."""
    deleted = {}
    with psycopg.connect(url) as conn:
        deleted["canonical_order_lines"] = conn.execute(
            "DELETE FROM canonical_order_lines WHERE external_id LIKE 'KAL%'"
        ).rowcount
        deleted["canonical_orders"] = conn.execute("DELETE FROM canonical_orders WHERE external_id LIKE 'KA%'").rowcount
    if any(deleted.values()):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE canonical_orders, canonical_order_lines")
    return {t: n for t, n in deleted.items() if n}


def check_counts(url: str, stamp: Stamp) -> str:
    """ "" when the prepared tables still hold the rows the stamp counted, else what differs."""
    now = current_counts(url, stamp.loaded)
    differ = [f"{t} {now.get(t, 0):,} (stamped {n:,})" for t, n in stamp.counts.items() if now.get(t) != n]
    return "; ".join(differ)
