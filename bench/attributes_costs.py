"""What five attributes cost a 1M-row load, step by step, and the cheaper ways to pay it (issue 19).

    python -m bench.attributes_costs --csv .data/bench/orders-1000000-seed-42/orders-attributes.csv --runs 3

Each step is timed alone, variants interleaved within each run (min and median printed with the load average):

- DuckDB: the five converted values (Region, Channel text; Weight number; Gift boolean; Promised date) turned
  into the attributes' JSON text — the expression the engine used (`concat`), a cheaper formatting of numbers and
  dates (`concat-cheap`), and DuckDB's own JSON writer (`to_json`, a struct: keeps NULL members, so only a bound).
- PostgreSQL: a binary COPY (pg_binary.py, as the direct load) of the rows into a scratch table without
  attributes, with `attributes jsonb` (parsed by the server), with the same text in a `text` column (the row
  width without the parse) and in a `json` column (validated only), the five values as rows of a narrow table
  (row id, key, typed value) and as a typed side table (a column per key); then a GIN index over the jsonb
  (`jsonb_path_ops`, as the canonical tables had until migration 0012, and the default operator class).

The scratch tables live in the server's `BENCH_DATABASE` (default ll_bench_run) and are dropped after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import duckdb
import psycopg

from bench import database

_CONVERTED = """
CREATE TABLE conv AS SELECT
    row_number() OVER () AS id, "Order ID" AS external_id,
    nullif(trim("Region"), '') AS region, nullif(trim("Channel"), '') AS channel,
    TRY_CAST(TRY_CAST("Weight" AS DOUBLE) AS DECIMAL(38, 6)) AS weight,
    CASE lower(trim("Gift")) WHEN 'yes' THEN true WHEN 'no' THEN false END AS gift,
    TRY_CAST("Promised" AS DATE) AS promised
FROM read_csv(?, all_varchar = true)
"""


def _member(key: str, value: str, json: str) -> str:
    return f"CASE WHEN {value} IS NOT NULL THEN '\"{key}\": ' || {json} END"


# PostgreSQL's key order for jsonb: by length, then bytes.
_ORDER = ["gift", "region", "weight", "channel", "promised"]
JSON_VARIANTS = {
    "concat": "('{' || concat_ws(', ', "
    + ", ".join(
        [
            _member("gift", "gift", "CASE WHEN gift THEN 'true' ELSE 'false' END"),
            _member("region", "region", "CAST(to_json(region) AS VARCHAR)"),
            _member("weight", "weight", "regexp_replace(CAST(weight AS VARCHAR), '\\.?0+$', '')"),
            _member("channel", "channel", "CAST(to_json(channel) AS VARCHAR)"),
            _member("promised", "promised", "'\"' || strftime(promised, '%Y-%m-%d') || '\"'"),
        ]
    )
    + ") || '}')",
    "concat-cheap": "('{' || concat_ws(', ', "
    + ", ".join(
        [
            _member("gift", "gift", "CASE WHEN gift THEN 'true' ELSE 'false' END"),
            _member("region", "region", "CAST(to_json(region) AS VARCHAR)"),
            _member("weight", "weight", "rtrim(rtrim(CAST(weight AS VARCHAR), '0'), '.')"),
            _member("channel", "channel", "CAST(to_json(channel) AS VARCHAR)"),
            _member("promised", "promised", "'\"' || CAST(promised AS VARCHAR) || '\"'"),
        ]
    )
    + ") || '}')",
    "concat-compact": "('{' || concat_ws(',', "
    + ", ".join(
        [
            _member("gift", "gift", "CASE WHEN gift THEN 'true' ELSE 'false' END").replace('": ', '":'),
            _member("region", "region", "CAST(to_json(region) AS VARCHAR)").replace('": ', '":'),
            _member("weight", "weight", "regexp_replace(CAST(weight AS VARCHAR), '\\.?0+$', '')").replace('": ', '":'),
            _member("channel", "channel", "CAST(to_json(channel) AS VARCHAR)").replace('": ', '":'),
            _member("promised", "promised", "'\"' || strftime(promised, '%Y-%m-%d') || '\"'").replace('": ', '":'),
        ]
    )
    + ") || '}')",
    "to_json": "CAST(to_json({'gift': gift, 'region': region, 'weight': weight, 'channel': channel, "
    "'promised': promised}) AS VARCHAR)",
}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def duckdb_step(conn, name: str) -> float:
    conn.execute("DROP TABLE IF EXISTS out")
    sql = f"CREATE TABLE out AS SELECT id, {JSON_VARIANTS[name]} AS attributes FROM conv"
    return _timed(lambda: conn.execute(sql))


PG_TABLES = {
    "copy, no attributes": "external_id text, order_date date",
    "copy, attributes jsonb": "external_id text, order_date date, attributes jsonb",
    "copy, attributes as text (no parse)": "external_id text, order_date date, attributes text",
    "copy, attributes json (validated, not parsed into jsonb)": "external_id text, order_date date, attributes json",
    "copy, narrow table (5 rows per order)": "row_id bigint, key text, value_text text, value_number numeric, "
    "value_date date, value_boolean boolean",
    "copy, typed side table (a column per key)": "row_id bigint, region text, channel text, weight numeric, "
    "gift boolean, promised date",
    "copy, attributes jsonb (compact text, no spaces)": "external_id text, order_date date, attributes jsonb",
    "copy, typed columns in the table itself (no JSON)": "external_id text, order_date date, region text, "
    "channel text, weight numeric, gift boolean, promised date",
    "copy typed into a TEMP table + INSERT…SELECT, no attributes": "external_id text, order_date date",
    "copy typed into a TEMP table + INSERT…SELECT jsonb_strip_nulls(jsonb_build_object(…))": "external_id text, "
    "order_date date, attributes jsonb",
}
# Variants that COPY typed values into a TEMP table (no WAL) and then INSERT…SELECT into the scratch table,
# building the jsonb server-side (no JSON text, no lexer): both statements are timed.
_STAGED = {
    "copy typed into a TEMP table + INSERT…SELECT, no attributes": "external_id, order_date",
    "copy typed into a TEMP table + INSERT…SELECT jsonb_strip_nulls(jsonb_build_object(…))": "external_id, "
    "order_date, jsonb_strip_nulls(jsonb_build_object('gift', gift, 'region', region, 'weight', weight, "
    "'channel', channel, 'promised', promised))",
}
_STAGED_TABLE = (
    "external_id text, order_date date, region text, channel text, weight numeric, gift boolean, promised date"
)
_TYPED = (
    "SELECT external_id, promised AS order_date, region, channel, CAST(weight AS DECIMAL(18, 6)) AS weight, gift, "
    "promised FROM conv"
)
_NARROW = """
SELECT id AS row_id, 'region' AS key, region AS value_text, NULL::DECIMAL(18, 6) AS value_number,
       NULL::DATE AS value_date, NULL::BOOLEAN AS value_boolean FROM conv WHERE region IS NOT NULL
UNION ALL SELECT id, 'channel', channel, NULL, NULL, NULL FROM conv WHERE channel IS NOT NULL
UNION ALL SELECT id, 'weight', NULL, CAST(weight AS DECIMAL(18, 6)), NULL, NULL FROM conv WHERE weight IS NOT NULL
UNION ALL SELECT id, 'gift', NULL, NULL, NULL, gift FROM conv WHERE gift IS NOT NULL
UNION ALL SELECT id, 'promised', NULL, NULL, promised, NULL FROM conv WHERE promised IS NOT NULL
"""


def pg_step(pg, conn, name: str) -> float:
    from mappings.engine.staging import copy_rows_from_duckdb

    columns = [c.split()[0] for c in PG_TABLES[name].split(", ")]
    queries = {
        "copy, no attributes": "SELECT external_id, CAST(promised AS DATE) AS order_date FROM conv",
        "copy, attributes jsonb": "SELECT c.external_id, c.promised AS order_date, o.attributes FROM conv c "
        "JOIN out o USING (id)",
        "copy, attributes as text (no parse)": "SELECT c.external_id, c.promised AS order_date, o.attributes "
        "FROM conv c JOIN out o USING (id)",
        "copy, attributes json (validated, not parsed into jsonb)": "SELECT c.external_id, c.promised AS order_date, "
        "o.attributes FROM conv c JOIN out o USING (id)",
        "copy, narrow table (5 rows per order)": _NARROW,
        "copy, typed side table (a column per key)": "SELECT id AS row_id, region, channel, "
        "CAST(weight AS DECIMAL(18, 6)) AS weight, gift, promised FROM conv",
        "copy, attributes jsonb (compact text, no spaces)": "SELECT c.external_id, c.promised AS order_date, "
        "o.attributes FROM conv c JOIN out_compact o USING (id)",
        "copy, typed columns in the table itself (no JSON)": _TYPED,
    }
    if name in _STAGED:
        return staged_step(pg, conn, name)
    conn.execute("DROP TABLE IF EXISTS ready")
    conn.execute(f"CREATE TABLE ready AS {queries[name]}")  # the rows stored first: only the COPY is timed
    with pg.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS ll_attr_scratch")
        cursor.execute(f"CREATE TABLE ll_attr_scratch ({PG_TABLES[name]})")
        pg.commit()
        seconds = _timed(
            lambda: (
                copy_rows_from_duckdb(cursor, "ll_attr_scratch", columns, conn, "SELECT * FROM ready"),
                pg.commit(),
            )
        )
    return seconds


def staged_step(pg, conn, name: str) -> float:
    """COPY the typed values into a TEMP table, then INSERT…SELECT them into the scratch table (both timed)."""
    from mappings.engine.staging import copy_rows_from_duckdb

    conn.execute("DROP TABLE IF EXISTS ready")
    conn.execute(f"CREATE TABLE ready AS {_TYPED}")
    columns = [c.split()[0] for c in _STAGED_TABLE.split(", ")]
    with pg.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS ll_attr_scratch")
        cursor.execute(f"CREATE TABLE ll_attr_scratch ({PG_TABLES[name]})")
        pg.commit()

        def run() -> None:
            cursor.execute(f"CREATE TEMP TABLE ll_attr_staged ({_STAGED_TABLE}) ON COMMIT DROP")
            copy_rows_from_duckdb(cursor, "ll_attr_staged", columns, conn, "SELECT * FROM ready")
            target = ", ".join(c.split()[0] for c in PG_TABLES[name].split(", "))
            cursor.execute(f"INSERT INTO ll_attr_scratch ({target}) SELECT {_STAGED[name]} FROM ll_attr_staged")
            pg.commit()

        return _timed(run)


def gin_step(pg, opclass: str) -> float:
    with pg.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS ll_attr_scratch_gin")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        pg.commit()
        seconds = _timed(
            lambda: (
                cursor.execute(f"CREATE INDEX ll_attr_scratch_gin ON ll_attr_scratch USING gin (attributes {opclass})"),
                pg.commit(),
            )
        )
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, required=True, help="bench.ingest.orders_with_attributes' file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    url = database.with_database(database.server_url(), os.environ.get("BENCH_DATABASE", database.DEFAULT_NAME))
    database.ensure_database(url)
    database.setup_django(url, migrate=False)
    conn = duckdb.connect()
    conn.execute("SET threads = 2")
    conn.execute(_CONVERTED, [str(args.csv)])
    (rows,) = conn.execute("SELECT count(*) FROM conv").fetchone()
    duckdb_step(conn, "concat-compact")
    conn.execute("ALTER TABLE out RENAME TO out_compact")
    # Every variant writes the same members (to_json aside, which also writes NULLs and no spaces).
    for name in ("concat-cheap",):
        duckdb_step(conn, "concat")
        conn.execute("ALTER TABLE out RENAME TO ref")
        duckdb_step(conn, name)
        (diff,) = conn.execute(
            "SELECT count(*) FROM ref JOIN out USING (id) WHERE ref.attributes <> out.attributes"
        ).fetchone()
        conn.execute("DROP TABLE ref")
        print(f"{name}: {diff} rows differ from concat")
    times: dict[str, list[float]] = {}
    loads = []
    with psycopg.connect(url) as pg:
        for run in range(args.runs):
            loads.append(os.getloadavg()[0])
            names = list(JSON_VARIANTS)
            for name in names[run % len(names) :] + names[: run % len(names)]:
                times.setdefault(f"duckdb: JSON text, {name}", []).append(duckdb_step(conn, name))
            duckdb_step(conn, "concat")
            steps = list(PG_TABLES)
            for name in steps[run % len(steps) :] + steps[: run % len(steps)]:
                times.setdefault(f"postgres: {name}", []).append(pg_step(pg, conn, name))
            pg_step(pg, conn, "copy, attributes jsonb")
            for opclass in ("jsonb_path_ops", "jsonb_ops"):
                times.setdefault(f"postgres: GIN {opclass} over the jsonb", []).append(gin_step(pg, opclass))
            with pg.cursor() as cursor:
                cursor.execute("SELECT pg_total_relation_size('ll_attr_scratch'), pg_relation_size('ll_attr_scratch')")
                total, heap = cursor.fetchone()
            loads.append(os.getloadavg()[0])
        with pg.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS ll_attr_scratch")
        pg.commit()
    print(f"\n{rows:,} rows, {args.runs} runs, load average {min(loads):.1f}–{max(loads):.1f}")
    print(f"jsonb table: heap {heap / 2**20:.0f} MB, with GIN jsonb_ops {total / 2**20:.0f} MB\n")
    print("| step | min | median |\n|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {min(values):.2f} s | {statistics.median(values):.2f} s |")


if __name__ == "__main__":
    main()
